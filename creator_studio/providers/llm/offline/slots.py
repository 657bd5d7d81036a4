"""Slot extraction for the offline deterministic model.

Turns a creator's plain-language goal into tool arguments: clauses, platforms, dates, prices, counts,
periods, topics, quotes, cron schedules and product names. Everything here is a pure function over a
string (plus `now`/`tz` for dates): no network, no model. The heavy lifting is done by libraries made for
it (`dateparser`, `price_parser`, `rapidfuzz`, `zoneinfo`); the regexes around them decide *which* part of a
chatty sentence to hand over, because those libraries happily read "may I" as a date or "3 posts" as a price.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import dateparser
from dateparser.search import search_dates
from price_parser import Price as _ParsedPrice
from rapidfuzz import fuzz, process

__all__ = [
    "PLATFORMS",
    "Interval",
    "Price",
    "extract_count",
    "extract_cron",
    "extract_datetime",
    "extract_percent",
    "extract_period",
    "extract_platforms",
    "extract_price",
    "extract_product_name",
    "extract_quoted",
    "extract_topic",
    "split_clauses",
]

PLATFORMS = ("bluesky", "mastodon", "x", "linkedin", "threads", "email")
# "All my socials" means the social networks, not the mailing list.
_SOCIAL_PLATFORMS = ("bluesky", "mastodon", "x", "linkedin", "threads")

Interval = Literal["month", "year", "week", "day", "none"]


@dataclass(frozen=True)
class Price:
    amount: Decimal
    currency: str  # ISO 4217, upper case
    interval: Interval


Span = tuple[int, int]


def _words(text: str) -> frozenset[str]:
    """A word set written as one string, so long vocabularies stay readable."""
    return frozenset(text.split())


# --------------------------------------------------------------------------------------------------
# Shared vocabulary
# --------------------------------------------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_INDEX = {name: i for i, name in enumerate(_WEEKDAYS)}
# Short forms are also ordinary words ("sun", "sat", "wed"), so they only count next to a date cue.
_WEEKDAY_ABBR = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "weds": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

_UNIT_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS_WORDS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
# Vague quantities people use for counts.
_VAGUE_COUNTS = {
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "a pair of": 2,
    "a few": 3,
    "few": 3,
    "several": 3,
    "a handful of": 5,
    "a handful": 5,
    "half a dozen": 6,
    "a dozen": 12,
    "dozen": 12,
}

_UNIT_ALT = "|".join(sorted(_UNIT_WORDS, key=len, reverse=True))
_TENS_ALT = "|".join(_TENS_WORDS)
# "twenty five", "twenty-five", "a hundred", "fifteen" ...
_NUMWORD = rf"(?:(?:a|one)\s+hundred|hundred|(?:{_TENS_ALT})(?:[\s-](?:{_UNIT_ALT}))?|{_UNIT_ALT})"
_NUMWORD_RE = re.compile(rf"\b{_NUMWORD}\b", re.I)


def _words_to_int(words: str) -> int | None:
    """Value of a spelled-out number matched by `_NUMWORD` (or plain digits)."""
    text = words.strip().lower().replace("-", " ")
    if text.isdigit():
        return int(text)
    if text.endswith("hundred"):
        return 100
    total = 0
    for part in text.split():
        if part in _TENS_WORDS:
            total += _TENS_WORDS[part]
        elif part in _UNIT_WORDS:
            total += _UNIT_WORDS[part]
        else:
            return None
    return total


def _overlaps(span: Span, spans: Iterable[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _mask(text: str, spans: Iterable[Span]) -> str:
    """Blank out spans with spaces, keeping every other offset valid."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# --------------------------------------------------------------------------------------------------
# Normalisation: lower case + typo repair, with a map back to the original offsets
# --------------------------------------------------------------------------------------------------

_TYPOS = {
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmrow": "tomorrow",
    "tmw": "tomorrow",
    "tmro": "tomorrow",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "2mrw": "tomorrow",
    "tomoz": "tomorrow",
    "tonite": "tonight",
    "2nite": "tonight",
    "2night": "tonight",
    "tnite": "tonight",
    "2day": "today",
    "tdy": "today",
    "nxt": "next",
    "tues": "tuesday",
    "thurs": "thursday",
    "thur": "thursday",
    "weds": "wednesday",
    "wkly": "weekly",
    "everyday": "every day",
    "mornin": "morning",
    "arvo": "afternoon",
}
# Words that date/time logic understands; misspellings of these are repaired with rapidfuzz.
_DATE_VOCAB = (
    *_WEEKDAYS,
    *(f"{d}s" for d in _WEEKDAYS),
    "tomorrow",
    "tonight",
    "yesterday",
    "morning",
    "evening",
    "afternoon",
    "midnight",
    "weekday",
    "weekdays",
    "weekend",
    "weekends",
    *(m for m in _MONTHS if len(m) >= 6),
)
_DATE_VOCAB_SET = frozenset(_DATE_VOCAB)
# Real words that sit within the fuzzy cutoff of a date word.
_FUZZY_DENY = frozenset({"mourning", "eventing", "evenings", "mornings", "augusta", "thread", "treads"})
_FUZZY_CUTOFF = 83.0
_TOKEN_RE = re.compile(r"[a-z0-9']+|[^a-z0-9']+")


