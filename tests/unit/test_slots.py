"""Slot extraction for the offline model: what a creator types must become the right tool arguments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from creator_studio.providers.llm.offline.slots import (
    PLATFORMS,
    Price,
    extract_count,
    extract_cron,
    extract_datetime,
    extract_percent,
    extract_period,
    extract_platforms,
    extract_price,
    extract_product_name,
    extract_quoted,
    extract_topic,
    split_clauses,
)

pytestmark = pytest.mark.unit

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
# A Wednesday afternoon.
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=ZoneInfo(BERLIN))
# A Friday night in New York, two days before the clocks go forward (Sunday 8 March 2026).
NY_NOW = datetime(2026, 3, 6, 22, 30, tzinfo=ZoneInfo(NEW_YORK))
ALL_SOCIALS = ["bluesky", "mastodon", "x", "linkedin", "threads"]


def berlin(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN))


def new_york(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(NEW_YORK))


# ------------------------------------------------------------------------------------------------ clauses


@pytest.mark.parametrize(
    ("goal", "clauses"),
    [
        ("Draft a Bluesky post about cats and dogs", ["Draft a Bluesky post about cats and dogs"]),
        (
            "Draft a Bluesky post about my course and schedule it for Friday 9am",
            ["Draft a Bluesky post about my course", "schedule it for Friday 9am"],
        ),
        (
            "hey can you pls draft a post about AI, then schedule it tmrw 10am. "
            "Also how did my posts do last week?",
            ["draft a post about AI", "schedule it tmrw 10am", "how did my posts do last week?"],
        ),
        ("i need to draft a linkedin post & post it on x", ["draft a linkedin post", "post it on x"]),
        (
            "Make a post about sales and marketing plus generate 3 hashtags",
            ["Make a post about sales and marketing", "generate 3 hashtags"],
        ),
        ("find my top fans and invite them to the beta", ["find my top fans", "invite them to the beta"]),
        ("Draft a post and then publish it everywhere", ["Draft a post", "publish it everywhere"]),
        ("draft a post and scedule it for friday", ["draft a post", "scedule it for friday"]),
        ("Write a post; analyse my engagement", ["Write a post", "analyse my engagement"]),
        # After a sentence end a noun-or-verb word is a verb.
        (
            "pause all scheduled posts. Forecast revenue for next quarter",
            ["pause all scheduled posts", "Forecast revenue for next quarter"],
        ),
        (
            "ok so first draft a toot, after that post it to mastodon",
            ["draft a toot", "post it to mastodon"],
        ),
        ("draft a post and track engagement", ["draft a post", "track engagement"]),
        # No verb after the separator: a single request.
        (
            "create a $29/month membership and a payment link",
            ["create a $29/month membership and a payment link"],
        ),
        (
            "Write a thread about how to cook and what to eat",
            ["Write a thread about how to cook and what to eat"],
        ),
        ("Draft a post about my launch. It's on Friday.", ["Draft a post about my launch. It's on Friday"]),
        ("Draft a post about cats and post ideas", ["Draft a post about cats and post ideas"]),
        # Separators inside quotes don't split.
        (
            "Draft a post titled 'Make and sell' and publish it",
            ["Draft a post titled 'Make and sell'", "publish it"],
        ),
        ("Please could you write a newsletter", ["write a newsletter"]),
        ("   ", []),
    ],
)
def test_split_clauses(goal: str, clauses: list[str]) -> None:
    assert split_clauses(goal) == clauses


# ------------------------------------------------------------------------------------------------ platforms


@pytest.mark.parametrize(
    ("text", "platforms"),
    [
        ("Draft a Bluesky post", ["bluesky"]),
        ("post on bsky and blue sky", ["bluesky"]),
        ("masto and the fediverse, toot it", ["mastodon"]),
        ("tweet it", ["x"]),
        ("Post on X", ["x"]),
        ("share on x.com", ["x"]),
        ("cross post to bluesky, X/Twitter and threads", ["bluesky", "x", "threads"]),
        ("LINKDIN and linked in", ["linkedin"]),
        ("Post to Threads", ["threads"]),
        ("Draft a Threads post", ["threads"]),
        ("send it to my newsletter subscribers", ["email"]),
        ("e-mail my mailing list", ["email"]),
        ("linkedin first, then mastodon, then linkedin again", ["linkedin", "mastodon"]),
        ("post it on all my socials", ALL_SOCIALS),
        ("publish everywhere", ALL_SOCIALS),
        ("email my list, then share on all platforms", ["email", *ALL_SOCIALS]),
        # Typos caught by fuzzy matching.
        ("blusky and mastadon and twiter and linkedln", ["bluesky", "mastodon", "x", "linkedin"]),
        ("send the newsleter", ["email"]),
        # Not platforms.
        ("reply to email threads", ["email"]),
        ("comment threads are long", []),
        ("write threads about AI", []),
        ("xmas post x2", []),
        ("make a 3 x 4 grid", []),
        ("I linked to my site", []),
        ("draft a post about my course", []),
    ],
)
def test_extract_platforms(text: str, platforms: list[str]) -> None:
    assert extract_platforms(text) == platforms


def test_platform_ids_are_the_canonical_ones() -> None:
    assert set(extract_platforms("bluesky mastodon twitter linkedin on threads email")) == set(PLATFORMS)


# ------------------------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Friday 9am", berlin(11, 27, 9)),
        ("on friday at 9", berlin(11, 27, 9)),
        ("tmrw 10am", berlin(11, 26, 10)),
        ("TOMORROW AT 8PM", berlin(11, 26, 20)),
        ("tomorrow morning", berlin(11, 26, 9)),
        ("tomorrow evening at 7", berlin(11, 26, 19)),
        ("tomorrow morning at 5", berlin(11, 26, 5)),
        ("see you wendesday at 10am", berlin(12, 2, 10)),
        ("this weekend", berlin(11, 28, 9)),
        ("tonight", berlin(11, 25, 20)),
        ("this evening", berlin(11, 25, 18)),
        ("noon", berlin(11, 26, 12)),  # noon has passed today
        ("at 5pm", berlin(11, 25, 17)),
        ("at 9am", berlin(11, 26, 9)),
        ("next Tuesday at 9:30", berlin(12, 1, 9, 30)),
        ("Tuesday", berlin(12, 1, 9)),
        ("Wednesday", berlin(12, 2, 9)),  # today, but 09:00 has passed
        ("wednesday at 5pm", berlin(11, 25, 17)),  # a time later today
        ("wednesday 9am", berlin(12, 2, 9)),
        ("sat 10am", berlin(11, 28, 10)),
        ("schedule it for fridya at 5", berlin(11, 27, 17)),
        ("Thrusday 3pm", berlin(11, 26, 15)),
        ("in 2 hours", berlin(11, 25, 16)),
        ("30 minutes from now", berlin(11, 25, 14, 30)),
        ("in half an hour", berlin(11, 25, 14, 30)),
        ("in 3 days", berlin(11, 28, 9)),
        ("March 3rd at 14:00", berlin(3, 3, 14, year=2027)),
        ("3/14 5pm", berlin(3, 14, 17, year=2027)),
        ("2026-12-01T09:00", berlin(12, 1, 9)),
        ("Dec 1", berlin(12, 1, 9)),
        ("1st of December at 8am", berlin(12, 1, 8)),
        ("December 12, 2026 at 3pm", berlin(12, 12, 15)),
        ("12 Jan 2027", berlin(1, 12, 9, year=2027)),
        ("on the 3rd at 10am", berlin(12, 3, 10)),
        ("next week", berlin(11, 30, 9)),
        ("Draft a Bluesky post about my course and schedule it for Friday 9am", berlin(11, 27, 9)),
        # Past dates come back as they are, for the caller to reject.
        ("yesterday", berlin(11, 24, 9)),
        ("last Monday", berlin(11, 23, 9)),
        ("2 days ago", berlin(11, 23, 9)),
        ("20 December 2025", berlin(12, 20, 9, year=2025)),
    ],
)
def test_extract_datetime_berlin(text: str, expected: datetime) -> None:
    got = extract_datetime(text, NOW, BERLIN)
    assert got == expected
    assert got is not None and got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "may I ask a question",
        "my second post",
        "a march for climate",
        "draft 3 posts about cats",
        "create a $29/month membership",
        "20% off for subscribers",
        "24/7 support",
        "post a 16:9 video",
        "a post about the 3rd wave of coffee",
        "top 10 tips",
        "fun in the sun",
        "Draft a post about 1984 by Orwell",
        "how did my posts do this month",
        "",
    ],
)
def test_extract_datetime_ignores_ordinary_words(text: str) -> None:
    assert extract_datetime(text, NOW, BERLIN) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sunday 9am", new_york(3, 8, 9)),  # first day of daylight saving time
        ("tomorrow", new_york(3, 7, 9)),
        ("friday 11pm", new_york(3, 6, 23)),  # later today
        ("friday 9am", new_york(3, 13, 9)),  # already past today
        ("in 2 hours", new_york(3, 7, 0, 30)),
    ],
)
def test_extract_datetime_new_york(text: str, expected: datetime) -> None:
    got = extract_datetime(text, NY_NOW, NEW_YORK)
    assert got == expected
    assert got is not None and got.utcoffset() == expected.utcoffset()


def test_in_two_hours_across_the_dst_change_is_two_real_hours() -> None:
    before_change = new_york(3, 8, 1, 30)  # EST; at 02:00 clocks jump to 03:00 EDT
    got = extract_datetime("in 2 hours", before_change, NEW_YORK)
    assert got == new_york(3, 8, 4, 30)
    assert got is not None and got.astimezone(UTC) - before_change.astimezone(UTC) == timedelta(hours=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("friday 9am", berlin(11, 27, 9)),  # today, it's only 08:00
        ("Friday", berlin(11, 27, 9)),
        ("friday 7am", berlin(12, 4, 7)),  # passed: next week
        ("next friday", berlin(12, 4, 9)),
    ],
)
def test_weekday_on_the_same_weekday(text: str, expected: datetime) -> None:
    friday_morning = berlin(11, 27, 8)
    assert extract_datetime(text, friday_morning, BERLIN) == expected


def test_datetime_is_returned_in_the_requested_zone_whatever_zone_now_is_in() -> None:
    now_utc = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    got = extract_datetime("tomorrow 10am", now_utc, BERLIN)
    assert got == berlin(11, 26, 10)
    assert got is not None and got.tzinfo == ZoneInfo(BERLIN)


# ------------------------------------------------------------------------------------------------ prices


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$29/month", Price(Decimal("29"), "USD", "month")),
        ("create a $29/month membership", Price(Decimal("29"), "USD", "month")),
        ("29 dollars a month", Price(Decimal("29"), "USD", "month")),
        ("€15 per year", Price(Decimal("15"), "EUR", "year")),
        ("£9.99 one-off", Price(Decimal("9.99"), "GBP", "none")),
        ("49 usd", Price(Decimal("49"), "USD", "none")),
        ("$199 lifetime", Price(Decimal("199"), "USD", "none")),
        ("$10/mo", Price(Decimal("10"), "USD", "month")),
        ("$100 annually", Price(Decimal("100"), "USD", "year")),
        ("$5 weekly", Price(Decimal("5"), "USD", "week")),
        ("a monthly membership for $29", Price(Decimal("29"), "USD", "month")),
        ("set up a premium community tier at 15 euros a month", Price(Decimal("15"), "EUR", "month")),
        ("membership for 29 a month", Price(Decimal("29"), "USD", "month")),
        ("twenty dollars", Price(Decimal("20"), "USD", "none")),
        ("1,299.50 USD", Price(Decimal("1299.50"), "USD", "none")),
        ("29€ per month", Price(Decimal("29"), "EUR", "month")),
        ("EUR 15/yr", Price(Decimal("15"), "EUR", "year")),
        ("charge 9,99 € monthly", Price(Decimal("9.99"), "EUR", "month")),
        ("a $1.5k coaching package", Price(Decimal("1500"), "USD", "none")),
    ],
)
def test_extract_price(text: str, expected: Price) -> None:
    assert extract_price(text) == expected


@pytest.mark.parametrize("text", ["20% off", "draft 3 posts", "post at 9am", "give me 5 ideas a week", ""])
def test_extract_price_ignores_non_prices(text: str) -> None:
    assert extract_price(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20% off", 20.0),
        ("twenty percent", 20.0),
        ("15 percent discount", 15.0),
        ("give 12.5% off", 12.5),
        ("Thirty-Five per cent off for members", 35.0),
        ("half price this weekend", 50.0),
        ("draft 3 posts", None),
        ("$29/month", None),
    ],
)
def test_extract_percent(text: str, expected: float | None) -> None:
    assert extract_percent(text) == expected


# ------------------------------------------------------------------------------------------------ counts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 variants", 3),
        ("five posts", 5),
        ("Give me a couple of ideas", 2),
        ("a few hooks", 3),
        ("a dozen captions", 12),
        ("give me twenty-five hooks", 25),
        ("show my last 7 days top 5 posts", 5),
        ("draft 3 posts about 'top 10 tips'", 3),
        ("in 2027 do 4 posts", 4),
        ("draft 3 posts for friday 9am", 3),
        # Numbers that belong to something else.
        ("create a $29/month membership", None),
        ("20% off for 3 days", None),
        ("post at 9am", None),
        ("3/14 5pm", None),
        ("draft a post", None),
        ("a one-off $9 product", None),
        ("analyse the past 30 days", None),
        ("promote podcast episode 12", None),
        ("a post about our Q3 results", None),
    ],
)
def test_extract_count(text: str, expected: int | None) -> None:
    assert extract_count(text) == expected


# ------------------------------------------------------------------------------------------------ periods


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how did I do last week", "7d"),
        ("past 7 days", "7d"),
        ("this week", "7d"),
        ("last 2 weeks", "14d"),
        ("the previous fortnight", "14d"),
        ("last month", "30d"),
        ("over the past thirty days", "30d"),
        ("this month", "mtd"),
        ("Revenue month-to-date", "mtd"),
        ("last quarter", "90d"),
        ("past 3 months", "90d"),
        ("last 60 days", "90d"),  # the smallest window that covers it
        ("this year", "365d"),
        ("last year", "365d"),
        ("past 12 months", "365d"),
        ("how are my posts doing", None),
        ("schedule a post for Friday", None),
    ],
)
def test_extract_period(text: str, expected: str | None) -> None:
    assert extract_period(text) == expected


# ------------------------------------------------------------------------------------------------ topics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a post about my new course on Friday", "my new course"),
        ("Draft a Bluesky post about my course and schedule it for Friday 9am", "my course"),
        ("Write a LinkedIn post regarding our Q3 results for tomorrow 9am", "our Q3 results"),
        ("draft a post about cats and dogs on bluesky", "cats and dogs"),
        ("post promoting my ebook tmrw", "my ebook"),
        ("tweet announcing the podcast launch at 5pm", "the podcast launch"),
        ("write a thread on productivity tips for linkedin", "productivity tips"),
        ("draft a newsletter covering AI tools with a funny tone", "AI tools"),
        ("re: the new studio tour, for x", "the new studio tour"),
        ("draft a post for my webinar next week", "my webinar"),
        ("Draft something about sustainable fashion, please", "sustainable fashion"),
        ("Write about 'Python 101' on mastodon", "Python 101"),
        ("write a post for my newsletter", None),
        ("schedule my posts for Friday", None),
        ("draft a post", None),
        ("post on bluesky", None),
    ],
)
def test_extract_topic(text: str, expected: str | None) -> None:
    assert extract_topic(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("say 'hello world' and \"bye\"", ["hello world", "bye"]),
        ("“curly” and ‘single’", ["curly", "single"]),
        ("title it 'Don't stop' please", ["Don't stop"]),
        ("the creators' 'tips'", ["tips"]),
        ("don't stop 'til you're done", []),
        ("no quotes here", []),
    ],
)
def test_extract_quoted(text: str, expected: list[str]) -> None:
    assert extract_quoted(text) == expected


# ------------------------------------------------------------------------------------------------ cron


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every Monday 9am", "0 9 * * 1"),
        ("daily at 8", "0 8 * * *"),
        ("every weekday at 7:30am", "30 7 * * 1-5"),
        ("every hour", "0 * * * *"),
        ("weekly on fridays at 5pm", "0 17 * * 5"),
        ("every morning", "0 9 * * *"),
        ("every evening", "0 18 * * *"),
        ("on the 1st of every month", "0 9 1 * *"),
        ("post every monday and thursday at 10", "0 10 * * 1,4"),
        ("every 15 minutes", "*/15 * * * *"),
        ("every 2 hours", "0 */2 * * *"),
        ("each Sunday", "0 9 * * 0"),
        ("every weekend at 11am", "0 11 * * 0,6"),
        ("mondays at 8", "0 8 * * 1"),
        ("Every day at 6pm", "0 18 * * *"),
        ("Friday 9am", None),
        ("create a $29 monthly membership", None),
        ("post everywhere", None),
        ("this weekend", None),
    ],
)
def test_extract_cron(text: str, expected: str | None) -> None:
    assert extract_cron(text) == expected


# ------------------------------------------------------------------------------------------------ products


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("create a $29/month membership", "Membership"),
        ("launch a course called 'Python 101' for $99", "Python 101"),
        ("launch a course called python 101 for $99", "Python 101"),
        ("set up a premium community tier at 15 euros a month", "Premium Community Tier"),
        ("create a VIP tier for €50/month", "VIP Tier"),
        ("add a monthly membership for $29", "Membership"),
        ("create a payment link for $49", "Payment Link"),
        ("I want to offer 1:1 coaching calls at $150 each", "1:1 Coaching Calls"),
        ("launch a coaching program", "Coaching Program"),
        ("draft a post about cats", None),
    ],
)
def test_extract_product_name(text: str, expected: str | None) -> None:
    assert extract_product_name(text) == expected
