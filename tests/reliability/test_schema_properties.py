"""R3 bad input, property-based (Hypothesis): event schemas, workflow definitions, platform formatters.

- Event payloads: any payload for any event type either validates or is refused with an error naming the
  field; any envelope handed to `EventService.collect` / `publish` either becomes an event or lands in the
  dead-letter store with its reason (never an unexpected exception); garbage on the Redis stream is
  dead-lettered by the consumer, which keeps consuming (a valid event after the garbage is still handled).
- Workflow files: any YAML/JSON-ish document (random, and valid templates with one value replaced) parses to
  a workflow or to `InvalidInput` naming the file and the field; a valid one describes itself.
- Formatters: any text (unicode, emoji sequences, URLs, mentions, tags) fits and splits within each platform's
  limit, and Bluesky facets are well-formed byte ranges.

Derandomized with bounded example counts (RELIABILITY_PROPERTY_EXAMPLES scales them, default 1.0).

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_schema_properties.py
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import delete

from creator_studio.automation.definitions import flat_steps
from creator_studio.automation.templates import TEMPLATES_DIR, parse_workflow
from creator_studio.errors import InvalidInput
from creator_studio.events.models import DeadLetterRow
from creator_studio.events.schemas import EVENT_SCHEMAS, Event
from creator_studio.events.service import EventService, InvalidEvent
from creator_studio.providers.social.formatting import PLATFORM_TEXT, bluesky_facets, graphemes
from creator_studio.studio import Studio
from tests.reliability.figures import report

pytestmark = pytest.mark.integration

SCALE = float(os.environ.get("RELIABILITY_PROPERTY_EXAMPLES", "1.0"))
TALLY: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    """After the module: how many examples each property checked, as reliability figures."""
    started = time.perf_counter()
    yield
    if TALLY:
        report("r3_properties", {**TALLY, "seconds": round(time.perf_counter() - started, 1)})


def examples(n: int) -> Any:
    return settings(max_examples=max(1, int(n * SCALE)), derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def count(name: str) -> None:
    TALLY[name] = TALLY.get(name, 0) + 1


# -- values -------------------------------------------------------------------------------------------------
scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)

EVENT_TYPES = sorted({name for name, _ in EVENT_SCHEMAS})


@st.composite
def payloads(draw: st.DrawFn) -> tuple[str, int, dict[str, Any]]:
    """An event type and a payload that uses (some of) its model's field names, with arbitrary values."""
    event_type = draw(st.sampled_from(EVENT_TYPES))
    version = max(v for n, v in EVENT_SCHEMAS if n == event_type)
    fields = list(EVENT_SCHEMAS[(event_type, version)].model_fields)
    chosen = draw(st.lists(st.sampled_from(fields), unique=True)) if fields else []
    data = {name: draw(json_values) for name in chosen}
    data.update(draw(st.dictionaries(st.text(max_size=10), json_values, max_size=3)))
    return event_type, version, data


@examples(300)
@given(payloads())
def test_event_payloads_validate_or_name_the_field(case: tuple[str, int, dict[str, Any]]) -> None:
    event_type, version, data = case
    count("event_payloads")
    fields = set(EVENT_SCHEMAS[(event_type, version)].model_fields)
    try:
        event = Event(type=event_type, version=version, workspace_id="default", source="test", data=data)
    except ValidationError as exc:
        message = str(exc)
        assert f"{event_type} v{version} payload is invalid" in message, message
        assert any(f"{name}:" in message or f"{name}." in message for name in fields), message
        return
    assert set(event.data) >= {name for name in fields if name in data}
    json.dumps(event.to_record())  # what goes on the wire is plain JSON


envelope_keys = st.sampled_from(["id", "type", "version", "workspace_id", "occurred_at", "source", "correlation_id",
                                 "data", "extra"])
envelope_values = json_values | st.sampled_from(EVENT_TYPES) | st.just("default") | st.just("2026-11-25T14:00:00Z")
envelopes = (st.dictionaries(envelope_keys, envelope_values, max_size=8) | json_values
             | st.text(max_size=80) | st.binary(max_size=80))


@pytest.fixture
def events(studio: Studio) -> Iterator[EventService]:
    yield studio.events


def _dead_letters(studio: Studio) -> list[Any]:
    return studio.events.dead.list(limit=1000)


