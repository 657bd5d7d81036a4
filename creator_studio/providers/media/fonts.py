"""Finds the brand's font on the machine; Pillow's bundled font when it is not installed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=32)
def font_file(family: str, bold: bool) -> Path | None:
    """`DejaVu Sans` → DejaVuSans-Bold.ttf or DejaVuSans.ttf; a path to a .ttf is taken as it is."""
    as_path = Path(family).expanduser()
    if as_path.suffix.lower() in {".ttf", ".otf"}:
        return as_path if as_path.is_file() else None
    stem = family.replace(" ", "")
    wanted = [f"{stem}-Bold", f"{stem}Bold"] if bold else [stem, f"{stem}-Regular"]
    for folder in FONT_DIRS:
        if not folder.is_dir():
            continue
        for name in wanted:
            for found in folder.rglob(f"{name}.[ot]tf"):
                return found
    return None


def load_font(family: str, size: int, *, bold: bool = False) -> Font:
    path = font_file(family, bold) or font_file(family, False)
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)  # Pillow's bundled FreeType font: always available offline
