"""Argument types shared by the tool catalogue (tools.md): platforms, periods, times."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

AgentName = Literal["command_center", "content", "engagement", "revenue", "automation"]
AGENT_NAMES: tuple[AgentName, ...] = ("command_center", "content", "engagement", "revenue", "automation")

Platform = Literal["bluesky", "mastodon", "x", "linkedin", "threads", "email"]
SocialPlatform = Literal["bluesky", "mastodon", "x", "linkedin", "threads"]
PLATFORM_ALIASES = {"twitter": "x", "bsky": "bluesky", "blue sky": "bluesky", "linked in": "linkedin",
                    "e-mail": "email", "newsletter": "email"}

_PERIOD = re.compile(r"^(?:(\d{1,4})d|mtd|ytd)$")


def _normalise_platform(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        return PLATFORM_ALIASES.get(lowered, lowered)
    return value


def _check_period(value: str) -> str:
    value = value.strip().lower()
    match = _PERIOD.match(value)
    if not match or (match.group(1) is not None and int(match.group(1)) == 0):
        raise ValueError(f"period {value!r} is not like '7d', '30d', '90d', 'mtd' or 'ytd'")
    return value


def _aware(value: datetime, info: ValidationInfo) -> datetime:
    if value.tzinfo is None:
        context = info.context or {}
        zone = context.get("zone")
        if zone is None:
            raise ValueError("a time needs a time zone (ISO 8601 with offset, e.g. 2026-11-27T09:00:00+01:00)")
        value = value.replace(tzinfo=zone)
    return value


def _future(value: datetime, info: ValidationInfo) -> datetime:
    value = _aware(value, info)
    now = (info.context or {}).get("now")
    if now is not None and value <= now:
        raise ValueError(f"{value.isoformat()} is in the past; choose a time after {now.isoformat()}")
    return value


PlatformArg = Annotated[Platform, BeforeValidator(_normalise_platform)]
SocialPlatformArg = Annotated[SocialPlatform, BeforeValidator(_normalise_platform)]
Period = Annotated[str, AfterValidator(_check_period)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
FutureDatetime = Annotated[datetime, AfterValidator(_future)]
