"""The simulated world: it moves the product's data, and the same seed gives the same world."""

from __future__ import annotations

from typing import Any

import pytest

from creator_studio.sandbox.world import World
from creator_studio.studio import Studio

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# Provider-made ids (uuid4) differ between runs; everything else must not.
RANDOM_IDS = {"post_id", "comment_id", "order_id", "product_id", "payment_id", "subscription_id", "customer_id",
              "url", "first_post_id", "last_post_id", "to_plan"}


def _stream(studio: Studio, seed: int, days: int) -> tuple[list[Any], dict[str, Any]]:
    ws = studio.workspaces.get("default")
    since = studio.now()
    world = World(studio, ws, seed=seed)
    world.run(days=days)
    events = studio.events.query(ws.id, since=since, limit=100_000)
    stream = [(e.type, e.occurred_at, e.source, {k: v for k, v in e.data.items() if k not in RANDOM_IDS})
              for e in events]
    return stream, world.summary()


def test_a_simulated_week_moves_followers_comments_email_and_payments(studio: Studio) -> None:
    stream, summary = _stream(studio, 7, 5)
    types = {t for t, *_ in stream}
    assert {"content.published", "content.engagement_received", "audience.follower_gained",
            "audience.comment_received"} <= types
    assert summary["followers"][1] > summary["followers"][0]
    assert summary["comments"] > 0 and summary["renewals"] > 0 and summary["emails_opened"] > 0
    kinds = summary["comment_kinds"]
    assert {"question", "praise", "spam"} <= set(kinds)
    # The product sees it: account followers and the posts' metrics moved in the sandbox providers.
    ws = studio.workspaces.get("default")
    assert sum(a.followers for a in studio.social.accounts(ws.id)) == summary["followers"][1]


def test_the_same_seed_gives_the_same_world_and_another_seed_a_different_one(tmp_path: Any,
                                                                             seeded_database: Any) -> None:
    import shutil

    from tests.conftest import FIXED_NOW, make_settings

    runs = []
    for index, seed in enumerate((7, 7, 8)):
        home = tmp_path / f"home{index}"
        home.mkdir()
        shutil.copyfile(seeded_database, home / "studio.db")
        studio = Studio.open(make_settings(home), migrate_schema=False)
        studio.clock = lambda: FIXED_NOW
        try:
            runs.append(_stream(studio, seed, 3))
        finally:
            studio.close()
    (first, first_summary), (second, second_summary), (other, other_summary) = runs
    assert len(first) > 20
    assert first == second and first_summary == second_summary
    assert first != other and first_summary != other_summary
