"""The offline writer: brand-voice templates filled from the task and the best past posts.

It is a template engine, not a language model, and says so: every text it writes is attributed to
`offline-template-writer`.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from rapidfuzz import fuzz

from creator_studio.prompts import load_yaml
from creator_studio.providers.llm.tokens import count_tokens
from creator_studio.providers.llm.writer import WritingTask, Written

NAME = "offline-template-writer"


def _pick(options: list[str], key: str) -> str:
    digest = int(hashlib.sha256(key.encode()).hexdigest(), 16)
    return options[digest % len(options)]


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s+", text.strip())[0]
    return sentence if len(sentence) <= 200 else sentence[:197] + "…"


class OfflineWriter:
    name = NAME

    def __init__(self) -> None:
        self._templates: dict[str, Any] = load_yaml("offline/writer")

    def write(self, task: WritingTask) -> Written:
        started = time.perf_counter()
        text = getattr(self, f"_{task.kind}")(task)
        prompt = task.model_dump_json()
        return Written(text=text, model=NAME, prompt_tokens=count_tokens(prompt), completion_tokens=count_tokens(text),
                       latency_ms=round((time.perf_counter() - started) * 1000, 3))

    def _values(self, task: WritingTask) -> dict[str, str]:
        brand = task.brand
        topic = (task.topic or brand.niche or "this").strip()
        opener = self._templates["tone_openers"].get((task.tone or "").lower().split(",")[0].strip(), "")
        cta = task.call_to_action or brand.call_to_action
        hashtags = " ".join(brand.hashtags[:3])
        insight = _first_sentence(task.examples[0]) if task.examples else (
            f"The best results I've seen with {topic} came from doing the simple things consistently.")
        return {"topic": topic, "topic_cap": topic[:1].upper() + topic[1:], "tone_opener": opener,
                "cta": f"{cta} " if cta else "", "hashtags": f"\n{hashtags}" if hashtags and task.platform != "email"
                else "", "insight": insight, "signature": brand.signature or f"— {brand.creator_name}",
                "creator": brand.creator_name, "audience": task.audience or brand.audience}

    def _post(self, task: WritingTask) -> str:
        template = _pick(self._templates["post"], f"{task.topic}|{task.platform}")
        return template.format(**self._values(task)).strip()

    def _newsletter(self, task: WritingTask) -> str:
        return _pick(self._templates["newsletter"], task.topic or "").format(**self._values(task)).strip()

    def _reply(self, task: WritingTask) -> str:
        comment = task.source_text or ""
        author = (task.audience or "").strip() or "friend"
        best = max(task.brand.faq, key=lambda f: fuzz.token_set_ratio(f.question.lower(), comment.lower()),
                   default=None)
        if best is not None and fuzz.token_set_ratio(best.question.lower(), comment.lower()) >= 60:
            return str(self._templates["reply"]["faq"].format(author=author, answer=best.answer))
        hint = task.brand.call_to_action or "start small and stay consistent."
        return str(self._templates["reply"]["fallback"].format(author=author, topic_hint=hint))

    def _variant(self, task: WritingTask) -> str:
        options = self._templates["variant"]
        return str(options[(task.variant_index - 1) % len(options)].format(source=(task.source_text or "").strip()))

    def _repurpose(self, task: WritingTask) -> str:
        return str(self._templates["repurpose"].format(source=(task.source_text or "").strip()))

    def _topics(self, task: WritingTask) -> str:
        return "\n".join(task.examples[: task.count])

    def _video_script(self, task: WritingTask) -> str:
        return str(self._templates["video_script"].format(**self._values(task))).strip()
