"""Wall-clock cost of one exact EM iteration against the number of hidden units.

A timing stage of the study: its table and figure differ between reruns and
appear only in the report's timing section.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from .models import EMMLPClassifier
from .models._common import initial_weights, model_streams, one_hot, with_ones


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