@lru_cache(maxsize=4096)
def _canon_word(word: str) -> str:
    if word in _TYPOS:
        return _TYPOS[word]
    if len(word) < 6 or not word.isalpha() or word in _DATE_VOCAB_SET or word in _FUZZY_DENY:
        return word
    hit = process.extractOne(word, _DATE_VOCAB, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    return str(hit[0]) if hit else word


@dataclass(frozen=True)
class _Norm:
    """Normalised text plus, for every character, the offset it came from in the original."""

    text: str
    origin: tuple[int, ...]

    def to_original(self, pos: int) -> int:
        return self.origin[pos]


@lru_cache(maxsize=512)
def _normalise(text: str) -> _Norm:
    # Case-folding keeps lengths for everything we care about; curly apostrophes become straight ones.
    lowered = text.lower().replace("’", "'")
    if len(lowered) != len(text):  # exotic case-folding (e.g. "İ"): give up on typo repair
        return _Norm(lowered, (*range(len(lowered)), len(text)))
    out: list[str] = []
    origin: list[int] = []
    for m in _TOKEN_RE.finditer(lowered):
        piece = m.group()
        repl = _canon_word(piece) if piece[0].isalnum() else piece
        out.append(repl)
        width = m.end() - m.start()
        if repl == piece:
            origin.extend(range(m.start(), m.end()))
        else:
            origin.extend(m.start() + min(j, width - 1) for j in range(len(repl)))
    origin.append(len(text))
    return _Norm("".join(out), tuple(origin))


# --------------------------------------------------------------------------------------------------
# Quotes
# --------------------------------------------------------------------------------------------------

_QUOTE_RE = re.compile(
    r"\"([^\"\n]+)\""
    r"|“([^”\n]+)”"
    r"|„([^“”\n]+)[“”]"
    r"|«([^»\n]+)»"
    r"|‘((?:[^’\n]|’(?=\w))+)’(?!\w)"
    # A straight single quote opens only where it can't be an apostrophe ("don't", "creators'").
    r"|(?<!\w)'((?:[^'\n]|'(?=\w))+)'(?!\w)"
)


def _quoted_spans(text: str) -> list[Span]:
    return [m.span() for m in _QUOTE_RE.finditer(text)]


def extract_quoted(text: str) -> list[str]:
    """Every quoted phrase ('single', "double", “curly”, «guillemets»), in order, stripped."""
    found: list[str] = []
    for m in _QUOTE_RE.finditer(text):
        inner = next((g for g in m.groups() if g is not None), "").strip()
        if inner:
            found.append(inner)
    return found


# --------------------------------------------------------------------------------------------------
# Clauses
# --------------------------------------------------------------------------------------------------

# Verbs that start a new request wherever they follow a separator.
_ACTION_VERBS = _words(
    "draft write create send publish make find invite pause start analyse analyze generate give tell get "
    "compose repurpose hide show turn convert build launch add suggest recommend summarise summarize "
    "compare identify brainstorm prepare delete cancel remove resume stop boost translate rewrite edit "
    "shorten optimise optimize review respond thank welcome notify remind export predict estimate "
    "calculate break"
)
# Words that are verbs or nouns ("a post", "the schedule"): a verb only when an object or particle follows.
_AMBIGUOUS_VERBS = _words(
    "post schedule reply list run check plan report tweet toot forecast segment set email message dm "
    "share track answer update queue book test follow reach price offer sell open mute block flag pin"
)
_VERB_FOLLOWERS = _words(
    "it them this that these those a an the my our your me us up out all to on for some one its their "
    "everything something anything both each every what how when which who back again now later tomorrow "
    "today tonight across everywhere via"
)
_QUESTION_WORDS = frozenset({"what", "how", "which", "when", "who", "why", "where"})
# A question word starts a request only as a real question ("how did", "what is"), not in "how to cook".
_QUESTION_FOLLOWERS = _words(
    "is are was were did does do should can could would will has have many much well often long time day "
    "days 's s"
)
_ACTION_VOCAB = tuple(sorted(_ACTION_VERBS | _AMBIGUOUS_VERBS))

_FILLER_RE = re.compile(
    r"^(?:[\s,!.:;-]*(?:hey|hi|hello|yo|ok|okay|so|and|also|then|now|please|pls|plz|kindly|just|quickly"
    r"|can\s+you|could\s+you|would\s+you|will\s+you|can\s+u|could\s+u|can\s+we|could\s+we"
    r"|i\s+want\s+you\s+to|i'd\s+like\s+you\s+to|i\s+would\s+like\s+you\s+to|i\s+need\s+you\s+to"
    r"|i\s+need\s+to|i\s+want\s+to|i'd\s+like\s+to|i\s+would\s+like\s+to|we\s+need\s+to|i\s+wanna"
    r"|let's|lets|let\s+us|help\s+me|go\s+ahead\s+and|for\s+me|team|studio|first(?!-)|firstly|finally|next"
    r"|lastly|afterwards)\b)+[\s,!.:;-]*",
    re.I,
)
_TRAILING_PUNCT = " \t\n,;:.!-"

_SEPARATOR_RE = re.compile(
    r"[.!?]+(?=\s|$)"
    r"|;"
    r"|\n+"
    r"|,?\s+and\s+then\b"
    r"|,?\s+and\s+also\b"
    r"|,?\s+after\s+that\b"
    r"|,?\s+then\b"
    r"|,\s*and\b"
    r"|\s+and\b"
    r"|,?\s+also\b"
    r"|,?\s+plus\b"
    r"|\s+&(?=\s)"
    r"|,(?=\s)",
    re.I,
)
_WORD_RE = re.compile(r"[a-z0-9']+")
_STRONG_SEPARATOR_RE = re.compile(r"[.!?;\n]|\bthen\b|\balso\b|\bafter\b", re.I)
# What creators measure: "forecast revenue", "track engagement" are requests, not noun phrases.
_DATA_NOUNS = _words(
    "revenue growth engagement followers performance sales analytics stats metrics comments mentions "
    "replies subscribers fans audience members churn reach impressions clicks signups"
)


def _strip_fillers(text: str) -> str:
    return _FILLER_RE.sub("", text, count=1)


@lru_cache(maxsize=2048)
def _action_word(word: str) -> str | None:
    """The action verb a (possibly misspelt) word stands for, if any."""
    if word in _ACTION_VERBS or word in _AMBIGUOUS_VERBS or word in _QUESTION_WORDS:
        return word
    if len(word) >= 5 and word.isalpha():
        hit = process.extractOne(word, _ACTION_VOCAB, scorer=fuzz.ratio, score_cutoff=85.0)
        if hit:
            return str(hit[0])
    return None


def _starts_action(rest: str, strong: bool = False) -> bool:
    """Does this text (what follows a separator) begin a new request?

    After a strong separator (sentence end, ';', 'then', 'also') a noun-or-verb word is taken as a verb.
    """
    words = _WORD_RE.findall(_strip_fillers(rest).lower())
    if not words:
        return False
    verb = _action_word(words[0])
    if verb is None:
        return False
    following = words[1] if len(words) > 1 else None
    if verb in _QUESTION_WORDS:
        return following in _QUESTION_FOLLOWERS
    if verb in _AMBIGUOUS_VERBS:
        return (
            strong
            or following is None
            or following in _VERB_FOLLOWERS
            or following.isdigit()
            or following in _UNIT_WORDS
            or following in _PLATFORM_WORDS
            or following in _DATA_NOUNS
        )
    return True


def _action_boundaries(text: str) -> list[Span]:
    """Separators (outside quotes) that are followed by a new action."""
    quotes = _quoted_spans(text)
    return [
        m.span()
        for m in _SEPARATOR_RE.finditer(text)
        if not _overlaps(m.span(), quotes) and _starts_action(text[m.end() :], _is_strong(m.group()))
    ]


def _is_strong(separator: str) -> bool:
    return bool(_STRONG_SEPARATOR_RE.search(separator))


def _clean_clause(clause: str) -> str:
    return _strip_fillers(clause.strip()).strip(_TRAILING_PUNCT)


def split_clauses(text: str) -> list[str]:
    """Split a multi-intent goal into one clause per intent.

    Splits on sentence ends, ';', newlines, 'and (then|also)', 'then', ', and', 'and', 'also', 'plus', '&',
    'after that' and commas, but only where what follows starts a new action (a verb, or a real question such
    as "how did ..."). So "create a $29/month membership and a payment link" stays ONE clause ("a payment
    link" has no verb), and "about cats and dogs" is never split. Leading fillers ("hey", "can you", ...) are
    dropped; the original casing is kept.
    """
    clauses: list[str] = []
    last = 0
    for start, end in _action_boundaries(text):
        clauses.append(text[last:start])
        last = end
    clauses.append(text[last:])
    return [c for c in (_clean_clause(c) for c in clauses) if c]


# --------------------------------------------------------------------------------------------------
# Platforms
# --------------------------------------------------------------------------------------------------

_PLATFORM_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bluesky", re.compile(r"\bblue[\s-]?sky\b|\bbsky(?:\.app|\.social)?\b", re.I)),
    ("mastodon", re.compile(r"\bmastodon\b|\bmasto\b|\bfediverse\b|\btoot(?:s|ed|ing)?\b", re.I)),
    ("x", re.compile(r"\btwitter\b|\btweet(?:s|ed|ing)?\b|\bx\.com\b", re.I)),
    ("linkedin", re.compile(r"\blinked[\s-]?in\b|\blinkdin\b|\blnkd\b", re.I)),
    (
        "email",
        re.compile(
            r"\be-?mails?\b|\bnewsletters?\b|\bmailing[\s-]+lists?\b|\bmail[\s-]?list\b|\bsubscribers\b"
            r"|\bsubstack\b",
            re.I,
        ),
    ),
)
_ALL_PLATFORMS_RE = re.compile(
    r"\ball\s+(?:of\s+)?(?:my\s+|our\s+|the\s+)?(?:social\s+)?(?:platforms|socials|social\s+media|networks"
    r"|channels|accounts)\b|\bevery\s+(?:social\s+)?(?:platform|network|channel)\b|\beverywhere\b",
    re.I,
)
# The letter x as a platform: standalone, not a multiplier ("3 x 4", "x2", "2x") nor part of a word.
_X_RE = re.compile(r"(?<![\w$@#.'/-])[xX](?![\w'@-]|\.(?!com)\w|\s*\d|\s+times\b)")
_THREADS_RE = re.compile(r"\bthreads\b", re.I)
# "email threads", "long threads", "write threads": the format, not the Meta app.
_THREADS_NOUN_BLOCKERS = _words(
    "email e-mail emails comment comments reply replies discussion discussions message messages "
    "conversation conversations forum slack discord reddit twitter x tweet bluesky mastodon linkedin long "
    "short viral these those few several many some multiple more popular top best mail chat group dm"
)
_THREADS_VERB_BLOCKERS = frozenset({"write", "draft", "create", "make", "generate", "compose", "into", "of"})
_PLATFORM_FUZZY = {
    "bluesky": "bluesky",
    "mastodon": "mastodon",
    "twitter": "x",
    "linkedin": "linkedin",
    "newsletter": "email",
}
_PLATFORM_FUZZY_DENY = frozenset({"linked", "linking", "titter", "blues", "masters", "letters", "newest"})
_PLATFORM_WORDS = _words(
    "bluesky bsky mastodon masto fediverse x twitter linkedin threads email newsletter everywhere"
)
_ALPHA_TOKEN_RE = re.compile(r"[A-Za-z]+")


