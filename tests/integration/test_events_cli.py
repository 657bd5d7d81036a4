"""`studio events|audit|webhooks` on a real (migrated) studio home."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from creator_studio.cli import app
from creator_studio.events.models import EventLogRow
from creator_studio.settings import Settings
from creator_studio.studio import Studio

pytestmark = pytest.mark.integration


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    monkeypatch.setenv("STUDIO_MODEL", "offline")
    monkeypatch.delenv("STUDIO_REDIS_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "300")  # wide tables: one row per line
    return home


def publish_some(home: Path) -> list[str]:
    studio = Studio.open(Settings(home=home, model="offline"))
    try:
        ids = [studio.events.publish("audience.follower_gained", "default", {"platform": "bluesky", "count": n},
                                     source="test").id for n in (1, 2, 3)]
        studio.events.collect({"type": "audience.follower_gained", "workspace_id": "default", "source": "test",
                               "data": {"count": 1}})
        return ids
    finally:
        studio.close()


def test_audit_verify_exits_1_and_names_the_edited_row(home: Path) -> None:
    ids = publish_some(home)
    cli = CliRunner()
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "ok default: 3 event(s) checked" in result.output

    studio = Studio.open(Settings(home=home, model="offline"))
    with studio.db.transaction() as session:
        session.execute(update(EventLogRow).where(EventLogRow.event_id == ids[1]).values(source="forged"))
    studio.close()
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "TAMPERED default" in result.output and f"position 2 (event {ids[1]})" in result.output


def test_events_list_dead_letters_and_webhooks_commands(home: Path) -> None:
    ids = publish_some(home)
    cli = CliRunner()
    listed = cli.invoke(app, ["events", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert all(event_id in listed.output for event_id in ids)
    letters = cli.invoke(app, ["events", "dead-letters"])
    assert letters.exit_code == 0 and "platform: Field required" in letters.output.replace("\n", " ")
    tail = cli.invoke(app, ["events", "tail", "--duration", "0.2", "--interval", "0.05"])
    assert tail.exit_code == 0 and tail.output.count("audience.follower_gained") == 3
    replay = cli.invoke(app, ["events", "replay", ids[0]])
    assert replay.exit_code == 0 and "Replayed 1 event(s)." in replay.output
    missing = cli.invoke(app, ["events", "replay", "no-such-id"])
    assert missing.exit_code == 2 and "no stored event 'no-such-id'" in missing.output

    added = cli.invoke(app, ["webhooks", "add", "https://example.com/hook", "--type", "revenue.*"])
    assert added.exit_code == 0, added.output
    webhook_id = added.output.split()[2]
    assert webhook_id.startswith("wh_")
    assert webhook_id in cli.invoke(app, ["webhooks", "list"]).output
    bad = cli.invoke(app, ["webhooks", "add", "https://example.com/hook", "--type", "nothing.here"])
    assert bad.exit_code == 2 and "matches no event type" in bad.output
    assert cli.invoke(app, ["webhooks", "deliveries"]).exit_code == 0
    assert cli.invoke(app, ["webhooks", "remove", webhook_id]).exit_code == 0
    assert "No webhooks." in cli.invoke(app, ["webhooks", "list"]).output
