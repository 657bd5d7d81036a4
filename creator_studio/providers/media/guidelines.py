"""Brand guidelines on media: only the brand's colours, the logo in its place, no banned words."""

from __future__ import annotations

import re
from collections.abc import Iterable

from PIL import Image

from creator_studio.errors import InvalidInput
from creator_studio.workspaces.service import BrandVisual

Box = tuple[int, int, int, int]

# Anti-aliased text edges make many rare in-between shades; a colour that covers more than this share
# of the picture is a real colour of the design and must be one of the brand's.
_SIGNIFICANT_SHARE = 0.005


def check_banned_words(text: str, banned: Iterable[str], *, where: str) -> None:
    """Raise naming the first banned word or phrase found in `text` (whole words, any case)."""
    for word in banned:
        if word.strip() and re.search(rf"(?<!\w){re.escape(word.strip())}(?!\w)", text, flags=re.IGNORECASE):
            raise InvalidInput(f"The {where} uses the banned word {word.strip()!r}: the brand rules forbid it. "
                               "Rephrase without it.")


def off_brand_colours(image: Image.Image, visual: BrandVisual, *, ignore: Iterable[Box] = ()) -> dict[str, float]:
    """Colours covering a significant share of the image (outside `ignore`, e.g. the logo) that the brand
    does not allow, with their share."""
    picture = image.convert("RGB").copy()
    for box in ignore:  # paint ignored areas in an allowed colour so they do not count
        picture.paste(visual.background, box)
    small = picture.resize((max(1, picture.width // 4), max(1, picture.height // 4)), Image.Resampling.NEAREST)
    total = small.width * small.height
    counts = small.getcolors(maxcolors=total) or []
    allowed = visual.allowed_colours()
    found: dict[str, float] = {}
    for count, rgb in counts:
        share = count / total
        red, green, blue = rgb  # type: ignore[misc]  # an RGB image: getcolors gives (r, g, b)
        colour = f"#{red:02X}{green:02X}{blue:02X}"
        if share > _SIGNIFICANT_SHARE and colour not in allowed:
            found[colour] = round(share, 4)
    return found


def logo_in_place(box: Box, size: tuple[int, int], position: str) -> bool:
    """The mark lies wholly in the corner quadrant the brand names."""
    width, height = size
    x0, y0, x1, y1 = box
    horizontal = x0 >= width / 2 if position.endswith("right") else x1 <= width / 2
    vertical = y1 <= height / 2 if position.startswith("top") else y0 >= height / 2
    return horizontal and vertical
