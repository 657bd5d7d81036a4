"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, Ollama) through langchain-openai."""

from __future__ import annotations

from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from creator_studio.settings import Settings


def build_openai_chat_model(settings: Settings, model_name: str) -> ChatOpenAI:
    # A local server needs no key, but the client insists on one: any placeholder will do there.
    key = settings.openai_api_key or SecretStr("not-needed-for-local-servers")
    return ChatOpenAI(model=model_name, api_key=key, base_url=settings.openai_base_url,
                      timeout=settings.model_timeout_s, max_retries=settings.model_max_retries,
                      temperature=settings.model_temperature, stream_usage=True)