def _threads_is_platform(text: str, m: re.Match[str]) -> bool:
    before = _WORD_RE.findall(text[: m.start()].lower())
    prev = before[-1] if before else ""
    if prev in _THREADS_NOUN_BLOCKERS or prev.isdigit() or prev in _UNIT_WORDS:
        return False
    # A capitalised "Threads" mid-sentence is the app's name even after "write".
    capitalised = m.group()[0] == "T" and bool(before)
    return capitalised or prev not in _THREADS_VERB_BLOCKERS


def _platform_mentions(text: str) -> list[tuple[int, str]]:
    mentions: list[tuple[int, str]] = []
    taken: list[Span] = []
    for platform, pattern in _PLATFORM_PATTERNS:
        for m in pattern.finditer(text):
            mentions.append((m.start(), platform))
            taken.append(m.span())
    for m in _X_RE.finditer(text):
        mentions.append((m.start(), "x"))
    for m in _THREADS_RE.finditer(text):
        if _threads_is_platform(text, m):
            mentions.append((m.start(), "threads"))
            taken.append(m.span())
    for m in _ALL_PLATFORMS_RE.finditer(text):
        mentions.extend((m.start(), p) for p in _SOCIAL_PLATFORMS)
        taken.append(m.span())
    # Misspellings ("blusky", "mastadon", "twiter", "linkedln", "newsleter"): whole tokens only.
    for m in _ALPHA_TOKEN_RE.finditer(text):
        word = m.group().lower()
        if len(word) < 6 or word in _PLATFORM_FUZZY_DENY or _overlaps(m.span(), taken):
            continue
        hit = process.extractOne(word, tuple(_PLATFORM_FUZZY), scorer=fuzz.ratio, score_cutoff=86.0)
        if hit:
            mentions.append((m.start(), _PLATFORM_FUZZY[str(hit[0])]))
    return sorted(mentions, key=lambda item: item[0])


def extract_platforms(text: str) -> list[str]:
    """Canonical platform ids in order of first mention, without duplicates."""
    seen: list[str] = []
    for _, platform in _platform_mentions(text):
        if platform not in seen:
            seen.append(platform)
    return seen


# --------------------------------------------------------------------------------------------------
# Prices and percentages
# --------------------------------------------------------------------------------------------------

_SYMBOL_CURRENCY = {
    "us$": "USD",
    "ca$": "CAD",
    "c$": "CAD",
    "au$": "AUD",
    "a$": "AUD",
    "nz$": "NZD",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
}
_WORD_CURRENCY = {
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "buck": "USD",
    "bucks": "USD",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "cad": "CAD",
    "aud": "AUD",
    "nzd": "NZD",
    "chf": "CHF",
    "jpy": "JPY",
    "yen": "JPY",
    "inr": "INR",
    "rupee": "INR",
    "rupees": "INR",
    "sek": "SEK",
    "nok": "NOK",
    "dkk": "DKK",
    "pln": "PLN",
    "brl": "BRL",
    "mxn": "MXN",
}
_CODES = _words("usd eur gbp cad aud nzd chf jpy inr sek nok dkk pln brl mxn")
_SYM = r"(?:(?<![a-z])(?:us|ca|au|nz|c|a)\$|\$|€|£|¥|₹)"
_CUR_WORD_ALT = "|".join(sorted(_WORD_CURRENCY, key=len, reverse=True))
_CODE_ALT = "|".join(sorted(_CODES))
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_AMOUNT = rf"(?P<num>{_NUM})(?P<k>\s?k\b)?"
_PRICE_RE = re.compile(
    rf"(?P<sym>{_SYM})\s?{_AMOUNT}"
    rf"|(?<![\w.,])(?P<num2>{_NUM})(?P<k2>\s?k)?\s?(?P<sym2>€|£|¥|₹|\$)"
    rf"|\b(?P<code>{_CODE_ALT})\s?(?P<num3>{_NUM})(?P<k3>\s?k\b)?"
    rf"|(?<![\w.,$€£])(?P<num4>{_NUM})(?P<k4>\s?k)?\s?(?P<word>{_CUR_WORD_ALT})\b"
    rf"|(?P<words>{_NUMWORD}(?:\s+(?:and\s+)?{_NUMWORD})?)\s+(?P<word5>{_CUR_WORD_ALT})\b"
    # Bare number: a price only after a pricing cue and before a recurrence ("for 29 a month").
    rf"|\b(?:for|at|costs?|costing|priced\s+at|price\s+of|charge|charging|pay|paying)\s+(?P<num6>{_NUM})"
    r"(?=\s*(?:/|per\b|an?\s+(?:month|year|week|day)\b|monthly\b|yearly\b|annually\b|weekly\b))",
    re.I,
)
_INTERVAL_UNITS: dict[str, Interval] = {
    "month": "month",
    "months": "month",
    "mo": "month",
    "mos": "month",
    "mth": "month",
    "mnth": "month",
    "monthly": "month",
    "year": "year",
    "years": "year",
    "yr": "year",
    "yrs": "year",
    "annum": "year",
    "yearly": "year",
    "annually": "year",
    "annual": "year",
    "week": "week",
    "weeks": "week",
    "wk": "week",
    "wks": "week",
    "weekly": "week",
    "day": "day",
    "days": "day",
    "daily": "day",
}
_INTERVAL_AFTER_RE = re.compile(
    r"\s*(?:(?:billed|paid|charged|recurring)\s+)?"
    r"(?:(?:/\s*|per\s+|an?\s+|each\s+|every\s+)(?P<unit>months?|mos?|mth|mnth|years?|yrs?|annum|weeks?|wks?|days?)\b"
    r"|,?\s*(?P<adv>monthly|yearly|annually|annual|weekly|daily)\b"
    r"|,?\s*(?P<once>one[\s-]?off|one[\s-]?time|once|lifetime|for\s+life|forever|flat)\b)",
    re.I,
)
_INTERVAL_BEFORE_RE = re.compile(r"\b(monthly|yearly|annual|annually|weekly|daily)\b", re.I)


@dataclass(frozen=True)
class _PriceHit:
    price: Price
    span: Span  # the amount and its currency
    full: Span  # ... plus the recurrence phrase right after it


def _currency_of(m: re.Match[str]) -> str:
    symbol = m.group("sym") or m.group("sym2")
    if symbol:
        return _SYMBOL_CURRENCY.get(symbol.lower(), "USD")
    word = m.group("code") or m.group("word") or m.group("word5")
    if word:
        return _WORD_CURRENCY.get(word.lower(), "USD")
    return "USD"


def _amount_of(m: re.Match[str]) -> Decimal | None:
    if m.group("words"):
        value = sum(_words_to_int(w) or 0 for w in _NUMWORD_RE.findall(m.group("words")))
        return Decimal(value) if value else None
    num = m.group("num") or m.group("num2") or m.group("num3") or m.group("num4") or m.group("num6")
    thousands = m.group("k") or m.group("k2") or m.group("k3") or m.group("k4")
    # price_parser knows decimal vs thousands separators ("1,299.50", "9,99").
    amount = _ParsedPrice.fromstring(num).amount
    if amount is None:
        try:
            amount = Decimal(num.replace(",", ""))
        except InvalidOperation:
            return None
    return amount * 1000 if thousands else amount


def _price_hits(text: str) -> list[_PriceHit]:
    hits: list[_PriceHit] = []
    for m in _PRICE_RE.finditer(text):
        amount = _amount_of(m)
        if amount is None:
            continue
        interval: Interval = "none"
        full_end = m.end()
        after = _INTERVAL_AFTER_RE.match(text, m.end())
        if after:
            full_end = after.end()
            word = (after.group("unit") or after.group("adv") or "").lower()
            interval = _INTERVAL_UNITS.get(word, "none")
        else:
            # "a monthly membership for $29": the adjective sits shortly before the price.
            before = list(_INTERVAL_BEFORE_RE.finditer(text, max(0, m.start() - 40), m.start()))
            if before:
                interval = _INTERVAL_UNITS[before[-1].group(1).lower()]
        start = m.start("num6") if m.group("num6") else m.start()
        hits.append(_PriceHit(Price(amount, _currency_of(m), interval), (start, m.end()), (start, full_end)))
    return hits


