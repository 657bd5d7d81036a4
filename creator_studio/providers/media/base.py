"""The media provider interface: an offline implementation (Pillow, espeak-ng, ffmpeg) and OpenAI's APIs."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PIL import Image
from pydantic import BaseModel


class GeneratedImage(BaseModel):
    model_config = {"arbitrary_types_allowed": True}

    image: Image.Image
    generator: str  # "offline-card" or "openai:<model>"
    cost_usd: float = 0.0


class ImageGenerator(Protocol):
    name: str

    def generate(self, prompt: str, width: int, height: int) -> GeneratedImage: ...


class SpeechSynthesizer(Protocol):
    name: str

    def synthesize(self, text: str, out: Path) -> float:
        """Write a WAV of `text` to `out`; return its duration in seconds."""
        ...
