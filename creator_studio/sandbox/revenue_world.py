"""Revenue Center's part of the default sandbox world: Maya's course and membership, six months of customers,
subscriptions and payments, her email list with two past campaigns and a welcome sequence, the touchpoints
attribution reads, and one A/B test with results.

Deterministic (a fixed random seed) and relative to `now`, so tests can rely on its shape. Writes go through
the providers and the revenue service, batched into a few transactions to keep seeding fast.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from creator_studio.providers.email.base import SequenceStep, SubscriberStatus
from creator_studio.providers.payments.base import PAYMENT_METHOD_DECLINED, PriceData
from creator_studio.workspaces.service import Workspace

SEED = 20261125
COURSE_NAME = "Python for Analysts"
MEMBERSHIP_NAME = "Tiny Wins membership"
COURSE_PRICE = 19_900  # $199 one-time
MEMBERSHIP_MONTHLY = 900  # $9/month
MEMBERSHIP_YEARLY = 9_000  # $90/year

FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Finn",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Keiko",
    "Luca",
    "Mina",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bea",
    "Carlos",
    "Dana",
    "Emil",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Marco",
    "Nora",
]
LAST_NAMES = [
    "Okafor",
    "Schmidt",
    "Nguyen",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Silva",
    "Tanaka",
    "Müller",
    "Dubois",
    "Ivanova",
    "Larsen",
    "Costa",
    "Singh",
    "Moreau",
    "Fischer",
    "Park",
    "Novak",
    "Lopez",
    "Berg",
]
CHANNELS = ["linkedin", "bluesky", "x", "mastodon", "threads", "email"]
CHANNEL_WEIGHTS = [30, 20, 15, 10, 5, 20]

MEMBERS = 28  # customers 0..27 subscribe; 3 cancel, so 25 still pay (one past_due, one cancelling)
YEARLY_MEMBERS = (3, 11)
CANCELED_MEMBERS = (0, 2, 6)
PAST_DUE_MEMBER = 9
CANCELLING_MEMBER = 14
QUIET_MEMBERS = (4, 9, 17)  # never open an email: a churn-risk signal
COURSE_BUYERS = range(24, 40)
SUBSCRIBERS = 120


@dataclass
class _Purchase:
    customer: int
    at: datetime
    touches: list[tuple[datetime, str]] = field(default_factory=list)


def seed_revenue_world(studio: object, ws: Workspace, now: datetime) -> None:
    from creator_studio.studio import Studio

    assert isinstance(studio, Studio)
    rng = random.Random(SEED)
    purchases = _seed_payments(studio, ws, now, rng)
    _seed_email(studio, ws, now, rng, purchases)
    _seed_touchpoints(studio, ws, rng, purchases)
    _seed_ab_test(studio, ws, now)


def _seed_payments(studio: object, ws: Workspace, now: datetime, rng: random.Random) -> list[_Purchase]:
    from creator_studio.studio import Studio

    assert isinstance(studio, Studio)
    pay = studio.payments
    key = f"seed:{ws.id}"
    opened = now - timedelta(days=200)
    purchases: list[_Purchase] = []
    with pay.batch():
        course = pay.create_product(
            ws.id,
            COURSE_NAME,
            default_price=PriceData(unit_amount=COURSE_PRICE, currency="usd"),
            idempotency_key=f"{key}:course",
            created=opened,
        )
        membership = pay.create_product(
            ws.id,
            MEMBERSHIP_NAME,
            idempotency_key=f"{key}:membership",
            default_price=PriceData(unit_amount=MEMBERSHIP_MONTHLY, currency="usd", interval="month"),
            created=opened,
        )
        yearly = pay.create_price(
            ws.id,
            membership.id,
            PriceData(unit_amount=MEMBERSHIP_YEARLY, currency="usd", interval="year"),
            idempotency_key=f"{key}:membership-yearly",
            created=opened,
        )
        assert course.default_price_id and membership.default_price_id
        course_link = pay.create_payment_link(
            ws.id, course.default_price_id, idempotency_key=f"{key}:link:course", created=opened
        )
        member_link = pay.create_payment_link(
            ws.id, membership.default_price_id, idempotency_key=f"{key}:link:membership", created=opened
        )

        starts = sorted(now - timedelta(days=rng.randint(4, 180), hours=rng.randint(0, 23)) for _ in range(MEMBERS))
        customers = []
        for index in range(40):
            first, last = FIRST_NAMES[index], LAST_NAMES[index % len(LAST_NAMES)]
            joined = (
                starts[index]
                if index < MEMBERS
                else now - timedelta(days=rng.randint(2, 100), hours=rng.randint(0, 23))
            )
            customers.append(
                pay.create_customer(
                    ws.id,
                    f"{first}.{last}@example.com".lower(),
                    f"{first} {last}",
                    idempotency_key=f"{key}:customer:{index}",
                    created=joined - timedelta(minutes=5),
                )
            )

        for index in range(MEMBERS):
            customer, start = customers[index], starts[index]
            price_id = yearly.id if index in YEARLY_MEMBERS else membership.default_price_id
            sub = pay.create_subscription(
                ws.id, customer.id, price_id, idempotency_key=f"{key}:sub:{index}", created=start
            )
            pay.create_checkout_session(
                ws.id,
                price_id,
                customer_id=customer.id,
                payment_link_id=member_link.id,
                status="complete",
                created=start - timedelta(minutes=2),
                idempotency_key=f"{key}:checkout:sub:{index}",
            )
            end = now
            if index in CANCELED_MEMBERS:
                end = start + timedelta(days=rng.randint(35, 75))
                end = max(min(end, now - timedelta(days=3)), start + timedelta(days=1))
            period = timedelta(days=365 if index in YEARLY_MEMBERS else 30)
            amount = MEMBERSHIP_YEARLY if index in YEARLY_MEMBERS else MEMBERSHIP_MONTHLY
            renewals = []
            moment = start
            while moment <= end:
                renewals.append(moment)
                moment += period
            for cycle, paid_at in enumerate(renewals):
                declined = index == PAST_DUE_MEMBER and cycle == len(renewals) - 1 and cycle > 0
                pay.create_charge(
                    ws.id,
                    customer.id,
                    amount,
                    "usd",
                    subscription_id=sub.id,
                    price_id=price_id,
                    payment_method=PAYMENT_METHOD_DECLINED if declined else "pm_card_visa",
                    description=MEMBERSHIP_NAME,
                    created=paid_at,
                    idempotency_key=f"{key}:charge:sub:{index}:{cycle}",
                )
            if index in CANCELED_MEMBERS:
                pay.cancel_subscription(ws.id, sub.id, canceled_at=end, idempotency_key=f"{key}:cancel:{index}")
            if index == CANCELLING_MEMBER:
                pay.update_subscription(
                    ws.id, sub.id, cancel_at_period_end=True, idempotency_key=f"{key}:cancel-at-end:{index}"
                )
            purchases.append(_Purchase(index, start))

        for index in COURSE_BUYERS:
            customer = customers[index]
            bought = (
                customer.created + timedelta(minutes=5)
                if index >= MEMBERS
                else now - timedelta(days=rng.randint(2, 60), hours=rng.randint(0, 23))
            )
            pay.create_checkout_session(
                ws.id,
                course.default_price_id,
                customer_id=customer.id,
                payment_link_id=course_link.id,
                status="complete",
                created=bought - timedelta(minutes=2),
                idempotency_key=f"{key}:checkout:course:{index}",
            )
            pay.create_charge(
                ws.id,
                customer.id,
                COURSE_PRICE,
                "usd",
                price_id=course.default_price_id,
                description=COURSE_NAME,
                created=bought,
                idempotency_key=f"{key}:charge:course:{index}",
            )
            purchases.append(_Purchase(index, bought))

        # Abandoned checkouts: people who opened the payment page and left.
        for attempt in range(30):
            on_course = rng.random() < 0.6
            pay.create_checkout_session(
                ws.id,
                course.default_price_id if on_course else membership.default_price_id,
                payment_link_id=(course_link if on_course else member_link).id,
                status="expired",
                created=now - timedelta(days=rng.randint(1, 90), hours=rng.randint(0, 23)),
                idempotency_key=f"{key}:checkout:abandoned:{attempt}",
            )

    for purchase in purchases:  # 1-4 touches in the month before each purchase
        count = rng.choice([1, 1, 2, 2, 3, 4])
        offsets = sorted((rng.uniform(0.05, 30) for _ in range(count)), reverse=True)
        purchase.touches = [
            (purchase.at - timedelta(days=offset), rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0])
            for offset in offsets
        ]
    return purchases


def _seed_email(studio: object, ws: Workspace, now: datetime, rng: random.Random, purchases: list[_Purchase]) -> None:
    from creator_studio.studio import Studio

    assert isinstance(studio, Studio)
    mail = studio.email
    customers = studio.payments.list_customers(ws.id)
    first_purchase: dict[int, datetime] = {}
    for purchase in purchases:
        first_purchase[purchase.customer] = min(first_purchase.get(purchase.customer, purchase.at), purchase.at)
    with mail.batch():
        quiet_ids: set[str] = set()
        subscribers = []
        for index, customer in enumerate(customers):
            tags = ["newsletter"]
            if index < MEMBERS and index not in CANCELED_MEMBERS:
                tags.append("members")
            # Some members want the course too; the quiet ones are on the waitlist so they get both campaigns.
            if index in QUIET_MEMBERS or rng.random() < 0.25:
                tags.append("waitlist")
            joined = first_purchase[index] - timedelta(days=rng.randint(3, 40))
            subscriber = mail.add_subscriber(ws.id, customer.email, customer.name, tags=tags, subscribed_at=joined)
            subscribers.append(subscriber)
            if index in QUIET_MEMBERS:
                quiet_ids.add(subscriber.id)
        for index in range(SUBSCRIBERS - len(customers)):
            first, last = FIRST_NAMES[(index * 7) % 40], LAST_NAMES[(index * 3) % len(LAST_NAMES)]
            tags = ["waitlist"] if index % 3 else ["waitlist", "newsletter"]
            if index % 5 == 0:
                tags = ["newsletter"]
            status: SubscriberStatus = (
                "unsubscribed" if index % 16 == 5 else "bounced" if index % 27 == 8 else "subscribed"
            )
            # Skewed towards recent weeks: the course waitlist is growing.
            joined = now - timedelta(days=180 * rng.random() ** 2, hours=rng.randint(0, 23))
            subscribers.append(
                mail.add_subscriber(
                    ws.id,
                    f"{first}.{last}{index}@example.org".lower(),
                    f"{first} {last}",
                    tags=tags,
                    status=status,
                    subscribed_at=joined,
                )
            )

        campaigns = [
            ("Five pandas tricks for spreadsheet refugees", "newsletter", 35),
            ("Course waitlist: early access opens in January", "waitlist", 10),
        ]
        for number, (subject, segment, days_ago) in enumerate(campaigns):
            sent_at = now - timedelta(days=days_ago)
            campaign = mail.create_campaign(
                ws.id,
                subject,
                f"{subject}.\n\nHere is what I learned this month. — Maya",
                segment,
                send_at=None,
                at=sent_at,
                idempotency_key=f"seed:{ws.id}:campaign:{number}",
            )
            for message in mail.messages(ws.id, campaign_id=campaign.id):
                if message.subscriber_id in quiet_ids or rng.random() > 0.5:
                    continue
                opened_at = message.sent_at + timedelta(hours=rng.uniform(0.2, 48))
                clicked_at = opened_at + timedelta(minutes=rng.uniform(1, 20)) if rng.random() < 0.35 else None
                mail.record_engagement(ws.id, message.id, opened_at=opened_at, clicked_at=clicked_at)

        welcome = mail.create_sequence(
            ws.id,
            "welcome",
            [
                SequenceStep(
                    delay_days=0,
                    subject="Welcome, spreadsheet refugee!",
                    body="Thanks for joining. Here is the one pandas line I use every day.",
                ),
                SequenceStep(
                    delay_days=2, subject="Your first tiny win", body="Load a CSV, fix the column names, ship it."
                ),
                SequenceStep(
                    delay_days=5,
                    subject="How the course works",
                    body="Twelve lessons, one small project each, and a community that helps.",
                ),
            ],
        )
        for subscriber in subscribers:
            if subscriber.status == "subscribed" and subscriber.subscribed_at >= now - timedelta(days=21):
                mail.enrol(
                    ws.id,
                    welcome.id,
                    [subscriber.id],
                    at=subscriber.subscribed_at,
                    idempotency_key=f"seed:{ws.id}:welcome:{subscriber.id}",
                )


def _seed_touchpoints(studio: object, ws: Workspace, rng: random.Random, purchases: list[_Purchase]) -> None:
    from creator_studio.studio import Studio

    assert isinstance(studio, Studio)
    customers = studio.payments.list_customers(ws.id)
    posts = studio.social.posts(ws.id)
    touches = []
    for purchase in purchases:
        for at, channel in purchase.touches:
            # Name the post the touch came from when the platform had one out by then.
            earlier = [p.id for p in posts if p.platform == channel and p.published_at <= at]
            touches.append((customers[purchase.customer].id, at, channel, rng.choice(earlier) if earlier else None))
    studio.revenue.record_touchpoints(ws, touches)


def _seed_ab_test(studio: object, ws: Workspace, now: datetime) -> None:
    from creator_studio.studio import Studio

    assert isinstance(studio, Studio)
    test = studio.revenue.start_ab_test(
        ws,
        name="Course page headline",
        variants=["Learn Python for analysis", "Leave spreadsheets behind"],
        metric="conversion_rate",
        split=None,
        idempotency_key=f"seed:{ws.id}:ab:headline",
        now=now - timedelta(days=14),
    )
    studio.revenue.record_ab_results(ws, test.id, "Learn Python for analysis", exposures=1180, conversions=24)
    studio.revenue.record_ab_results(ws, test.id, "Leave spreadsheets behind", exposures=1210, conversions=43)
