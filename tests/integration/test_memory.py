"""Vector memory steering drafts, against the embedded persistent client and a real Chroma server.

The server is `chroma run` on a free loopback port for the session; each test gets its own Chroma database on
it (and its own studio home), so tests stay isolated.
"""

from __future__ import annotations

import csv
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from statistics import median

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from creator_studio.providers.llm.writer import WritingTask, Written
from creator_studio.providers.social.base import PostMetrics
from creator_studio.studio import Studio
from creator_studio.workspaces.service import BrandVoice, Workspace
from tests.conftest import FIXED_NOW, make_settings
from tests.servers import _stop, free_port, wait_for_port

pytestmark = pytest.mark.integration
CHROMA = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "chroma"

TOPICS = {
    "pandas groupby": "groupby and agg in pandas instead of pivot tables",
    "data cleaning": "cleaning messy CSV data: dtypes, duplicates and missing values",
    "jupyter tips": "Jupyter notebook shortcuts and magics",
    "sql for analysts": "writing SQL joins and window functions as an analyst",
    "data visualisation": "charts in matplotlib and seaborn that people understand",
    "career change": "moving from finance spreadsheets to a data career",
    "excel automation": "automating Excel reports with openpyxl",
    "python testing": "testing data pipelines with pytest",
    "time series": "resampling and rolling windows on time series",
    "course launch": "launching my Python course for analysts",
}
PLATFORMS = {"x": 12_500, "bluesky": 4_200, "linkedin": 8_900}  # followers: raw likes favour the big account


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = path / "chroma.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(port),
                                    "--path", str(path / "data")], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, "chroma", log)
        yield "127.0.0.1", port
    finally:
        _stop(process)