def extract_price(text: str) -> Price | None:
    """The first price: amount, ISO currency (default USD) and billing interval (default "none")."""
    hits = _price_hits(text)
    return hits[0].price if hits else None


_PERCENT_RE = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s?cent\b|pct\b)"
    rf"|\b(?P<words>{_NUMWORD})[\s-]+(?:percent|per\s?cent)\b"
    r"|\b(?P<half>half)[\s-]+(?:off|price)\b",
    re.I,
)


def _percent_spans(text: str) -> list[Span]:
    return [m.span() for m in _PERCENT_RE.finditer(text)]


def extract_percent(text: str) -> float | None:
    """The first percentage: "20% off", "twenty percent", "half price" (50)."""
    m = _PERCENT_RE.search(text)
    if m is None:
        return None
    if m.group("num"):
        return float(m.group("num"))
    if m.group("half"):
        return 50.0
    value = _words_to_int(m.group("words"))
    return float(value) if value is not None else None


# --------------------------------------------------------------------------------------------------
# Times of day
# --------------------------------------------------------------------------------------------------

_AMPM = r"(?P<ampm>[ap])\.?\s?m\b\.?"
_TIME_RE = re.compile(
    rf"(?<![\w:/.$€£])(?P<h12>1[0-2]|0?[1-9])(?:[:.](?P<m12>[0-5]\d))?\s*{_AMPM}"
    r"|(?<![\w:/.$€£-])(?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)(?![\d:])"
    r"|\b(?P<hoc>[01]?\d|2[0-3])\s*o'?clock\b"
    # "at 9": only before something that can follow a time, so "at 15 euros" or "at 3 posts" is not one.
    r"|(?:\b(?:at|by|around|from|@)\s*)(?P<hat>[01]?\d|2[0-3])(?=\s*(?:$|[,.;!?)]|sharp\b|on\b|and\b|tomorrow"
    r"|tonight|today|next\b|this\b|in\s+the\b|every\b|each\b|[a-z]+day\b|[a-z]+days\b|local\b|my\s+time\b"
    r"|cet\b|cest\b|est\b|edt\b|pst\b|pdt\b|utc\b|gmt\b|then\b|please\b|pls\b|for\b|to\b|with\b|about\b))"
    r"|\b(?P<word>noon|midday|midnight|lunchtime|lunch\s+time|end\s+of\s+(?:the\s+)?day|eod)\b",
    re.I,
)
_WORD_TIMES = {"noon": 12, "midday": 12, "midnight": 0, "lunchtime": 12, "lunch time": 12, "eod": 17}
_PERIOD_OF_DAY_RE = re.compile(r"\b(morning|afternoon|evening|tonight|night|lunch)\b", re.I)
_PERIOD_HOURS = {"morning": 9, "afternoon": 14, "evening": 18, "tonight": 20, "night": 20, "lunch": 12}


@dataclass(frozen=True)
class _TimeHit:
    value: time
    span: Span


def _time_hits(text: str) -> list[_TimeHit]:
    """Explicit clock times; a bare 1-6 without am/pm is read as afternoon (nobody posts at 5am) unless
    the text says "morning"; a part of the day later than noon moves any bare hour to the afternoon."""
    lowered = text.lower()
    period = _PERIOD_OF_DAY_RE.search(lowered)
    said = period.group(1) if period else ""
    late = said in {"afternoon", "evening", "tonight", "night"}
    hits: list[_TimeHit] = []
    for m in _TIME_RE.finditer(lowered):
        minute = 0
        if m.group("h12"):
            hour = int(m.group("h12")) % 12
            minute = int(m.group("m12") or 0)
            if m.group("ampm").lower() == "p":
                hour += 12
        elif m.group("word"):
            word = re.sub(r"\s+", " ", m.group("word"))
            hour = _WORD_TIMES.get(word, 17)
        else:
            hour = int(m.group("h24") or m.group("hoc") or m.group("hat"))
            minute = int(m.group("m24") or 0)
            if 1 <= hour <= 11 and (late or (hour <= 6 and said != "morning")):
                hour += 12
        hits.append(_TimeHit(time(hour, minute), m.span()))
    return hits


def _time_of_day(text: str) -> time | None:
    """An explicit time, else one implied by a part of the day ("tomorrow morning" -> 09:00)."""
    hits = _time_hits(text)
    if hits:
        return hits[0].value
    period = _PERIOD_OF_DAY_RE.search(text)
    return time(_PERIOD_HOURS[period.group(1).lower()], 0) if period else None


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------

_MONTH_ALT = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ORD = r"(?:st|nd|rd|th)?"
_WEEKDAY_ALT = "|".join(_WEEKDAYS)
_ABBR_ALT = "|".join(sorted(_WEEKDAY_ABBR, key=len, reverse=True))
_NUMBER_ALT = rf"\d+|an?|{_NUMWORD}|a\s+couple\s+of|a\s+few|half\s+an?"

_ISO_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[t\s](\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.I)
_RELATIVE_RE = re.compile(
    rf"\bin\s+(?P<n>{_NUMBER_ALT})\s+(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\b"
    rf"|\b(?P<n2>{_NUMBER_ALT})\s+(?P<unit2>minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\s+"
    r"(?P<dir>from\s+now|from\s+today|from\s+tomorrow|later|ago|before|earlier)\b"
    r"|\bin\s+(?P<half>half\s+an\s+hour)\b",
    re.I,
)
_DAYWORD_RE = re.compile(
    r"\b(?P<w>(?:the\s+)?day\s+after\s+tomorrow|(?:the\s+)?day\s+before\s+yesterday|tomorrow|today|tonight"
    r"|yesterday|this\s+(?:morning|afternoon|evening)|later\s+today)\b",
    re.I,
)
_DAYWORD_OFFSETS = {
    "day after tomorrow": 2,
    "day before yesterday": -2,
    "tomorrow": 1,
    "yesterday": -1,
}
_WEEKDAY_RE = re.compile(
    rf"(?<!black\s)(?<!cyber\s)\b(?:(?P<mod>next|this|coming|last|past|previous)\s+)?(?:on\s+)?(?P<wd>{_WEEKDAY_ALT})s?\b"
    rf"|\b(?P<mod2>on|next|this|coming|last|by|until|till|before)\s+(?P<abbr>{_ABBR_ALT})\b\.?"
    rf"|\b(?P<abbr2>{_ABBR_ALT})\b\.?(?=\s*(?:\d{{1,2}}(?::\d\d)?\s*[ap]\.?m|\d{{1,2}}:\d\d|at\s+\d|morning|evening|night))",
    re.I,
)
_MONTH_DATE_RE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<m1>{_MONTH_ALT})\b\.?"
    rf"|(?P<m2>{_MONTH_ALT})\b\.?\s+(?:the\s+)?(?P<d2>\d{{1,2}}){_ORD}(?![\d:%]|\s*[ap]\.?m\b))"
    r"(?:,?\s+(?P<y>\d{4}))?",
    re.I,
)
_NUMERIC_DATE_RE = re.compile(r"(?<![\d/$.:\w])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/%])")
# "on the 3rd" is a date; "the 3rd wave" and "the 1st of every month" (a schedule) are not.
_ORDINAL_DAY_RE = re.compile(
    r"\b(?:on|for|by|until|till|before|after|from)\s+the\s+(\d{1,2})(?:st|nd|rd|th)\b"
    r"(?=\s*(?:$|[,.;!?]|at\b|\d|and\b|then\b|of\s+(?:this|next|the)\s+month\b))",
    re.I,
)
# dateparser's free-text search is only trusted on a month name with a number, or a full numeric date.
_FALLBACK_OK_RE = re.compile(
    rf"\b(?:{_MONTH_ALT})\b.*\d|\d.*\b(?:{_MONTH_ALT})\b|\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}", re.I
)
# "this week/month" is a reporting period, not a date; "next week" and "the weekend" are dates.
_NEXT_SPAN_RE = re.compile(r"\bnext\s+(?P<what>week|month)\b|\b(?:this\s+|next\s+|the\s+)?weekend\b", re.I)

