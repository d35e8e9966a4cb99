"""Run records to tidy tables: summaries, paired comparisons, sweeps, learning curves.

Reads the run directories it is given (never a glob, so stale runs of an older
config cannot slip in) and writes CSV tables. Wall-clock timings go to their
own tables under timing/, the only outputs that differ between reruns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...core import records
from ...core.stats import corrected_interval, corrected_paired_test, holm, win_tie_loss
from ...core.tidy import csv_text
from ...study.runs import KEYS, METRICS, RANGES, load, runs_of
from . import primary
from .contract import RESULT_TABLES, TIMING_TABLES


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and corrected 95 % interval per dataset, method and m."""
    rows = []
    for key, group in runs.groupby(KEYS, sort=True):
        ratio = float((group["n_test"] / group["n_train"]).mean())
        row = dict(zip(KEYS, key, strict=True), n_splits=len(group))
        for name, (column, _) in METRICS.items():
            mean, low, high = corrected_interval(group[column], ratio, RANGES[name])
            std = float(group[column].std(ddof=1)) if len(group) > 1 else np.nan
            row.update({f"{name}_mean": mean, f"{name}_std": std, f"{name}_ci_low": low,
                        f"{name}_ci_high": high})  # fmt: skip
        row.update(
            iterations_mean=float(group["iterations"].mean()),
            converged_rate=float(group["converged"].mean()),
            converged=int(group["converged"].sum()),
            teacher_log_loss_mean=float(group["teacher_test_log_loss"].astype(float).mean()),
            reference=False,
        )
        rows.append(row)
    return pd.DataFrame(rows)


TEACHER = "teacher network"


def with_teacher_floor(main: pd.DataFrame) -> pd.DataFrame:
    """The main table with, per dataset sampled from a teacher network, a reference row:
    the teacher's own test log-loss, the floor no trained model can beat on average."""
    floors = []
    for dataset, group in main.groupby("dataset", sort=True):
        floor = group["teacher_log_loss_mean"].dropna()
        if floor.empty:
            continue
        floors.append(
            {"dataset": dataset, "method": TEACHER, "n_hidden": -1,
             "n_splits": int(group["n_splits"].max()), "log_loss_mean": float(floor.iloc[0]),
             "reference": True}
        )  # fmt: skip
    if not floors:
        return main
    return pd.concat([main, pd.DataFrame(floors)], ignore_index=True).sort_values(
        ["dataset", "reference"], kind="stable", ignore_index=True
    )


def compare(runs: pd.DataFrame, study: dict) -> pd.DataFrame:
    """Each main method against the baseline, split by split (paired)."""
    main = study["main"]
    baseline = main.get("baseline")
    if baseline is None:
        return pd.DataFrame(columns=["dataset", "method", "baseline", "metric"])
    rows = []
    hidden = study["n_hidden"]
    for dataset in main["datasets"]:
        base = runs_of(runs, dataset, baseline, hidden[baseline])
        for method in main["methods"]:
            if method == baseline:
                continue
            other = runs_of(runs, dataset, method, hidden[method])
            splits = base.index.intersection(other.index)
            ratio = float((other.loc[splits, "n_test"] / other.loc[splits, "n_train"]).mean())
            for name, (column, higher_is_better) in METRICS.items():
                a, b = other.loc[splits, column], base.loc[splits, column]
                wins, ties, losses = win_tie_loss(a, b, higher_is_better)
                rows.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "baseline": baseline,
                        "metric": name,
                        "n_splits": len(splits),
                        **corrected_paired_test(a.to_numpy() - b.to_numpy(), ratio),
                        "wins": wins,
                        "ties": ties,
                        "losses": losses,
                    }
                )
    table = pd.DataFrame(rows)
    # One family: every comparison of the table (all datasets, methods and metrics).
    table["p_holm"] = holm(table["p_value"].to_numpy(dtype=float))
    table["family_size"] = int(table["p_value"].notna().sum())
    return table


def part(summary: pd.DataFrame, study: dict, name: str) -> pd.DataFrame:
    """The summary rows of one part of the study (main or sweep)."""
    spec = study.get(name)
    if not spec:
        return summary.iloc[0:0]
    chosen = summary["dataset"].isin(spec["datasets"]) & summary["method"].isin(spec["methods"])
    if name == "sweep":
        chosen &= summary["n_hidden"].isin(spec["n_hidden"])
    else:
        chosen &= summary["n_hidden"] == summary["method"].map(study["n_hidden"])
    return summary[chosen].reset_index(drop=True)