def _clear_dead_letters(studio: Studio) -> None:
    with studio.db.transaction() as session:
        session.execute(delete(DeadLetterRow))


@examples(120)
@given(raw=envelopes)
def test_collected_envelopes_become_events_or_dead_letters(studio: Studio, events: EventService, raw: Any) -> None:
    count("collected_envelopes")
    _clear_dead_letters(studio)
    event = events.collect(json.dumps(raw) if isinstance(raw, dict) and len(raw) % 2 else raw, source="fuzz")
    dead = _dead_letters(studio)
    if event is None:
        assert len(dead) == 1 and dead[0].stage == "validate" and dead[0].reason.strip(), dead
    else:
        assert not [d for d in dead if d.stage == "validate"]


@examples(80)
@given(case=payloads())
def test_published_payloads_are_stored_or_dead_lettered(studio: Studio, events: EventService,
                                                        case: tuple[str, int, dict[str, Any]]) -> None:
    event_type, version, data = case
    count("published_payloads")
    _clear_dead_letters(studio)
    try:
        event = events.publish(event_type, "default", data, source="fuzz", version=version)
    except InvalidEvent as exc:
        dead = _dead_letters(studio)
        assert len(dead) == 1 and dead[0].stage == "validate" and dead[0].type == event_type
        assert dead[0].reason and dead[0].reason in exc.message
        return
    assert events.get(event.id).data == event.data


stream_bodies = st.lists(st.binary(max_size=60) | st.text(max_size=60) | json_values.map(json.dumps)
                         | envelopes.map(lambda v: json.dumps(v, default=repr)), min_size=1, max_size=6)


@examples(12)
@given(bodies=stream_bodies)
def test_the_redis_consumer_dead_letters_garbage_and_keeps_consuming(studio: Studio, redis_server: str,
                                                                      bodies: list[Any]) -> None:
    from creator_studio.events.redis_bus import RedisBus

    count("redis_batches")
    _clear_dead_letters(studio)
    service = EventService(studio.db, redis_url=redis_server, max_attempts=1)
    handled: list[str] = []
    try:
        service.subscribe("fuzzmod", lambda event: handled.append(event.id))
        bus = service.bus
        assert isinstance(bus, RedisBus)
        bus.client.delete(bus.stream)
        bus.send_raw(bodies)
        good = Event(type="content.published", workspace_id="default", source="fuzz",
                     data={"post_id": "p1", "platform": "x"})
        bus.send([good])
        for _ in range(3):  # never raises, whatever is on the stream
            bus.consume_once("fuzzmod", "c1")
        assert good.id in handled, "the consumer stopped at the garbage"
        valid = 0
        for body in bodies:
            try:
                Event.model_validate_json(body)
                valid += 1
            except (ValidationError, ValueError):
                pass
        dead = [d for d in _dead_letters(studio) if d.stage == "validate" and d.module == "fuzzmod"]
        assert len(dead) == len(bodies) - valid, (bodies, dead)
        assert all(d.reason.strip() for d in dead)
        TALLY["redis_bodies"] = TALLY.get("redis_bodies", 0) + len(bodies)
    finally:
        service.close()


# -- workflow files ------------------------------------------------------------------------------------------
TEMPLATES = {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in TEMPLATES_DIR.glob("*.yaml")}
WORDS = ["name", "trigger", "steps", "type", "cron", "event", "filter", "metric", "op", "value", "window", "at",
         "missed", "timezone", "tool", "args", "goal", "duration", "if", "then", "else", "field", "retries",
         "retry_delay", "on_error", "function", "description"]
VOCAB = st.sampled_from(["cron", "event", "threshold", "once", "tool", "goal", "wait", "condition", "branch",
                         "code", "0 9 * * 1", "99 * * * *", "revenue.payment_failed", "content.publishd", "2d",
                         "0s", "mrr", "<", ">", "event.amount", "draft_post", "no_such_tool", "2026-12-01T09:00:00Z"])
documents = st.recursive(scalars | VOCAB, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.sampled_from(WORDS) | st.text(max_size=6), inner, max_size=5),
                         max_leaves=25)