_DEFAULT_TIME = time(9, 0)
# Number shapes that look like dates or times but never are: "24/7", "16:9", "1:1", "x2".
_NOT_A_DATE_RE = re.compile(r"\b24/7\b|\b\d{1,2}:\d\b(?!\d)|\b1:1\b")


def _dateparser_settings(now_local: datetime, tz: str) -> dict[str, Any]:
    return {
        "RELATIVE_BASE": now_local.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "PREFER_DAY_OF_MONTH": "first",
        "TIMEZONE": tz,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "DATE_ORDER": "MDY",
        "PARSERS": ["absolute-time", "relative-time", "custom-formats", "timestamp"],
    }


def _parse_calendar(span_text: str, now_local: datetime, tz: str, order: str = "MDY") -> date | None:
    settings = _dateparser_settings(now_local, tz)
    settings["DATE_ORDER"] = order
    parsed = dateparser.parse(span_text, languages=["en"], settings=settings)
    return parsed.date() if parsed else None


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, 28)


@dataclass(frozen=True)
class _DateHit:
    pos: int
    day: date | None = None
    exact: datetime | None = None  # a full instant ("in 2 hours", ISO with time)
    weekday: int | None = None  # resolved later: depends on the time of day
    modifier: str = ""
    span: Span = (0, 0)
    # How specific the mention is: a calendar date or an exact instant (2) beats a weekday or "tomorrow" (1),
    # which beats a bare "today" (0, often part of what is said: "the cohort starts today").
    rank: int = 1


def _relative_hit(m: re.Match[str], now_local: datetime) -> _DateHit:
    if m.group("half"):
        return _DateHit(m.start(), exact=now_local + timedelta(minutes=30), span=m.span(), rank=2)
    raw = (m.group("n") or m.group("n2")).lower()
    unit = (m.group("unit") or m.group("unit2")).lower()
    direction = re.sub(r"\s+", " ", (m.group("dir") or "").lower())
    sign = -1 if direction in {"ago", "before", "earlier"} else 1
    if raw in {"a", "an"}:
        n = 1
    elif raw.startswith("half"):
        n = 0
    elif raw in _VAGUE_COUNTS:
        n = _VAGUE_COUNTS[raw]
    else:
        n = _words_to_int(re.sub(r"\s+", " ", raw)) or 0
    if unit.startswith(("min", "h")):
        minutes = n * (60 if unit.startswith("h") else 1) or 30
        utc_now = now_local.astimezone(UTC)
        # Do the arithmetic in UTC so "in 2 hours" across a DST change is still two real hours.
        exact = (utc_now + sign * timedelta(minutes=minutes)).astimezone(now_local.tzinfo)
        return _DateHit(m.start(), exact=exact, span=m.span(), rank=2)
    base = now_local.date() + timedelta(days=1 if direction == "from tomorrow" else 0)
    if unit.startswith("month"):
        return _DateHit(m.start(), day=_add_months(base, sign * n), span=m.span(), rank=2)
    days = n * (7 if unit.startswith("w") else 1)
    return _DateHit(m.start(), day=base + timedelta(days=sign * days), span=m.span(), rank=2)


def _date_hits(text: str, now_local: datetime, tz: str) -> list[_DateHit]:
    """Every date mention in normalised text, unordered."""
    today = now_local.date()
    hits: list[_DateHit] = []
    for m in _ISO_RE.finditer(text):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        try:
            if m.group(4):
                clock = time(int(m.group(4)), int(m.group(5)), int(m.group(6) or 0))
                exact = datetime.combine(date(year, month, day), clock, tzinfo=now_local.tzinfo)
                hits.append(_DateHit(m.start(), exact=exact, span=m.span(), rank=2))
            else:
                hits.append(_DateHit(m.start(), day=date(year, month, day), span=m.span(), rank=2))
        except ValueError:
            continue
    iso_spans = [h.span for h in hits]
    for m in _RELATIVE_RE.finditer(text):
        hits.append(_relative_hit(m, now_local))
    for m in _DAYWORD_RE.finditer(text):
        word = re.sub(r"\s+", " ", m.group("w").lower()).removeprefix("the ")
        hits.append(
            _DateHit(m.start(), day=today + timedelta(days=_DAYWORD_OFFSETS.get(word, 0)), span=m.span(),
                     rank=0 if word == "today" else 1)
        )
    for m in _WEEKDAY_RE.finditer(text):
        name = (m.group("wd") or m.group("abbr") or m.group("abbr2")).lower()
        index = _WEEKDAY_INDEX.get(name, _WEEKDAY_ABBR.get(name, 0))
        modifier = (m.group("mod") or m.group("mod2") or "").lower()
        hits.append(_DateHit(m.start(), weekday=index, modifier=modifier, span=m.span()))
    for m in _MONTH_DATE_RE.finditer(text):
        # dateparser resolves the year (next March, not last March) and rejects "Feb 30".
        day_value = _parse_calendar(m.group(), now_local, tz)
        if day_value:
            hits.append(_DateHit(m.start(), day=day_value, span=m.span(), rank=2))
    for m in _NUMERIC_DATE_RE.finditer(text):
        if _overlaps(m.span(), iso_spans) or m.group() == "24/7":
            continue
        first, second = int(m.group(1)), int(m.group(2))
        order = "MDY" if first <= 12 else "DMY"  # "3/14" US style; "14/3" can only be day first
        if first > 31 or second > 31 or (first > 12 and second > 12):
            continue
        day_value = _parse_calendar(m.group(), now_local, tz, order)
        if day_value:
            hits.append(_DateHit(m.start(), day=day_value, span=m.span(), rank=2))
    for m in _HOLIDAY_RE.finditer(text):
        hits.append(_DateHit(m.start(), day=_holiday(m.group("h"), today), span=m.span(), rank=2))
    for m in _ORDINAL_DAY_RE.finditer(text):
        wanted = int(m.group(1))
        candidate = _next_day_of_month(today, wanted)
        if candidate:
            hits.append(_DateHit(m.start(), day=candidate, span=m.span()))
    for m in _NEXT_SPAN_RE.finditer(text):
        what = (m.group("what") or "weekend").lower()
        if what == "week":
            day_value = today + timedelta(days=7 - today.weekday())
        elif what == "month":
            day_value = _add_months(today.replace(day=1), 1)
        else:
            day_value = today + timedelta(days=(5 - today.weekday()) % 7)
        hits.append(_DateHit(m.start(), day=day_value, span=m.span()))
    return hits


_HOLIDAYS = {"christmas eve": (12, 24), "christmas day": (12, 25), "christmas": (12, 25), "xmas": (12, 25),
             "boxing day": (12, 26), "new year's eve": (12, 31), "new years eve": (12, 31),
             "new year's day": (1, 1), "new years day": (1, 1), "new year": (1, 1), "halloween": (10, 31),
             "valentine's day": (2, 14), "valentines day": (2, 14)}
# A holiday is a date only after a time preposition: "on Christmas Eve", "by Christmas"; "a Black Friday
# post" or "a Christmas post" is about the holiday, not scheduled for it.
_HOLIDAY_RE = re.compile(
    r"\b(?:on|for|by|until|till|before|at|over)\s+(?:the\s+)?(?P<h>"
    + "|".join(re.escape(h) for h in sorted(_HOLIDAYS, key=len, reverse=True))
    + r"|black\s+friday|cyber\s+monday|thanksgiving)\b", re.I)


def _holiday(name: str, today: date) -> date:
    """The next occurrence (today included) of a named holiday."""
    key = re.sub(r"\s+", " ", name.lower())
    for year in (today.year, today.year + 1):
        if key in _HOLIDAYS:
            month, day_of_month = _HOLIDAYS[key]
            candidate = date(year, month, day_of_month)
        else:  # US Thanksgiving is the 4th Thursday of November; Black Friday and Cyber Monday follow it
            first = date(year, 11, 1)
            thanksgiving = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
            candidate = thanksgiving + timedelta(days={"thanksgiving": 0, "black friday": 1}.get(key, 4))
        if candidate >= today:
            return candidate
    return candidate


