"""Multi-touch attribution: how one purchase's credit is shared among the touches that came before it.

A touch is a post view, a link click (with its UTM tags) or an email click; its channel is the UTM source
when the link carried one (people tag links deliberately), else the platform it happened on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from creator_studio.errors import InvalidInput

AttributionModelName = Literal["first_touch", "last_touch", "linear", "time_decay", "position_based"]
ATTRIBUTION_MODELS: tuple[str, ...] = get_args(AttributionModelName)
DEFAULT_HALF_LIFE_DAYS = 7.0  # GA4's time-decay half-life
# Position-based (U-shaped): 40 % to the first touch, 40 % to the last, 20 % shared by the ones between.
POSITION_ENDS = 0.4


@dataclass(frozen=True)
class Touch:
    channel: str
    occurred_at: datetime
    kind: str = "post_view"  # post_view | link_click | email_click
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None

    @property
    def credited_channel(self) -> str:
        return (self.utm_source or self.channel).strip().lower()


def credit(model: str, touches: list[Touch], purchased_at: datetime, *,
           half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> list[tuple[str, float]]:
    """(channel, weight) pairs summing to 1 for one purchase; no touches means it was direct."""
    if model not in ATTRIBUTION_MODELS:
        raise InvalidInput(f"model {model!r} is not one of {', '.join(ATTRIBUTION_MODELS)}.")
    if half_life_days <= 0:
        raise InvalidInput(f"half_life_days must be positive (got {half_life_days}).")
    if not touches:
        return [("direct", 1.0)]
    ordered = sorted(touches, key=lambda t: t.occurred_at)
    channels = [t.credited_channel for t in ordered]
    if model == "first_touch":
        return [(channels[0], 1.0)]
    if model == "last_touch":
        return [(channels[-1], 1.0)]
    if model == "linear":
        return [(c, 1 / len(channels)) for c in channels]
    if model == "position_based":
        if len(channels) == 1:
            return [(channels[0], 1.0)]
        if len(channels) == 2:
            return [(channels[0], 0.5), (channels[1], 0.5)]
        middle = (1 - 2 * POSITION_ENDS) / (len(channels) - 2)
        return [(channels[0], POSITION_ENDS), *((c, middle) for c in channels[1:-1]), (channels[-1], POSITION_ENDS)]
    weights = [0.5 ** ((purchased_at - t.occurred_at).total_seconds() / 86_400 / half_life_days) for t in ordered]
    total = sum(weights)
    return [(c, w / total) for c, w in zip(channels, weights, strict=True)]


def totals(model: str, journeys: list[tuple[list[Touch], datetime]], *,
           half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> dict[str, float]:
    """Conversions credited per channel over many purchases (each purchase adds up to exactly 1)."""
    out: dict[str, float] = {}
    for touches, at in journeys:
        for channel, weight in credit(model, touches, at, half_life_days=half_life_days):
            out[channel] = out.get(channel, 0.0) + weight
    return out
