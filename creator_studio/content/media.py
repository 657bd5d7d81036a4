"""Media assets of Content Studio: branded images, narrated videos and audio snippets, stored in the workspace.

Generation is idempotent per request key (a resumed run finds the asset it already made), brand rules are
enforced before anything is rendered, and every asset records its size, duration, generator and cost.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw
from pydantic import BaseModel

from creator_studio.content.models import MediaAssetRow
from creator_studio.content.service import record_id
from creator_studio.errors import InvalidInput, NotFound
from creator_studio.providers.llm.writer import WritingTask, Written
from creator_studio.providers.media.base import ImageGenerator, SpeechSynthesizer
from creator_studio.providers.media.cards import CardText, render_card
from creator_studio.providers.media.fonts import load_font
from creator_studio.providers.media.formats import Frame, image_format, video_preset
from creator_studio.providers.media.guidelines import check_banned_words, logo_in_place, off_brand_colours
from creator_studio.providers.media.limits import MediaFacts, check_media
from creator_studio.providers.media.video import export_audio, render_video, split_scenes
from creator_studio.store.db import Database
from creator_studio.workspaces.service import Workspace

WriteFn = Callable[[WritingTask], Written]


class MediaAsset(BaseModel):
    id: str
    kind: str  # image | video | audio
    path: str
    details: dict[str, object]


class MediaService:
    def __init__(self, db: Database, media_dir: Path, *, speech: SpeechSynthesizer,
                 images: ImageGenerator | None = None) -> None:
        self._db = db
        self._media_dir = media_dir
        self._speech = speech
        self._images = images  # None: branded cards rendered offline

    # Images -------------------------------------------------------------------------------------------
    def generate_image(self, ws: Workspace, *, prompt: str, style: str | None = None, platform: str | None = None,
                       image_format_name: str | None = None, request_key: str | None = None) -> MediaAsset:
        check_banned_words(prompt, ws.brand_voice.banned_words, where="image text")
        frame = image_format(image_format_name, platform)
        asset_id = record_id("media", ws, request_key)
        if (existing := self._existing(asset_id)) is not None:
            return existing
        visual = ws.brand_voice.visual
        details: dict[str, object] = {"prompt": prompt, "style": style, "platform": platform, "format": frame.name,
                                      "width": frame.width, "height": frame.height}
        if self._images is None:
            card = render_card(CardText(headline=prompt, mark=ws.brand_voice.creator_name), frame, visual,
                               style=style)
            picture, mark_box = card.image, card.mark_box
            details.update(generator="offline-card", cost_usd=0.0, truncated=card.truncated,
                           lines=card.texts[0].lines, font_size=card.texts[0].font_size)
        else:
            generated = self._images.generate(prompt, frame.width, frame.height)
            picture = generated.image
            mark_box = _stamp_mark(picture, ws, frame)
            details.update(generator=generated.generator, cost_usd=generated.cost_usd)
        off_brand = off_brand_colours(picture, visual, ignore=[mark_box] if visual.logo_path else [])
        if off_brand and self._images is None:  # our own renderer must never leave the brand's palette
            raise InvalidInput(f"The card uses colours outside the brand palette: {', '.join(off_brand)}.")
        details.update(off_brand_colours=off_brand, mark_box=list(mark_box),
                       logo_in_place=logo_in_place(mark_box, picture.size, visual.logo_position))
        path = self._folder(ws) / f"{asset_id}.png"
        picture.save(path, format="PNG", optimize=True)
        details["bytes"] = path.stat().st_size
        return self._record(ws, asset_id, "image", path, details)

    # Video and audio ----------------------------------------------------------------------------------
    def generate_video(self, ws: Workspace, write: WriteFn, *, script: str | None, topic: str | None,
                       duration_s: int, preset: str = "vertical_short", style: str | None = None,
                       request_key: str | None = None) -> MediaAsset:
        frame = video_preset(preset)
        asset_id = record_id("media", ws, request_key)
        if (existing := self._existing(asset_id)) is not None:
            return existing
        narration = self._narration(ws, write, script=script, topic=topic)
        check_banned_words(narration, ws.brand_voice.banned_words, where="video narration and captions")
        sentences = split_scenes(narration)
        folder = self._folder(ws)
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            rendered = render_video(sentences, frame=frame, visual=ws.brand_voice.visual,
                                    mark=ws.brand_voice.creator_name, speech=self._speech,
                                    workdir=Path(scratch) / "work", name=asset_id, style=style)
            # The renderer writes beside its work folder; keep the outputs in the workspace's media folder.
            outputs = {kind: folder / Path(p).name for kind, p in
                       (("video", rendered.video), ("captions", rendered.captions), ("audio", rendered.audio))}
            for kind, target in outputs.items():
                Path(getattr(rendered, kind)).replace(target)
        details: dict[str, object] = {
            "preset": frame.name, "width": frame.width, "height": frame.height,
            "duration_s": rendered.duration_s, "requested_duration_s": duration_s,
            "captions_path": str(outputs["captions"]), "audio_path": str(outputs["audio"]),
            "scenes": [s.model_dump() for s in rendered.scenes], "narrator": self._speech.name,
            "video_codec": "h264", "audio_codec": "aac", "bytes": outputs["video"].stat().st_size,
            "rendered_video": True,
        }
        return self._record(ws, asset_id, "video", outputs["video"], details)

    def generate_audio(self, ws: Workspace, write: WriteFn, *, script: str | None, topic: str | None,
                       request_key: str | None = None) -> MediaAsset:
        """A narrated audio snippet (AAC in M4A), e.g. for a podcast teaser."""
        asset_id = record_id("media", ws, request_key)
        if (existing := self._existing(asset_id)) is not None:
            return existing
        narration = self._narration(ws, write, script=script, topic=topic)
        check_banned_words(narration, ws.brand_voice.banned_words, where="narration")
        folder = self._folder(ws)
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            wav = Path(scratch) / "narration.wav"
            seconds = self._speech.synthesize(narration, wav)
            path = export_audio(wav, folder / f"{asset_id}.m4a")
        details: dict[str, object] = {"duration_s": round(seconds, 3), "narrator": self._speech.name,
                                      "audio_codec": "aac", "bytes": path.stat().st_size, "text": narration}
        return self._record(ws, asset_id, "audio", path, details)

    # Reading and checking ------------------------------------------------------------------------------
    def get(self, ws: Workspace, asset_id: str) -> MediaAsset:
        with self._db.transaction() as session:
            row = session.get(MediaAssetRow, asset_id)
            if row is None or row.workspace_id != ws.id:
                raise NotFound(f"No media asset {asset_id!r} in this workspace.")
            return _asset(row)

    def assets(self, ws: Workspace, *, kind: str | None = None) -> list[MediaAsset]:
        with self._db.transaction() as session:
            rows = session.query(MediaAssetRow).filter(MediaAssetRow.workspace_id == ws.id)
            if kind:
                rows = rows.filter(MediaAssetRow.kind == kind)
            return [_asset(r) for r in rows.order_by(MediaAssetRow.created_at)]

    def check_for_platform(self, ws: Workspace, platform: str, asset_ids: list[str]) -> list[MediaFacts]:
        """The assets as the platform will see them; raises naming the first limit they break."""
        facts = [self.facts(self.get(ws, asset_id)) for asset_id in asset_ids]
        check_media(platform, facts)
        return facts

    @staticmethod
    def facts(asset: MediaAsset) -> MediaFacts:
        details = asset.details
        if asset.kind not in {"image", "video"}:
            raise InvalidInput(f"Asset {asset.id} is {asset.kind}; posts take images and videos.")
        duration = details.get("duration_s")
        return MediaFacts(kind=asset.kind, bytes=Path(asset.path).stat().st_size,
                          width=int(str(details["width"])), height=int(str(details["height"])),
                          duration_s=float(str(duration)) if duration is not None else None, path=asset.path)

    # Internals ----------------------------------------------------------------------------------------
    def _narration(self, ws: Workspace, write: WriteFn, *, script: str | None, topic: str | None) -> str:
        if script and script.strip():
            return script.strip()
        if topic and topic.strip():
            return write(WritingTask(kind="video_script", brand=ws.brand_voice, topic=topic)).text
        raise InvalidInput("Give a script or a topic.")

    def _folder(self, ws: Workspace) -> Path:
        folder = self._media_dir / ws.id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _existing(self, asset_id: str) -> MediaAsset | None:
        with self._db.transaction() as session:
            row = session.get(MediaAssetRow, asset_id)
            return None if row is None else _asset(row)

    def _record(self, ws: Workspace, asset_id: str, kind: str, path: Path, details: dict[str, object]) -> MediaAsset:
        details = json.loads(json.dumps(details, default=str))  # plain JSON in the row, whatever was collected
        with self._db.transaction() as session:
            if (row := session.get(MediaAssetRow, asset_id)) is not None:
                return _asset(row)
            session.add(MediaAssetRow(id=asset_id, workspace_id=ws.id, kind=kind, path=str(path), details=details))
        return MediaAsset(id=asset_id, kind=kind, path=str(path), details=details)


def _stamp_mark(picture: Image.Image, ws: Workspace, frame: Frame) -> tuple[int, int, int, int]:
    """The brand's logo (or name) on a generated picture, in the brand's corner."""
    visual = ws.brand_voice.visual
    margin = round(0.05 * min(frame.width, frame.height))
    if visual.logo_path:
        logo = Image.open(Path(visual.logo_path).expanduser()).convert("RGBA")
        logo.thumbnail((round(frame.width * 0.25), round(frame.height * 0.1)))
        w, h = logo.size
    else:
        font = load_font(visual.font, max(18, round(frame.height * 0.035)))
        draw = ImageDraw.Draw(picture)
        left, top, right, bottom = draw.textbbox((0, 0), ws.brand_voice.creator_name, font=font)
        w, h = int(right - left), int(bottom - top)
    x = frame.width - margin - w if visual.logo_position.endswith("right") else margin
    y = margin if visual.logo_position.startswith("top") else frame.height - margin - h
    if visual.logo_path:
        picture.paste(logo, (x, y), logo)
    else:
        draw.text((x - left, y - top), ws.brand_voice.creator_name, font=font, fill=visual.accent)
    return (x, y, x + w, y + h)


def _asset(row: MediaAssetRow) -> MediaAsset:
    return MediaAsset(id=row.id, kind=row.kind, path=row.path, details=row.details)
