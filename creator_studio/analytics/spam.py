"""Spam and abuse detection: the explained rules of Audience Hub plus a small classifier.

The classifier is TF-IDF (word 1–2-grams and character 2–5-grams, robust to misspellings) into a multinomial
logistic regression over ham / spam / abuse, trained on the labelled set shipped in `data/spam_comments.csv`
(see `data/build_spam_dataset.py` for how it was built). Training takes well under a second, so the model is
trained from the CSV on first use instead of shipping a pickle (nothing to unpickle, always in sync with the
data). A text is spam when a rule says so (the rules catch prompt injection and known scam phrases with an
explanation) or when the classifier gives spam a probability of at least 0.5; abuse comes from the classifier.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import FeatureUnion, Pipeline

from creator_studio.engagement.text_rules import check_spam

DATASET = Path(__file__).parent / "data" / "spam_comments.csv"
LABELS = ("ham", "spam", "abuse")
THRESHOLD = 0.5
HELD_OUT_SHARE = 0.25
SPLIT_SEED = 0


@dataclass(frozen=True)
class LabelledSet:
    texts: list[str]
    labels: list[str]
    groups: list[str]  # template ids


@dataclass(frozen=True)
class SpamVerdict:
    label: str  # ham | spam | abuse
    is_spam: bool
    is_abuse: bool
    spam_probability: float
    abuse_probability: float
    rule_score: float
    reasons: list[str]


def load_dataset(path: Path = DATASET) -> LabelledSet:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    bad = sorted({r["label"] for r in rows} - set(LABELS))
    if bad:
        raise ValueError(f"{path} has unknown labels: {', '.join(bad)}")
    return LabelledSet([r["text"] for r in rows], [r["label"] for r in rows], [r["template"] for r in rows])


def split(data: LabelledSet) -> tuple[list[int], list[int]]:
    """Train and held-out row indices; whole templates are held out so the test phrasings are unseen."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=HELD_OUT_SHARE, random_state=SPLIT_SEED)
    train, test = next(splitter.split(data.texts, data.labels, groups=data.groups))
    return [int(i) for i in train], [int(i) for i in test]


def make_model() -> Pipeline:
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
    ])
    classifier = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced", random_state=0)
    return Pipeline([("features", features), ("classifier", classifier)])


def train(data: LabelledSet, rows: list[int] | None = None) -> Pipeline:
    chosen = rows if rows is not None else list(range(len(data.texts)))
    model = make_model()
    model.fit([data.texts[i] for i in chosen], [data.labels[i] for i in chosen])
    return model


@lru_cache(maxsize=1)
def default_model() -> Pipeline:
    """Trained on the whole shipped set (the held-out figures come from `benchmarks/spam.py`)."""
    return train(load_dataset())


def probabilities(model: Pipeline, texts: list[str]) -> list[dict[str, float]]:
    matrix = np.asarray(model.predict_proba(texts))
    classes = [str(c) for c in model.classes_]
    return [{c: float(row[i]) for i, c in enumerate(classes)} for row in matrix]


def classify(texts: list[str], model: Pipeline | None = None) -> list[SpamVerdict]:
    used = model if model is not None else default_model()
    verdicts = []
    for text, probs in zip(texts, probabilities(used, texts), strict=True):
        rules = check_spam(text)
        p_spam, p_abuse = probs.get("spam", 0.0), probs.get("abuse", 0.0)
        reasons = list(rules.reasons)
        if p_spam >= THRESHOLD:
            reasons.append(f"the classifier rates it spam with probability {p_spam:.2f}")
        if p_abuse >= THRESHOLD:
            reasons.append(f"the classifier rates it abusive with probability {p_abuse:.2f}")
        is_spam = rules.is_spam or p_spam >= THRESHOLD
        is_abuse = not is_spam and p_abuse >= THRESHOLD
        verdicts.append(SpamVerdict(
            label="spam" if is_spam else "abuse" if is_abuse else "ham",
            is_spam=is_spam,
            is_abuse=is_abuse,
            spam_probability=round(p_spam, 4),
            abuse_probability=round(p_abuse, 4),
            rule_score=rules.score,
            reasons=reasons,
        ))
    return verdicts
