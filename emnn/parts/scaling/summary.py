"""The m-sweep (study.scaling): run records to its tables, best m of EM and of SGD, and
their paired comparison.

EM at m hidden units is the exact method while m <= exact_max_hidden and the
approximate one beyond; the approximate method also runs at the small m, so the
two overlap. Where configured, L-BFGS runs on the same two objectives (the exact
likelihood up to exact_max_hidden, the mean-field bound at every m): a family of
its own, which separates what the objective can reach from what EM's optimizer
reaches. A (method, m) cell is a candidate for "best m" only when every one of
its runs met its own stopping rule (an unconverged cell is reported, never
chosen), unless no cell of the family converged everywhere.

The best m of each family minimizes the mean test log-loss. Chosen on all splits
it is the m the tables and the text name; for the paired test each split's
values are taken at the m chosen on the *other* splits (leave one split out), so
no split's test part picks the m it is scored at.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...core import records
from ...core.stats import corrected_interval, corrected_paired_test, holm, win_tie_loss
from ...core.tidy import csv_text
from ...study.runs import METRICS, RANGES, load
from .contract import TABLE_NAMES

ROLES = ("exact", "approximate", "exact_lbfgs", "approximate_lbfgs", "baseline")
# A family's first role is its exact one, used up to exact_max_hidden.
FAMILIES = {
    "em": ("exact", "approximate"),
    "lbfgs": ("exact_lbfgs", "approximate_lbfgs"),
    "baseline": ("baseline",),
}
EXACT_ROLES = ("exact", "exact_lbfgs")
RULE = "mean test log-loss"
RUN_COLUMNS = [
    "dataset", "role", "method", "n_hidden", "split", "test_accuracy", "test_log_loss",
    "converged", "iterations", "predictor", "hidden_units_used", "n_train", "n_test",
]  # fmt: skip


def load_runs(run_dirs, scaling: dict) -> pd.DataFrame:
    """One row per run of the sweep, with its role (see keep)."""
    runs, _, _ = load(run_dirs)
    return keep(runs, scaling)


def keep(runs: pd.DataFrame, scaling: dict) -> pd.DataFrame:
    """The runs that are the sweep's, each with its role: only the first n_splits splits and
    m up to the dataset's max_hidden (a shared run directory of the main study holds more)."""
    roles = {scaling[role]: role for role in ROLES if role in scaling}
    runs = runs[runs["dataset"].isin(scaling["datasets"]) & runs["method"].isin(roles)]
    runs = runs[runs["split"] < scaling["n_splits"]].copy()
    runs["role"] = runs["method"].map(roles)
    exact = runs["role"].isin(EXACT_ROLES)
    runs = runs[~exact | (runs["n_hidden"] <= scaling["exact_max_hidden"])]
    runs = runs[runs["n_hidden"].isin(scaling["n_hidden"])]
    top = runs["dataset"].map(scaling.get("max_hidden", {})).fillna(max(scaling["n_hidden"]))
    runs = runs[runs["n_hidden"] <= top]
    order = ["dataset", "role", "n_hidden", "split"]
    runs["role"] = pd.Categorical(runs["role"], ROLES, ordered=True)
    runs = runs.sort_values(order, ignore_index=True)
    runs["role"] = runs["role"].astype(str)
    return runs[RUN_COLUMNS]


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, role and m: means with corrected intervals, convergence counts, the
    predictor the metrics came from and how many hidden units the runs used."""
    rows = []
    keys = ["dataset", "role", "method", "n_hidden"]
    for key, group in runs.groupby(keys, sort=False):
        ratio = float((group["n_test"] / group["n_train"]).mean())
        row = dict(zip(keys, key, strict=True), n_splits=len(group))
        for name, (column, _) in METRICS.items():
            mean, low, high = corrected_interval(group[column], ratio, RANGES[name])
            row.update({f"{name}_mean": mean, f"{name}_ci_low": low, f"{name}_ci_high": high})
        predictors = sorted(set(group["predictor"]))
        row.update(
            converged=int(group["converged"].sum()),
            iterations_median=float(group["iterations"].median()),
            iterations_max=int(group["iterations"].max()),
            predictor="/".join(predictors),
            units_used_median=float(group["hidden_units_used"].median()),
            units_used_max=int(group["hidden_units_used"].max()),
        )
        rows.append(row)
    return pd.DataFrame(rows)


def families(scaling: dict) -> list[str]:
    """The families the sweep runs: EM and the baseline, and L-BFGS where configured."""
    return [f for f, roles in FAMILIES.items() if all(role in scaling for role in roles)]


def family_cells(summary: pd.DataFrame, dataset: str, family: str) -> pd.DataFrame:
    """The cells (one per m) a family is chosen from: EM's (or L-BFGS's) exact cells up to
    its limit, its approximate ones beyond; the baseline's at every m."""
    roles = FAMILIES[family]
    cells = summary[(summary["dataset"] == dataset) & summary["role"].isin(roles)]
    if len(roles) == 2:
        exact_m = set(cells.loc[cells["role"] == roles[0], "n_hidden"])
        cells = cells[(cells["role"] == roles[0]) | ~cells["n_hidden"].isin(exact_m)]
    return cells.sort_values("n_hidden", ignore_index=True)