def _next_day_of_month(today: date, wanted: int) -> date | None:
    if not 1 <= wanted <= 31:
        return None
    for months in range(0, 13):
        first = _add_months(today.replace(day=1), months)
        try:
            candidate = first.replace(day=wanted)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _resolve_weekday(hit: _DateHit, clock: time | None, now_local: datetime) -> date:
    today = now_local.date()
    if hit.modifier in {"last", "past", "previous"}:
        back = (today.weekday() - (hit.weekday or 0)) % 7 or 7
        return today - timedelta(days=back)
    ahead = ((hit.weekday or 0) - today.weekday()) % 7
    if ahead == 0:
        # Today's weekday: today only if the (default) time is still ahead and the user didn't say "next".
        moment = datetime.combine(today, clock or _DEFAULT_TIME, tzinfo=now_local.tzinfo)
        ahead = 0 if hit.modifier != "next" and moment > now_local else 7
    return today + timedelta(days=ahead)


def _search_fallback(text: str, now_local: datetime, tz: str) -> datetime | None:
    """Last resort for forms the regexes above don't know ("December 2026", "12.05.2027")."""
    found = search_dates(text, languages=["en"], settings=_dateparser_settings(now_local, tz))
    for span_text, value in found or []:
        if not _FALLBACK_OK_RE.search(span_text):
            continue
        if _time_hits(span_text):
            return value.replace(tzinfo=now_local.tzinfo)
        return datetime.combine(value.date(), _DEFAULT_TIME, tzinfo=now_local.tzinfo)
    return None


def _clean_for_dates(text: str) -> str:
    """Normalised text with prices, percentages and quotes blanked so they can't read as times."""
    norm = _normalise(text).text
    spans = [h.full for h in _price_hits(norm)] + _percent_spans(norm) + _quoted_spans(norm)
    spans += [m.span() for m in _NOT_A_DATE_RE.finditer(norm)]
    return _mask(norm, spans)


def extract_datetime(text: str, now: datetime, tz: str) -> datetime | None:
    """The first date/time mentioned, as an aware datetime in `tz`, preferring the future.

    A date without a time gets 09:00; a time without a date is its next occurrence; a weekday is the next
    such day after today, or today when the (default) time is still ahead and "next" wasn't said. Explicit
    past dates ("yesterday", "last Monday") are returned as they are so the caller can reject them.
    """
    zone = ZoneInfo(tz)
    now_local = now.astimezone(zone)
    clean = _clean_for_dates(text)
    # The most specific mention wins ("Monday December 7", "starts today, to go out on January 12"); ties
    # go to the first one.
    hits = sorted(_date_hits(clean, now_local, tz), key=lambda h: (-h.rank, h.pos))
    date_spans = [h.span for h in hits]
    clock_hits = [h for h in _time_hits(clean) if not _overlaps(h.span, date_spans)]
    clock = clock_hits[0].value if clock_hits else None
    if clock is None:
        period = _PERIOD_OF_DAY_RE.search(clean)
        clock = time(_PERIOD_HOURS[period.group(1).lower()], 0) if period else None
    if hits:
        first = hits[0]
        if first.exact is not None:
            return first.exact.astimezone(zone)
        day = first.day if first.weekday is None else _resolve_weekday(first, clock, now_local)
        if day is None:
            return None
        return datetime.combine(day, clock or _DEFAULT_TIME, tzinfo=zone)
    if clock is not None:
        moment = datetime.combine(now_local.date(), clock, tzinfo=zone)
        return moment if moment > now_local else moment + timedelta(days=1)
    fallback = _search_fallback(clean, now_local, tz)
    return fallback.astimezone(zone) if fallback else None


def _date_time_spans(norm_text: str) -> list[Span]:
    """Where dates, times and durations sit (on normalised text), for masking numbers out of counts."""
    now = datetime(2000, 1, 1, tzinfo=UTC)
    spans = [h.span for h in _date_hits(norm_text, now, "UTC")]
    spans += [h.span for h in _time_hits(norm_text)]
    spans += [m.span() for m in _DURATION_RE.finditer(norm_text)]
    return spans


# --------------------------------------------------------------------------------------------------
# Counts and periods
# --------------------------------------------------------------------------------------------------

_DURATION_RE = re.compile(
    rf"\b(?:{_NUMWORD}|\d+)\s*(?:minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|wks?|months?|mos?|quarters?"
    r"|years?|yrs?|times?\s+(?:a|an|per)\s+\w+)\b"
    r"|\b24/7\b|\b(?:19|20)\d\d\b|\b\d+(?:st|nd|rd|th)\b"
    # Labels, not quantities: "episode 12", "part 2", "#3", "Q3", "v2".
    r"|\b(?:ep|episode|part|chapter|season|vol|volume|version|v|no|number|issue|lesson|module|step|level|q)"
    r"\.?\s*#?\d+\b|#\d+\b",
    re.I,
)
_VAGUE_ALT = "|".join(
    re.escape(k).replace(r"\ ", r"\s+") for k in sorted(_VAGUE_COUNTS, key=len, reverse=True)
)
_COUNT_RE = re.compile(
    rf"(?<![\w$€£.,/:-])(?P<n>\d+)(?![\w%/:.,]|\s*(?:%|x\b))"
    rf"|\b(?P<vague>{_VAGUE_ALT})\b"
    rf"|\b(?P<word>{_NUMWORD})\b(?![\s-]+(?:off|of\b|time\b|on\s+one|percent|per\s?cent|another))",
    re.I,
)


def extract_count(text: str) -> int | None:
    """How many things are asked for: "3 variants", "five posts", "a couple of ideas" (2), "a dozen" (12).

    Numbers belonging to prices, percentages, times, dates, durations, periods, years and quotes are ignored.
    """
    norm = _normalise(text).text
    masked = _mask(norm, [h.full for h in _price_hits(norm)] + _percent_spans(norm) + _quoted_spans(norm))
    masked = _mask(masked, _date_time_spans(masked) + _period_spans(masked))
    for m in _COUNT_RE.finditer(masked):
        if m.group("n"):
            return int(m.group("n"))
        if m.group("vague"):
            return _VAGUE_COUNTS[re.sub(r"\s+", " ", m.group("vague").lower())]
        if m.group("word"):
            value = _words_to_int(m.group("word"))
            if value:
                return value
    return None


_PERIOD_BUCKETS = ((7, "7d"), (14, "14d"), (30, "30d"), (90, "90d"), (365, "365d"))
_PERIOD_UNIT_DAYS = {"d": 1, "day": 1, "week": 7, "fortnight": 14, "month": 30, "quarter": 90, "year": 365}
_PERIOD_N_RE = re.compile(
    rf"\b(?:(?:last|past|previous|prior|recent|trailing)\s+(?P<n>\d+|{_NUMWORD}|a\s+couple\s+of|a\s+few|couple\s+of)"
    r"\s*(?P<unit>days?|d|weeks?|fortnights?|months?|quarters?|years?)"
    # "a 90-day overview"
    r"|(?P<n3>\d+)-(?P<unit3>day|week|month))\b",
    re.I,
)
_PERIOD_FIXED: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bmonth[\s-]+to[\s-]+date\b|\bmtd\b|\b(?:this|current)\s+month\b", re.I), "mtd"),
    (re.compile(r"\b(?:last|past|previous|this|current)\s+week\b|\bweek[\s-]+to[\s-]+date\b", re.I), "7d"),
    (re.compile(r"\b(?:last|past|previous)\s+fortnight\b", re.I), "14d"),
    (re.compile(r"\b(?:last|past|previous|prior)\s+month\b", re.I), "30d"),
    (
        re.compile(
            r"\b(?:last|past|previous|this|current)\s+quarter\b|\bqtd\b|\bquarter[\s-]+to[\s-]+date\b", re.I
        ),
        "90d",
    ),
    (
        re.compile(
            r"\b(?:last|past|previous|this|current)\s+year\b|\bytd\b|\byear[\s-]+to[\s-]+date\b", re.I
        ),
        "365d",
    ),
)


def _bucket(days: int) -> str:
    """The smallest supported window that covers `days`."""
    return next((name for size, name in _PERIOD_BUCKETS if days <= size), "365d")


