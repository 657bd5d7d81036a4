"""What each platform accepts as media, checked before anything is uploaded or published.

Figures from each platform's published API reference (Bluesky lexicons app.bsky.embed.images/video,
X media upload, Mastodon media attachments, LinkedIn Images/Videos API, Threads publishing).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from creator_studio.content.platforms import DISPLAY_NAMES
from creator_studio.errors import InvalidInput

MB = 1_000_000


@dataclass(frozen=True)
class MediaLimits:
    max_images: int
    max_image_bytes: int
    max_videos: int
    max_video_bytes: int
    max_video_seconds: float
    min_aspect: float  # width / height
    max_aspect: float
    mixes_images_and_video: bool = False


LIMITS: dict[str, MediaLimits] = {
    "bluesky": MediaLimits(4, 1 * MB, 1, 100 * MB, 180, 1 / 3, 3),
    "x": MediaLimits(4, 5 * MB, 1, 512 * MB, 140, 1 / 3, 3),
    "mastodon": MediaLimits(4, 16 * MB, 1, 99 * MB, 3600, 1 / 20, 20),
    "linkedin": MediaLimits(20, 36 * MB, 1, 500 * MB, 1800, 1 / 2.4, 2.4),
    "threads": MediaLimits(10, 8 * MB, 10, 1000 * MB, 300, 1 / 10, 10, mixes_images_and_video=True),
}


class MediaFacts(BaseModel):
    kind: str  # "image" | "video"
    bytes: int
    width: int
    height: int
    duration_s: float | None = None
    path: str | None = None


def check_media(platform: str, media: list[MediaFacts]) -> None:
    """Raise naming the first limit the attachments break."""
    if not media:
        return
    name = DISPLAY_NAMES.get(platform, platform)
    limits = LIMITS.get(platform)
    if limits is None:
        raise InvalidInput(f"{name} posts take no media attachments here.")
    images = [m for m in media if m.kind == "image"]
    videos = [m for m in media if m.kind == "video"]
    if images and videos and not limits.mixes_images_and_video:
        raise InvalidInput(f"{name} posts take images or a video, not both.")
    if len(images) > limits.max_images:
        raise InvalidInput(f"{name} posts take at most {limits.max_images} images; this one has {len(images)}.")
    if len(videos) > limits.max_videos:
        raise InvalidInput(f"{name} posts take at most {limits.max_videos} video; this one has {len(videos)}.")
    for item in media:
        label = item.path or item.kind
        cap = limits.max_image_bytes if item.kind == "image" else limits.max_video_bytes
        if item.bytes > cap:
            raise InvalidInput(f"{name} takes {item.kind}s up to {cap / MB:g} MB; {label} is "
                               f"{item.bytes / MB:.1f} MB.")
        aspect = item.width / item.height
        if not limits.min_aspect <= aspect <= limits.max_aspect:
            raise InvalidInput(f"{name} takes aspect ratios between {limits.min_aspect:.2f} and "
                               f"{limits.max_aspect:.2f}; {label} is {aspect:.2f}.")
        if item.kind == "video" and item.duration_s is not None and item.duration_s > limits.max_video_seconds:
            raise InvalidInput(f"{name} takes videos up to {limits.max_video_seconds:g} s; {label} is "
                               f"{item.duration_s:.0f} s.")
