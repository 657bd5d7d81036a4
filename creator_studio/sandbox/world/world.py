"""The simulated creator world: a seeded month of followers, comments, email and payments in seconds.

`World(studio, ws, seed=7)` takes over the studio's clock; `advance(hours=...)` / `run(days=...)` move it
forward an hour at a time. Everything it does goes through the sandbox providers (posts' metrics, comments,
followers, subscribers, charges, subscriptions) and is announced as events, so the rest of the product (the
dashboard, analytics, triggers, the tools) sees it as it would see real platforms. All randomness comes from
one `numpy.random.default_rng(seed)`: the same seed and the same calls give the same world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from creator_studio.providers.payments.base import PAYMENT_METHOD_DECLINED, PAYMENT_METHOD_OK, Price
from creator_studio.providers.social.base import PostMetrics
from creator_studio.providers.social.sandbox import SandboxAccountRow
from creator_studio.sandbox.revenue_world import COURSE_NAME, MEMBERSHIP_NAME
from creator_studio.sandbox.world.audience import TOPICS, PlatformAudience, build_audience, engage
from creator_studio.sandbox.world.comments import comment_kind, comment_text, stray_comment_kind
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

SOURCE = "sandbox"
LIVE_HOURS = 72  # a post stops collecting engagement after three days
FLUSH_EVERY_H = 6  # engagement and follower counts are reported in six-hour batches
STRAY_COMMENT_CHANCE = 0.03  # per live post and hour: bots and injection attempts
SIGNUP_CHANCE = 0.3  # a follower who clicks joins the email list
BUY_CHANCE = {"course": 0.03, "membership": 0.05}  # per click on a post with a call to action
EMAIL_OPEN, EMAIL_CLICK, EMAIL_UNSUBSCRIBE = 0.45, 0.18, 0.004
EMAIL_BUY = 0.06  # a click in an email (nurture, campaign) that ends in a purchase
RENEWAL_FAILURE, RETRY_SUCCESS = 0.06, 0.5
DAILY_CHURN, DAILY_UPGRADE = 0.003, 0.002
OFFER_ACCEPT = 0.22  # per day, for an invited member with an open personal offer


@dataclass
class LivePost:
    post_id: str
    platform: str
    topic: str
    quality: float
    has_cta: bool
    published_at: datetime
    seen: np.ndarray
    correlation_id: str | None = None
    totals: PostMetrics = field(default_factory=PostMetrics)
    pending: PostMetrics = field(default_factory=PostMetrics)


@dataclass
class Person:
    """A follower the world has had to name: they commented, clicked, signed up or bought."""

    handle: str
    name: str
    platform: str
    index: int
    subscriber_id: str | None = None
    customer_id: str | None = None
    touches: list[tuple[datetime, str, str | None]] = field(default_factory=list)  # (at, channel, post id)
    recorded_touches: int = 0
    correlation_id: str | None = None
    membership_sub: str | None = None


@dataclass
class Offer:
    handle: str
    price_id: str
    post_id: str
    correlation_id: str
    expires: datetime


@dataclass(frozen=True)
class DaySnapshot:
    day: datetime
    followers: int
    mrr_cents: int
    revenue_cents: int
    subscribers: int
    comments: int


@dataclass
class WorldStats:
    posts: int = 0
    comments: int = 0
    comment_kinds: dict[str, int] = field(default_factory=dict)
    followers_gained: int = 0
    signups: int = 0
    unsubscribes: int = 0
    emails_opened: int = 0
    emails_clicked: int = 0
    purchases: int = 0
    renewals: int = 0
    payment_failures: int = 0
    churned: int = 0
    upgrades: int = 0
    revenue_cents: int = 0


class World:
    def __init__(self, studio: Studio, ws: Workspace, *, seed: int = 7, start: datetime | None = None,
                 autopost: bool = True) -> None:
        self.studio, self.ws, self.seed = studio, ws, seed
        self.rng = np.random.default_rng(seed)
        begin = (start or studio.now()).astimezone(UTC)
        self.now = begin.replace(minute=0, second=0, microsecond=0)
        self.started_at = self.now
        studio.clock = self.clock
        self.autopost = autopost
        self.audiences: dict[str, PlatformAudience] = {}
        self.handles: dict[str, str] = {}
        for account in studio.social.accounts(ws.id):
            if account.platform not in self.audiences:
                self.audiences[account.platform] = build_audience(self.rng, account.platform, account.followers)
                self.handles[account.platform] = account.handle
        self.followers = {p: a.size for p, a in self.audiences.items()}
        self._gained = dict.fromkeys(self.audiences, 0)
        self.posts: dict[str, LivePost] = {}
        self.people: dict[str, Person] = {}
        self._by_subscriber: dict[str, Person] = {}
        self.offers: list[Offer] = []
        self.retries: dict[str, tuple[datetime, Price]] = {}  # subscription id -> (retry at, price)
        self.stats = WorldStats()
        self.history: list[DaySnapshot] = []
        self._emails_since = self.now
        self._prices = self._catalogue()
        self._snapshot()

    # The clock --------------------------------------------------------------------------------------
    def clock(self) -> datetime:
        return self.now

    @property
    def local_hour(self) -> int:
        return self.now.astimezone(self.ws.zone).hour

    def advance(self, *, hours: int) -> None:
        if hours < 0:
            raise ValueError(f"the world's clock only moves forward (hours={hours})")
        for _ in range(hours):
            self._tick()

    def run(self, *, days: int) -> None:
        self.advance(hours=24 * days)
        if self.history[-1].day != self.now:
            self._snapshot()

    def key(self, *parts: object) -> str:
        return ":".join(["world", str(self.seed), self.ws.id, *map(str, parts)])

    # What workflows tell the world ------------------------------------------------------------------
    def track_post(self, post_id: str, *, topic: str, quality: float, has_cta: bool,
                   correlation_id: str | None = None) -> LivePost:
        """Let the audience see a post published through the product (a tool or a workflow)."""
        post = self.studio.social.get_post(self.ws.id, post_id)
        if topic not in TOPICS:
            topic = TOPICS[int(self.rng.integers(0, len(TOPICS)))]
        if post.platform not in self.audiences:
            raise ValueError(f"the world has no {post.platform} audience for post {post_id}")
        live = LivePost(post_id, post.platform, topic, float(np.clip(quality, 0.2, 2.0)), has_cta, self.now,
                        np.zeros(self.audiences[post.platform].size * 2 + 10_000, dtype=bool), correlation_id)
        self.posts[post_id] = live
        return live

    def contact(self, handle: str) -> str | None:
        """The email subscriber id of a person (from the signup form they filled in), if they signed up."""
        person = self.people.get(handle)
        return person.subscriber_id if person else None

    def sign_up(self, handle: str, *, tags: list[str], correlation_id: str | None = None) -> str | None:
        """A lead who answers the invitation to the list joins it (the lead magnet's signup form)."""
        person = self.people.get(handle)
        if person is None:
            return None
        if person.subscriber_id is None:
            self._subscribe(person, tags)
        if correlation_id:
            person.correlation_id = correlation_id
        return person.subscriber_id

    def offer(self, handles: list[str], *, price_id: str, post_id: str, correlation_id: str, days: int = 7) -> int:
        """Personal upgrade offers: each invited person may take it (and pay) on one of the next `days`."""
        count = 0
        for handle in handles:
            if handle in self.people:
                self.offers.append(Offer(handle, price_id, post_id, correlation_id, self.now + timedelta(days=days)))
                self.people[handle].touches.append((self.now, self.people[handle].platform, post_id))
                count += 1
        return count

    # One hour ---------------------------------------------------------------------------------------
    def _tick(self) -> None:
        self.now += timedelta(hours=1)
        hour = self.local_hour
        if self.autopost and hour == 9:
            self._autopost()
        if self.autopost and hour == 10 and self.now.astimezone(self.ws.zone).weekday() == 0:
            self._newsletter()
        for audience in self.audiences.values():
            audience.recover()
        online: dict[str, np.ndarray] = {}
        for post in list(self.posts.values()):
            age = (self.now - post.published_at).total_seconds() / 3600
            if age <= LIVE_HOURS:
                if post.platform not in online:
                    online[post.platform] = np.flatnonzero(self.audiences[post.platform].active(hour))
                self._simulate_post(post, age, online[post.platform])
        self._read_email()
        if hour % FLUSH_EVERY_H == 0:
            self._flush()
        if hour == 0:
            self._billing_day()
            self._snapshot()

    def _autopost(self) -> None:
        """The creator's regular calendar: one post a day, rotating platforms, mixed quality."""
        platforms = sorted(self.audiences)
        day = (self.now - self.started_at).days
        platform = platforms[day % len(platforms)]
        topic = TOPICS[int(self.rng.integers(0, len(TOPICS)))]
        quality = float(self.rng.beta(4, 4) * 1.6 + 0.2)
        has_cta = bool(self.rng.random() < 0.3)
        text = f"Tiny win of the day on {topic}." + (" The course waitlist is open." if has_cta else "")
        post = self.studio.social.publish(self.ws.id, platform, text, account=None,  # type: ignore[arg-type]
                                          idempotency_key=self.key("autopost", day), topic=topic,
                                          published_at=self.now)
        self.studio.events.publish("content.published", self.ws.id, {"post_id": post.id, "platform": platform,
                                   "url": post.url, "topic": topic}, source=SOURCE)
        self.stats.posts += 1
        self.track_post(post.id, topic=topic, quality=quality, has_cta=has_cta)

    def _newsletter(self) -> None:
        """Monday's newsletter to the `newsletter` segment: what the subscribers open, click and leave."""
        week = (self.now - self.started_at).days // 7
        subject = f"Tiny wins, week {week + 1}"
        self.studio.email.create_campaign(self.ws.id, subject, f"{subject}: this week's pandas tricks. — Maya",
                                          "newsletter", send_at=None, at=self.now,
                                          idempotency_key=self.key("newsletter", week))

    def _simulate_post(self, post: LivePost, age: float, online: np.ndarray) -> None:
        audience = self.audiences[post.platform]
        if post.seen.size < audience.size:
            post.seen = np.concatenate([post.seen, np.zeros(audience.size - post.seen.size + 10_000, dtype=bool)])
        got = engage(self.rng, audience, topic=post.topic, quality=post.quality, age_h=age, online=online,
                     seen=post.seen, has_cta=post.has_cta)
        post.pending = PostMetrics(likes=post.pending.likes + got.likes, reposts=post.pending.reposts + got.reposts,
                                   replies=post.pending.replies + got.replies,
                                   impressions=post.pending.impressions + got.views,
                                   clicks=post.pending.clicks + got.clicks)
        if got.new_followers:
            audience.grow(self.rng, got.new_followers, post.topic)
            self._gained[post.platform] += got.new_followers
        fit = audience.fit(post.topic)
        for index in got.commenters[:6]:
            kind = comment_kind(self.rng, fit=float(fit[index]), quality=post.quality, has_cta=post.has_cta)
            self._comment(post, self._person(post.platform, index), kind)
        if self.rng.random() < STRAY_COMMENT_CHANCE:
            stranger = f"{post.platform}-stranger-{int(self.rng.integers(0, 10_000)):04d}"
            self._comment(post, None, stray_comment_kind(self.rng), stranger=stranger)
        for index in got.clickers:
            person = self._person(post.platform, index)
            person.touches.append((self.now, post.platform, post.post_id))
            if post.correlation_id:
                person.correlation_id = post.correlation_id
            if person.subscriber_id is None and self.rng.random() < SIGNUP_CHANCE:
                self._subscribe(person, ["newsletter", "waitlist"])
            if post.has_cta:
                draw = self.rng.random()
                if draw < BUY_CHANCE["course"] * float(fit[index]):
                    self._buy(person, "course")
                elif draw < (BUY_CHANCE["course"] + BUY_CHANCE["membership"]) * float(fit[index]):
                    self._buy(person, "membership")

    def _person(self, platform: str, index: int) -> Person:
        handle = f"{platform}-fan-{index:05d}"
        person = self.people.get(handle)
        if person is None:
            person = Person(handle=handle, name=f"Fan {index} ({platform})", platform=platform, index=index)
            self.people[handle] = person
        return person

    def _comment(self, post: LivePost, person: Person | None, kind: str, *, stranger: str = "") -> None:
        text = comment_text(self.rng, kind, post.topic)  # type: ignore[arg-type]
        handle = person.handle if person else stranger
        name = person.name if person else stranger
        comment = self.studio.social.add_comment(self.ws.id, post.post_id, handle, name, text, created_at=self.now)
        self.studio.events.publish("audience.comment_received", self.ws.id, {
            "comment_id": comment.id, "platform": post.platform, "author": handle, "text": text,
            "post_id": post.post_id, "kind": kind}, source=SOURCE, correlation_id=post.correlation_id)
        self.stats.comments += 1
        self.stats.comment_kinds[kind] = self.stats.comment_kinds.get(kind, 0) + 1
        if person is not None:  # commenting on a post is a touch, like a click
            person.touches.append((self.now, post.platform, post.post_id))
            if post.correlation_id:
                person.correlation_id = post.correlation_id
        if person is not None and kind == "purchase_intent" and person.subscriber_id is None:
            self._subscribe(person, ["waitlist"])

    def _flush(self) -> None:
        """Report the last hours: each post's new engagement, each platform's new followers."""
        for post in self.posts.values():
            new = post.pending
            if new.likes + new.reposts + new.replies + new.clicks + new.impressions == 0:
                continue
            post.totals = PostMetrics(likes=post.totals.likes + new.likes, reposts=post.totals.reposts + new.reposts,
                                      replies=post.totals.replies + new.replies,
                                      impressions=post.totals.impressions + new.impressions,
                                      clicks=post.totals.clicks + new.clicks)
            post.pending = PostMetrics()
            self.studio.social.set_metrics(self.ws.id, post.post_id, post.totals)
            self.studio.events.publish("content.engagement_received", self.ws.id, {
                "post_id": post.post_id, "platform": post.platform, "likes": new.likes, "comments": new.replies,
                "shares": new.reposts, "views": new.impressions, "clicks": new.clicks},
                source=SOURCE, correlation_id=post.correlation_id)
        for platform, gained in self._gained.items():
            if gained <= 0:
                continue
            self.followers[platform] += gained
            self.stats.followers_gained += gained
            self._gained[platform] = 0
            self._set_followers(platform, self.followers[platform])
            self.studio.events.publish("audience.follower_gained", self.ws.id, {
                "platform": platform, "count": gained, "total": self.followers[platform],
                "handle": self.handles[platform]}, source=SOURCE)

    def _set_followers(self, platform: str, total: int) -> None:
        # The sandbox social provider has no follower-count setter yet (asked for in the report):
        # the world owns the sandbox accounts, so it updates that one column itself.
        with self.studio.db.transaction() as session:
            for row in session.scalars(select(SandboxAccountRow).where(
                    SandboxAccountRow.workspace_id == self.ws.id, SandboxAccountRow.platform == platform,
                    SandboxAccountRow.handle == self.handles[platform])):
                row.followers = total

    # Email ------------------------------------------------------------------------------------------
    def _subscribe(self, person: Person, tags: list[str]) -> None:
        subscriber = self.studio.email.add_subscriber(self.ws.id, f"{person.handle}@example.net", person.name,
                                                      tags=tags, subscribed_at=self.now)
        person.subscriber_id = subscriber.id
        self._by_subscriber[subscriber.id] = person
        self.stats.signups += 1

    def _read_email(self) -> None:
        """Subscribers open, click and unsubscribe from what was sent to them since the last hour."""
        for message in self.studio.email.messages(self.ws.id, since=self._emails_since):
            if message.sent_at >= self.now:
                continue
            draws = self.rng.random(3)
            if draws[0] < EMAIL_OPEN:
                opened = self.now
                clicked = opened if draws[1] < EMAIL_CLICK else None
                self.studio.email.record_engagement(self.ws.id, message.id, opened_at=opened, clicked_at=clicked)
                self.stats.emails_opened += 1
                person = self._by_subscriber.get(message.subscriber_id)
                if clicked is not None:
                    self.stats.emails_clicked += 1
                    if person is not None:
                        person.touches.append((self.now, "email", None))
                        if self.rng.random() < EMAIL_BUY:
                            self._buy(person, "membership" if self.rng.random() < 0.6 else "course")
            elif draws[2] < EMAIL_UNSUBSCRIBE:
                self.studio.email.unsubscribe(self.ws.id, message.subscriber_id)
                self.stats.unsubscribes += 1
        self._emails_since = self.now

    # Payments ---------------------------------------------------------------------------------------
    def _catalogue(self) -> dict[str, Price]:
        pay, found = self.studio.payments, {}
        for product in pay.list_products(self.ws.id):
            for price in pay.list_prices(self.ws.id, product_id=product.id):
                if product.name == COURSE_NAME and price.interval is None:
                    found["course"] = price
                elif product.name == MEMBERSHIP_NAME and price.interval == "month":
                    found["membership"] = price
                elif product.name == MEMBERSHIP_NAME and price.interval == "year":
                    found["yearly"] = price
        missing = {"course", "membership", "yearly"} - set(found)
        if missing:
            raise LookupError(f"the world needs the seeded revenue catalogue (missing: {', '.join(sorted(missing))}):"
                              " create the workspace with sandbox.bootstrap.create_workspace first")
        return found

    def _customer(self, person: Person) -> str:
        if person.customer_id is None:
            customer = self.studio.payments.create_customer(self.ws.id, f"{person.handle}@example.net", person.name,
                                                            idempotency_key=self.key("customer", person.handle),
                                                            created=self.now)
            person.customer_id = customer.id
        return person.customer_id

    def _record_touches(self, person: Person) -> None:
        fresh = person.touches[person.recorded_touches:]
        if fresh:
            customer = self._customer(person)
            self.studio.revenue.record_touchpoints(self.ws, [(customer, at, channel, post_id)
                                                             for at, channel, post_id in fresh])
            person.recorded_touches = len(person.touches)

    def _buy(self, person: Person, what: str, *, price: Price | None = None, correlation_id: str | None = None,
             from_plan: str | None = None) -> None:
        if what == "membership" and person.membership_sub is not None:
            return  # already a member
        price = price or self._prices[what]
        pay, customer = self.studio.payments, self._customer(person)
        self._record_touches(person)
        order = self.key("order", person.handle, what, price.id)
        pay.create_checkout_session(self.ws.id, price.id, customer_id=customer, status="complete", created=self.now,
                                    idempotency_key=order + ":checkout")
        subscription_id = None
        if price.interval is not None:
            subscription_id = pay.create_subscription(self.ws.id, customer, price.id, idempotency_key=order + ":sub",
                                                      created=self.now).id
        charge = pay.create_charge(self.ws.id, customer, price.unit_amount, price.currency,
                                   subscription_id=subscription_id, price_id=price.id, created=self.now,
                                   idempotency_key=order + ":charge")
        correlation = correlation_id or person.correlation_id
        post_ids = [post_id for _, _, post_id in person.touches if post_id]
        self.stats.purchases += 1
        self.stats.revenue_cents += price.unit_amount
        self.studio.events.publish("revenue.purchase_completed", self.ws.id, {
            "order_id": charge.id, "amount_cents": price.unit_amount, "currency": price.currency,
            "product_id": price.product_id, "customer_email": f"{person.handle}@example.net",
            "first_post_id": post_ids[0] if post_ids else None, "last_post_id": post_ids[-1] if post_ids else None},
            source=SOURCE, correlation_id=correlation)
        if subscription_id is not None:
            if from_plan is not None:
                old = person.membership_sub
                if old is not None:
                    pay.cancel_subscription(self.ws.id, old, canceled_at=self.now, idempotency_key=order + ":old")
                self.stats.upgrades += 1
                self.studio.events.publish("revenue.subscription_upgraded", self.ws.id, {
                    "subscription_id": subscription_id, "to_plan": price.id, "from_plan": from_plan,
                    "customer_id": customer, "mrr_delta_cents": _monthly(price)}, source=SOURCE,
                    correlation_id=correlation)
            person.membership_sub = subscription_id

    def _billing_day(self) -> None:
        """Midnight: renewals (some declined, retried, then churned), voluntary churn, upgrades, offers taken."""
        pay = self.studio.payments
        prices = {p.id: p for p in pay.list_prices(self.ws.id)}
        for sub in pay.list_subscriptions(self.ws.id):
            if sub.status not in ("active", "past_due"):
                continue
            price = prices[sub.price_id]
            retry = self.retries.get(sub.id)
            if retry is not None and retry[0] <= self.now:
                self._renew(sub.id, sub.customer_id, price, attempt="retry", success=RETRY_SUCCESS)
                continue
            period = 365 if price.interval == "year" else 30
            age_days = (self.now - sub.created).days
            if age_days > 0 and age_days % period == 0 and retry is None:
                self._renew(sub.id, sub.customer_id, price, attempt=str(age_days), success=1 - RENEWAL_FAILURE)
                continue
            draw = self.rng.random()
            if draw < DAILY_CHURN:
                pay.cancel_subscription(self.ws.id, sub.id, canceled_at=self.now,
                                        idempotency_key=self.key("churn", sub.id))
                self.stats.churned += 1
            elif draw < DAILY_CHURN + DAILY_UPGRADE and price.interval == "month":
                self._upgrade_to_yearly(sub.id, sub.customer_id)
        self._take_offers()

    def _renew(self, sub_id: str, customer_id: str, price: Price, *, attempt: str, success: float) -> None:
        ok = bool(self.rng.random() < success)
        charge = self.studio.payments.create_charge(
            self.ws.id, customer_id, price.unit_amount, price.currency, subscription_id=sub_id, price_id=price.id,
            payment_method=PAYMENT_METHOD_OK if ok else PAYMENT_METHOD_DECLINED, created=self.now,
            idempotency_key=self.key("renewal", sub_id, attempt))
        if ok:
            self.retries.pop(sub_id, None)
            self.stats.renewals += 1
            self.stats.revenue_cents += price.unit_amount
            return
        self.stats.payment_failures += 1
        self.studio.events.publish("revenue.payment_failed", self.ws.id, {
            "payment_id": charge.id, "amount_cents": price.unit_amount, "currency": price.currency,
            "reason": "card_declined", "subscription_id": sub_id}, source=SOURCE)
        if attempt == "retry":  # dunning gave up: the subscription ends
            self.retries.pop(sub_id, None)
            self.studio.payments.cancel_subscription(self.ws.id, sub_id, canceled_at=self.now,
                                                     idempotency_key=self.key("dunning", sub_id))
            self.stats.churned += 1
        else:
            self.retries[sub_id] = (self.now + timedelta(days=3), price)
            self.studio.events.publish("revenue.churn_risk_detected", self.ws.id, {
                "customer_id": customer_id, "risk": 0.6, "reasons": ["renewal payment declined"]}, source=SOURCE)

    def _upgrade_to_yearly(self, sub_id: str, customer_id: str) -> None:
        pay, yearly = self.studio.payments, self._prices["yearly"]
        new = pay.create_subscription(self.ws.id, customer_id, yearly.id, created=self.now,
                                      idempotency_key=self.key("upgrade", sub_id))
        pay.cancel_subscription(self.ws.id, sub_id, canceled_at=self.now, idempotency_key=self.key("upgraded", sub_id))
        pay.create_charge(self.ws.id, customer_id, yearly.unit_amount, yearly.currency, subscription_id=new.id,
                          price_id=yearly.id, created=self.now, idempotency_key=self.key("upgrade-charge", sub_id))
        self.stats.upgrades += 1
        self.stats.revenue_cents += yearly.unit_amount
        self.studio.events.publish("revenue.subscription_upgraded", self.ws.id, {
            "subscription_id": new.id, "to_plan": "yearly", "from_plan": "monthly", "customer_id": customer_id,
            "mrr_delta_cents": _monthly(yearly) - _monthly(self._prices["membership"])}, source=SOURCE)

    def _take_offers(self) -> None:
        prices = {p.id: p for p in self.studio.payments.list_prices(self.ws.id)}
        still_open = []
        for offer in self.offers:
            person = self.people[offer.handle]
            engaged = int(self.audiences[person.platform].engagements[person.index])
            if self.rng.random() < OFFER_ACCEPT * min(1.0 + engaged / 5, 3.0):
                person.touches.append((self.now, "email", offer.post_id))
                self._buy(person, "premium", price=prices[offer.price_id], correlation_id=offer.correlation_id,
                          from_plan="membership" if person.membership_sub else "community")
            elif offer.expires > self.now:
                still_open.append(offer)
        self.offers = still_open

    # Reporting --------------------------------------------------------------------------------------
    def _snapshot(self) -> None:
        mrr = self.studio.revenue.mrr_at(self.ws, self.now)
        subscribers = len(self.studio.email.list_subscribers(self.ws.id, status="subscribed"))
        self.history.append(DaySnapshot(day=self.now, followers=sum(self.followers.values()),
                                        mrr_cents=int(sum(mrr.values())), revenue_cents=self.stats.revenue_cents,
                                        subscribers=subscribers, comments=self.stats.comments))

    def summary(self) -> dict[str, Any]:
        first, last = self.history[0], self.history[-1]
        return {"seed": self.seed, "days": (last.day - first.day).days, "followers": (first.followers, last.followers),
                "mrr_cents": (first.mrr_cents, last.mrr_cents), "subscribers": (first.subscribers, last.subscribers),
                **{k: v for k, v in vars(self.stats).items()}}


def _monthly(price: Price) -> int:
    return price.unit_amount // 12 if price.interval == "year" else price.unit_amount
