"""X's weighted length (twitter-text configuration v3): 280 weighted characters.

Code points in the ranges below weigh 1, every other code point 2 (so CJK counts double); a URL counts as
23 however long it is; an emoji sequence (with modifiers and joiners) counts as 2 in total.
"""

from __future__ import annotations

import regex

# twitter-text config/v3.json
MAX_WEIGHTED_LENGTH = 280
TRANSFORMED_URL_LENGTH = 23
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

URL_PATTERN = regex.compile(
    r"(?<![\w@#/.])(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?::\d{2,5})?"
    r"(?:/[^\s]*[^\s.,;:!?'\")\]])?/?",
    regex.IGNORECASE,
)
_EMOJI = regex.compile(r"^(?:\p{Extended_Pictographic}|\p{Regional_Indicator})")
_GRAPHEME = regex.compile(r"\X")


def _weight(char: str) -> int:
    code = ord(char)
    return 1 if any(lo <= code <= hi for lo, hi in _LIGHT_RANGES) else 2


def x_weighted_length(text: str) -> int:
    total = 0
    position = 0
    for match in URL_PATTERN.finditer(text):
        total += _plain_length(text[position:match.start()]) + TRANSFORMED_URL_LENGTH
        position = match.end()
    return total + _plain_length(text[position:])


def _plain_length(text: str) -> int:
    total = 0
    for cluster in _GRAPHEME.findall(text):
        if _EMOJI.match(cluster):
            total += 2
        else:
            total += sum(_weight(c) for c in cluster)
    return total
