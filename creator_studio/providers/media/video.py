"""Narrated short videos: script → scenes → branded slides → narration → MP4 (H.264 + AAC) with captions.

Every scene is one sentence: its slide shows the sentence (burned-in caption) while it is narrated, and
the same timing goes to an SRT file and a mov_text subtitle stream. Audio-only export is the narration
as AAC (a podcast snippet).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import wave
from pathlib import Path

from pydantic import BaseModel

from creator_studio.errors import ConfigurationError, InvalidInput
from creator_studio.providers.media.base import SpeechSynthesizer
from creator_studio.providers.media.cards import CardText, render_card
from creator_studio.providers.media.formats import Frame
from creator_studio.workspaces.service import BrandVisual

MAX_SCENES = 20
_SAMPLE_RATE = 44_100
_PAUSE_S = 0.35  # a breath between scenes, so captions never run into each other
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


class Scene(BaseModel):
    index: int
    text: str
    start_s: float
    end_s: float  # the caption's end: the end of its narration
    slide_end_s: float  # the slide's end: narration plus the pause


class RenderedVideo(BaseModel):
    video: Path
    captions: Path
    audio: Path
    duration_s: float
    width: int
    height: int
    scenes: list[Scene]


def split_scenes(script: str) -> list[str]:
    """Sentences, with fragments of under four words joined to the one before."""
    sentences: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE.split(script.strip())):
        if not sentence:
            continue
        if sentences and len(sentence.split()) < 4:
            sentences[-1] = f"{sentences[-1]} {sentence}"
        else:
            sentences.append(sentence)
    if not sentences:
        raise InvalidInput("The video script is empty: give a script or a topic.")
    if len(sentences) > MAX_SCENES:
        raise InvalidInput(f"The script has {len(sentences)} sentences; a short video takes at most {MAX_SCENES}. "
                           "Shorten it.")
    return sentences


def render_video(sentences: list[str], *, frame: Frame, visual: BrandVisual, mark: str,
                 speech: SpeechSynthesizer, workdir: Path, name: str, style: str | None = None) -> RenderedVideo:
    ffmpeg = _binary("ffmpeg")
    workdir.mkdir(parents=True, exist_ok=True)
    scenes: list[Scene] = []
    clip_paths: list[Path] = []
    clock = 0.0
    for index, sentence in enumerate(sentences, start=1):
        raw = workdir / f"scene_{index}.raw.wav"
        speech.synthesize(sentence, raw)
        clip = workdir / f"scene_{index}.wav"
        _run([ffmpeg, "-y", "-v", "error", "-i", str(raw), "-ar", str(_SAMPLE_RATE), "-ac", "1",
              "-c:a", "pcm_s16le", str(clip)])
        spoken = _frames(clip) / _SAMPLE_RATE
        scenes.append(Scene(index=index, text=sentence, start_s=round(clock, 3), end_s=round(clock + spoken, 3),
                            slide_end_s=round(clock + spoken + _PAUSE_S, 3)))
        clip_paths.append(clip)
        clock += spoken + _PAUSE_S
        render_card(CardText(headline=sentence, mark=mark), frame, visual, style=style).image.save(
            workdir / f"slide_{index}.png")

    narration = workdir / "narration.wav"
    _join_with_pauses(clip_paths, narration)
    total = _frames(narration) / _SAMPLE_RATE

    listing = workdir / "slides.txt"
    entries = [f"file 'slide_{s.index}.png'\nduration {s.slide_end_s - s.start_s:.3f}" for s in scenes]
    entries.append(f"file 'slide_{scenes[-1].index}.png'")  # the concat demuxer needs the last image twice
    listing.write_text("\n".join(entries) + "\n", encoding="utf-8")
    captions = workdir.parent / f"{name}.srt"
    captions.write_text(srt(scenes), encoding="utf-8")

    video = workdir.parent / f"{name}.mp4"
    _run([ffmpeg, "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(narration),
          "-i", str(captions), "-map", "0:v", "-map", "1:a", "-map", "2:s",
          "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-pix_fmt", "yuv420p", "-r", "25",
          "-c:a", "aac", "-b:a", "128k", "-c:s", "mov_text", "-metadata:s:s:0", "language=eng",
          "-t", f"{total:.3f}", "-movflags", "+faststart", str(video)])
    audio = export_audio(narration, workdir.parent / f"{name}.m4a")
    shutil.rmtree(workdir, ignore_errors=True)
    return RenderedVideo(video=video, captions=captions, audio=audio, duration_s=round(total, 3),
                         width=frame.width, height=frame.height, scenes=scenes)


def export_audio(source: Path, out: Path) -> Path:
    """AAC in an M4A container: what podcast apps and platforms take for audio snippets."""
    _run([_binary("ffmpeg"), "-y", "-v", "error", "-i", str(source), "-c:a", "aac", "-b:a", "128k", str(out)])
    return out


def srt(scenes: list[Scene]) -> str:
    return "\n".join(f"{s.index}\n{_srt_time(s.start_s)} --> {_srt_time(s.end_s)}\n{s.text}\n" for s in scenes)


def _srt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def _join_with_pauses(clips: list[Path], out: Path) -> None:
    silence = b"\x00\x00" * round(_PAUSE_S * _SAMPLE_RATE)
    with wave.open(str(out), "wb") as joined:
        joined.setnchannels(1)
        joined.setsampwidth(2)
        joined.setframerate(_SAMPLE_RATE)
        for clip in clips:
            with wave.open(str(clip), "rb") as part:
                joined.writeframes(part.readframes(part.getnframes()))
            joined.writeframes(silence)


def _frames(path: Path) -> int:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes()


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(f"Video rendering needs {name}: install the Debian package `ffmpeg`.")
    return found


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{Path(command[0]).name} failed: {detail[0]}") from exc