def _period_matches(text: str) -> list[tuple[int, Span, str]]:
    found: list[tuple[int, Span, str]] = []
    for m in _PERIOD_N_RE.finditer(text):
        raw = re.sub(r"\s+", " ", (m.group("n") or m.group("n3")).lower())
        n = _VAGUE_COUNTS.get(raw) or _words_to_int(raw) or 0
        unit = (m.group("unit") or m.group("unit3")).lower().rstrip("s")
        if n > 0:
            found.append((m.start(), m.span(), _bucket(n * _PERIOD_UNIT_DAYS[unit])))
    for pattern, name in _PERIOD_FIXED:
        found.extend((m.start(), m.span(), name) for m in pattern.finditer(text))
    return sorted(found, key=lambda item: item[0])


def _period_spans(text: str) -> list[Span]:
    return [span for _, span, _ in _period_matches(text)]


def extract_period(text: str) -> str | None:
    """Reporting window: "7d", "14d", "30d", "90d", "365d" or "mtd" (month to date); None if absent."""
    matches = _period_matches(_normalise(text).text)
    return matches[0][2] if matches else None


# --------------------------------------------------------------------------------------------------
# Topic
# --------------------------------------------------------------------------------------------------

_TOPIC_MARKER_RE = re.compile(
    r"\b(?:about|on\s+the\s+(?:topic|subject)\s+of|covering|regarding|concerning|promoting|announcing"
    r"|to\s+(?:promote|announce)|talking\s+about|focused\s+on|focusing\s+on|centred\s+on|centered\s+on"
    r"|on\s+the\s+theme\s+of)\s+"
    r"|\bre:\s*"
    r"|\bfor\s+(?=my\s)",
    re.I,
)
# "a thread on productivity": used only when no stronger marker gives a subject.
_TOPIC_WEAK_MARKER_RE = re.compile(r"\b(?:on)\s+", re.I)
_PLATFORM_ALIAS = (
    r"blue[\s-]?sky|bsky|mastodon|masto|fediverse|twitter|x(?:\.com)?|linked[\s-]?in|linkdin|threads"
    r"|e-?mail|newsletter|mailing\s+list|socials|social\s+media|all\s+(?:my\s+)?(?:platforms|socials|channels)"
)
_TIME_TOKEN = (
    rf"(?:{_WEEKDAY_ALT})s?\b|(?:{_ABBR_ALT})\b(?=\s*\d)|tomorrow\b|tonight\b|today\b|yesterday\b"
    r"|(?:this|next|coming|last)\s+(?:morning|afternoon|evening|week|weekend|month|year)\b"
    r"|(?:the\s+)?weekend\b|noon\b|midnight\b|\d{1,2}(?::\d\d)?\s*[ap]\.?m\b|\d{1,2}:\d\d\b"
    rf"|(?:{_MONTH_ALT})\.?\s+\d|\d{{1,2}}{_ORD}\s+(?:of\s+)?(?:{_MONTH_ALT})\b|\d{{1,2}}/\d{{1,2}}\b"
    r"|\d{4}-\d\d-\d\d|(?:in|within)\s+(?:\d+|an?|one|two|three|a\s+few|half\s+an)\s+(?:minutes?|hours?|days?|weeks?)\b"
    r"|daily\b|weekly\b|monthly\b|every\s+\w+|each\s+\w+|asap\b|later\b|right\s+now\b|the\s+\d{1,2}(?:st|nd|rd|th)\b"
    r"|\d{1,2}\s*o'?clock\b"
)
_TOPIC_CUTS = (
    re.compile(r"[.;!?](?=\s|$)|\n|\s[-–—]\s|\(", re.I),
    re.compile(
        rf"[\s,]+(?:(?:and\s+)?(?:post(?:ed)?|publish(?:ed)?|share(?:d)?)\s+)?(?:on|to|for|via|in|across|over|at)\s+"
        rf"(?:my\s+|the\s+|our\s+)?(?:{_PLATFORM_ALIAS})\b",
        re.I,
    ),
    re.compile(
        rf"[\s,]+(?:(?:on|for|at|by|before|after|around|from|until|starting|scheduled\s+for|due)\s+)?(?:{_TIME_TOKEN})",
        re.I,
    ),
    re.compile(r"[\s,]+at\s+\d{1,2}\b", re.I),
    re.compile(
        r"[\s,]+(?:with|using|in)\s+(?:a|an|the|some)?\s*(?:[\w-]+\s+){0,2}?(?:tone|voice|style|vibe|hashtags?"
        r"|emojis?|cta|call\s+to\s+action|links?|images?|photos?|variants?|versions?|words|characters)\b",
        re.I,
    ),
    re.compile(r"[\s,]+(?:and\s+)?(?:make|keep)\s+it\b", re.I),
    re.compile(r"[\s,]+(?:please|pls|plz|thanks|thank\s+you|for\s+me)\b", re.I),
    re.compile(
        r"[\s,]+(?:for|at|priced\s+at|costing)\s+(?:[$€£¥₹]|\d+(?:[.,]\d+)?\s*(?:usd|eur|gbp|dollars|euros))",
        re.I,
    ),
)
_NOT_A_TOPIC = _words(
    "my our the a it this that me followers audience fans subscribers community socials accounts account "
    "page profile post posts list feed channel channels network mailing newsletter email e-mail social "
    "media"
)


def _topic_end(candidate: str) -> int:
    ends = [len(candidate)]
    for pattern in _TOPIC_CUTS:
        m = pattern.search(candidate)
        if m:
            ends.append(m.start())
    ends.extend(start for start, _ in _action_boundaries(candidate))
    return min(ends)


def _topic_from(text: str, norm: _Norm, start: int) -> str | None:
    candidate = norm.text[start:]
    end = start + _topic_end(candidate)
    topic = text[norm.to_original(start) : norm.to_original(end)].strip(" \t\n,;:.!?-\"'“”‘’")
    words = _WORD_RE.findall(topic.lower())
    if not words or all(w in _NOT_A_TOPIC or w in _PLATFORM_WORDS for w in words):
        return None
    return topic


def extract_topic(text: str) -> str | None:
    """The subject of the request ("a post about my new course on Friday" -> "my new course").

    Quoted text wins. Otherwise the phrase after "about", "regarding", "covering", "promoting", "for my" ...,
    cut before platform, time, scheduling, tone and price phrases. None when there is no subject.
    """
    quoted = extract_quoted(text)
    if quoted:
        return quoted[0]
    norm = _normalise(text)
    for pattern in (_TOPIC_MARKER_RE, _TOPIC_WEAK_MARKER_RE):
        for m in pattern.finditer(norm.text):
            topic = _topic_from(text, norm, m.end())
            if topic:
                return _TOPIC_TRAILING_WHEN_RE.sub("", topic).strip() or topic
    return None


# "about the launch now": "now" says when, not what.
_TOPIC_TRAILING_WHEN_RE = re.compile(
    r"(?:\s+(?:right\s+)?(?:now|immediately|asap|today|tonight|straight\s+away|right\s+away))+$", re.I
)


# --------------------------------------------------------------------------------------------------
# Cron
# --------------------------------------------------------------------------------------------------

_WD_WORD = rf"(?:{_WEEKDAY_ALT})s?"
_EVERY_N_RE = re.compile(
    rf"\bevery\s+(?P<n>\d+|{_NUMWORD}|other)\s+(?P<unit>minutes?|mins?|hours?|hrs?|days?)\b", re.I
)
_HOURLY_RE = re.compile(r"\bhourly\b|\b(?:every|each)\s+(?:single\s+)?hour\b", re.I)
_MONTH_DAY_RE = re.compile(
    r"\b(?:on\s+)?the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:day\s+)?of\s+(?:every|each|the)\s+month\b"
    r"|\b(?:every|each)\s+month\s+on\s+the\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?\b"
    r"|\bmonthly\s+on\s+the\s+(?P<d3>\d{1,2})(?:st|nd|rd|th)?\b"
    r"|\b(?P<d4>\d{1,2})(?:st|nd|rd|th)\s+of\s+(?:every|each)\s+month\b",
    re.I,
)
_MONTHLY_RE = re.compile(r"\bmonthly\b|\b(?:every|each)\s+month\b", re.I)
_YEARLY_RE = re.compile(r"\b(?:yearly|annually)\b|\b(?:every|each)\s+year\b", re.I)
# "every weekday" / "on weekdays" recur; "on a weekday" or "this weekend" alone does not.
_WEEKDAYS_RE = re.compile(
    r"\b(?:every|each)\s+(?:weekday|work\s?day|business\s+day)\b|\b(?:weekdays|work\s?days|business\s+days)\b"
    r"|\bmon(?:day)?\s*(?:-|–|to|through|thru|till|until)\s*fri(?:day)?\b",
    re.I,
)
_WEEKENDS_RE = re.compile(r"\b(?:every|each)\s+weekend\b|\bweekends\b", re.I)
_RECURRING_WEEKDAY_RE = re.compile(
    rf"\b(?:every|each)\s+(?:single\s+)?(?P<wd>{_WD_WORD})\b|\b(?P<plural>(?:{_WEEKDAY_ALT})s)\b", re.I
)
_WEEKLY_RE = re.compile(r"\bweekly\b|\b(?:every|each)\s+week\b|\bonce\s+a\s+week\b", re.I)
_DAILY_RE = re.compile(
    r"\b(?:daily|nightly)\b|\b(?:every|each)\s+(?:single\s+)?(?:day|morning|afternoon|evening|night)\b"
    r"|\bonce\s+a\s+day\b|\bmornings\b|\bevenings\b",
    re.I,
)
_ANY_WEEKDAY_RE = re.compile(rf"\b(?P<wd>{_WEEKDAY_ALT})s?\b", re.I)


