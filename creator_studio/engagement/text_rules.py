"""Audience Hub's text rules: sentiment, spam, and what kind of comment a text is.

Rules-based and explained: every score lists the words or rules that produced it. Comment text is untrusted
data: these functions only score it.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, Field

CommentClass = Literal["question", "praise", "complaint", "spam", "purchase_intent", "other"]
SentimentLabel = Literal["positive", "neutral", "negative"]


class SentimentScore(BaseModel):
    label: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0)
    signals: list[str] = Field(default_factory=list, description="The words that moved the score, and how.")


class SpamCheck(BaseModel):
    is_spam: bool
    score: float = Field(ge=0.0, le=1.0)
    reasons: list[str]


# Text rules: sentiment ----------------------------------------------------------------------------
# fmt: off
# Valences on VADER's -4..4 scale, so the VADER lexicon can replace this table without changing the maths.
_LEXICON: dict[str, float] = {
    "love": 3.0, "loved": 3.0, "loving": 2.7, "great": 3.0, "amazing": 3.0, "awesome": 3.0, "excellent": 3.0,
    "fantastic": 3.0, "wonderful": 3.0, "perfect": 3.0, "best": 3.0, "brilliant": 3.0, "incredible": 3.0,
    "superb": 3.0, "lifesaver": 3.0, "impressive": 2.5, "beautiful": 2.5, "genius": 2.5, "good": 2.0,
    "nice": 2.0, "helpful": 2.0, "useful": 2.0, "thanks": 2.0, "thank": 2.0, "enjoy": 2.0, "enjoyed": 2.0,
    "happy": 2.0, "glad": 2.0, "fun": 2.0, "gem": 2.0, "recommend": 2.0, "excited": 2.0, "exciting": 2.0,
    "valuable": 2.0, "cool": 1.5, "clear": 1.5, "easy": 1.5, "worth": 1.5, "works": 1.0, "solid": 1.5,
    "terrible": -3.0, "awful": -3.0, "horrible": -3.0, "worst": -3.0, "hate": -3.0, "sucks": -3.0,
    "scam": -3.0, "bad": -2.5, "useless": -2.5, "waste": -2.5, "disappointed": -2.5, "disappointing": -2.5,
    "overpriced": -2.5, "frustrating": -2.5, "frustrated": -2.5, "angry": -2.5, "rude": -2.5, "ugly": -2.5,
    "fake": -2.5, "poor": -2.0, "boring": -2.0, "broken": -2.0, "broke": -2.0, "annoying": -2.0,
    "fail": -2.0, "failed": -2.0, "sad": -2.0, "mess": -2.0, "wrong": -1.5, "confusing": -1.5,
    "confused": -1.5, "expensive": -1.5, "bug": -1.5, "slow": -1.0, "hard": -1.0, "difficult": -1.0,
    "meh": -1.0, "problem": -1.0,
    "❤": 3.0, "😍": 3.0, "🙏": 2.0, "🔥": 2.0, "🎉": 2.0, "👍": 2.0, "😊": 2.0, "🙂": 1.0,
    "😡": -3.0, "👎": -2.0, "😞": -2.0, "🙄": -1.5,
}
_INTENSIFIERS: dict[str, float] = {
    "very": 1.3, "really": 1.3, "so": 1.25, "extremely": 1.5, "super": 1.3, "incredibly": 1.5,
    "totally": 1.3, "absolutely": 1.4, "truly": 1.3, "most": 1.2, "quite": 1.1,
    "slightly": 0.6, "somewhat": 0.7, "kinda": 0.7, "little": 0.8,
}
_NEGATIONS = {"not", "no", "never", "none", "nothing", "neither", "nor", "nobody", "cannot", "without",
              "hardly", "barely", "isnt", "dont", "doesnt", "didnt", "cant", "wont", "aint"}
# fmt: on
_NEGATION_FACTOR = -0.74  # VADER's: "not great" is negative, but milder than "terrible".
_NEGATION_WINDOW = 3
_NORMALISE_ALPHA = 15.0  # VADER's: maps any sum of valences into (-1, 1).
_BREAKS = set(".,;:?!")
_EMOJI = "".join(key for key in _LEXICON if not key.isalpha())
_TOKEN = re.compile(rf"[A-Za-z][A-Za-z']*|[.,;:!?]|[{_EMOJI}]")


def score_sentiment(text: str) -> SentimentScore:
    """Lexicon scoring with negation ("not great"), intensifiers ("very good"), "but" and emphasis."""
    tokens = _TOKEN.findall(text.replace("’", "'"))
    shouting = _shouting(text)
    lowered = [t.lower() for t in tokens]
    but_at = max((i for i, t in enumerate(lowered) if t == "but"), default=None)
    total = 0.0
    signals: list[str] = []
    for index, token in enumerate(lowered):
        valence = _LEXICON.get(token)
        if valence is None:
            continue
        notes: list[str] = []
        # Intensifiers right before the word, chained ("really very good"); punctuation ends the look-back.
        back = index - 1
        while back >= 0 and lowered[back] in _INTENSIFIERS:
            valence *= _INTENSIFIERS[lowered[back]]
            notes.append(f"'{lowered[back]}'")
            back -= 1
        window = lowered[max(0, index - _NEGATION_WINDOW) : index]
        for word in reversed(window):
            if word in _BREAKS:
                break
            if word in _NEGATIONS or word.endswith("n't"):
                valence *= _NEGATION_FACTOR
                notes.append(f"negated by '{word}'")
                break
        if tokens[index].isupper() and len(tokens[index]) > 1 and not shouting:
            valence *= 1.25
            notes.append("capitals")
        if but_at is not None:
            valence *= 0.5 if index < but_at else 1.5
            notes.append("before 'but'" if index < but_at else "after 'but'")
        total += valence
        signals.append(f"'{token}' {valence:+.2f}" + (f" ({', '.join(notes)})" if notes else ""))
    exclamations = min(text.count("!"), 4)
    if total and exclamations:
        total += math.copysign(0.3 * exclamations, total)
        signals.append(f"{exclamations} exclamation mark(s) add emphasis")
    score = round(total / math.sqrt(total * total + _NORMALISE_ALPHA), 3)
    return SentimentScore(label=label_of(score), score=score, signals=signals)


# Text rules: spam ---------------------------------------------------------------------------------
_LINK = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|io|biz|xyz|info|ly|me|co|click)"
    r"(?:/\S*)?\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"\b(?:crypto|bitcoin|btc|eth|ethereum|forex|nft|airdrop|profits?|income|earn(?:ing)?|"
    r"cash|invest(?:ment)?|signals|\d+x)\b|\$\$|\$\d",
    re.IGNORECASE,
)
_DM_BAIT = re.compile(
    r"\b(?:dm|pm|inbox|message|text|whatsapp|telegram)\s+me\b|\bcheck\s+(?:out\s+)?my\s+"
    r"(?:bio|profile|page)\b|\blink\s+in\s+(?:my\s+)?bio\b|\bwhatsapp\b|\btelegram\b",
    re.IGNORECASE,
)
_REPEATED_PUNCTUATION = re.compile(r"[!?]{3,}")
_MENTION = re.compile(r"(?<!\w)@\w")
# fmt: off
_SCAM_PHRASES = ("earn 10x", "crypto signals", "guaranteed returns", "guaranteed profit", "double your money",
                 "work from home", "click here", "limited time offer", "act now", "you've won",
                 "you have won", "claim your prize", "free followers", "followers fast", "buy followers",
                 "follow for follow", "f4f", "investment opportunity", "passive income", "free money")
# fmt: on
# Comments that talk to an automated assistant instead of to the creator are never legitimate audience.
_INJECTION = re.compile(
    r"\bignore\s+(?:all\s+|your\s+|the\s+|any\s+)*(?:previous|prior|above|earlier)\s+"
    r"(?:instructions|prompts?|messages?|rules)\b|\bdisregard\s+(?:all\s+|your\s+|the\s+)*"
    r"(?:previous\s+|prior\s+)?instructions\b|\bsystem\s+prompt\b|\byou\s+are\s+now\b|"
    r"\bnew\s+instructions\b",
    re.IGNORECASE,
)
SPAM_THRESHOLD = 0.5


def check_spam(text: str) -> SpamCheck:
    """Add up the spam rules that fire; 0.5 or more is spam. Each reason names its rule and its weight."""
    found: list[tuple[float, str]] = []
    if _INJECTION.search(text):
        found.append((0.6, "tries to give instructions to an automated assistant (prompt injection)"))
    lowered = text.lower()
    phrases = [p for p in _SCAM_PHRASES if p in lowered]
    if phrases:
        found.append((0.5, "uses a known scam phrase: " + ", ".join(repr(p) for p in phrases)))
    if _LINK.search(text):
        found.append((0.25, "contains a link"))
    if _MONEY.search(text):
        found.append((0.3, "talks about money or crypto"))
    if _DM_BAIT.search(text):
        found.append((0.3, "asks people to message them privately"))
    if _shouting(_LINK.sub("", text)):  # links are lower case by convention; judge the words around them
        found.append((0.2, "written in capitals"))
    if _REPEATED_PUNCTUATION.search(text):
        found.append((0.15, "repeated punctuation"))
    if len(_MENTION.findall(text)) >= 3:
        found.append((0.15, "tags many accounts"))
    score = round(min(1.0, sum(weight for weight, _ in found)), 2)
    return SpamCheck(
        is_spam=score >= SPAM_THRESHOLD,
        score=score,
        reasons=[f"{reason} (+{weight:.2f})" for weight, reason in found],
    )


# Text rules: what kind of comment -----------------------------------------------------------------
PURCHASE_INTENT = re.compile(
    r"\bhow\s+much\b|\bprice\b|\bpricing\b|\bcosts?\b|\bbuy(?:ing)?\b|\bpurchase\b|"
    r"\bsign\s+me\s+up\b|\benrol(?:l|ling)?\b|\btake\s+my\s+money\b|\bcheckout\b|"
    r"\bpayment\s+plan\b|\bdiscount\b|\bcoupon\b|\bwhere\s+(?:can|do)\s+i\s+"
    r"(?:get|pay|sign\s+up)\b",
    re.IGNORECASE,
)
INTEREST = re.compile(
    r"\bjoin\b|\bwaitlist\b|\binterested\b|\bsign(?:ing)?\s+up\b|\bcan'?t\s+wait\b|"
    r"\bcount\s+me\s+in\b|\blove\s+to\b",
    re.IGNORECASE,
)
_COMPLAINT = re.compile(
    r"\bterrible\b|\bawful\b|\bhorrible\b|\bworst\b|\bbroke(?:n)?\b|\bdoesn'?t\s+work\b|"
    r"\bnot\s+working\b|\bdisappoint\w*|\bwaste\s+of\b|\buseless\b|\bannoying\b|"
    r"\bfrustrat\w*|\brude\b|\bunacceptable\b|\bfix\s+(?:it|this)\b|\bstill\s+waiting\b|"
    r"\boverpriced\b|\btoo\s+expensive\b|\bhate\b|\bsucks\b",
    re.IGNORECASE,
)


def is_question(text: str) -> bool:
    return "?" in text


def classify(text: str, sentiment: SentimentScore, spam: SpamCheck) -> tuple[CommentClass, str]:
    """One kind per comment, first rule wins: spam, purchase intent, complaint, question, praise, other."""
    if spam.is_spam:
        return "spam", "looks like spam: " + "; ".join(spam.reasons)
    intent = PURCHASE_INTENT.search(text)
    if intent:
        return "purchase_intent", f"mentions buying ('{intent.group(0).lower()}')"
    complaint = _COMPLAINT.search(text)
    if (complaint and sentiment.label == "negative") or sentiment.score <= -0.5:
        cue = f"'{complaint.group(0).lower()}'" if complaint else "strongly negative wording"
        return "complaint", f"negative feedback ({cue})"
    if is_question(text):
        return "question", "asks a question"
    if sentiment.label == "positive":
        return "praise", "positive feedback"
    return "other", "no question, purchase intent, complaint or praise"


# Question themes: first theme whose words match wins, in this order (pricing before generic how-to).
_THEMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "pricing and payment",
        re.compile(r"\bhow\s+much\b|\bprice|\bcosts?\b|\bpay|\bdiscount|\bcoupon|\$", re.IGNORECASE),
    ),
    ("refunds", re.compile(r"\brefund|\bmoney\s+back\b|\bguarantee", re.IGNORECASE)),
    (
        "start dates and schedule",
        re.compile(r"\bwhen\b|\bstart|\bcohort|\bdeadline|\bschedule", re.IGNORECASE),
    ),
    (
        "who it is for",
        re.compile(r"\bbeginners?\b|\bsuitable\b|\bexperience\b|\blevel\b|\bprerequisite", re.IGNORECASE),
    ),
    (
        "tools and setup",
        re.compile(
            r"\bversion\b|\binstall|\bvs\s*code\b|\bjupyter\b|\bnotebooks?\b|\bsetup\b|"
            r"\blibrar(?:y|ies)\b|\bpython\s+\d",
            re.IGNORECASE,
        ),
    ),
    (
        "course content",
        re.compile(r"\blessons?\b|\bexercises?\b|\bcertificate\b|\bmodules?\b|\bcurriculum\b", re.IGNORECASE),
    ),
    ("how-to", re.compile(r"\bhow\s+(?:do|can|to|would|should)\b", re.IGNORECASE)),
)


def question_theme(text: str) -> str:
    for theme, pattern in _THEMES:
        if pattern.search(text):
            return theme
    return "other questions"


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 10 and sum(c.isupper() for c in letters) / len(letters) >= 0.7


def label_of(score: float) -> SentimentLabel:
    """The same cut-offs as VADER's compound score."""
    return "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
