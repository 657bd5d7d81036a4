"""Funnels and attribution models against hand-computed examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from creator_studio.analytics import attribution, funnels
from creator_studio.errors import InvalidInput

pytestmark = pytest.mark.unit

T = datetime(2026, 3, 1, 12, tzinfo=UTC)
H = timedelta(hours=1)


def test_funnel_from_counts() -> None:
    result = funnels.from_counts([("views", 1000), ("clicks", 100), ("signups", 40), ("purchases", 4)])
    assert [s.conversion_from_previous for s in result.steps] == [None, 0.1, 0.4, 0.1]
    assert result.weakest_step == "views → clicks"  # 0.1 ties with signups → purchases: the earliest wins
    assert result.weakest_conversion == 0.1 and result.overall_conversion == 0.004
    empty = funnels.from_counts([("views", 0), ("clicks", 0)])
    assert empty.weakest_step is None and empty.overall_conversion is None
    with pytest.raises(InvalidInput):
        funnels.from_counts([("views", -1)])


def test_ordered_funnel_from_events_with_time_between_steps() -> None:
    steps = ["view", "click", "buy"]
    events = [
        ("ann", "view", T), ("ann", "click", T + 2 * H), ("ann", "buy", T + 5 * H),
        ("bob", "view", T), ("bob", "click", T + 4 * H),
        ("cat", "click", T), ("cat", "view", T + H),  # clicked before viewing: the click does not count
        ("dan", "view", T), ("dan", "buy", T + H),  # bought without the click step: not counted at "buy"
    ]
    result = funnels.from_events(steps, events)
    assert [s.count for s in result.steps] == [4, 2, 1]
    assert result.steps[1].median_hours_from_previous == 3.0  # ann 2 h, bob 4 h
    assert result.steps[2].median_hours_from_previous == 3.0  # ann 5 − 2
    assert result.weakest_step == "view → click" and result.weakest_conversion == 0.5
    with pytest.raises(InvalidInput, match="share"):
        funnels.from_events(steps, [("x", "share", T)])


def journey() -> list[attribution.Touch]:
    return [
        attribution.Touch("bluesky", T - timedelta(days=14)),
        attribution.Touch("x", T - timedelta(days=7), kind="link_click", utm_source="Newsletter"),
        attribution.Touch("linkedin", T - timedelta(days=3)),
        attribution.Touch("email", T, kind="email_click"),
    ]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first_touch", {"bluesky": 1.0}),
        ("last_touch", {"email": 1.0}),
        ("linear", {"bluesky": 0.25, "newsletter": 0.25, "linkedin": 0.25, "email": 0.25}),
        ("position_based", {"bluesky": 0.4, "newsletter": 0.1, "linkedin": 0.1, "email": 0.4}),
        # weights 2^(−14/7) = 0.25, 2^(−1) = 0.5, 2^(−3/7) = 0.7430, 1 → total 2.4930
        ("time_decay", {"bluesky": 0.25 / 2.49300, "newsletter": 0.5 / 2.49300, "linkedin": 0.74300 / 2.49300,
                        "email": 1 / 2.49300}),
    ],
)
def test_each_attribution_model(model: str, expected: dict[str, float]) -> None:
    got = dict(attribution.credit(model, journey(), T))
    assert got == pytest.approx(expected, abs=1e-4)
    assert sum(got.values()) == pytest.approx(1.0)


def test_attribution_edge_cases() -> None:
    assert attribution.credit("linear", [], T) == [("direct", 1.0)]
    two = journey()[:2]
    assert attribution.credit("position_based", two, T) == [("bluesky", 0.5), ("newsletter", 0.5)]
    # A 14-day half-life halves the weight of a touch 14 days out: 1 vs 0.5.
    got = dict(attribution.credit("time_decay", [journey()[0], journey()[3]], T, half_life_days=14))
    assert got == pytest.approx({"bluesky": 1 / 3, "email": 2 / 3})
    totals = attribution.totals("first_touch", [(journey(), T), ([], T)])
    assert totals == {"bluesky": 1.0, "direct": 1.0}
    with pytest.raises(InvalidInput, match="model"):
        attribution.credit("u_shaped", journey(), T)
    with pytest.raises(InvalidInput, match="half_life"):
        attribution.credit("time_decay", journey(), T, half_life_days=0)
