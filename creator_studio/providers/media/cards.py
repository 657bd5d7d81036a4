"""Branded cards: the brand's colours, font and mark, text fitted to the frame so it never overflows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import regex
from PIL import Image, ImageDraw

from creator_studio.errors import InvalidInput
from creator_studio.providers.media.fonts import Font, load_font
from creator_studio.providers.media.formats import Frame
from creator_studio.workspaces.service import BrandVisual

Box = tuple[int, int, int, int]
_LINE_SPACING = 1.22
_MIN_FONT = 18


@dataclass(frozen=True)
class CardText:
    headline: str
    mark: str  # the creator's name: drawn where the logo goes when there is no logo


@dataclass
class PlacedText:
    role: str
    lines: list[str]
    box: Box
    font_size: int


@dataclass
class RenderedCard:
    image: Image.Image
    texts: list[PlacedText]
    mark_box: Box
    safe_box: Box
    truncated: bool
    colours: dict[str, str] = field(default_factory=dict)


def style_colours(visual: BrandVisual, style: str | None) -> tuple[str, str, str]:
    """(background, text, accent), always from the brand's own colours."""
    wanted = (style or "").strip().lower()
    if wanted == "bold":
        return visual.accent, visual.background, visual.foreground
    if wanted in {"minimal", "light"}:
        return visual.foreground, visual.background, visual.accent
    return visual.background, visual.foreground, visual.accent


def render_card(text: CardText, frame: Frame, visual: BrandVisual, *, style: str | None = None) -> RenderedCard:
    if not text.headline.strip():
        raise InvalidInput("An image card needs some text: give a prompt or headline.")
    background, foreground, accent = style_colours(visual, style)
    image = Image.new("RGB", (frame.width, frame.height), background)
    draw = ImageDraw.Draw(image)
    margin = round(0.08 * min(frame.width, frame.height))
    footer = round(0.12 * frame.height) if frame.height >= frame.width else round(0.16 * frame.height)
    bar_height = max(6, round(0.012 * frame.height))
    draw.rectangle((margin, margin, margin + round(0.16 * frame.width), margin + bar_height), fill=accent)

    below_bar = margin + bar_height + margin // 2
    if visual.logo_position.startswith("top"):  # the mark sits under the accent bar, the text under the mark
        region: Box = (margin, below_bar + footer, frame.width - margin, frame.height - margin)
    else:
        region = (margin, below_bar, frame.width - margin, frame.height - margin - footer)
    size, lines, truncated = _fit(draw, text.headline, visual.font, region)
    font = load_font(visual.font, size, bold=True)
    line_height = round(size * _LINE_SPACING)
    block_height = line_height * len(lines)
    top = region[1] + (region[3] - region[1] - block_height) // 2
    for i, line in enumerate(lines):
        draw.text((region[0], top + i * line_height), line, font=font, fill=foreground)
    headline_box: Box = (region[0], top, region[0] + max(_width(draw, ln, font) for ln in lines),
                         top + block_height)

    mark_box = _draw_mark(image, draw, text.mark, visual, frame, margin, footer, accent)
    return RenderedCard(image=image, texts=[PlacedText("headline", lines, headline_box, size)], mark_box=mark_box,
                        safe_box=(margin, margin, frame.width - margin, frame.height - margin), truncated=truncated,
                        colours={"background": background, "text": foreground, "accent": accent})


def _fit(draw: ImageDraw.ImageDraw, text: str, family: str, region: Box) -> tuple[int, list[str], bool]:
    """The largest font size at which the wrapped text fits the region; truncated with … if none does."""
    width, height = region[2] - region[0], region[3] - region[1]
    longest_word = max(text.split(), key=len, default="")
    low, high = _MIN_FONT, max(_MIN_FONT, height // 5)
    # Prefer sizes at which every word fits whole on a line: only a word too long even at the smallest
    # size is broken between graphemes.
    while high > _MIN_FONT and _width(draw, longest_word, load_font(family, high, bold=True)) > width:
        high = max(_MIN_FONT, int(high * 0.9))
    best: tuple[int, list[str]] | None = None
    while low <= high:
        size = (low + high) // 2
        lines = wrap(draw, text, load_font(family, size, bold=True), width)
        if round(size * _LINE_SPACING) * len(lines) <= height:
            best, low = (size, lines), size + 1
        else:
            high = size - 1
    if best is not None:
        return best[0], best[1], False
    font = load_font(family, _MIN_FONT, bold=True)
    lines = wrap(draw, text, font, width)
    keep = max(1, height // round(_MIN_FONT * _LINE_SPACING))
    last = lines[keep - 1]
    while last and _width(draw, last + "…", font) > width:
        last = "".join(regex.findall(r"\X", last)[:-1]).rstrip()
    return _MIN_FONT, [*lines[: keep - 1], last + "…"], True


def wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    """Words onto lines no wider than `width` pixels; a word wider than a line breaks between graphemes."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if _width(draw, candidate, font) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            pieces = [word] if _width(draw, word, font) <= width else _break_word(draw, word, font, width)
            lines.extend(pieces[:-1])
            current = pieces[-1]
        if current:
            lines.append(current)
    return lines or [""]


def _break_word(draw: ImageDraw.ImageDraw, word: str, font: Font, width: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for grapheme in regex.findall(r"\X", word):
        if current and _width(draw, current + grapheme, font) > width:
            pieces.append(current)
            current = grapheme
        else:
            current += grapheme
    if current:
        pieces.append(current)
    return pieces


def _width(draw: ImageDraw.ImageDraw, text: str, font: Font) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    return int(right - left)


def _draw_mark(image: Image.Image, draw: ImageDraw.ImageDraw, mark: str, visual: BrandVisual, frame: Frame,
               margin: int, footer: int, accent: str) -> Box:
    """The logo (or the creator's name) in the brand's corner."""
    right = visual.logo_position.endswith("right")
    top = visual.logo_position.startswith("top")
    max_height = round(footer * 0.6)
    if visual.logo_path:
        logo_file = Path(visual.logo_path).expanduser()
        if not logo_file.is_file():
            raise InvalidInput(f"The brand logo {visual.logo_path!r} does not exist: fix brand visual.logo_path.")
        logo = Image.open(logo_file).convert("RGBA")
        logo.thumbnail((round(frame.width * 0.3), max_height))
        w, h = logo.size
        x = frame.width - margin - w if right else margin
        y = margin + round(0.012 * frame.height) + margin // 2 if top else frame.height - margin - h
        image.paste(logo, (x, y), logo)
        return (x, y, x + w, y + h)
    size = max(_MIN_FONT, round(max_height * 0.55))
    font = load_font(visual.font, size, bold=False)
    w = min(_width(draw, mark, font), frame.width - 2 * margin)
    left, top_px, _, bottom_px = draw.textbbox((0, 0), mark, font=font)
    h = int(bottom_px - top_px)
    x = frame.width - margin - w if right else margin
    y = margin if top else frame.height - margin - h
    if top:  # keep the accent bar clear
        y += round(0.012 * frame.height) + margin // 2
    draw.text((x - left, y - top_px), mark, font=font, fill=accent)
    return (x, y, x + w, y + h)
