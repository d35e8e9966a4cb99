"""Hyperparameters chosen by inner cross-validation, for every split of a job at once.

For each split, each candidate of the method's grid (scikit-learn's ParameterGrid:
any parameters, in its order) is fitted on each inner fold of the training part
(StratifiedKFold from the split's inner-CV seed) and scored on the held-out fold
by mean log-loss as scikit-learn's log_loss computes it, exactly as GridSearchCV
with refit=False and scoring="neg_log_loss" would. The difference is that every
(split, candidate, fold)
network of the job trains in one call of emnn.models.batch.fit_together, so a
model that trains in stacks advances them all in one loop.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from sklearn.model_selection import ParameterGrid, StratifiedKFold

from ..models.batch import fit_together
from .methods import build

log = logging.getLogger("emnn.run")

PROGRESS_SECONDS = 10.0  # a long selection logs its progress at this pace


def select_params(method: dict, splits: list[tuple], make=build) -> list[tuple[dict, dict | None]]:
    """Per split (X_train, y_train, seeds): the method's hyperparameters, with the grid's
    choice by inner CV on that training part only, and the record of that choice.
    make(model, params, seed) builds a candidate (by default a study method's estimator)."""
    params = dict(method["params"])
    grid = method.get("grid")
    if not grid:
        return [(params, None) for _ in splits]
    candidates = list(ParameterGrid(grid))
    inner = {**params, **method.get("inner_params", {})}  # the inner fits' settings
    estimators, data, scored = [], [], []
    for s, (X, y, seeds) in enumerate(splits):
        folds = StratifiedKFold(
            method["inner_folds"], shuffle=True, random_state=seeds["inner_cv"]["seed"]
        )
        for f, (fit_rows, held_out) in enumerate(folds.split(X, y)):
            fit_data = (X[fit_rows], y[fit_rows])  # one array per fold, shared by candidates
            for c, candidate in enumerate(candidates):
                estimators.append(
                    make(method["model"], {**inner, **candidate}, seeds["init"]["seed"])
                )
                data.append(fit_data)
                scored.append((s, c, f, X[held_out], y[held_out]))
    progress = Progress(
        f"{method.get('name', method['model'])}: inner cross-validation", len(estimators)
    )
    log.info("%s: training %d networks together (%d splits x %d candidates x %d folds)",
             progress.label, len(estimators), len(splits), len(candidates),
             method["inner_folds"])  # fmt: skip
    # A candidate's warnings do not concern the final fit.
    fit_together(estimators, data, [progress] * len(estimators))
    progress.done()
    scores = np.empty((len(splits), len(candidates), method["inner_folds"]))
    for estimator, (s, c, f, X_held, y_held) in zip(estimators, scored, strict=True):
        scores[s, c, f] = -log_loss(estimator, X_held, y_held)
    chosen = []
    for per_split in scores:
        mean, std = per_split.mean(axis=1), per_split.std(axis=1)
        best = int(np.argmax(mean))  # the first of equals, as GridSearchCV's rank
        selection = {
            "grid": grid,
            "inner_folds": method["inner_folds"],
            **({"inner_params": method["inner_params"]} if method.get("inner_params") else {}),
            "scoring": "mean log-loss",
            "candidates": [
                {"params": p, "mean_log_loss": -m, "std_log_loss": d}
                for p, m, d in zip(candidates, mean, std, strict=True)
            ],
            "chosen": candidates[best],
        }
        chosen.append(({**params, **candidates[best]}, selection))
    return chosen


def log_loss(estimator, X, y) -> float:
    """scikit-learn's log_loss(y, estimator.predict_proba(X), labels=estimator.classes_):
    probabilities clipped to [eps, 1 - eps], the mean of -log p(y | x); without its
    milliseconds of input checks per call (a job scores hundreds of candidates)."""
    proba = estimator.predict_proba(X)
    column = np.searchsorted(estimator.classes_, y)
    if np.any(column >= len(estimator.classes_)) or np.any(estimator.classes_[column] != y):
        raise ValueError("log_loss: y holds a class the estimator was not trained on")
    eps = np.finfo(proba.dtype).eps
    chosen = np.clip(proba[np.arange(len(y)), column], eps, 1 - eps)
    return float(-np.log(chosen).mean())


class Progress:
    """The monitor every network of a selection shares: a line at a steady pace, so that
    a long inner cross-validation shows in its log how far it has got."""

    def __init__(self, label: str, n_networks: int):
        self.label, self.n_networks = label, n_networks
        self.started = self.last_log = time.perf_counter()
        self.iteration = 0  # the furthest any network has got
        self.active: set[int] = set()  # networks that reported since the last line

    def __call__(self, iteration, estimator) -> bool:
        self.iteration = max(self.iteration, iteration)
        self.active.add(id(estimator))
        now = time.perf_counter()
        if now - self.last_log >= PROGRESS_SECONDS:
            log.info("%s: iteration %d, %d of %d networks still training, %.0f s",
                     self.label, self.iteration, len(self.active), self.n_networks,
                     now - self.started)  # fmt: skip
            self.active, self.last_log = set(), now
        return False

    def done(self) -> None:
        log.info("%s: done in %.0f s", self.label, time.perf_counter() - self.started)