def converged_cells(cells: pd.DataFrame) -> set:
    """The (role, m) cells every run of which met its stopping rule."""
    complete = cells[cells["converged"] == cells["n_splits"]]
    return set(zip(complete["role"], complete["n_hidden"], strict=True))


def best_cell(cells: pd.DataFrame, eligible: set) -> pd.Series:
    """The cell of least mean test log-loss among the eligible ones (all, if none is),
    smaller m on a tie."""
    keys = pd.Series(list(zip(cells["role"], cells["n_hidden"], strict=True)), index=cells.index)
    pool = cells[keys.isin(eligible)] if eligible else cells
    return pool.sort_values(["log_loss_mean", "n_hidden"], kind="stable").iloc[0]


def choose(summary: pd.DataFrame, runs: pd.DataFrame, dataset: str, family: str):
    """The best cell on all splits, and per split the (role, m) chosen on the others;
    eligible cells are those whose runs converged on every split, so that no
    cap-stopped run enters the comparison either."""
    cells = family_cells(summary, dataset, family)
    eligible = converged_cells(cells)
    best = best_cell(cells, eligible)
    shown = runs[runs["dataset"] == dataset]
    per_split = {}
    for split in sorted(set(shown["split"])):
        left_out = summarize(shown[shown["split"] != split])
        cell = best_cell(family_cells(left_out, dataset, family), eligible)
        per_split[split] = (cell["role"], int(cell["n_hidden"]))
    return best, not eligible, per_split


def best_table(summary: pd.DataFrame, runs: pd.DataFrame, scaling: dict):
    rows, choices = [], {}
    for dataset in scaling["datasets"]:
        for family in families(scaling):
            best, fallback, per_split = choose(summary, runs, dataset, family)
            choices[dataset, family] = per_split
            cells = family_cells(summary, dataset, family)
            rows.append(
                {
                    "dataset": dataset,
                    "family": family,
                    "role": best["role"],
                    "method": best["method"],
                    "n_hidden": int(best["n_hidden"]),
                    "rule": RULE,
                    "only_converged": not fallback,
                    "n_cells": len(cells),
                    "n_converged_cells": int((cells["converged"] == cells["n_splits"]).sum()),
                    "n_splits": int(best["n_splits"]),
                    "converged": int(best["converged"]),
                    "accuracy_mean": best["accuracy_mean"],
                    "log_loss_mean": best["log_loss_mean"],
                    "split_choices": " ".join(str(m) for _, m in per_split.values()),
                }
            )
    return pd.DataFrame(rows), choices


def at_choice(runs: pd.DataFrame, dataset: str, choices: dict) -> pd.DataFrame:
    """Each split's run at the (role, m) chosen for it."""
    shown = runs[runs["dataset"] == dataset].set_index(["role", "n_hidden", "split"])
    rows = [shown.loc[(role, m, split)] for split, (role, m) in choices.items()]
    return pd.DataFrame(rows).reset_index(drop=True).assign(split=list(choices))


def compare(runs: pd.DataFrame, choices: dict, scaling: dict) -> pd.DataFrame:
    """EM (and L-BFGS, where run) against the baseline, each family at its
    leave-one-split-out best m, split by split: corrected resampled t-test; Holm over
    every family, dataset and metric of the table."""
    rows = []
    for dataset in scaling["datasets"]:
        base = at_choice(runs, dataset, choices[dataset, "baseline"]).set_index("split")
        for family in [f for f in families(scaling) if f != "baseline"]:
            ours = at_choice(runs, dataset, choices[dataset, family]).set_index("split")
            splits = ours.index.intersection(base.index)
            ratio = float((ours.loc[splits, "n_test"] / ours.loc[splits, "n_train"]).mean())
            for name, (column, higher_is_better) in METRICS.items():
                a = ours.loc[splits, column].astype(float)
                b = base.loc[splits, column].astype(float)
                wins, ties, losses = win_tie_loss(a, b, higher_is_better)
                rows.append(
                    {
                        "dataset": dataset,
                        "family": family,
                        "metric": name,
                        "baseline": scaling["baseline"],
                        "n_splits": len(splits),
                        "family_mean": float(a.mean()),
                        "baseline_mean": float(b.mean()),
                        **corrected_paired_test(a.to_numpy() - b.to_numpy(), ratio),
                        "wins": wins,
                        "ties": ties,
                        "losses": losses,
                        "family_converged": int(ours.loc[splits, "converged"].sum()),
                        "baseline_converged": int(base.loc[splits, "converged"].sum()),
                    }
                )
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"].to_numpy(dtype=float))
    table["family_size"] = int(table["p_value"].notna().sum())
    return table


def tables(run_dirs, scaling: dict) -> dict[str, pd.DataFrame]:
    runs = load_runs(run_dirs, scaling)
    summary = summarize(runs)
    best, choices = best_table(summary, runs, scaling)
    found = {
        "scaling_runs": runs,
        "scaling": summary,
        "scaling_best": best,
        "scaling_comparisons": compare(runs, choices, scaling),
    }
    assert list(found) == TABLE_NAMES
    return found


def write(run_dirs, scaling: dict, out_dir) -> None:
    for name, frame in tables(run_dirs, scaling).items():
        records.write_text(Path(out_dir) / f"{name}.csv", csv_text(frame))
