"""What the mixture's falls of the objective are: runs whose weights blew up (and which
parameters ran away), and the falls of an EM algorithm that kept its weights bounded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.tidy import is_true
from ...typeset.formats import number
from ...typeset.words import count_of, names, series
from .contract import EM_METHODS

# A run whose largest |weight| ends above this has blown up: standardized inputs and a
# penalty of order 0.1 keep every converged run's weights in the hundreds or below.
BLOWN_UP_WEIGHT = 1e6


def runs_by_method(chosen: pd.DataFrame, runs: pd.DataFrame, names_of: dict) -> list[str]:
    """ "2 of 5 runs of IRLS-EM on digits": per method, the chosen runs against all of its
    runs on the datasets where it has any."""
    parts = []
    for method, group in chosen.groupby("method", sort=False):
        datasets = sorted(set(group["dataset"]))
        total = int(((runs["method"] == method) & runs["dataset"].isin(datasets)).sum())
        parts.append(f"{count_of(len(group), total)} of {names_of.get(method, method)} on "
                     f"{names(datasets)}")  # fmt: skip
    return parts


def blow_ups(runs: pd.DataFrame, names_of: dict, l2: float | None = None) -> str | None:
    """What the largest falls are: runs whose weights ran off to huge values, their
    objective dominated by the log-likelihood of predictions made with them. With the
    penalty's l2, which parameters: the penalty l2/2 |w|^2 bounds every penalized weight
    by sqrt(2 penalty / l2), so a largest weight above that bound is an intercept."""
    if "largest_weight" not in runs:
        return None
    blown = runs[runs["largest_weight"] > BLOWN_UP_WEIGHT]
    if blown.empty:
        return None
    sane = runs[(runs["largest_weight"] <= BLOWN_UP_WEIGHT) & runs["converged"].map(is_true)]
    parts = runs_by_method(blown, runs, names_of)
    loglik = (blown["train_objective"] + blown["final_penalty"]) / blown["n_train"]
    accuracy = 100 * blown["test_accuracy"]
    weight = blown["largest_weight"]
    bound = (f"(at most {number(sane['largest_weight'].max(), 'gap')} in every converged run), "
             if not sane.empty else "")  # fmt: skip
    said = (
        "The largest falls are the unguarded Newton step blowing the weights up: in "
        f"{series(parts)}, the largest weight ends between "
        f"{number(weight.min(), 'gap')} and {number(weight.max(), 'gap')} {bound}the "
        f"log-likelihood per training example between {number(loglik.min(), 'gap', '−')} and "
        f"{number(loglik.max(), 'gap', '−')}, and the test accuracy between "
        f"{accuracy.min():.2f} % and {accuracy.max():.2f} %."
    )
    if l2:
        penalized = float(np.sqrt(2 * blown["final_penalty"] / l2).max())
        if penalized < weight.min():
            said += (
                " Their penalty bounds every penalized weight by "
                f"$\\sqrt{{2 \\cdot \\mathrm{{penalty}} / \\lambda}} \\le$ "
                f"{number(penalized, 'gap')}: what runs away is the unpenalized intercepts."
            )
    return " ".join(filter(None, [said, small_falls(runs, names_of)]))


def small_falls(runs: pd.DataFrame, names_of: dict) -> str | None:
    """The EM runs whose objective fell without their weights blowing up: how many, and how
    large their largest single fall and their largest weight are (SGD's objective may fall
    by design, so its runs are left out)."""
    fell = runs[runs["ever_decreased"].map(is_true) & (runs["largest_weight"] <= BLOWN_UP_WEIGHT)
                & runs["method"].isin(EM_METHODS)]  # fmt: skip
    if fell.empty:
        return None
    parts = runs_by_method(fell, runs, names_of)
    fall = (fell["largest_decrease"] / fell["n_train"]).max()
    return (
        f"The other falls of an EM algorithm, in {series(parts)}, do not blow the weights up: "
        f"the largest weight stays at most {number(fell['largest_weight'].max(), 'gap')} and "
        f"the largest single fall is {number(fall, 'gap')} nats per training example"
        + worst_end(fell)
        + "."
    )


def worst_end(fell: pd.DataFrame) -> str:
    """ ", yet the worst ends at ℓ/n −21.6, from −2.55 at its start": a run whose weights stay
    bounded can still end far below where it began."""
    if "initial_objective" not in fell:
        return ""
    end, start = (
        fell["train_objective"] / fell["n_train"],
        fell["initial_objective"] / fell["n_train"],
    )
    worst = (end - start).idxmin()
    if end[worst] >= start[worst]:
        return ""
    return (
        f", yet the worst ends at $\\ell/n$ = {number(end[worst], 'gap', '−')}, from "
        f"{number(start[worst], 'gap', '−')} at its start"
    )
