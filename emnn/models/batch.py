"""Training many networks together: one loop advances every network of a job.

A job fits its splits and, for a tuned method, every candidate of its inner
cross-validation: hundreds of small networks whose steps cost microseconds of
arithmetic and tens of microseconds of interpreter each. A model class that can
train a stack of networks at once (NumPy broadcasts over a leading axis) says so
with two hooks:

    _batch_key(X)                 networks with equal keys share one loop
                                  (the same array shapes: p, m, batch size);
                                  None: this one trains alone
    _fit_batch(estimators, data, monitors) -> list[list[str]]
                                  fits them, each on its own (X, y), and returns
                                  each one's warning messages

Every network keeps its own data, initial weights, random streams,
hyperparameters and stopping rule; a network that has stopped no longer changes.
So a network trained in a batch equals the same network trained alone, to
rounding (tests/test_batch.py). Any other estimator is fitted one by one.
"""

from __future__ import annotations

import warnings
from collections import defaultdict


def fit_together(estimators, data, monitors=None) -> list[list[str]]:
    """Fit estimators[i] on data[i] = (X, y) with monitors[i] (or None), batching what
    can be batched. Returns each estimator's warning messages, in order; it emits none."""
    monitors = [None] * len(estimators) if monitors is None else list(monitors)
    if not len(estimators) == len(data) == len(monitors):
        raise ValueError("fit_together needs one (X, y) pair and one monitor per estimator")
    messages: list[list[str]] = [[] for _ in estimators]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, (estimator, (X, _)) in enumerate(zip(estimators, data, strict=True)):
        key = estimator._batch_key(X) if hasattr(estimator, "_fit_batch") else None
        groups[("alone", i) if key is None else (type(estimator), *key)].append(i)
    for key, members in groups.items():
        if key[0] == "alone":
            (i,) = members
            messages[i] = _fit_alone(estimators[i], data[i], monitors[i])
            continue
        found = type(estimators[members[0]])._fit_batch(
            [estimators[i] for i in members],
            [data[i] for i in members],
            [monitors[i] for i in members],
        )
        for i, found_messages in zip(members, found, strict=True):
            messages[i] = found_messages
    return messages


def _fit_alone(estimator, data, monitor) -> list[str]:
    X, y = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if monitor is None:
            estimator.fit(X, y)
        else:
            estimator.fit(X, y, monitor=monitor)
    return [str(w.message) for w in caught]


def time_shares(seconds: float, iterations) -> list[float]:
    """Each network's share of its stack's wall time, in proportion to the iterations it
    ran (a network that stops early leaves the loop early); equal shares if none ran."""
    iterations = [max(int(i), 0) for i in iterations]
    total = sum(iterations)
    if total == 0:
        return [seconds / len(iterations)] * len(iterations)
    return [seconds * i / total for i in iterations]


def warn_all(messages: list[str], category, stacklevel: int = 3) -> None:
    """Emit the messages of a one-network batch as fit() alone would."""
    for message in messages:
        warnings.warn(message, category, stacklevel=stacklevel)
