"""Output sizes: image formats per platform and video export presets."""

from __future__ import annotations

from dataclasses import dataclass

from creator_studio.errors import InvalidInput


@dataclass(frozen=True)
class Frame:
    name: str
    width: int
    height: int

    @property
    def aspect(self) -> float:
        return self.width / self.height


IMAGE_FORMATS: dict[str, Frame] = {
    "square": Frame("square", 1080, 1080),
    "landscape": Frame("landscape", 1200, 675),
    "story": Frame("story", 1080, 1920),
}

# The feed image each platform shows best; "square" when the platform is not named.
PLATFORM_IMAGE_FORMAT: dict[str, str] = {"bluesky": "landscape", "mastodon": "landscape", "x": "landscape",
                                         "linkedin": "landscape", "threads": "square"}

VIDEO_PRESETS: dict[str, Frame] = {
    "vertical_short": Frame("vertical_short", 1080, 1920),
    "square_feed": Frame("square_feed", 1080, 1080),
}


def image_format(name: str | None = None, platform: str | None = None) -> Frame:
    if name:
        try:
            return IMAGE_FORMATS[name]
        except KeyError:
            raise InvalidInput(f"Unknown image format {name!r}: use one of {', '.join(IMAGE_FORMATS)}.") from None
    return IMAGE_FORMATS[PLATFORM_IMAGE_FORMAT.get(platform or "", "square")]


def video_preset(name: str) -> Frame:
    try:
        return VIDEO_PRESETS[name]
    except KeyError:
        raise InvalidInput(f"Unknown video preset {name!r}: use one of {', '.join(VIDEO_PRESETS)}.") from None