def learning_curves(history: pd.DataFrame, study: dict) -> pd.DataFrame:
    """Median and quartiles over splits of each main run's per-iteration values.

    A run that stopped early keeps its last value for the later iterations, so
    every split counts at every iteration. The objective is reported per
    training example (the penalized training log-loss), comparable across
    datasets and methods.
    """
    main = study["main"]
    chosen = history[
        history["dataset"].isin(main["datasets"])
        & history["method"].isin(main["methods"])
        & (history["n_hidden"] == history["method"].map(study["n_hidden"]))
    ].copy()
    chosen["train_loss"] = -chosen["train_objective"] / chosen["n_train"]
    values = ["train_loss", "train_accuracy", "test_accuracy", "test_log_loss"]
    rows = []
    for (dataset, method), group in chosen.groupby(["dataset", "method"], sort=True):
        wide = {
            v: group.pivot(index="iteration", columns="split", values=v).ffill() for v in values
        }
        for value, table in wide.items():
            quantiles = table.quantile([0.25, 0.5, 0.75], axis=1).T
            rows.append(
                pd.DataFrame(
                    {
                        "dataset": dataset,
                        "method": method,
                        "value": value,
                        "iteration": table.index.to_numpy(),
                        "q25": quantiles[0.25].to_numpy(),
                        "median": quantiles[0.5].to_numpy(),
                        "q75": quantiles[0.75].to_numpy(),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def _main_part(frame: pd.DataFrame, study: dict) -> pd.DataFrame:
    main = study["main"]
    return frame[
        frame["dataset"].isin(main["datasets"])
        & frame["method"].isin(main["methods"])
        & (frame["n_hidden"] == frame["method"].map(study["n_hidden"]))
    ]


# A run ends at another optimum than the reference when its final objective differs from
# the reference's by more than this, in nats per training example (as verdicts.optima_sentence
# tells two trainers' optima apart).
OTHER_OPTIMUM = 1e-4


def reference_objective(runs: pd.DataFrame, study: dict) -> pd.Series:
    """Per (dataset, n_hidden, split): the reference of suboptimality. With
    study.main.reference, its method's final objective (the best of its own starts, so no
    trainer grades itself); without, the best final exact objective any main method
    reached."""
    reference = study["main"].get("reference")
    if reference is not None:
        chosen = runs[runs["method"] == reference]
    else:
        chosen = _main_part(runs, study)
        chosen = chosen[chosen["objective"] == "exact"]
    return chosen.groupby(["dataset", "n_hidden", "split"])["train_objective"].max()


def convergence(runs: pd.DataFrame, study: dict) -> pd.DataFrame:
    """Per main dataset and method: how often and how fast it met its own stopping rule,
    where it ended (final penalized objective per training example), and, for the exact
    objective, how far below the reference and on how many splits at another optimum."""
    reference = reference_objective(runs, study)
    chosen = _main_part(runs, study).copy()
    key = pd.MultiIndex.from_frame(chosen[["dataset", "n_hidden", "split"]])
    chosen["gap"] = np.where(
        chosen["objective"] == "exact",
        (reference.reindex(key).to_numpy() - chosen["train_objective"]) / chosen["n_train"],
        np.nan,
    )
    chosen["below_reference"] = chosen["gap"] > OTHER_OPTIMUM
    chosen["above_reference"] = chosen["gap"] < -OTHER_OPTIMUM
    chosen["objective_per_example"] = chosen["train_objective"] / chosen["n_train"]
    # Runs recorded before the endpoint gradient was (and mean-field runs) have none.
    chosen["gradient_max"] = pd.to_numeric(chosen.get("gradient_max", np.nan), errors="coerce")
    grouped = chosen.groupby(["dataset", "method"], sort=True)
    return grouped.agg(
        objective=("objective", "first"),
        n_splits=("split", "size"),
        converged=("converged", "sum"),
        iterations_median=("iterations", "median"),
        iterations_max=("iterations", "max"),
        n_estep_median=("n_estep", "median"),
        objective_per_example_mean=("objective_per_example", "mean"),
        gap_to_reference_median=("gap", "median"),
        gap_to_reference_max=("gap", "max"),
        below_reference=("below_reference", "sum"),
        above_reference=("above_reference", "sum"),
        gradient_max_median=("gradient_max", "median"),
    ).reset_index()


def cross(runs: pd.DataFrame, study: dict) -> pd.DataFrame:
    """Every main method's weights judged under both predictors (means over splits)."""
    chosen = _main_part(runs, study)
    rows = []
    for (dataset, method), group in chosen.groupby(["dataset", "method"], sort=True):
        for predictor in ("exact", "mean_field"):
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "trained_for": group["objective"].iloc[0],
                    "predictor": predictor.replace("_", "-"),
                    "n_splits": len(group),
                    "test_accuracy_mean": group[f"{predictor}_test_accuracy"].mean(),
                    "test_log_loss_mean": group[f"{predictor}_test_log_loss"].mean(),
                    "train_log_loss_mean": float(
                        (-group[f"{predictor}_train_log_likelihood"] / group["n_train"]).mean()
                    ),
                }
            )
    return pd.DataFrame(rows)


def suboptimality(history: pd.DataFrame, runs: pd.DataFrame, study: dict) -> pd.DataFrame:
    """Relative suboptimality (reference - objective) / |reference| of each exact-likelihood
    trainer against the E-steps it has spent: median and quartiles over splits on a grid of
    E-step counts (each split's last recorded value at or before the grid point)."""
    chosen = _main_part(history, study)
    chosen = chosen[chosen["n_estep"].notna()]
    best = reference_objective(runs, study)
    rows = []
    for (dataset, method), group in chosen.groupby(["dataset", "method"], sort=True):
        top = int(group["n_estep"].max())
        grid = np.unique(np.round(np.geomspace(1, max(top, 1), 60)).astype(int))
        values = []
        for split, steps in group.groupby("split"):
            reference = best[(dataset, steps["n_hidden"].iloc[0], split)]
            gap = (reference - steps["train_objective"].to_numpy()) / abs(reference)
            at = np.searchsorted(steps["n_estep"].to_numpy(), grid, side="right") - 1
            values.append(np.where(at >= 0, np.maximum(gap[np.maximum(at, 0)], 0.0), np.nan))
        values = np.array(values)
        with np.errstate(all="ignore"):
            q25, median, q75 = np.nanquantile(values, [0.25, 0.5, 0.75], axis=0)
        rows.append(
            pd.DataFrame(
                {"dataset": dataset, "method": method, "n_estep": grid, "q25": q25,
                 "median": median, "q75": q75}
            )
        )  # fmt: skip
    columns = ["dataset", "method", "n_estep", "q25", "median", "q75"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


def same_target(history: pd.DataFrame, runs: pd.DataFrame, study: dict) -> pd.DataFrame:
    """Per split and pair of exact-likelihood trainers (in the study's order): the E-steps
    each spent, from the same initial weights, to first come within OTHER_OPTIMUM nats per
    example of the lower of their two ends, a level both reached. Unlike the E-steps to
    each run's own stop, these measure two trainers' way to one objective value. Counts
    are read at the recorded iterations (at most 10 % apart), so each is an upper bound."""
    ends = _main_part(runs, study)
    ends = ends[ends["objective"] == "exact"].set_index(["dataset", "method", "split"])
    steps = _main_part(history, study)
    steps = steps[steps["method"].isin(ends.index.get_level_values("method"))]
    reached = {key: (group["train_objective"] / group["n_train"], group["n_estep"])
               for key, group in steps.groupby(["dataset", "method", "split"])}  # fmt: skip
    order = [m for m in study["main"]["methods"] if m in set(steps["method"])]
    rows = []
    for dataset, split in sorted({(d, s) for d, _, s in reached}):
        here = [m for m in order if (dataset, m, split) in reached]
        for i, a in enumerate(here):
            for b in here[i + 1 :]:
                end = {m: ends.loc[(dataset, m, split)] for m in (a, b)}
                lower = min(e["train_objective"] / e["n_train"] for e in end.values())
                target = lower - OTHER_OPTIMUM
                first = {}
                for m in (a, b):
                    objective, n_estep = reached[(dataset, m, split)]
                    hit = n_estep[objective.to_numpy() >= target]
                    first[m] = float(hit.iloc[0]) if len(hit) else np.nan
                rows.append(
                    {"dataset": dataset, "split": split, "method": a, "other": b,
                     "target": target, "n_estep": first[a], "other_n_estep": first[b],
                     "converged": bool(end[a]["converged"]),
                     "other_converged": bool(end[b]["converged"])}
                )  # fmt: skip
    columns = ["dataset", "split", "method", "other", "target", "n_estep", "other_n_estep",
               "converged", "other_converged"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def timing_summary(timing: pd.DataFrame) -> pd.DataFrame:
    grouped = timing.groupby(KEYS, sort=True)
    return grouped.agg(
        n_splits=("split", "size"),
        fit_seconds_median=("fit_seconds", "median"),
        fit_seconds_total=("fit_seconds", "sum"),
        seconds_per_iteration_median=("seconds_per_iteration", "median"),
    ).reset_index()


def tables(run_dirs, study: dict) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The result tables and the timing tables, by file name."""
    runs, history, timing = load(run_dirs)
    summary = summarize(runs)
    results = {
        "runs": runs,
        "summary": summary,
        "main": with_teacher_floor(part(summary, study, "main")),
        "comparisons": compare(runs, study),
        "convergence": convergence(runs, study),
        "cross": cross(runs, study),
        "sweep": part(summary, study, "sweep"),
        "curves": learning_curves(history, study),
        "suboptimality": suboptimality(history, runs, study),
        "same_target": same_target(history, runs, study),
        "primary": primary.analyse(runs, study),
    }
    timings = {"fit_times": timing, "fit_summary": timing_summary(timing)}
    assert list(results) == RESULT_TABLES and list(timings) == TIMING_TABLES
    return results, timings


def write(run_dirs, study: dict, out_dir, timing_dir) -> None:
    results, timings = tables(run_dirs, study)
    for directory, frames in ((out_dir, results), (timing_dir, timings)):
        for name, frame in frames.items():
            records.write_text(Path(directory) / f"{name}.csv", csv_text(frame))
