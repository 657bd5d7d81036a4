"""Media checked the way a player or a platform would: real PNG, MP4 and M4A files, read back with Pillow
and ffprobe; captions compared with where the narration is actually audible."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PIL import Image
from sqlalchemy import func, select

from creator_studio.content.models import MediaAssetRow
from creator_studio.errors import InvalidInput
from creator_studio.providers.media.build import build_media_service
from creator_studio.providers.media.cards import CardText, render_card
from creator_studio.providers.media.formats import IMAGE_FORMATS
from creator_studio.providers.media.guidelines import logo_in_place, off_brand_colours
from creator_studio.providers.media.limits import MB, MediaFacts, check_media
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import invoke_tool
from creator_studio.workspaces.service import BrandVisual
from tests.conftest import make_settings
from tests.tool_assertions import failed, ok

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                       reason="needs Debian's ffmpeg and espeak-ng (scripts/services.sh install)"),
]

TECHNOLOGIST = "👩🏽\u200d💻"


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def audible_intervals(path: Path) -> list[tuple[float, float]]:
    """Where the audio is not silent, from ffmpeg's silencedetect (what a listener hears)."""
    log = subprocess.run(["ffmpeg", "-v", "info", "-i", str(path), "-af", "silencedetect=noise=-40dB:d=0.2",
                          "-f", "null", "-"], check=True, capture_output=True, text=True).stderr
    starts = [float(x) for x in re.findall(r"silence_start: ([\d.]+)", log)]
    ends = [float(x) for x in re.findall(r"silence_end: ([\d.]+)", log)]
    duration = float(ffprobe(path)["format"]["duration"])
    intervals, cursor = [], 0.0
    for start, end in zip(starts, [*ends, duration], strict=False):
        if start > cursor:
            intervals.append((cursor, start))
        cursor = end
    if cursor < duration:
        intervals.append((cursor, duration))
    return intervals


def parse_srt(text: str) -> list[tuple[int, float, float, str]]:
    def seconds(stamp: str) -> float:
        hours, minutes, rest = stamp.split(":")
        secs, millis = rest.split(",")
        return int(hours) * 3600 + int(minutes) * 60 + int(secs) + int(millis) / 1000

    blocks = re.findall(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)\n", text)
    return [(int(i), seconds(start), seconds(end), line) for i, start, end, line in blocks]


# Images ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "size"), [("x", (1200, 675)), ("threads", (1080, 1080)), (None, (1080, 1080))])
def test_generate_image_is_a_png_sized_for_the_platform(studio: Studio, ctx: ToolContext, platform: str | None,
                                                        size: tuple[int, int]) -> None:
    args: dict[str, object] = {"prompt": "5 pandas tricks for spreadsheet refugees", "style": "bold"}
    if platform:
        args["platform"] = platform
    asset = ok(invoke_tool(ctx, "generate_image", args))["asset"]
    path = Path(asset["path"])
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.size == size
        visual = ctx.workspace.brand_voice.visual
        assert off_brand_colours(picture, visual) == {}
        # "bold" puts the brand's accent behind the text: the corner pixel is the accent colour.
        assert "#{:02X}{:02X}{:02X}".format(*picture.convert("RGB").getpixel((2, 2))) == visual.accent.upper()
    assert asset["details"]["logo_in_place"] is True and asset["details"]["generator"] == "offline-card"
    with studio.db.transaction() as session:
        row = session.get(MediaAssetRow, asset["id"])
        assert row is not None and row.kind == "image" and row.path == str(path) and row.workspace_id == "default"


@pytest.mark.parametrize("format_name", list(IMAGE_FORMATS))
@pytest.mark.parametrize("text", [
    "groupby",
    "Five pandas tricks that turn a Friday afternoon of copy-paste into a two-minute script you can rerun "
    "every week, with tests, comments, and a chart at the end for the boss " * 3,
    "Supercalifragilisticexpialidocious" * 8,
    f"{TECHNOLOGIST} 数据分析 {TECHNOLOGIST} " * 30,
])
def test_card_text_never_overflows_its_safe_area(format_name: str, text: str) -> None:
    frame = IMAGE_FORMATS[format_name]
    card = render_card(CardText(headline=text, mark="Maya Chen"), frame, BrandVisual())
    left, top, right, bottom = card.safe_box
    for placed in (*(t.box for t in card.texts), card.mark_box):
        assert left <= placed[0] and placed[2] <= right and top <= placed[1] and placed[3] <= bottom, placed
    assert not any(TECHNOLOGIST[:2] in line and TECHNOLOGIST not in line for line in card.texts[0].lines)
    assert card.image.size == (frame.width, frame.height)


def test_a_word_is_only_broken_when_it_cannot_fit_whole() -> None:
    card = render_card(CardText(headline="spreadsheet refugees unite", mark="M"), IMAGE_FORMATS["story"],
                       BrandVisual())
    assert {"spreadsheet", "refugees", "unite"} <= set(" ".join(card.texts[0].lines).split())


