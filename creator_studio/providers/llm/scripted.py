"""A scripted chat model for tests: it answers with the responses it was given, in order, and remembers what it
was asked. A test asserts `consumed()` at the end so no scripted turn is silently skipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from creator_studio.providers.llm.offline.writer import OfflineWriter
from creator_studio.providers.llm.writer import Writer


class ScriptedChatModel(BaseChatModel):
    _responses: list[AIMessage] = PrivateAttr(default_factory=list)
    _received: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    def __init__(self, responses: Sequence[AIMessage], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._responses = list(responses)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def received(self) -> list[list[BaseMessage]]:
        return self._received

    def consumed(self) -> bool:
        return not self._responses

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
                   ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self._received.append(list(messages))
        if not self._responses:
            raise AssertionError("the scripted model was called more often than scripted")
        reply = self._responses.pop(0)
        reply.usage_metadata = reply.usage_metadata or {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
        return ChatResult(generations=[ChatGeneration(message=reply)])


@dataclass
class ScriptedModelProvider:
    """Plugs a scripted model into a studio (`studio.models = ScriptedModelProvider(model)`)."""

    model: ScriptedChatModel
    name: str = "scripted"
    offline: bool = True
    _writer: Writer = field(default_factory=OfflineWriter)

    @property
    def writer(self) -> Writer:
        return self._writer

    def chat_model(self) -> BaseChatModel:
        return self.model
