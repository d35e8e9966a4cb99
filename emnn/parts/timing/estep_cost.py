"""Wall-clock cost of one EM iteration against the number of hidden units.

Two tables: the exact E-step and the Newton M-step apart, on a small dataset
(estep_cost.csv), and one whole EM iteration (M-step, then E-step) for each kind of
E-step, exact, variational and Monte Carlo, on a larger one up to m in the tens
(iteration_cost.csv, when study.estep_cost.e_steps is configured). A timing stage
of the study: its tables and figure differ between reruns and appear only in the
report's timing section.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from ...models import EMMLPClassifier
from ...models.common import initial_weights, model_streams, one_hot, with_ones


def best_time(function, repeats: int, budget: float = 2.0) -> float:
    """Smallest wall time of up to `repeats` calls, stopping early past `budget` seconds."""
    best, spent = np.inf, 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if spent > budget:
            break
    return best


def initial_model(n_features: int, n_hidden: int, n_classes: int) -> EMMLPClassifier:
    """An EM model holding the initial weights of random_state 0, ready for one iteration."""
    model = EMMLPClassifier(n_hidden=n_hidden, random_state=0)
    model._set_weights(*initial_weights(n_features, n_hidden, n_classes, model_streams(0)[0]))
    return model


def iteration_times(X, y_index, n_hidden: int, repeats: int, model=None) -> dict:
    """Best-of-`repeats` seconds of one E-step and one Newton M-step.

    Without a model, the weights are the initial ones for random_state 0.
    """
    n_classes = int(y_index.max()) + 1
    if model is None:
        model = initial_model(X.shape[1], n_hidden, n_classes)
    Xt, Y = with_ones(X), one_hot(y_index, n_classes)
    post = model._e_step(Xt, Y)
    weights = (model.coefs_, model.intercepts_)

    def m_step():
        model._set_weights(*weights)
        model._m_step(Xt, post)

    times = {
        "e_step_seconds": best_time(lambda: model._e_step(Xt, Y), repeats),
        "m_step_seconds": best_time(m_step, repeats),
    }
    model._set_weights(*weights)
    return times


def cost_table(X, y_index, hidden: list[int], repeats: int) -> pd.DataFrame:
    X = StandardScaler().fit_transform(X)
    rows = [
        {"n_hidden": m, "n": len(X), **iteration_times(X, y_index, m, repeats)}
        for m in sorted(hidden)
    ]
    return pd.DataFrame(rows)


E_STEPS = ("exact", "variational", "monte-carlo")


def warm_model(e_step, X, y, n_hidden, n_samples=64):
    """A model after one EM iteration from random_state 0 (so a variational E-step starts
    warm, as in a fit), its design matrix, targets and last E-step."""
    model = EMMLPClassifier(
        n_hidden=n_hidden, e_step=e_step, n_samples=n_samples, max_iter=1, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    Xt, Y = with_ones(X), one_hot(np.searchsorted(model.classes_, y), model.classes_.size)
    return model, Xt, Y, model._counted_e_step(Xt, Y)


def em_iteration_seconds(e_step, X, y, n_hidden, repeats, n_samples=64) -> float:
    """Best-of-`repeats` seconds of one EM iteration (M-step, then E-step), each repeat
    continuing from the last, as in a fit."""
    model, Xt, Y, post = warm_model(e_step, X, y, n_hidden, n_samples)
    state = {"post": post}

    def iteration():
        state["post"], _ = model._em_map(Xt, Y, state["post"])

    return best_time(iteration, repeats)


def iteration_cost_table(X, y, spec: dict, repeats: int) -> pd.DataFrame:
    """One EM iteration per kind of E-step against m: the exact one up to
    spec["exact_max_hidden"], the approximate ones at every m."""
    X = StandardScaler().fit_transform(X)
    rows = []
    for m in sorted(spec["n_hidden"]):
        for e_step in E_STEPS:
            if e_step == "exact" and m > spec["exact_max_hidden"]:
                continue
            seconds = em_iteration_seconds(e_step, X, y, m, repeats, spec["n_samples"])
            rows.append(
                {"n_hidden": m, "e_step": e_step, "n": len(X), "n_samples": spec["n_samples"],
                 "iteration_seconds": seconds}
            )  # fmt: skip
    return pd.DataFrame(rows)
