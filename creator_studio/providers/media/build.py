"""Which media implementations a studio uses: configuration, decided here only."""

from __future__ import annotations

from openai import OpenAI

from creator_studio.content.media import MediaService
from creator_studio.providers.media.base import ImageGenerator, SpeechSynthesizer
from creator_studio.providers.media.images import OpenAIImages
from creator_studio.providers.media.speech import EspeakSpeech, OpenAISpeech
from creator_studio.settings import Settings
from creator_studio.store.db import Database


def build_media_service(db: Database, settings: Settings) -> MediaService:
    images: ImageGenerator | None = None
    speech: SpeechSynthesizer = EspeakSpeech()
    if settings.image_model or settings.speech_model:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        client = OpenAI(api_key=key, base_url=settings.openai_base_url, timeout=settings.model_timeout_s,
                        max_retries=settings.model_max_retries)
        if settings.image_model:
            images = OpenAIImages(client, settings.image_model, settings.image_cost_usd)
        if settings.speech_model:
            speech = OpenAISpeech(client, settings.speech_model, settings.speech_voice)
    return MediaService(db, settings.home / "media", speech=speech, images=images)
