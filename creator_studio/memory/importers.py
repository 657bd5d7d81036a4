"""Reading past posts from platform exports: X (the archive's tweets.js, API v2 JSON with public_metrics),
Bluesky (app.bsky.feed.post records, getAuthorFeed JSON) and a plain CSV.

Parsing is all-or-nothing: every row is checked first and each bad one is reported with its line number and
the reason; a file with any bad row imports nothing (`ImportRejected`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError

from creator_studio.errors import InvalidInput
from creator_studio.memory.records import PastPost
from creator_studio.tools.types import PLATFORM_ALIASES, SocialPlatform

PLATFORMS = set(get_args(SocialPlatform))
CSV_COLUMNS = ("id", "platform", "text", "topic", "published_at", "likes", "reposts", "replies", "clicks",
               "impressions", "followers", "account", "url")


class ImportRejected(InvalidInput):
    """A file with bad rows; `problems` lists each as 'line N: reason'."""

    def __init__(self, path: str, problems: list[str]) -> None:
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"Nothing was imported from {path}: {len(problems)} bad row(s).\n{shown}{more}")
        self.problems = problems


def read_posts(path: Path, *, platform: str | None = None, topic: str | None = None) -> list[PastPost]:
    """All posts of an export file, or ImportRejected naming every bad row."""
    if not path.is_file():
        raise InvalidInput(f"No file {str(path)!r}.")
    text = path.read_text(encoding="utf-8-sig")
    default_platform = _platform(platform) if platform else None
    rows: list[tuple[int, dict[str, Any] | str]]
    if path.suffix.lower() == ".csv":
        rows = list(_csv_rows(text))
    elif path.suffix.lower() in (".json", ".js"):
        rows = list(_json_rows(text, path))
    else:
        raise InvalidInput(f"{path.name}: import a .csv, .json or an X archive's tweets.js file.")
    posts: list[PastPost] = []
    problems: list[str] = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            if isinstance(row, str):  # a row the reader already knows is bad
                raise ValueError(row)
            post = _to_post(row, default_platform, topic)
        except (ValueError, ValidationError) as exc:
            problems.append(f"line {line}: {_reason(exc)}")
            continue
        if post.id in seen:
            problems.append(f"line {line}: duplicate post id {post.id!r}")
            continue
        seen.add(post.id)
        posts.append(post)
    if problems:
        raise ImportRejected(str(path), problems)
    if not posts:
        raise InvalidInput(f"{path.name} has no posts to import.")
    return posts


# Shapes ------------------------------------------------------------------------------------------------
def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "text" not in header:
        raise InvalidInput("The CSV needs a header row with at least a `text` column "
                           f"(known columns: {', '.join(CSV_COLUMNS)}).")
    reader.fieldnames = header
    start = reader.line_num + 1
    for row in reader:
        extra = row.pop(None, None)
        if extra:
            yield start, f"{len(extra)} more value(s) than columns in the header"
        else:
            yield start, {k: v for k, v in row.items() if k and v not in (None, "")}
        start = reader.line_num + 1


def _json_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    stripped = text.lstrip()
    if stripped.startswith("window.YTD"):  # X archive: `window.YTD.tweets.part0 = [ {"tweet": {...}}, ... ]`
        start = text.index("=") + 1
        yield from ((line, _x_archive(item)) for line, item in _array_items(text, start, path))
        return
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path.name} is not valid JSON: line {exc.lineno}: {exc.msg}.") from exc
    if isinstance(document, dict) and "feed" in document:  # Bluesky app.bsky.feed.getAuthorFeed
        yield from ((line, _bluesky_view(item)) for line, item in _array_items(text, _key_start(text, "feed"), path))
    elif isinstance(document, dict) and "records" in document:  # com.atproto.repo.listRecords
        yield from ((line, _bluesky_record(item))
                    for line, item in _array_items(text, _key_start(text, "records"), path))
    elif isinstance(document, dict) and "data" in document:  # X API v2: {"data": [tweet, ...], "includes": ...}
        yield from ((line, _x_v2(item)) for line, item in _array_items(text, _key_start(text, "data"), path))
    elif isinstance(document, list):
        for line, item in _array_items(text, text.index("["), path):
            yield line, _guess(item)
    else:
        raise InvalidInput(f"{path.name}: expected a list of posts, an X export (tweets.js or API v2 `data`) or a "
                           "Bluesky export (`feed` or `records`).")


def _guess(item: Any) -> dict[str, Any] | str:
    if not isinstance(item, dict):
        return "expected an object"
    if "tweet" in item or "full_text" in item or "favorite_count" in item:
        return _x_archive(item)
    if "public_metrics" in item:
        return _x_v2(item)
    if "post" in item or "likeCount" in item:
        return _bluesky_view(item)
    if "value" in item or item.get("$type") == "app.bsky.feed.post":
        return _bluesky_record(item)
    return item  # already in the plain shape (the CSV's columns as keys)


def _x_archive(item: Any) -> dict[str, Any] | str:
    tweet = item.get("tweet", item) if isinstance(item, dict) else None
    if not isinstance(tweet, dict):
        return "expected a tweet object"
    return {"id": f"x:{tweet.get('id_str') or tweet.get('id')}" if tweet.get("id_str") or tweet.get("id") else None,
            "platform": "x", "text": tweet.get("full_text") or tweet.get("text"),
            "published_at": tweet.get("created_at"), "likes": tweet.get("favorite_count", 0),
            "reposts": tweet.get("retweet_count", 0), "replies": tweet.get("reply_count", 0),
            "impressions": tweet.get("impression_count", 0)}


def _x_v2(item: Any) -> dict[str, Any] | str:
    if not isinstance(item, dict):
        return "expected a tweet object"
    metrics = item.get("public_metrics") or {}
    if not isinstance(metrics, dict):
        return "public_metrics is not an object"
    return {"id": f"x:{item['id']}" if item.get("id") else None, "platform": "x", "text": item.get("text"),
            "published_at": item.get("created_at"), "likes": metrics.get("like_count", 0),
            "reposts": _sum(metrics.get("retweet_count", 0), metrics.get("quote_count", 0)),
            "replies": metrics.get("reply_count", 0), "impressions": metrics.get("impression_count", 0)}


def _bluesky_view(item: Any) -> dict[str, Any] | str:
    post = item.get("post", item) if isinstance(item, dict) else None
    if not isinstance(post, dict):
        return "expected a feed item with a post"
    record = post.get("record") or {}
    if not isinstance(record, dict):
        return "post.record is not an object"
    author = post.get("author") or {}
    return {"id": f"bluesky:{post['uri']}" if post.get("uri") else None, "platform": "bluesky",
            "text": record.get("text"), "published_at": record.get("createdAt") or post.get("indexedAt"),
            "likes": post.get("likeCount", 0),
            "reposts": _sum(post.get("repostCount", 0), post.get("quoteCount", 0)),
            "replies": post.get("replyCount", 0), "account": author.get("handle") if isinstance(author, dict) else None}


def _bluesky_record(item: Any) -> dict[str, Any] | str:
    if not isinstance(item, dict):
        return "expected a record"
    value = item.get("value", item)
    if not isinstance(value, dict):
        return "record.value is not an object"
    kind = value.get("$type")
    if kind and kind != "app.bsky.feed.post":
        return f"record type {kind!r} is not a post (app.bsky.feed.post)"
    key = item.get("uri") or item.get("cid") or None
    return {"id": f"bluesky:{key}" if key else None, "platform": "bluesky", "text": value.get("text"),
            "published_at": value.get("createdAt")}


# Rows to posts -------------------------------------------------------------------------------------------
def _to_post(row: dict[str, Any], default_platform: str | None, default_topic: str | None) -> PastPost:
    unknown = sorted(set(row) - set(CSV_COLUMNS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)} (known: {', '.join(CSV_COLUMNS)})")
    text = str(row.get("text") or "").strip()
    if not text:
        raise ValueError("the post text is empty")
    raw_platform = row.get("platform") or default_platform
    if not raw_platform:
        raise ValueError("no platform (add a `platform` column or pass --platform)")
    platform = _platform(str(raw_platform))
    published = _when(row["published_at"]) if row.get("published_at") else None
    post_id = str(row.get("id") or "").strip() or f"{platform}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    counts = {name: _count(name, row.get(name, 0)) for name in ("likes", "reposts", "replies", "clicks",
                                                               "impressions", "followers")}
    return PastPost(id=f"import:{post_id}", platform=platform, text=text, topic=(row.get("topic") or default_topic),
                    published_at=published, account=row.get("account"), url=row.get("url"), origin="import",
                    **counts)


def _platform(value: str) -> str:
    lowered = value.strip().lower()
    lowered = PLATFORM_ALIASES.get(lowered, lowered)
    if lowered not in PLATFORMS:
        raise ValueError(f"unknown platform {value!r} (one of {', '.join(sorted(PLATFORMS))})")
    return lowered


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} is not a number: {value!r}")
    try:
        number = int(str(value).replace(",", "").replace("_", "").strip() or 0)
    except ValueError:
        raise ValueError(f"{name} is not a whole number: {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} is negative: {number}")
    return number


def _sum(*values: Any) -> int | Any:
    try:
        return sum(int(v) for v in values)
    except (TypeError, ValueError):
        return values[0]  # reported as not a number by _count


def _when(value: Any) -> datetime:
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)  # X archive: "Wed Oct 10 20:19:24 +0000 2018"
        except (TypeError, ValueError):
            parsed = _x_date(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _x_date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        raise ValueError(f"published_at {text!r} is not a date (use ISO 8601, e.g. 2026-03-01T09:00:00Z)") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors())
    return str(exc)


# Line numbers of JSON array items --------------------------------------------------------------------------
def _key_start(text: str, key: str) -> int:
    match = re.search(rf'"{re.escape(key)}"\s*:\s*\[', text)
    if match is None:
        raise InvalidInput(f"expected `{key}` to be a list")
    return match.end() - 1


def _array_items(text: str, start: int, path: Path) -> Iterator[tuple[int, Any]]:
    """The items of the JSON array starting at or after `start`, each with the line it starts on."""
    decoder = json.JSONDecoder()
    position = text.index("[", start) + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            raise InvalidInput(f"{path.name}: the list of posts is not closed with `]`.")
        if text[position] == "]":
            return
        line = text.count("\n", 0, position) + 1
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path.name} is not valid JSON: line {exc.lineno}: {exc.msg}.") from exc
        yield line, item
