"""Paired comparisons of the mixture-of-experts runs (the moe stage's tables) with each
other and with the main study's MLP trainers, for the report.

Kept apart from emnn.parts.moe.runs, which trains: the report alone computes them, and a
change of a statistic must not re-train the stage.

Test accuracy and log-loss are estimates of generalization from resampled splits:
Nadeau and Bengio's corrected resampled t-test, as emnn.parts.main.aggregate.compare. The final
objective per training example is a training quantity, heavy-tailed between EM
algorithms (one diverging run's objective can exceed the others by many orders of
magnitude), for which a t-test's mean and variance say nothing: the exact sign test
of the paired differences, with their median. Holm's adjustment runs over every
comparison of the table, one family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.stats import SIGN, corrected_paired_test, holm, sign_test, win_tie_loss
from ...core.tidy import is_true
from .contract import METHODS

# Metric -> (moe_runs column, higher is better); the objective only between MoE methods.
METRICS = {
    "accuracy": ("test_accuracy", True),
    "log_loss": ("test_log_loss", False),
    "objective": ("objective_per_example", True),
}


def objective_test(differences) -> dict:
    """The sign test of paired objective differences, in corrected_paired_test's columns
    (no interval, no t); None as the test with fewer than two differences."""
    d = np.asarray(differences, dtype=float)
    enough = d.size >= 2
    return {
        "mean_difference": float(d.mean()) if d.size else np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "t": np.nan,
        "p_value": sign_test(d) if enough else np.nan,
        "test": SIGN if enough else None,
    }


def main_mlp_runs(runs: pd.DataFrame, study: dict) -> pd.DataFrame:
    """The main study's runs (results/tables/runs.csv, read with emnn.core.tidy.read_table):
    its datasets and methods, each method at its own number of hidden units.
    `study` is emnn.study.jobs.study_plan(config) (it holds "main" and "n_hidden")."""
    main = study["main"]
    chosen = (
        runs["dataset"].isin(main["datasets"])
        & runs["method"].isin(main["methods"])
        & (runs["n_hidden"] == runs["method"].map(study["n_hidden"]))
    )
    return runs[chosen].reset_index(drop=True)


def best_mlp(mlp_runs: pd.DataFrame, dataset: str) -> str:
    """The MLP method with the highest mean test accuracy on a dataset (ties: by name), among
    those whose runs there all met their stopping rule (all methods if none did): a trainer
    stopped at its cap is no yardstick."""
    rows = mlp_runs[mlp_runs["dataset"] == dataset]
    if "converged" in rows:
        finished = rows.groupby("method")["converged"].agg(lambda c: all(map(is_true, c)))
        if finished.any():
            rows = rows[rows["method"].isin(finished[finished].index)]
    means = rows.groupby("method")["test_accuracy"].mean()
    if means.empty:
        raise ValueError(f"no MLP runs on dataset '{dataset}'")
    return str(means[means == means.max()].index.sort_values()[0])


def comparisons(
    moe_runs: pd.DataFrame,
    mlp_runs: pd.DataFrame | None = None,
    baseline: str | None = None,
    converged_only: bool = False,
) -> pd.DataFrame:
    """Paired comparisons per dataset, on the splits both sides ran (by split index).

    Every MoE method with every earlier one in METHODS (method - other: moe-irls against
    moe-irls-1, moe-ecm against both, moe-sgd against all three) on test accuracy,
    test log-loss and the final objective per training example; and every MoE method
    with the MLP method `baseline` (None: the best one on the dataset, `best_mlp`) on
    test accuracy and log-loss, when `mlp_runs` (columns dataset, method, split,
    test_accuracy, test_log_loss; see main_mlp_runs) is given. Columns: dataset, method,
    other, other_kind ("moe" or "mlp"), metric, n_splits, mean_difference (method -
    other), ci_low, ci_high, t, p_value, test (the corrected t-test, or for the objective
    objective_test), median_difference, wins, ties, losses (of method, higher accuracy
    and objective and lower log-loss winning), n_capped (the paired splits on which a
    run of the two stopped at its cap: its value is where the cap stopped it, so the
    report marks it; NaN without a `converged` column), p_holm and family_size: one Holm family,
    every comparison of the table, as in
    emnn.parts.main.aggregate.compare.

    converged_only: test accuracy and log-loss are paired over the splits on which both
    runs met their stopping rule (column `converged` on both sides) only - an unconverged
    run is no result - while the final objective of two EM algorithms stays paired over
    every split, an equal budget of EM iterations (SGD's objective, after its own count of
    epochs, pairs over the converged splits). A pair with fewer than two splits gets no
    test (NaN).
    """
    moe = moe_runs.assign(objective_per_example=moe_runs["train_objective"] / moe_runs["n_train"])
    lines = []
    for dataset in sorted(moe["dataset"].unique()):
        here = moe[moe["dataset"] == dataset]
        present = [m for m in METHODS if m in set(here["method"])]
        pairs = [(b, a, "moe", here) for i, a in enumerate(present) for b in present[i + 1 :]]
        if mlp_runs is not None:
            other = baseline or best_mlp(mlp_runs, dataset)
            mlp = mlp_runs[(mlp_runs["dataset"] == dataset) & (mlp_runs["method"] == other)]
            if mlp.empty:
                raise ValueError(f"no runs of MLP method '{other}' on dataset '{dataset}'")
            pairs += [(m, other, "mlp", mlp) for m in present]
        for method, other, kind, source in pairs:
            a = here[here["method"] == method].set_index("split")
            b = source[source["method"] == other].set_index("split")
            every = a.index.intersection(b.index).sort_values()
            known = "converged" in a and "converged" in b  # else n_capped is NaN
            if known or converged_only:
                both_converged = every[_converged(a, every) & _converged(b, every)]
            both = both_converged if converged_only else every
            for metric, (column, higher_is_better) in METRICS.items():
                if kind == "mlp" and metric == "objective":
                    continue
                # One cap of EM iterations is an equal budget between EM algorithms only.
                equal = metric == "objective" and "moe-sgd" not in (method, other)
                splits = every if equal else both
                x = a.loc[splits, column].to_numpy(float)
                y = b.loc[splits, column].to_numpy(float)
                wins, ties, losses = win_tie_loss(x, y, higher_is_better)
                ratio = (a.loc[splits, "n_test"] / a.loc[splits, "n_train"]).to_numpy(float)
                if metric == "objective" or not len(splits):
                    test = objective_test(x - y)
                else:
                    test = corrected_paired_test(x - y, float(ratio.mean()))
                median = float(np.median(x - y)) if len(splits) else np.nan
                capped = len(splits.difference(both_converged)) if known else np.nan
                lines.append(
                    {"dataset": dataset, "method": method, "other": other, "other_kind": kind,
                     "metric": metric, "n_splits": len(splits), **test,
                     "median_difference": median, "wins": wins, "ties": ties, "losses": losses,
                     "n_capped": capped}
                )  # fmt: skip
    table = pd.DataFrame(lines)
    table["p_holm"] = holm(table["p_value"].to_numpy(dtype=float))
    table["family_size"] = int(table["p_value"].notna().sum())
    return table


def _converged(runs: pd.DataFrame, splits) -> np.ndarray:
    """Whether each split's run met its stopping rule."""
    return runs.loc[splits, "converged"].map(is_true).to_numpy(bool)
