"""Stopping rules, for one network or a stack of them (arrays indexed by network)."""

from __future__ import annotations

import numpy as np


class Plateau:
    """scikit-learn's plateau rule (MLPClassifier's n_iter_no_change): a network stops
    once its objective has not risen above its best by more than tol (per example) in
    `patience` successive checks. Objectives are maximized."""

    def __init__(self, size: int):
        self.best = np.full(size, -np.inf)
        self.stale = np.zeros(size, dtype=int)
        self.seen = np.zeros(size, dtype=bool)

    def update(self, which, objective, n, tol, patience) -> np.ndarray:
        """Record the objectives of networks `which` (n training rows each); True where
        a network has met the rule."""
        which = np.asarray(which, dtype=int)
        first = ~self.seen[which]
        improved = first | ((objective - self.best[which]) / n > tol)
        self.stale[which] = np.where(improved, 0, self.stale[which] + 1)
        self.best[which] = np.where(first, objective, np.maximum(self.best[which], objective))
        self.seen[which] = True
        return self.stale[which] >= patience


def relative_change_below(previous, objective, tol):
    """EM's rule: the objective changed by at most tol relative to its previous value."""
    previous = np.asarray(previous, dtype=float)
    return np.abs(objective - previous) <= tol * np.maximum(np.abs(previous), 1e-300)
