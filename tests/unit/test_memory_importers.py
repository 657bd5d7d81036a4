"""Reading past posts from export files, chunking long texts, and ranking by relative engagement."""

from __future__ import annotations

from pathlib import Path

import pytest

from creator_studio.errors import InvalidInput
from creator_studio.memory.chunking import chunk_text
from creator_studio.memory.importers import ImportRejected, read_posts
from creator_studio.memory.ranking import platform_baselines, relative_performance

pytestmark = pytest.mark.unit
FIXTURES = Path(__file__).parent.parent / "fixtures" / "memory"


def test_x_archive_tweets_js() -> None:
    posts = read_posts(FIXTURES / "tweets.js")
    assert [p.platform for p in posts] == ["x", "x"]
    assert posts[0].id == "import:x:1790000000000000001"
    assert (posts[0].likes, posts[0].reposts) == (310, 88)
    assert posts[0].published_at is not None and posts[0].published_at.year == 2026


def test_x_api_v2_public_metrics() -> None:
    posts = read_posts(FIXTURES / "x_api_v2.json")
    second = posts[1]
    assert (second.likes, second.reposts, second.replies, second.impressions) == (300, 45, 9, 25000)


def test_bluesky_author_feed_and_records() -> None:
    feed = read_posts(FIXTURES / "bluesky_feed.json")
    assert [p.platform for p in feed] == ["bluesky", "bluesky"]
    assert (feed[1].likes, feed[1].reposts, feed[1].replies) == (230, 77, 19)
    assert feed[0].account == "maya.bsky.social"
    records = read_posts(FIXTURES / "bluesky_records.json", topic="automation")
    assert records[0].text.startswith("Tiny wins") and records[0].topic == "automation"
    assert records[0].likes == 0


def test_a_bad_csv_names_every_bad_row_by_line_and_imports_nothing() -> None:
    with pytest.raises(ImportRejected) as caught:
        read_posts(FIXTURES / "bad_rows.csv")
    problems = caught.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("line 3: likes is not a whole number: 'many'")  # a quoted text spans lines 3-4
    assert problems[1].startswith("line 5: unknown platform 'myspace'")
    assert problems[2] == "line 6: the post text is empty"
    assert problems[3] == "line 7: likes is negative: -4"
    assert "Nothing was imported" in caught.value.message


def test_csv_needs_a_text_column_and_a_platform(tmp_path: Path) -> None:
    no_text = tmp_path / "posts.csv"
    no_text.write_text("platform,body\nx,hello\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="`text` column"):
        read_posts(no_text)
    no_platform = tmp_path / "plain.csv"
    no_platform.write_text("text,likes\nhello there,3\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="line 2: no platform"):
        read_posts(no_platform)
    assert read_posts(no_platform, platform="twitter")[0].platform == "x"


def test_broken_json_reports_its_line(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text('{"data": [\n {"id": "1", "text": "ok"},\n {"id": 2 "text": "x"}\n]}', encoding="utf-8")
    with pytest.raises(InvalidInput, match="line 3"):
        read_posts(path)


def test_long_texts_are_chunked_with_overlap() -> None:
    sentences = [f"Sentence number {i} talks about pandas and tidy data frames." for i in range(60)]
    text = " ".join(sentences)
    chunks = chunk_text(text, max_chars=400, overlap=80)
    assert len(chunks) > 5
    assert all(len(c) <= 400 for c in chunks)
    assert all(s in text for s in chunks[0].split(". ")[:1])
    for sentence in sentences:  # nothing is lost
        assert any(sentence in chunk for chunk in chunks)
    assert chunk_text("short") == ["short"]


def test_relative_performance_is_per_platform_not_raw_likes() -> None:
    metadatas: list[dict[str, str | int | float | bool]] = [
        {"platform": "x", "source_id": "a", "rate": 0.01}, {"platform": "x", "source_id": "b", "rate": 0.03},
        {"platform": "bluesky", "source_id": "c", "rate": 0.05},
        {"platform": "bluesky", "source_id": "d", "rate": 0.07}]
    baselines = platform_baselines(metadatas)
    assert baselines == {"x": pytest.approx(0.02), "bluesky": pytest.approx(0.06)}
    # 3% on X is 1.5x a typical X post; 5% on Bluesky is below a typical Bluesky post.
    assert relative_performance(0.03, "x", baselines) > relative_performance(0.05, "bluesky", baselines)
