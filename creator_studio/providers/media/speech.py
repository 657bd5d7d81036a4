"""Narration: espeak-ng offline, OpenAI text-to-speech when configured. Both write WAV."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

from openai import OpenAI

from creator_studio.errors import ConfigurationError, InvalidInput


def wav_duration(path: Path) -> float:
    """Seconds of audio; ffprobe for a streamed WAV whose header has no length."""
    with wave.open(str(path), "rb") as wav:
        frames, rate = wav.getnframes(), wav.getframerate()
    if 0 < frames < 0x7FFFFFFF:
        return frames / float(rate)
    return probe_duration(path)


def probe_duration(path: Path) -> float:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise ConfigurationError("Reading media durations needs ffprobe: install the Debian package `ffmpeg`.")
    result = subprocess.run([ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                             str(path)], check=True, capture_output=True, text=True, timeout=60)
    return float(result.stdout.strip())


class EspeakSpeech:
    """espeak-ng from Debian: robotic but real speech, fully offline."""

    name = "espeak-ng"

    def __init__(self, voice: str = "en-us", words_per_minute: int = 165) -> None:
        self.voice = voice
        self.words_per_minute = words_per_minute

    def synthesize(self, text: str, out: Path) -> float:
        if not text.strip():
            raise InvalidInput("Narration text is empty.")
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise ConfigurationError("Narration needs espeak-ng: install the Debian package `espeak-ng`.")
        # Text on stdin, so nothing in it is read as an option.
        subprocess.run([binary, "-v", self.voice, "-s", str(self.words_per_minute), "-w", str(out), "--stdin"],
                       input=text.encode("utf-8"), check=True, capture_output=True, timeout=120)
        return wav_duration(out)


class OpenAISpeech:
    """OpenAI's `audio/speech` endpoint (any compatible server), asked for WAV."""

    def __init__(self, client: OpenAI, model: str, voice: str = "alloy") -> None:
        self._client = client
        self.model = model
        self.voice = voice
        self.name = f"openai:{model}"

    def synthesize(self, text: str, out: Path) -> float:
        if not text.strip():
            raise InvalidInput("Narration text is empty.")
        response = self._client.audio.speech.create(model=self.model, voice=self.voice, input=text,
                                                    response_format="wav")
        out.write_bytes(response.read())
        return wav_duration(out)
