"""Text normalisation before intent detection: chat abbreviations and typos are mapped to plain words.

Typos are corrected only towards the vocabulary of the tool exemplars (rapidfuzz, high cutoff), so words
the studio does not know are left alone rather than bent into something else.
"""

from __future__ import annotations

import re
from functools import cache

from rapidfuzz import fuzz, process

from creator_studio.prompts import load_yaml

ABBREVIATIONS = {
    "abt": "about", "pls": "please", "plz": "please", "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow",
    "u": "you", "ur": "your", "w/": "with", "msg": "message", "msgs": "messages", "thx": "thanks",
    "info": "information", "nl": "newsletter", "newsleter": "newsletter", "subs": "subscribers", "yt": "youtube",
    "ig": "instagram", "li": "linkedin", "tw": "twitter", "mo": "month", "wk": "week", "2day": "today",
    "2morrow": "tomorrow", "b4": "before", "asap": "now", "rn": "now", "gimme": "give me", "wanna": "want to",
    "gonna": "going to", "lemme": "let me", "dm": "message", "dms": "messages", "pic": "image", "pics": "images",
    "vid": "video", "vids": "videos", "convo": "conversation", "rev": "revenue", "qs": "questions",
    "biz": "business", "approx": "about", "bday": "birthday", "fb": "facebook", "hw": "how",
}
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'/]*")


@cache
def _vocabulary() -> tuple[str, ...]:
    words: set[str] = set()
    for entry in load_yaml("exemplars/tools").values():
        for text in [*entry["examples"], *entry.get("keywords", [])]:
            words.update(w for w in re.findall(r"[a-z]+", str(text).lower()) if len(w) >= 4)
    words.update(["bluesky", "mastodon", "linkedin", "threads", "twitter", "newsletter", "subscribers",
                  "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
    return tuple(sorted(words))


def _correct(word: str) -> str:
    lowered = word.lower()
    if lowered in ABBREVIATIONS:
        return ABBREVIATIONS[lowered]
    if len(lowered) < 5 or lowered in _vocabulary():
        return word
    match = process.extractOne(lowered, _vocabulary(), scorer=fuzz.ratio, score_cutoff=84)
    # Typos keep the first letter ("shedule", "linkdin"); a different first letter is another word ("again" is
    # not "gain").
    return match[0] if match and match[0][0] == lowered[0] else word


def normalise(text: str) -> str:
    """Lower-risk clean-up: collapse whitespace, expand abbreviations, fix near-miss spellings."""
    text = " ".join(text.split())
    return _TOKEN.sub(lambda m: _correct(m.group(0)), text)
