"""Choosing the model: the offline planner (default, no keys) or any OpenAI-compatible endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from langchain_core.language_models import BaseChatModel

from creator_studio.errors import ConfigurationError
from creator_studio.providers.llm.writer import Writer
from creator_studio.settings import Settings


class ModelProvider(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def offline(self) -> bool: ...

    @property
    def writer(self) -> Writer: ...

    def chat_model(self) -> BaseChatModel: ...


@dataclass
class OfflineModelProvider:
    name: str = "offline"
    offline: bool = True

    @cached_property
    def writer(self) -> Writer:
        from creator_studio.providers.llm.offline.writer import OfflineWriter

        return OfflineWriter()

    def chat_model(self) -> BaseChatModel:
        from creator_studio.providers.llm.offline.model import OfflinePlannerModel

        return OfflinePlannerModel()


@dataclass
class OpenAIModelProvider:
    settings: Settings
    model_name: str
    offline: bool = False

    @property
    def name(self) -> str:
        return f"openai:{self.model_name}"

    @cached_property
    def writer(self) -> Writer:
        from creator_studio.providers.llm.chat_writer import ChatWriter

        return ChatWriter(self.chat_model(), self.name)

    def chat_model(self) -> BaseChatModel:
        from creator_studio.providers.llm.openai import build_openai_chat_model

        return build_openai_chat_model(self.settings, self.model_name)


def build_model_provider(settings: Settings) -> ModelProvider:
    choice = settings.resolved_model
    if choice == "offline":
        return OfflineModelProvider()
    if choice.startswith("openai:") and len(choice) > len("openai:"):
        return OpenAIModelProvider(settings=settings, model_name=choice.removeprefix("openai:"))
    raise ConfigurationError(f"STUDIO_MODEL={choice!r} is not understood: use 'offline' or 'openai:<model name>'.")