@pytest.mark.parametrize("position", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_logo_is_placed_where_the_brand_says(tmp_path: Path, position: str) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (200, 80), "#F59E0B").save(logo)
    visual = BrandVisual(logo_path=str(logo), logo_position=position)
    frame = IMAGE_FORMATS["square"]
    card = render_card(CardText(headline="tiny wins", mark="Maya"), frame, visual)
    assert logo_in_place(card.mark_box, (frame.width, frame.height), position)
    x0, y0, x1, y1 = card.mark_box
    pixel = card.image.getpixel(((x0 + x1) // 2, (y0 + y1) // 2))
    assert pixel == (0xF5, 0x9E, 0x0B)  # the logo's own pixels are there
    text_box = card.texts[0].box
    overlap = not (text_box[2] <= x0 or x1 <= text_box[0] or text_box[3] <= y0 or y1 <= text_box[1])
    assert not overlap


def test_off_brand_colours_are_detected() -> None:
    picture = Image.new("RGB", (200, 200), "#1E3A8A")
    picture.paste("#FF00FF", (0, 0, 100, 200))  # half the picture in a colour the brand does not have
    assert off_brand_colours(picture, BrandVisual()) == {"#FF00FF": 0.5}
    assert off_brand_colours(picture, BrandVisual(palette=["#ff00ff"])) == {}


def test_banned_word_in_an_image_is_refused_and_nothing_is_written(studio: Studio, ctx: ToolContext) -> None:
    error = failed(invoke_tool(ctx, "generate_image", {"prompt": "Become a data GURU this week"}))
    assert "guru" in error.lower() and "banned" in error
    with studio.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(MediaAssetRow)) == 0
    media_dir = studio.settings.home / "media" / "default"
    assert not media_dir.exists() or not any(media_dir.iterdir())


def test_the_same_request_twice_makes_one_image(studio: Studio, ctx: ToolContext) -> None:
    first = studio.media.generate_image(ctx.workspace, prompt="tiny wins", request_key="run-1:step-3")
    again = studio.media.generate_image(ctx.workspace, prompt="tiny wins", request_key="run-1:step-3")
    assert first.id == again.id and len(studio.media.assets(ctx.workspace)) == 1


# Video and audio -----------------------------------------------------------------------------------------


def test_generate_video_is_a_playable_mp4_with_captions_timed_to_the_narration(ctx: ToolContext) -> None:
    script = "Pivot tables are slow. groupby is fast and it reads like a sentence! Want the cheat sheet?"
    asset = ok(invoke_tool(ctx, "generate_video", {"script": script, "duration_s": 10}))["asset"]
    video = Path(asset["path"])
    probe = ffprobe(video)
    streams = {s["codec_type"]: s for s in probe["streams"]}
    assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
    assert (streams["video"]["width"], streams["video"]["height"]) == (1080, 1920)  # vertical short
    assert streams["subtitle"]["codec_name"] == "mov_text"
    duration = float(probe["format"]["duration"])
    assert abs(duration - float(asset["details"]["duration_s"])) < 0.15

    captions = parse_srt(Path(asset["details"]["captions_path"]).read_text(encoding="utf-8"))
    assert [c[3] for c in captions] == ["Pivot tables are slow.", "groupby is fast and it reads like a sentence!",
                                        "Want the cheat sheet?"]
    speech = audible_intervals(Path(asset["details"]["audio_path"]))
    for (_, start, end, text), following in zip(captions, [*captions[1:], None], strict=True):
        assert 0 <= start < end <= duration + 0.05, text
        if following is not None:
            assert end < following[1]  # no overlap: a pause between captions
        heard = sum(max(0.0, min(end, b) - max(start, a)) for a, b in speech)
        assert heard >= 0.6 * (end - start), f"caption {text!r} is shown while little is said"
    # Nothing is said while no caption is up (beyond the fade of the last syllable).
    for a, b in speech:
        covered = sum(max(0.0, min(b, end) - max(a, start)) for _, start, end, _ in captions)
        assert covered >= 0.8 * (b - a) - 0.1


def test_square_feed_preset_and_audio_only_export(studio: Studio, ctx: ToolContext) -> None:
    asset = studio.media.generate_video(ctx.workspace, ctx.write, script="Ship it. Tiny wins add up every week.",
                                        topic=None, duration_s=5, preset="square_feed")
    streams = {s["codec_type"]: s for s in ffprobe(Path(asset.path))["streams"]}
    assert (streams["video"]["width"], streams["video"]["height"]) == (1080, 1080)
    audio = studio.media.generate_audio(ctx.workspace, ctx.write, script="Tiny wins add up.", topic=None)
    probe = ffprobe(Path(audio.path))
    assert [s["codec_type"] for s in probe["streams"]] == ["audio"]
    assert probe["streams"][0]["codec_name"] == "aac" and float(probe["format"]["duration"]) > 0.5
    assert Path(audio.path).suffix == ".m4a"


def test_banned_word_in_narration_is_refused_before_rendering(studio: Studio, ctx: ToolContext) -> None:
    error = failed(invoke_tool(ctx, "generate_video", {"script": "Hustle harder. Crush it with pandas."}))
    assert "banned" in error and ("hustle" in error.lower() or "crush it" in error.lower())
    assert studio.media.assets(ctx.workspace) == []


# Platform media limits --------------------------------------------------------------------------------------


def test_media_limits_name_the_limit_that_is_broken() -> None:
    image = MediaFacts(kind="image", bytes=200_000, width=1200, height=675)
    check_media("bluesky", [image] * 4)
    with pytest.raises(InvalidInput, match="at most 4 images"):
        check_media("x", [image] * 5)
    with pytest.raises(InvalidInput, match="up to 1 MB"):
        check_media("bluesky", [image.model_copy(update={"bytes": 2 * MB})])
    video = MediaFacts(kind="video", bytes=5 * MB, width=1080, height=1920, duration_s=170)
    check_media("bluesky", [video])
    with pytest.raises(InvalidInput, match="up to 140 s"):
        check_media("x", [video])
    with pytest.raises(InvalidInput, match="images or a video"):
        check_media("mastodon", [image, video])
    with pytest.raises(InvalidInput, match="aspect"):
        check_media("linkedin", [MediaFacts(kind="image", bytes=1000, width=3000, height=500)])


def test_generated_assets_are_checked_against_a_platform(studio: Studio, ctx: ToolContext) -> None:
    card = studio.media.generate_image(ctx.workspace, prompt="tiny wins", platform="bluesky")
    facts = studio.media.check_for_platform(ctx.workspace, "bluesky", [card.id])
    assert facts[0].width == 1200 and facts[0].bytes < MB


# OpenAI Images and text-to-speech, against a local server speaking the documented API ---------------------


class _OpenAIStandIn(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append((self.path, body))
        if self.path == "/v1/images/generations":
            width, height = (int(x) for x in body["size"].split("x"))
            buffer = io.BytesIO()
            Image.new("RGB", (width, height), "#336699").save(buffer, format="PNG")
            payload = {"created": 1_764_000_000, "data": [{"b64_json": base64.b64encode(buffer.getvalue()).decode()}]}
            self._reply(200, "application/json", json.dumps(payload).encode())
        elif self.path == "/v1/audio/speech":
            wav = subprocess.run(["espeak-ng", "-w", "/dev/stdout", "--stdin"], input=body["input"].encode(),
                                 check=True, capture_output=True).stdout
            self._reply(200, "audio/wav", wav)
        else:
            self._reply(404, "application/json", b'{"error": {"message": "not found"}}')

    def _reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def openai_stand_in() -> Iterator[str]:
    _OpenAIStandIn.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenAIStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_images_and_speech_when_configured(studio: Studio, ctx: ToolContext, openai_stand_in: str) -> None:
    settings = make_settings(studio.settings.home, openai_base_url=openai_stand_in, openai_api_key="sk-test",
                             image_model="gpt-image-1", image_cost_usd=0.042, speech_model="gpt-4o-mini-tts")
    media = build_media_service(studio.db, settings)
    asset = media.generate_image(ctx.workspace, prompt="a cosy desk with a laptop showing pandas code",
                                 platform="x")
    with Image.open(asset.path) as picture:
        assert picture.size == (1200, 675)
    assert asset.details["generator"] == "openai:gpt-image-1" and asset.details["cost_usd"] == 0.042
    path, body = _OpenAIStandIn.requests[0]
    assert path == "/v1/images/generations"
    assert body["model"] == "gpt-image-1" and body["size"] == "1536x1024" and body["n"] == 1

    audio = media.generate_audio(ctx.workspace, ctx.write, script="Tiny wins add up.", topic=None)
    assert audio.details["narrator"] == "openai:gpt-4o-mini-tts" and float(str(audio.details["duration_s"])) > 0.3
    path, body = _OpenAIStandIn.requests[1]
    assert path == "/v1/audio/speech" and body["input"] == "Tiny wins add up." and body["response_format"] == "wav"


# The CLI ----------------------------------------------------------------------------------------------------


def test_media_batch_checks_every_job_first_then_generates_with_a_table(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from creator_studio.cli import app

    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STUDIO_MODEL", "offline")
    cli = CliRunner()
    assert cli.invoke(app, ["init"]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {kind: image, prompt: tiny wins}\n- {kind: video}\n- {kind: gif, prompt: x}\n")
    result = cli.invoke(app, ["media", "batch", str(bad)])
    assert result.exit_code == 2
    assert "job 2" in result.output and "script or a topic" in result.output and "job 3" in result.output
    listed = cli.invoke(app, ["media", "list"])
    assert "media_" not in listed.output  # nothing was generated from the bad file

    good = tmp_path / "good.yaml"
    good.write_text("- {kind: image, prompt: tiny wins, platform: x}\n"
                    "- {kind: image, prompt: groupby beats pivot tables, format: story}\n"
                    "- {kind: audio, script: Ship it.}\n")
    result = cli.invoke(app, ["media", "batch", str(good)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1200×675" in result.output and "1080×1920" in result.output and ".m4a" in result.output


# Attaching media to posts -------------------------------------------------------------------------------------


def test_publish_post_attaches_a_generated_image(studio: Studio, ctx: ToolContext) -> None:
    card = studio.media.generate_image(ctx.workspace, prompt="groupby beats pivot tables", platform="bluesky")
    post = ok(invoke_tool(ctx, "publish_post", {"text": "Tiny win of the day", "platform": "bluesky",
                                                "media_ids": [card.id]}))["post"]
    assert post["media"] == [card.path]
    assert studio.platforms.get_post("default", post["id"]).media == [card.path]


def test_media_over_the_platform_limit_is_refused_before_anything_is_published(studio: Studio,
                                                                            ctx: ToolContext) -> None:
    cards = [studio.media.generate_image(ctx.workspace, prompt=f"tip {i}", platform="x").id for i in range(5)]
    before = len(studio.platforms.posts("default"))
    error = failed(invoke_tool(ctx, "publish_post", {"text": "Five tips", "platform": "x", "media_ids": cards}))
    assert "at most 4 images" in error
    assert len(studio.platforms.posts("default")) == before
    other = dataclasses.replace(ctx, idempotency_key="test-key-2")  # a new request, not a replay of the first
    error = failed(invoke_tool(other, "publish_post", {"text": "Hi", "platform": "x", "media_ids": ["media_nope"]}))
    assert "media_nope" in error


def test_a_scheduled_post_keeps_its_media_until_the_worker_publishes_it(studio: Studio, ctx: ToolContext) -> None:
    card = studio.media.generate_image(ctx.workspace, prompt="office hours on Friday", platform="mastodon")
    scheduled = ok(invoke_tool(ctx, "schedule_post", {"text": "Office hours Friday", "platform": "mastodon",
                                                      "publish_at": "2026-11-27T09:00:00+01:00",
                                                      "media_ids": [card.id]}))["scheduled"]
    assert scheduled["media_ids"] == [card.id]
    published = studio.content.publish_scheduled(ctx.workspace, scheduled["id"])
    assert published.remote_post_id is not None
    assert studio.platforms.get_post("default", published.remote_post_id).media == [card.path]


def test_the_real_adapter_uploads_the_image_before_the_post(tmp_path: Path, seeded_database: Path) -> None:
    import respx
    from pydantic import SecretStr

    from creator_studio.connections.service import Credentials
    from tests.conftest import FIXED_NOW

    home = tmp_path / "real"
    home.mkdir()
    shutil.copyfile(seeded_database, home / "studio.db")
    studio = Studio.open(make_settings(home, providers="real"), migrate_schema=False)
    studio.clock = lambda: FIXED_NOW
    base = "https://mastodon.test"
    studio.connections.add("default", "mastodon", handle="maya", account_id="42", base_url=base,
                           credentials=Credentials(access_token=SecretStr("masto-token")), scopes=["write"])
    ws = studio.workspaces.get("default")
    ctx = ToolContext(studio=studio, workspace=ws, agent="test", now=FIXED_NOW, run_id=None,
                      idempotency_key="publish-media-1")
    card = studio.media.generate_image(ws, prompt="tiny wins", platform="mastodon")
    try:
        with respx.mock:
            respx.get(f"{base}/api/v2/instance").respond(json={"configuration": {"statuses": {"max_characters": 500}}})
            upload = respx.post(f"{base}/api/v2/media").respond(
                202, json={"id": "777", "type": "image", "url": None, "preview_url": f"{base}/p.png"})
            status = respx.post(f"{base}/api/v1/statuses").respond(
                200, json={"id": "1100", "created_at": "2026-11-25T14:00:00Z", "content": "<p>Hi</p>",
                           "url": f"{base}/@maya/1100"})
            post = ok(invoke_tool(ctx, "publish_post", {"text": "Tiny wins", "platform": "mastodon",
                                                        "media_ids": [card.id]}))["post"]
        assert upload.call_count == 1 and Path(card.path).read_bytes() in upload.calls[0].request.content
        assert json.loads(status.calls[0].request.content)["media_ids"] == ["777"]
        assert post["media"] == [card.path]
    finally:
        studio.close()
