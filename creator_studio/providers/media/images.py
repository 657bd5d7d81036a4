"""Image generators: branded cards offline, OpenAI's Images API when a model is configured."""

from __future__ import annotations

import base64
import io

from openai import OpenAI
from PIL import Image, ImageOps

from creator_studio.errors import InvalidInput
from creator_studio.providers.media.base import GeneratedImage

# Sizes each model accepts, by shape; the result is cropped to the platform's frame afterwards.
_SIZES = {
    "dall-e-3": {"square": "1024x1024", "wide": "1792x1024", "tall": "1024x1792"},
    "default": {"square": "1024x1024", "wide": "1536x1024", "tall": "1024x1536"},
}


class OpenAIImages:
    """`POST /v1/images/generations` on OpenAI or a compatible server; the price per image is configured."""

    def __init__(self, client: OpenAI, model: str, cost_per_image_usd: float) -> None:
        self._client = client
        self.model = model
        self.name = f"openai:{model}"
        self._cost = cost_per_image_usd

    def generate(self, prompt: str, width: int, height: int) -> GeneratedImage:
        shape = "square" if abs(width - height) < 0.1 * width else ("wide" if width > height else "tall")
        size = _SIZES.get(self.model, _SIZES["default"])[shape]
        extra: dict[str, str] = {"response_format": "b64_json"} if self.model.startswith("dall-e") else {}
        response = self._client.images.generate(model=self.model, prompt=prompt, size=size, n=1,  # type: ignore[call-overload]
                                                **extra)
        if not response.data or not response.data[0].b64_json:
            raise InvalidInput(f"The image model {self.model} returned no image for this prompt.")
        picture = Image.open(io.BytesIO(base64.b64decode(response.data[0].b64_json))).convert("RGB")
        fitted = ImageOps.fit(picture, (width, height), method=Image.Resampling.LANCZOS)
        return GeneratedImage(image=fitted, generator=self.name, cost_usd=self._cost)
