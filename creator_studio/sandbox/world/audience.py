"""Followers as numbers: per platform, each follower's topic interests, local active hour and fatigue.

Kept as numpy arrays (one row per follower) so a month of hourly ticks over ~30,000 followers takes seconds.
How likely a follower engages with a post depends on four things the brief names: topic fit (their interest
in the post's topic), content quality, posting time (only followers active around now see it, and a post's
visibility decays with age) and fatigue (each post a follower sees makes the next one less interesting).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TOPICS = ("pandas groupby", "python course launch", "jupyter tips", "career change to data", "data cleaning",
          "visualisation")
# Base chance that a follower who sees a post engages with it, per platform (LinkedIn rewards long posts...).
BASE_ENGAGEMENT = {"bluesky": 0.045, "mastodon": 0.05, "x": 0.02, "linkedin": 0.035, "threads": 0.03}
# Local hours a platform's audience is typically online: a mixture of morning, lunch and evening peaks.
PEAK_HOURS = {"bluesky": (8, 12, 20), "mastodon": (9, 13, 21), "x": (8, 12, 18), "linkedin": (8, 12, 17),
              "threads": (9, 13, 21)}
VISIBILITY_HALF_LIFE_H = 10.0
FATIGUE_PER_VIEW = 0.12
FATIGUE_RECOVERY = 0.96  # per hour
NON_FOLLOWER_VIEWS_PER_REPOST = 25
FOLLOW_CHANCE = 0.03  # a non-follower who sees a repost follows, scaled by topic fit and quality


@dataclass
class PlatformAudience:
    platform: str
    interests: np.ndarray  # (n, topics), rows sum to 1
    active_hour: np.ndarray  # (n,) local hour 0..23
    fatigue: np.ndarray  # (n,) 0..0.9
    engagements: np.ndarray  # (n,) how often each follower engaged so far (the "highly engaged" signal)

    @property
    def size(self) -> int:
        return int(self.active_hour.shape[0])

    def fit(self, topic: str) -> np.ndarray:
        """Interest in a topic relative to an indifferent follower (1.0 = average)."""
        return self.interests[:, TOPICS.index(topic)] * len(TOPICS)

    def active(self, local_hour: int) -> np.ndarray:
        distance = np.abs((self.active_hour - local_hour + 12) % 24 - 12)
        return distance <= 1

    def recover(self, hours: float = 1.0) -> None:
        self.fatigue *= FATIGUE_RECOVERY ** hours

    def grow(self, rng: np.random.Generator, count: int, topic: str) -> None:
        """`count` new followers, drawn to this platform by a post on `topic` (so they lean towards it)."""
        if count <= 0:
            return
        interests = rng.dirichlet(np.full(len(TOPICS), 0.6), size=count)
        interests[:, TOPICS.index(topic)] += 0.5
        interests /= interests.sum(axis=1, keepdims=True)
        self.interests = np.vstack([self.interests, interests])
        self.active_hour = np.concatenate([self.active_hour, _active_hours(rng, self.platform, count)])
        self.fatigue = np.concatenate([self.fatigue, np.zeros(count)])
        self.engagements = np.concatenate([self.engagements, np.zeros(count, dtype=np.int64)])


def _active_hours(rng: np.random.Generator, platform: str, count: int) -> np.ndarray:
    peaks = np.array(PEAK_HOURS[platform])
    chosen = peaks[rng.integers(0, len(peaks), size=count)]
    return ((chosen + np.rint(rng.normal(0, 1.5, size=count))) % 24).astype(np.int64)


def build_audience(rng: np.random.Generator, platform: str, followers: int) -> PlatformAudience:
    interests = rng.dirichlet(np.full(len(TOPICS), 0.6), size=followers)
    return PlatformAudience(platform=platform, interests=interests, active_hour=_active_hours(rng, platform, followers),
                            fatigue=np.zeros(followers), engagements=np.zeros(followers, dtype=np.int64))


@dataclass
class HourOfEngagement:
    """What one post got in one simulated hour."""

    views: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    clicks: int = 0
    new_followers: int = 0
    commenters: list[int] = field(default_factory=list)  # follower indices
    clickers: list[int] = field(default_factory=list)


def engage(rng: np.random.Generator, audience: PlatformAudience, *, topic: str, quality: float, age_h: float,
           online: np.ndarray, seen: np.ndarray, has_cta: bool) -> HourOfEngagement:
    """One hour of one post: who sees it, who engages, who reposts, comments, clicks, and who follows.

    `online` is the indices of the followers active this hour (`PlatformAudience.active`, computed once per hour).
    """
    result = HourOfEngagement()
    visibility = 0.5 ** (age_h / VISIBILITY_HALF_LIFE_H)
    candidates = online[~seen[online]]
    if candidates.size == 0:
        return result
    viewers = candidates[rng.random(candidates.size) < 0.6 * visibility]
    if viewers.size == 0:
        return result
    seen[viewers] = True
    result.views = int(viewers.size)
    fit = audience.fit(topic)[viewers]
    chance = BASE_ENGAGEMENT[audience.platform] * fit * quality * (1.0 - audience.fatigue[viewers])
    engaged = viewers[rng.random(viewers.size) < np.clip(chance, 0, 0.9)]
    audience.fatigue[viewers] = np.minimum(audience.fatigue[viewers] + FATIGUE_PER_VIEW, 0.9)
    audience.engagements[engaged] += 1
    result.likes = int(engaged.size)
    if engaged.size:
        draws = rng.random((engaged.size, 3))
        reposted = draws[:, 0] < 0.12 * quality
        result.reposts = int(reposted.sum())
        result.commenters = [int(i) for i in engaged[draws[:, 1] < 0.07]]
        result.replies = len(result.commenters)
        click_rate = 0.10 if has_cta else 0.03
        result.clickers = [int(i) for i in engaged[draws[:, 2] < click_rate]]
        result.clicks = len(result.clickers)
    if result.reposts:
        outside_views = result.reposts * NON_FOLLOWER_VIEWS_PER_REPOST
        chance_to_follow = FOLLOW_CHANCE * quality * float(np.mean(fit) if fit.size else 1.0)
        result.new_followers = int(rng.binomial(outside_views, min(chance_to_follow, 0.5)))
    return result
