"""The default sandbox world: a believable creator with accounts, past posts, comments, subscribers and
customers, so read tools return something meaningful on a fresh install."""

from __future__ import annotations

from datetime import datetime, timedelta

from creator_studio.providers.social.base import PostMetrics
from creator_studio.workspaces.service import BrandVoice, FAQEntry, Workspace

DEFAULT_TIMEZONE = "Europe/Berlin"

DEFAULT_BRAND = BrandVoice(
    creator_name="Maya Chen",
    niche="Python for data analysts",
    tone="friendly, practical, a little nerdy",
    audience="analysts moving from spreadsheets to Python",
    vocabulary=["ship it", "tiny wins", "spreadsheet refugees"],
    banned_words=["guru", "hustle", "crush it"],
    signature="— Maya",
    call_to_action="Join the waitlist for my course: mayacodes.dev/course",
    offers=["Python for Analysts course ($199)", "Tiny Wins membership ($9/month)"],
    hashtags=["#Python", "#DataAnalysis"],
    faq=[
        FAQEntry(question="When does the course start?",
                 answer="The next cohort starts on January 12, and the waitlist gets early access."),
        FAQEntry(question="Is the course suitable for beginners?",
                 answer="Yes: if you can write a spreadsheet formula, you can follow it."),
        FAQEntry(question="Do you offer refunds?", answer="Yes, 30 days, no questions asked."),
        FAQEntry(question="Which Python version do you use?",
                 answer="Python 3.11 with pandas, all set up in the first lesson."),
    ],
)

ACCOUNTS = [("bluesky", "maya.bsky.social", 4200), ("mastodon", "maya@fosstodon.org", 2800),
            ("x", "mayacodes", 12500), ("linkedin", "maya-chen", 8900), ("threads", "mayacodes", 3100)]

# (platform, days ago, topic, text, likes, reposts, replies, impressions, clicks)
POSTS = [
    ("linkedin", 28, "pandas groupby", "Most spreadsheet pivot tables are one pandas groupby away. Here's the "
     "exact line I use every week.", 420, 61, 38, 15800, 210),
    ("bluesky", 26, "pandas groupby", "groupby + agg replaced 40 minutes of pivot-table clicking for me. "
     "Tiny wins add up.", 188, 40, 22, 5200, 64),
    ("x", 25, "python course launch", "I'm building a Python course for analysts. What should lesson one "
     "cover?", 95, 12, 57, 21000, 30),
    ("mastodon", 22, "jupyter tips", "Three Jupyter shortcuts I wish I'd learned on day one: Shift+Tab, "
     "%%timeit and ?? for source.", 140, 55, 17, 3600, 22),
    ("linkedin", 20, "career change to data", "I moved from finance spreadsheets to Python three years ago. "
     "The hardest part wasn't the code.", 910, 120, 140, 42000, 380),
    ("threads", 18, "python course launch", "Course update: 12 lessons drafted, 3 to go.", 60, 4, 9, 2400, 11),
    ("bluesky", 15, "data cleaning", "Data cleaning checklist: dtypes, duplicates, missing values, outliers. "
     "In that order.", 230, 77, 19, 6100, 95),
    ("x", 12, "data cleaning", "Your CSV has a trailing space in a column name. It always does.", 310, 88,
     26, 30500, 40),
    ("mastodon", 9, "python course launch", "The Python for Analysts course opens in January. Waitlist is "
     "open!", 75, 20, 14, 2900, 120),
    ("linkedin", 7, "pandas groupby", "Stop copy-pasting VLOOKUPs. merge() does it in one line and never "
     "breaks when rows move.", 530, 70, 45, 19800, 260),
    ("bluesky", 4, "visualisation", "A chart that needs a legend usually needs a title instead.", 120, 25, 8,
     4300, 18),
    ("mastodon", 2, "python course launch", "Sneak peek of lesson 4: reading messy Excel files with pandas.",
     98, 31, 12, 3100, 70),
]

# (post index, handle, name, text, hours ago, replied?)
COMMENTS = [
    (8, "tom@hachyderm.io", "Tom", "When does the course start? I'd love to join.", 40, False),
    (8, "lena@fosstodon.org", "Lena", "Is the course suitable for beginners who only know Excel?", 30, False),
    (11, "raj@mastodon.social", "Raj", "Which Python version do you use in the lessons?", 20, False),
    (11, "ines@fosstodon.org", "Ines", "This looks great, thank you for sharing!", 18, False),
    (3, "sam@hachyderm.io", "Sam", "Does %%timeit work in VS Code notebooks too?", 200, True),
    (6, "kai.bsky.social", "Kai", "Do you offer refunds if the course isn't for me?", 50, False),
    (6, "crypto-gains.bsky.social", "FastMoney", "Earn 10x with my crypto signals!!! DM me now", 45, False),
    (10, "ana.bsky.social", "Ana", "Love this rule. Stealing it for my team.", 12, False),
    (7, "grumpydev", "Grumpy Dev", "Your last video had terrible audio. Fix it please.", 60, False),
    (7, "newanalyst", "Priya", "How do you strip the spaces from every column name at once?", 10, False),
]


def seed_social_world(studio: object, ws: Workspace, now: datetime) -> None:
    from creator_studio.studio import Studio

    assert isinstance(studio, Studio)
    for platform, handle, followers in ACCOUNTS:
        studio.social.add_account(ws.id, platform, handle, followers)  # type: ignore[arg-type]
    post_ids = []
    for index, (platform, days, topic, text, likes, reposts, replies, impressions, clicks) in enumerate(POSTS):
        post = studio.social.publish(
            ws.id, platform, text, account=None, idempotency_key=f"seed:{ws.id}:post:{index}",  # type: ignore[arg-type]
            topic=topic, published_at=now - timedelta(days=days, hours=index % 5),
            metrics=PostMetrics(likes=likes, reposts=reposts, replies=replies, impressions=impressions,
                                clicks=clicks))
        post_ids.append(post.id)
    for index, (post_index, handle, name, text, hours, replied) in enumerate(COMMENTS):
        comment = studio.social.add_comment(ws.id, post_ids[post_index], handle, name, text,
                                            created_at=now - timedelta(hours=hours))
        if replied:
            studio.social.reply(ws.id, comment.id, "Yes, it works in VS Code notebooks too!",
                                idempotency_key=f"seed:{ws.id}:reply:{index}")


def seed_default_world(studio: object, ws: Workspace, now: datetime) -> None:
    """Everything a fresh workspace needs; each module seeds its own part through its own service."""
    from creator_studio.sandbox.audience_world import seed_audience_world
    from creator_studio.sandbox.automation_world import seed_automation_world
    from creator_studio.sandbox.revenue_world import seed_revenue_world

    seed_social_world(studio, ws, now)
    seed_audience_world(studio, ws, now)
    seed_revenue_world(studio, ws, now)
    seed_automation_world(studio, ws, now)
    # Vector memory mirrors the brand voice, the past posts and the comments, so the first draft leans on them.
    # (A studio opened on a copy of this database, as in tests, rebuilds its memory on first use instead.)
    studio.memory.sync(ws)  # type: ignore[attr-defined]
