"""`studio brand …` and `studio memory …` as a creator uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creator_studio.cli import app

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).parent.parent / "fixtures" / "memory"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STUDIO_MODEL", "offline")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "STUDIO_CHROMA_URL", "STUDIO_EMBEDDING_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_brand_and_memory_commands(cli: CliRunner, tmp_path: Path) -> None:
    imported = cli.invoke(app, ["brand", "import", str(FIXTURES / "brand.yaml")])
    assert imported.exit_code == 0, imported.output
    assert "2 example posts" in imported.stdout
    shown = cli.invoke(app, ["brand", "show"])
    assert shown.exit_code == 0 and "synergy" in shown.stdout and "weekend" in shown.stdout  # an example post

    edited = cli.invoke(app, ["brand", "edit", "--set", "banned_words=guru,crypto", "--set", "tone=calm"])
    assert edited.exit_code == 0, edited.output
    shown = cli.invoke(app, ["brand", "show"])
    assert "crypto" in shown.stdout and "synergy" not in shown.stdout and "calm" in shown.stdout
    wrong = cli.invoke(app, ["brand", "edit", "--set", "colour=blue"])
    assert wrong.exit_code == 2 and "unknown brand field 'colour'" in wrong.stderr
    bad_file = tmp_path / "brand.yaml"
    bad_file.write_text("tone: calm\nbanned_word: [oops]\n", encoding="utf-8")
    rejected = cli.invoke(app, ["brand", "import", str(bad_file)])
    assert rejected.exit_code == 2 and "banned_word" in rejected.stderr

    before = json.loads(cli.invoke(app, ["memory", "search", "trailing space in a column name", "--json",
                                         "--collection", "content_performance", "--limit", "50"]).stdout)
    bad = cli.invoke(app, ["memory", "import", str(FIXTURES / "bad_rows.csv")])
    assert bad.exit_code == 2
    assert "Nothing was imported" in bad.stderr and "line 3: likes is not a whole number" in bad.stderr
    assert "line 5: unknown platform 'myspace'" in bad.stderr
    after_bad = json.loads(cli.invoke(app, ["memory", "search", "trailing space in a column name", "--json",
                                            "--collection", "content_performance", "--limit", "50"]).stdout)
    assert len(after_bad) == len(before)

    good = cli.invoke(app, ["memory", "import", str(FIXTURES / "x_api_v2.json"), "--topic", "data visualisation"])
    assert good.exit_code == 0, good.output
    assert "Imported 2 posts (2 x) as 2 memories" in good.stdout
    found = json.loads(cli.invoke(app, ["memory", "search", "legend or a title on a chart", "--json"]).stdout)
    [hit] = [h for h in found if h["metadata"].get("origin") == "import" and "legend" in h["text"]]
    assert hit["text"] == "data visualisation: A chart that needs a legend usually needs a title instead."
    assert hit["metadata"]["likes"] == 300 and hit["metadata"]["platform"] == "x"
    table = cli.invoke(app, ["memory", "search", "legend or a title on a chart", "-c", "content_performance"])
    assert table.exit_code == 0 and "Memory search" in table.stdout and "similarity" in table.stdout
    unknown = cli.invoke(app, ["memory", "search", "x", "--collection", "nope"])
    assert unknown.exit_code == 2 and "Unknown collection 'nope'" in unknown.stderr

    reindexed = cli.invoke(app, ["memory", "reindex"])
    assert reindexed.exit_code == 0 and "Re-embedded" in reindexed.stdout
    stats = cli.invoke(app, ["memory", "stats"])
    assert stats.exit_code == 0 and "content_performance" in stats.stdout
