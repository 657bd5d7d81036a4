"""Workflow 3 (community monetisation) end to end in the simulated world."""

from __future__ import annotations

import pytest

from creator_studio.sandbox.workflows import AUTO_APPROVE, community
from creator_studio.sandbox.workflows.run import steps_in_order
from creator_studio.sandbox.world import World
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_community_monetisation_runs_its_ten_steps_with_one_correlation_id(studio: Studio,
                                                                           workspace: Workspace) -> None:
    ws = studio.workspaces.update(workspace.id, auto_approve=AUTO_APPROVE)
    world = World(studio, ws, seed=7)
    world.run(days=2)  # a few days of comments so there are engaged members to find
    report = community.run_community_monetisation(studio, ws, world, correlation_id="wf-com-test")

    events = studio.events.query(ws.id, correlation_id="wf-com-test", limit=5000)
    ordered = steps_in_order(events, community.STEPS)
    assert [e.type for e in ordered] == [s.event for s in community.STEPS]
    assert ordered[3].data["post_id"] == report.starting_post_id  # the offer post started it
    upgraded = ordered[6].data
    assert upgraded["mrr_delta_cents"] > 0
    members = ordered[0].data["members"]
    assert ordered[7].data["member_id"] in members
    assert report.attributed_revenue_cents > 0
    assert ordered[8].data["post_id"] == report.starting_post_id