@pytest.fixture(params=["persistent", "server"])
def mem_studio(request: pytest.FixtureRequest, tmp_path: Path, seeded_database: Path) -> Iterator[Studio]:
    """A seeded studio whose memory is the embedded client in its home, or a fresh database on the server."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(seeded_database, home / "studio.db")
    overrides: dict[str, object] = {}
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        database = f"test_{uuid.uuid4().hex[:12]}"
        admin = chromadb.AdminClient(ChromaSettings(chroma_api_impl="chromadb.api.fastapi.FastAPI",
                                                    chroma_server_host=host, chroma_server_http_port=port,
                                                    anonymized_telemetry=False))
        admin.create_database(database)
        overrides["chroma_url"] = f"http://{host}:{port}?database={database}"
    studio = Studio.open(make_settings(home, **overrides), migrate_schema=False)
    studio.clock = lambda: FIXED_NOW
    yield studio
    studio.close()
    if request.param == "persistent":
        assert (home / "memory").is_dir()  # the embedded client really wrote to the workspace directory


class Recorder:
    """The offline writer, recording each task it was given (to see what steered it)."""

    def __init__(self, studio: Studio) -> None:
        self.tasks: list[WritingTask] = []
        self._writer = studio.writer

    def __call__(self, task: WritingTask) -> Written:
        self.tasks.append(task)
        return self._writer.write(task)


def _past_posts(rng: random.Random) -> list[dict[str, object]]:
    """200 posts: 20 per topic, across three platforms with different audiences and typical rates."""
    typical = {"x": 0.02, "bluesky": 0.06, "linkedin": 0.04}
    rows: list[dict[str, object]] = []
    for topic_index, (topic, about) in enumerate(TOPICS.items()):
        for n in range(20):
            platform = list(PLATFORMS)[(n + topic_index) % 3]
            followers = PLATFORMS[platform]
            rate = typical[platform] * rng.uniform(0.3, 2.5)
            engagements = max(1, round(rate * followers))
            likes = round(engagements * 0.7)
            rows.append({"id": f"{topic_index:02}-{n:02}", "platform": platform, "topic": topic,
                         "text": f"Post {n} on {topic}: what I learned about {about}, take {n}.",
                         "published_at": f"2026-0{1 + n % 9}-1{n % 10}T09:00:00Z", "likes": likes,
                         "reposts": engagements - likes, "replies": 0, "clicks": 0, "impressions": followers // 2,
                         "followers": followers})
    return rows


def _write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _relative(rows: list[dict[str, object]]) -> dict[str, float]:
    """Expected ranking, computed independently: engagements per person reached (followers, or impressions when
    more) over the median rate of the platform."""
    def rate(row: dict[str, object]) -> float:
        reach = max(int(row["followers"]), int(row["impressions"]))  # type: ignore[call-overload]
        return (int(row["likes"]) + int(row["reposts"])) / reach  # type: ignore[call-overload]
    medians = {p: median(rate(r) for r in rows if r["platform"] == p) for p in PLATFORMS}
    return {f"import:{r['id']}": rate(r) / medians[str(r["platform"])] for r in rows}


def _new_workspace(studio: Studio, workspace_id: str) -> Workspace:
    return studio.workspaces.create(workspace_id, "Importer", "Europe/Berlin",
                                    BrandVoice(creator_name="Ana", niche="data analysis", banned_words=["guru"]))


def test_200_imported_posts_steer_drafts_and_a_boost_changes_the_next_retrieval(mem_studio: Studio,
                                                                                tmp_path: Path) -> None:
    studio = mem_studio
    ws = _new_workspace(studio, "importer")
    rows = _past_posts(random.Random(5))
    progress: list[tuple[int, int]] = []
    summary = studio.memory.import_posts(ws, _write_csv(tmp_path / "posts.csv", rows),
                                         progress=lambda d, t: progress.append((d, t)))
    assert summary.posts == 200 and progress[-1] == (200, 200)
    relative = _relative(rows)
    topic = "data cleaning"
    on_topic = [f"import:{r['id']}" for r in rows if r["topic"] == topic]

    # Across platforms (a newsletter): the top three on the topic by relative engagement, not by raw likes.
    write = Recorder(studio)
    newsletter = studio.content.draft_newsletter(ws, write, topic=topic, segment=None)
    expected = sorted(on_topic, key=lambda i: relative[i], reverse=True)[:3]
    assert newsletter.example_ids == expected
    likes = {f"import:{r['id']}": int(r["likes"]) for r in rows}  # type: ignore[call-overload]
    assert expected != sorted(on_topic, key=lambda i: likes[i], reverse=True)[:3]  # the data can tell them apart
    texts = {f"import:{r['id']}": str(r["text"]) for r in rows}
    assert write.tasks[-1].examples[:3] == [texts[i] for i in expected]  # and the writer got those posts
    assert texts[expected[0]].split(".")[0] in newsletter.text  # the offline writer leans on the best one

    # On one platform (a post for X): the best X posts on the topic.
    post = studio.content.draft_post(ws, write, platform="x", topic=topic, tone=None, call_to_action=None,
                                     audience=None)
    x_on_topic = [i for i in on_topic if next(r for r in rows if f"import:{r['id']}" == i)["platform"] == "x"]
    assert post.example_ids == sorted(x_on_topic, key=lambda i: relative[i], reverse=True)[:3]

    # Metrics arrive for an old, weak X post: re-importing it with them updates its memory record.
    weakest = min(x_on_topic, key=lambda i: relative[i])
    boosted = dict(next(r for r in rows if f"import:{r['id']}" == weakest), likes=4000, reposts=900)
    studio.memory.import_posts(ws, _write_csv(tmp_path / "update.csv", [boosted]))
    again = studio.content.draft_post(ws, write, platform="x", topic=topic, tone=None, call_to_action=None,
                                      audience=None)
    assert again.example_ids[0] == weakest
    assert studio.memory.counts(ws)["content_performance"] == 200  # updated in place, not duplicated


def test_published_post_metrics_flow_into_the_next_draft(mem_studio: Studio) -> None:
    studio = mem_studio
    ws = studio.workspaces.get("default")
    write = Recorder(studio)
    first = studio.content.draft_post(ws, write, platform="linkedin", topic="pandas groupby", tone=None,
                                      call_to_action=None, audience=None)
    on_topic = [p for p in studio.social.posts(ws.id, platform="linkedin") if p.topic == "pandas groupby"]
    assert len(on_topic) == 2 and set(first.example_ids) == {p.id for p in on_topic}
    pivot = next(p for p in on_topic if p.id == first.example_ids[-1])  # the weaker one so far
    studio.content.update_metrics(ws, pivot.id, PostMetrics(likes=2400, reposts=300, replies=120,
                                                             impressions=60000, clicks=900))
    second = studio.content.draft_post(ws, write, platform="linkedin", topic="pandas groupby", tone=None,
                                       call_to_action=None, audience=None)
    assert second.example_ids[0] == pivot.id
    assert write.tasks[-1].examples[0] == pivot.text

    # A post published now is in memory before the next draft, with its platform and topic.
    studio.social.add_account(ws.id, "x", "mayacodes", 12_500)
    published = studio.content.publish(ws, draft_id=None, text="Window functions in pandas: rolling().mean() "
                                       "is a moving average in one line.", platform="x", account=None,
                                       idempotency_key="memory-test-publish")
    hits = studio.memory.search(ws, "rolling mean moving average", collection="content_performance", limit=3)
    assert hits[0].source_id == published.id and hits[0].metadata["platform"] == "x"


def test_no_query_returns_another_workspaces_memories(mem_studio: Studio, tmp_path: Path) -> None:
    studio = mem_studio
    default = studio.workspaces.get("default")
    other = _new_workspace(studio, "other/ws")  # a name Chroma could not use as it is
    secret = {"id": "secret-1", "platform": "x", "topic": "pandas groupby", "likes": 99999, "followers": 10,
              "text": "Zebra unicorn groupby: the secret pandas trick of the other workspace."}
    studio.memory.import_posts(other, _write_csv(tmp_path / "other.csv", [secret]))
    studio.memory.set_brand_examples(other, ["Zebra unicorn brand example of the other workspace."])

    for hit in studio.memory.search(default, "zebra unicorn groupby secret trick", limit=50):
        assert "Zebra" not in hit.text and hit.metadata["workspace_id"] == "default"
    examples = studio.memory.best_examples(default, "pandas groupby", limit=10)
    assert examples and all(not e.post_id.startswith("import:") for e in examples)
    assert "Zebra" not in " ".join(studio.memory.brand_examples(default, "zebra unicorn"))
    # ...while the other workspace finds its own.
    assert studio.memory.best_examples(other, "pandas groupby")[0].post_id == "import:secret-1"


def test_brand_rules_and_audience_questions_come_from_memory(mem_studio: Studio) -> None:
    studio = mem_studio
    ws = studio.workspaces.get("default")
    assert [i.detail for i in studio.content.check_brand(ws, "No hustle, just tiny wins.")] == [
        "uses the banned word 'hustle'"]
    updated = studio.workspaces.update(ws.id, brand_voice=ws.brand_voice.model_copy(
        update={"banned_words": ["synergy"]}))
    assert studio.content.check_brand(updated, "No hustle, just tiny wins.") == []
    assert studio.content.check_brand(updated, "Synergy!")[0].detail == "uses the banned word 'synergy'"
    assert studio.memory.brand_rules(updated).banned_words == ["synergy"]

    topics = studio.content.suggest_topics(updated, count=6, platform=None)
    assert topics[0] == studio.content.performance(updated)[0].topic  # what performed best comes first
    assert any(t.startswith("Answering: When does the course start?") for t in topics)
