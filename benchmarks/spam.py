"""Spam and abuse classifier: precision and recall on the held-out templates of the shipped labelled set.

    .venv/bin/python benchmarks/spam.py

Trains on the training templates only, then scores the held-out ones three ways: the classifier alone, the
rules alone (spam only: the rules know nothing of abuse) and the combination the studio uses.
"""

from __future__ import annotations

import time

from sklearn.metrics import precision_recall_fscore_support

from creator_studio.analytics import spam
from creator_studio.engagement.text_rules import check_spam


def main() -> None:
    started = time.perf_counter()
    data = spam.load_dataset()
    train_rows, test_rows = spam.split(data)
    model = spam.train(data, train_rows)
    texts = [data.texts[i] for i in test_rows]
    truth = [data.labels[i] for i in test_rows]
    combined = [v.label for v in spam.classify(texts, model)]
    model_only = [str(p) for p in model.predict(texts)]
    rules_only = ["spam" if check_spam(t).is_spam else "ham" for t in texts]
    print(f"data set: {len(data.texts)} comments, {len(set(data.groups))} templates; "
          f"held out {len(test_rows)} comments from {len({data.groups[i] for i in test_rows})} unseen templates")
    print(f"{'detector':<12} {'class':<6} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
    for name, predicted in (("classifier", model_only), ("rules", rules_only), ("combined", combined)):
        for label in ("spam", "abuse"):
            if name == "rules" and label == "abuse":
                continue
            p, r, f, _ = precision_recall_fscore_support(
                truth, predicted, labels=[label], average=None, zero_division=0
            )
            support = sum(1 for t in truth if t == label)
            print(f"{name:<12} {label:<6} {p[0]:>9.3f} {r[0]:>7.3f} {f[0]:>6.3f} {support:>8}")
    print(f"time: {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
