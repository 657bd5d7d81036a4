"""ContentService.list_drafts and update_draft: the draft edits the API makes, with their version check."""

from __future__ import annotations

import pytest

from creator_studio.content.service import StaleDraftVersion
from creator_studio.errors import InvalidInput, NotFound
from creator_studio.sandbox.seed import DEFAULT_BRAND
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

pytestmark = pytest.mark.unit


def test_update_draft_is_a_compare_and_swap_on_the_version(studio: Studio, workspace: Workspace) -> None:
    content = studio.content
    draft = content.draft_post(workspace, studio.writer.write, platform="linkedin", topic="pandas before SQL",
                               tone=None, call_to_action=None, audience=None)
    assert draft.version == 1 and content.list_drafts(workspace, limit=1)[0].id == draft.id

    first = content.update_draft(workspace, draft.id, expected_version=1, text="Alice's version", title="A")
    assert (first.version, first.text, first.title) == (2, "Alice's version", "A")
    with pytest.raises(StaleDraftVersion) as stale:
        content.update_draft(workspace, draft.id, expected_version=1, text="Bob's version")
    assert stale.value.current.text == "Alice's version" and stale.value.current.version == 2
    assert stale.value.expected == 1
    assert content.get_draft(workspace, draft.id).text == "Alice's version"  # nothing was overwritten

    latest = content.update_draft(workspace, draft.id, expected_version=None, topic="SQL after pandas")
    assert latest.version == 3 and latest.text == "Alice's version" and latest.topic == "SQL after pandas"

    with pytest.raises(InvalidInput, match=r"^text: "):
        content.update_draft(workspace, draft.id, expected_version=3, text="x" * 3500)  # over LinkedIn's limit
    assert content.get_draft(workspace, draft.id).version == 3


def test_drafts_are_listed_per_workspace_and_status(studio: Studio, workspace: Workspace) -> None:
    content = studio.content
    other = studio.workspaces.create("other", "Someone else", "UTC", DEFAULT_BRAND)
    mine = content.draft_post(workspace, studio.writer.write, platform="bluesky", topic="notebooks",
                              tone=None, call_to_action=None, audience=None)
    theirs = content.draft_post(other, studio.writer.write, platform="bluesky", topic="notebooks",
                                tone=None, call_to_action=None, audience=None)
    assert mine.id in {d.id for d in content.list_drafts(workspace, status="draft", limit=500)}
    assert theirs.id not in {d.id for d in content.list_drafts(workspace, limit=500)}
    assert all(d.status == "published" for d in content.list_drafts(workspace, status="published", limit=500))
    with pytest.raises(NotFound):  # another workspace's draft cannot be edited from here
        content.update_draft(workspace, theirs.id, expected_version=1, text="mine now")
    assert content.get_draft(other, theirs.id).version == 1
