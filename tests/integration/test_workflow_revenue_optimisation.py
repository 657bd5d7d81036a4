"""Workflow 2 (revenue optimisation) end to end in the simulated world."""

from __future__ import annotations

import pytest

from creator_studio.sandbox.workflows import AUTO_APPROVE, revenue_optimisation
from creator_studio.sandbox.workflows.run import steps_in_order
from creator_studio.sandbox.world import World
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_revenue_optimisation_runs_its_ten_steps_with_one_correlation_id(studio: Studio,
                                                                         workspace: Workspace) -> None:
    ws = studio.workspaces.update(workspace.id, auto_approve=AUTO_APPROVE)
    world = World(studio, ws, seed=7)
    report = revenue_optimisation.run_revenue_optimisation(studio, ws, world, correlation_id="wf-rev-test")

    events = studio.events.query(ws.id, correlation_id="wf-rev-test", limit=5000)
    ordered = steps_in_order(events, revenue_optimisation.STEPS)
    assert [e.type for e in ordered] == [s.event for s in revenue_optimisation.STEPS]
    assert [e.data["workflow_step"] for e in ordered] == list(range(1, 11))
    winner = ordered[6].data["winner"]
    assert ordered[4].data["posts"][winner] == report.starting_post_id
    # The A/B test got its exposures and revenue acted on the announced winner.
    test = studio.revenue.get_ab_test(ws, report.facts["test_id"])
    assert sum(v.exposures for v in test.variants) == ordered[5].data["value"] > 0
    assert test.status == "concluded"
    assert report.attributed_revenue_cents > 0
    assert ordered[8].data["post_ids"][0] == report.starting_post_id
