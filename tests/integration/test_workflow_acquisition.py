"""Workflow 1 (new follower acquisition) end to end in the simulated world."""

from __future__ import annotations

from datetime import timedelta

import pytest

from creator_studio.sandbox.workflows import AUTO_APPROVE, acquisition
from creator_studio.sandbox.workflows.run import WorkflowStepFailed, steps_in_order
from creator_studio.sandbox.world import World
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_follower_acquisition_runs_its_ten_steps_with_one_correlation_id(studio: Studio,
                                                                         workspace: Workspace) -> None:
    ws = studio.workspaces.update(workspace.id, auto_approve=AUTO_APPROVE)
    world = World(studio, ws, seed=7)
    report = acquisition.run_follower_acquisition(studio, ws, world, correlation_id="wf-acq-test")

    events = studio.events.query(ws.id, correlation_id="wf-acq-test", limit=5000)
    assert {e.correlation_id for e in events} == {"wf-acq-test"}
    ordered = steps_in_order(events, acquisition.STEPS)
    assert [e.type for e in ordered] == [s.event for s in acquisition.STEPS]
    # Step 2 is the tool's own content.published for the starting post.
    assert ordered[1].data["post_id"] == report.starting_post_id
    # Revenue came back to the post that started it.
    assert report.attributed_revenue_cents > 0
    step8 = ordered[7].data
    assert step8["post_ids"][0] == report.starting_post_id
    assert step8["attributed_revenue_cents"] == report.attributed_revenue_cents
    assert events[-1].type == "system.workflow_completed"
    assert events[-1].data["run_id"] == report.run_id
    # The Automation Lab ran it: one step run per step (waits included), each tool call under the correlation id.
    steps = studio.automation.step_runs(ws, report.run_id)
    assert [s.status for s in steps] == ["succeeded"] * 12
    assert [s.label for s in steps if s.step_type == "wait"] == ["wait 48h", "wait 5d"]
    [run] = [r for r in studio.automation.runs(ws) if r.id == report.run_id]
    assert run.status == "succeeded" and run.workflow_name == "Cross-module: new follower acquisition"
    calls = [e for e in studio.ledger.entries(workspace_id=ws.id) if e.run_id == "wf-acq-test"]
    assert {"publish_post", "reply_to_comment", "start_email_sequence"} <= {e.tool for e in calls}
    # The wait moved the world's clock: engagement was read two days after the posts went out.
    assert ordered[2].occurred_at - ordered[1].occurred_at >= timedelta(hours=48)


def test_a_side_effect_outside_the_policy_stops_the_workflow(studio: Studio, workspace: Workspace) -> None:
    world = World(studio, workspace, seed=7)  # auto_approve is empty: nobody may publish
    with pytest.raises(WorkflowStepFailed, match=r"step 2 \(run acquisition.publish_across_platforms\(\)\).*"
                                                 r"publish_post needs approval"):
        acquisition.run_follower_acquisition(studio, workspace, world, correlation_id="wf-acq-denied")
    assert not studio.events.query(workspace.id, correlation_id="wf-acq-denied", types=["content.published"])