def _cron_dow(indices: Iterable[int]) -> str:
    return ",".join(str(i) for i in sorted({(i + 1) % 7 for i in indices}))


def extract_cron(text: str) -> str | None:
    """A recurring schedule as 5-field cron ("every Monday 9am" -> "0 9 * * 1"); None if not recurring.

    The time defaults to 09:00 (or the part of day said: "every evening" -> 18:00); "weekly" alone is Monday,
    "monthly" alone the 1st, "yearly" alone 1 January.
    """
    clean = _clean_for_dates(text)
    clock = _time_of_day(clean) or _DEFAULT_TIME
    minute, hour = clock.minute, clock.hour
    m = _EVERY_N_RE.search(clean)
    if m:
        raw = m.group("n").lower()
        n = 2 if raw == "other" else (_words_to_int(raw) or 1)
        unit = m.group("unit").lower()
        if unit.startswith("m"):
            return f"*/{n} * * * *"
        if unit.startswith("h"):
            return f"0 */{n} * * *"
        return f"{minute} {hour} */{n} * *"
    if _HOURLY_RE.search(clean):
        return "0 * * * *"
    m = _MONTH_DAY_RE.search(clean)
    if m:
        day = int(m.group("d") or m.group("d2") or m.group("d3") or m.group("d4"))
        return f"{minute} {hour} {day} * *" if 1 <= day <= 31 else None
    if _WEEKDAYS_RE.search(clean):
        return f"{minute} {hour} * * 1-5"
    if _WEEKENDS_RE.search(clean):
        return f"{minute} {hour} * * 0,6"
    if _RECURRING_WEEKDAY_RE.search(clean) or _WEEKLY_RE.search(clean):
        # Every weekday named in the sentence joins the list: "every monday and thursday".
        days = [_WEEKDAY_INDEX[w.group("wd").lower()] for w in _ANY_WEEKDAY_RE.finditer(clean)]
        return f"{minute} {hour} * * {_cron_dow(days or [0])}"
    if _MONTHLY_RE.search(clean):
        return f"{minute} {hour} 1 * *"
    if _YEARLY_RE.search(clean):
        return f"{minute} {hour} 1 1 *"
    if _DAILY_RE.search(clean):
        return f"{minute} {hour} * * *"
    return None


# --------------------------------------------------------------------------------------------------
# Product names
# --------------------------------------------------------------------------------------------------

_CALLED_RE = re.compile(
    r"\b(?:called|named|titled|dubbed|branded\s+as)\s+(?P<name>.+?)"
    r"(?=\s+(?:for|at|with|priced|costing|that|which|and|to|on|at|per)\b|[,.;!?(]|$)",
    re.I,
)
_NAME_STOP = _words(
    "a an the my our your this that some new brand for at to on with and of in per priced costing costs "
    "cost is which where called named price fans followers members me us it i we you please pls can could "
    "want need up set create make launch add start sell offer build open publish introduce release list "
    "setup charge charging only just billed paid every each one off lifetime once as by from like"
)
_INTERVAL_WORDS = frozenset(_INTERVAL_UNITS) | {"recurring", "subscription-based"}
_LINKERS = _words("at for priced costing costs cost of is which that with price")
_PRODUCT_NOUNS = (
    r"membership|course|tier|subscription|community|e-?book|product|plan|workshop|coaching|program|programme"
    r"|template|bundle|pack|class|masterclass|bootcamp|cohort|webinar|guide|toolkit|kit|package|service"
    r"|consultation|session|presets?|club|circle|academy|mentorship|newsletter|download|membership\s+tier"
)
_PRODUCT_RE = re.compile(
    r"\b(?:create|make|set\s*up|launch|add|start|sell|offer|build|open|introduce|release|list)\s+"
    rf"(?:a|an|the|my|our)?\s*(?:new\s+)?"
    rf"(?P<np>(?:(?!(?:about|for|to|on|with|and|that|of|in|my|our|a|an|the)\b)[\w-]+\s+){{0,3}}(?:{_PRODUCT_NOUNS}))\b",
    re.I,
)
_NAME_WORD_RE = re.compile(r"[A-Za-z][\w'-]*|\d[\w:-]*")
_SMALL_WORDS = frozenset({"of", "and", "for", "the", "a", "an", "to", "in", "on", "with"})


def _title(words: Iterable[str]) -> str:
    out: list[str] = []
    for i, word in enumerate(words):
        if i and word.lower() in _SMALL_WORDS:
            out.append(word.lower())
        elif any(c.isupper() for c in word[1:]) or not word[0].isalpha():
            out.append(word)  # keep "VIP", "iOS", "101"
        else:
            out.append(word[0].upper() + word[1:])
    return " ".join(out)


def _name_words(fragment: str) -> list[str]:
    return _NAME_WORD_RE.findall(fragment)


def _tail_phrase(words: list[str]) -> list[str]:
    """The noun phrase that ends a fragment: words back to the first article, verb or preposition."""
    phrase: list[str] = []
    for word in reversed(words):
        lower = word.lower()
        if lower in _NAME_STOP or _action_word(lower) in _ACTION_VERBS or lower in _AMBIGUOUS_VERBS:
            break
        phrase.insert(0, word)
    return [w for w in phrase if w.lower() not in _INTERVAL_WORDS][-4:]


def _head_phrase(words: list[str]) -> list[str]:
    """The noun phrase that starts a fragment: words up to the first preposition or stop word."""
    phrase: list[str] = []
    for word in words:
        lower = word.lower()
        if lower in _INTERVAL_WORDS:
            continue
        if lower in _NAME_STOP or lower in _PLATFORM_WORDS:
            break
        phrase.append(word)
    return phrase[:4]


def extract_product_name(text: str) -> str | None:
    """The product being created: quoted or "called X" wins; else the noun phrase around the price.

    "create a $29/month membership" -> "Membership"; "a premium community tier at 15 euros a month" ->
    "Premium Community Tier". Articles, verbs, prices and billing intervals are skipped; the result is
    title-cased. Without a price, a known product noun after a creation verb is used ("launch a coaching
    program" -> "Coaching Program").
    """
    quoted = extract_quoted(text)
    if quoted:
        return quoted[0]
    called = _CALLED_RE.search(text)
    if called:
        words = _name_words(called.group("name"))
        if words:
            return _title(words)
    hits = _price_hits(text)
    if hits:
        start, end = hits[0].full
        before = _name_words(text[:start])
        after_text = text[end:]
        after = _head_phrase(_name_words(after_text)) if re.match(r"\s*[A-Za-z]", after_text) else []
        linked = bool(before) and before[-1].lower() in _LINKERS
        if linked:
            while before and before[-1].lower() in _LINKERS:
                before.pop()
            name = _tail_phrase(before) or after
        else:
            name = _tail_phrase(before) + after
        if name:
            return _title(name)
    m = _PRODUCT_RE.search(text)
    if m:
        words = [w for w in _name_words(m.group("np")) if w.lower() not in _INTERVAL_WORDS]
        if words:
            return _title(words)
    return None
