"""Is a goal something the studio can do at all?

Similarity alone cannot tell: "how's it going?" is nearer to "how is my latest post doing" than to
anything else. Two rules back the similarity floor up:

- a domain anchor: an in-scope goal names something of the creator's business (posts, comments, revenue,
  workflows, a platform ...). Without one it is out of scope unless it is very close to a tool exemplar.
- the creator's own accounts: the studio acts only for the creator, so a request about someone else's
  account, posts, followers or earnings ("my ex's Instagram", "MrBeast's X account", "my competitor") is
  out of scope, however close its words are to a tool.
"""

from __future__ import annotations

import re
from functools import cache

from creator_studio.prompts import load_yaml

# A clause this close to a tool exemplar is in scope even without an anchor word (terse follow-ups).
ANCHORLESS_FLOOR = 0.72

_THIRD_PARTY = (r"friend|ex|boss|competitor|competition|rival|sister|brother|mom|mum|dad|wife|husband|partner|"
                r"girlfriend|boyfriend|colleague|coworker|neighbou?r|client|cousin")
_ASSETS = (r"account|profile|page|posts?|feed|channel|instagram|tiktok|x|twitter|bluesky|linkedin|mastodon|threads|"
           r"newsletter|followers|subscribers|audience|dms?|inbox|email|password|accounts?")
_SOMEONE_ELSES = re.compile(
    # "MrBeast's X account", "my friend Sarah's Bluesky posts", "my ex's Instagram"
    rf"\b(?:(?:my|our)\s+(?:{_THIRD_PARTY})(?:\s+[A-Z][\w-]*)?|[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?|(?:his|her|their))"
    rf"['’]s?\s+(?:[\w-]+\s+){{0,2}}?(?:{_ASSETS})\b"
    # "my competitor Alex": we have no data about other creators
    r"|\bmy\s+(?:competitors?|competition|rivals?)\b"
    # "log into", "hack", "get into someone's account"
    r"|(?i:\blog\s*(?:in|on)(?:to)?\b|\bsign\s+in(?:to)?\b|\bhack\w*\b|\bpassword\b)"
    # personal mail to a named person ("send an email to Jeff Bezos"): the studio emails segments, not people
    r"|(?i:\b(?:e-?mail|message|write\s+to|send\s+(?:an?\s+)?(?:e-?mail|message|letter|note)\s+to))\s+"
    r"(?-i:[A-Z][a-z]+\s+[A-Z][a-z]+)\b",
)


@cache
def _anchor_pattern() -> re.Pattern[str]:
    parts = [str(p) for p in load_yaml("exemplars/out_of_scope").get("domain_anchors", [])]
    return re.compile(r"(?<![\w/])(?:" + "|".join(parts) + r")(?![\w/])", re.IGNORECASE)


def has_domain_anchor(text: str) -> bool:
    return bool(_anchor_pattern().search(text))


def acts_for_someone_else(text: str) -> bool:
    """The clause asks about or acts on another person's account, content or earnings."""
    return bool(_SOMEONE_ELSES.search(text))