@st.composite
def mutated_templates(draw: st.DrawFn) -> Any:
    """A shipped template with one value somewhere replaced (or a key dropped)."""
    doc = json.loads(json.dumps(TEMPLATES[draw(st.sampled_from(sorted(TEMPLATES)))], default=str))
    node: Any = doc
    for _ in range(draw(st.integers(0, 6))):
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) \
            if isinstance(node, list) else []
        containers = [(k, v) for k, v in children if isinstance(v, dict | list) and v]
        if not containers:
            break
        _, node = draw(st.sampled_from(containers))
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    if keys:
        key = draw(st.sampled_from(keys))
        if isinstance(node, dict) and draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(documents)
    return doc


def _check_parse(doc: Any, source: str) -> None:
    text = json.dumps(doc, default=repr) if source.endswith(".json") else yaml.safe_dump(doc, allow_unicode=True)
    try:
        workflow = parse_workflow(text, source=source)
    except InvalidInput as exc:
        assert exc.message.startswith(f"{source}: "), exc.message
        assert len(exc.message) > len(source) + 5
        return
    count("workflow_valid")
    definition = workflow.definition()
    for step in flat_steps(definition.steps):
        assert step.describe()


@examples(250)
@given(doc=documents, json_file=st.booleans())
def test_any_document_parses_or_names_the_field(doc: Any, json_file: bool) -> None:
    count("workflow_documents")
    _check_parse(doc, "wf.json" if json_file else "wf.yaml")


@examples(250)
@given(doc=mutated_templates(), json_file=st.booleans())
def test_mutated_templates_parse_or_name_the_field(doc: Any, json_file: bool) -> None:
    count("workflow_mutations")
    _check_parse(doc, "wf.json" if json_file else "wf.yaml")


@examples(150)
@given(text=st.text(max_size=300))
def test_any_text_is_a_workflow_or_a_clear_error(text: str) -> None:
    count("workflow_texts")
    try:
        parse_workflow(text, source="raw.yaml")
    except InvalidInput as exc:
        assert exc.message.startswith("raw.yaml: ")


# -- platform formatters -------------------------------------------------------------------------------------
EMOJI = ["👍🏽", "👩‍👩‍👧‍👦", "🇩🇪", "❤️", "🏳️‍🌈", "1️⃣", "é", "🧑🏿‍💻", "ﷺ", "𝕏", "\u200d", "\u0301", "\ufe0f"]
PIECES = st.sampled_from(["https://example.com/a/very/long/path?q=1&x=ü", "example.org", "@maya.bsky.social",
                          "@someone", "#launch", "#２０２６年", "＃tag", "(https://a.co/x)", "www.test.io/é", " ",
                          "\n", "\t", "...", "…", *EMOJI])
texts = st.lists(st.text(max_size=40) | PIECES, max_size=40).map("".join) | st.text(max_size=700)


def _no_space(text: str) -> str:
    return "".join(text.split())


@examples(200)
@given(text=texts)
def test_formatters_fit_and_split_within_each_platform_limit(text: str) -> None:
    count("formatter_texts")
    for platform, rules in PLATFORM_TEXT.items():
        fitted = rules.fit(text)
        assert rules.length(fitted) <= rules.limit, (platform, fitted)
        if rules.length(text) <= rules.limit:
            assert fitted == text
        chunks = rules.split(text)
        for chunk in chunks:
            assert rules.length(chunk) <= rules.limit, (platform, chunk)
            assert chunk.strip() == chunk and chunk
        # nothing is lost or reordered: the chunks, without whitespace, spell the text without whitespace
        assert _no_space("".join(chunks)) == _no_space(text), platform
        assert "".join(graphemes("".join(chunks))) == "".join(chunks)


@examples(200)
@given(text=texts)
def test_bluesky_facets_are_well_formed_byte_ranges(text: str) -> None:
    count("facet_texts")
    rich = bluesky_facets(text, resolve=lambda handle: f"did:plc:{abs(hash(handle)) % 10**8}")
    data = text.encode("utf-8")
    previous_end = 0
    for facet in rich.facets:
        assert previous_end <= facet.byte_start < facet.byte_end <= len(data), facet
        data[facet.byte_start:facet.byte_end].decode("utf-8")  # a facet never cuts a character
        assert facet.value
        record = facet.to_record()
        assert record["index"] == {"byteStart": facet.byte_start, "byteEnd": facet.byte_end}
        previous_end = facet.byte_end
