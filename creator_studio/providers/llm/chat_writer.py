"""The writer backed by a chat model: renders the prompt file for the task and asks the model."""

from __future__ import annotations

import time

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from creator_studio.prompts import quote_untrusted, render
from creator_studio.providers.llm.writer import WritingTask, Written


class ChatWriter:
    def __init__(self, model: BaseChatModel, name: str) -> None:
        self._model = model
        self.name = name

    def write(self, task: WritingTask) -> Written:
        brand = task.brand
        system = render("writer/system", creator_name=brand.creator_name, niche=brand.niche or "their niche",
                        audience=brand.audience or "their followers", tone=task.tone or brand.tone,
                        vocabulary=", ".join(brand.vocabulary) or "-", banned_words=", ".join(brand.banned_words)
                        or "-", signature=brand.signature or "-", call_to_action=brand.call_to_action or "-")
        faq = "\n".join(f"- Q: {f.question} A: {f.answer}" for f in brand.faq) or "-"
        examples = "\n".join(quote_untrusted(e, label="untrusted") for e in task.examples) or "(none yet)"
        user = render(f"writer/{task.kind}", platform=task.platform or "social", topic=task.topic or "-",
                      tone=task.tone or brand.tone, call_to_action=task.call_to_action or brand.call_to_action or "-",
                      audience=task.audience or brand.audience or "-", max_chars=str(task.max_chars or 3000),
                      examples=examples, source=quote_untrusted(task.source_text or "", label="untrusted"),
                      faq=faq, variant_index=str(task.variant_index), count=str(task.count))
        started = time.perf_counter()
        reply = self._model.invoke([SystemMessage(system), HumanMessage(user)])
        usage = reply.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
        return Written(text=str(reply.content).strip(), model=self.name, prompt_tokens=usage.get("input_tokens", 0),
                       completion_tokens=usage.get("output_tokens", 0),
                       latency_ms=round((time.perf_counter() - started) * 1000, 2))
