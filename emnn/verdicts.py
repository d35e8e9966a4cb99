"""The paper's verdicts: sentences computed from the result tables, never typed in, so
that they change when the data do. Counts are stated as counts (3 of 5 datasets)."""

from __future__ import annotations

import numpy as np
import pandas as pd

ALPHA = 0.05  # family-wise level of the Holm-adjusted tests
# Relative suboptimality at which a trainer counts as having reached the split's optimum.
REACHED = 1e-6
METRIC_TEXT = {"accuracy": "test accuracy", "log_loss": "test log-loss"}


def join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def difference_verdict(
    comparisons: pd.DataFrame, method: str, labels: dict, metric: str = "accuracy"
) -> str | None:
    """Whether a method and the baseline differ on each dataset, after Holm's correction
    over the table's whole family of comparisons."""
    rows = comparisons[(comparisons["method"] == method) & (comparisons["metric"] == metric)]
    rows = rows[rows["p_holm"].notna()]
    if rows.empty:
        return None
    baseline = rows["baseline"].iloc[0]
    a, b = labels.get(method, method), labels.get(baseline, baseline)
    differ = rows[rows["p_holm"] < ALPHA]
    # Accuracy: a positive difference favours the method; log-loss: a negative one does.
    favours_method = (
        differ["mean_difference"] > 0 if metric == "accuracy" else (differ["mean_difference"] < 0)
    )
    sentence = (
        f"{a} and {b} are indistinguishable in {METRIC_TEXT[metric]} on "
        f"{len(rows) - len(differ)} of {len(rows)} datasets after Holm's correction "
        f"(adjusted p ≥ {ALPHA:g})"
    )
    for who, chosen in ((a, differ[favours_method]), (b, differ[~favours_method])):
        if len(chosen):
            sentence += f"; {who} is better on {join(list(chosen['dataset']))}"
    return sentence + "."


def estep_to_reach(suboptimality: pd.DataFrame, dataset: str, method: str) -> float | None:
    """E-step evaluations after which the median split is within REACHED of its optimum."""
    rows = suboptimality[
        (suboptimality["dataset"] == dataset) & (suboptimality["method"] == method)
    ]
    reached = rows[rows["median"] <= REACHED]
    return float(reached["n_estep"].iloc[0]) if len(reached) else None


def speed_verdict(
    suboptimality: pd.DataFrame, fast: str, slow: str, labels: dict, datasets: list[str]
) -> str | None:
    """How many times fewer E-steps one exact-likelihood trainer needs than another to come
    within REACHED of the best objective found on the split (median split)."""
    a, b = labels.get(fast, fast), labels.get(slow, slow)
    ratios, missed = [], []
    for dataset in datasets:
        x, y = (
            estep_to_reach(suboptimality, dataset, fast),
            estep_to_reach(suboptimality, dataset, slow),
        )
        if x is None and y is None:
            continue
        if y is None:
            missed.append(dataset)
        elif x is not None:
            ratios.append((dataset, y / x))
    if not ratios and not missed:
        return None
    parts = []
    if ratios:
        values = np.array([r for _, r in ratios])
        first, second = a, b
        if np.median(values) < 1:  # the "fast" one is slower: say so the other way round
            values, first, second = 1 / values, b, a
        low, high = values.min(), values.max()
        spread = f"{low:.1f}×" if np.isclose(low, high) else f"{low:.1f}× to {high:.1f}×"
        parts.append(
            f"{first} comes within a relative {REACHED:.0e} of the split's best objective in "
            f"{spread} fewer E-step evaluations than {second} (median split) on "
            f"{len(ratios)} of {len(datasets)} datasets"
        )
    if missed:
        parts.append(
            f"{b} does not come within a relative {REACHED:.0e} of the split's best objective "
            f"before its cap on {join(missed)}, where {a} does"
        )
    return "; ".join(parts).replace("e-0", "e-") + "."


def convergence_verdict(convergence: pd.DataFrame, labels: dict) -> str | None:
    """Which methods met their own stopping rule on every split, and which did not."""
    if convergence.empty:
        return None
    totals = convergence.groupby("method", sort=False)[["converged", "n_splits"]].sum()
    always = [labels.get(m, m) for m, r in totals.iterrows() if r["converged"] == r["n_splits"]]
    partly = [
        f"{labels.get(m, m)} in {int(r['converged'])} of {int(r['n_splits'])} runs"
        for m, r in totals.iterrows()
        if r["converged"] < r["n_splits"]
    ]
    parts = []
    if always:
        parts.append(f"{join(always)} met {'its' if len(always) == 1 else 'their'} own "
                     f"stopping rule on every run")  # fmt: skip
    if partly:
        parts.append(
            f"the stopping rule was met before the cap by {join(partly)}; the other runs "
            "are reported as they stood at the cap"
        )
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def most_converged(convergence: pd.DataFrame, methods: list[str]) -> list[str]:
    """Methods ordered by their share of runs that met the stopping rule (ties keep their
    order): the headline verdict is about a trainer that finished, not one at its cap."""
    totals = convergence.groupby("method")[["converged", "n_splits"]].sum()
    share = {m: totals.loc[m, "converged"] / totals.loc[m, "n_splits"] for m in totals.index}
    return sorted(methods, key=lambda m: -share.get(m, 0.0))
