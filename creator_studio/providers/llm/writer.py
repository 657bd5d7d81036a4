"""The writer: turns a writing task (post, newsletter, reply, variant, ...) into text in the creator's voice.

Two implementations share this interface: the offline template writer and a chat-model writer that
renders the prompt file for the task and asks the configured model.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, Field

from creator_studio.workspaces.service import BrandVoice

WritingKind = Literal["post", "newsletter", "reply", "variant", "repurpose", "topics", "video_script"]


class WritingTask(BaseModel):
    kind: WritingKind
    brand: BrandVoice
    platform: str | None = None
    topic: str | None = None
    tone: str | None = None
    call_to_action: str | None = None
    audience: str | None = None
    max_chars: int | None = None
    examples: list[str] = Field(default_factory=list, description="Best-performing similar past posts.")
    source_text: str | None = Field(default=None, description="Untrusted text (a comment, a post) to work from.")
    variant_index: int = 0
    count: int = 1


class Written(BaseModel):
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0


class Writer(Protocol):
    name: str

    def write(self, task: WritingTask) -> Written: ...
