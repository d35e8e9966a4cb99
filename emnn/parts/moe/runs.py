"""The mixture-of-experts part of the study (issue 11): Ng & McLachlan's (2004) claims about
training ME networks by EM, tested on the main study's paired splits.

A stage of its own (config `study.moe`, rule workflow/rules/moe.smk, `emnn moe`), beside
the main study: it trains no MLP and imports none of the MLP training code, so editing
either side re-runs only that side. For every dataset of `study.moe.datasets` it takes
the main study's splits (the same split seed, the same train/test rows, standardized
the same way) and, on split k, starts every method from the initial weights of the
seed the main study's runs on split k use (`job_seeds(...)["init"]`). Methods, all
MoEClassifier with K = `n_experts` experts and the same l2 penalty:

    moe-irls-1   EM, M-step one IRLS iteration at learning rate 1 (Jordan & Jacobs)
    moe-irls     the same at `irls_rate` < 1 (0.5 by default), Ng & McLachlan's remedy
    moe-ecm      ECM: K + g conditional maximizations per iteration, each solved
    moe-sgd      back-propagation of the same likelihood (minibatch SGD with momentum)

Each runs until its own stopping rule or `max_iter` iterations (SGD: epochs); the
runs of one method on one dataset train together, each as it would alone.

Tables (results/tables/, byte-identical across reruns; rows sorted by dataset,
method, split, iteration):

moe_runs: one row per (dataset, method, split): algorithm, irls_rate, learning_rate,
    n_experts, max_iter; n_train, n_test; n_correct (test rows classified right),
    test_accuracy (= n_correct / n_test), test_log_loss (mean -log p(y | x) on the test
    part, the probability clipped below at machine epsilon as scikit-learn's log_loss
    does); initial_objective and train_objective (the penalized log-likelihood at the
    initial and the final weights, summed over the training rows), iterations,
    converged (met its stopping rule), diverged (stopped on a non-finite objective),
    ever_decreased (the objective fell between two successive iterates, iteration 0,
    the initial weights, included, by more than DECREASE_RTOL x its previous |value|),
    n_decreases (how many times), largest_decrease (the largest such fall, in
    objective units; 0 when none) and first_decrease (the iteration it first fell to;
    0 when never); largest_weight (the largest |weight| of the gate and
    the experts at the end) and final_penalty (l2 / 2 x the squared weights, the part of
    the objective that is not the log-likelihood).
moe_summary: one row per (dataset, method): n_splits; accuracy_mean, accuracy_ci_low,
    accuracy_ci_high and log_loss_mean, log_loss_ci_low, log_loss_ci_high (Nadeau-Bengio
    corrected 95 % intervals over splits); ever_decreased (runs) and
    ever_decreased_share; largest_decrease_max; converged and diverged (runs);
    iterations_median, iterations_max, max_iter; objective_per_example_mean (final
    objective / n_train, averaged over splits).
moe_traces: the objective against iteration for every method on split 0 of every
    dataset (the figure's data): dataset, method, split, n_train, iteration (0 = the
    initial weights), objective, decreased (it fell from the previous iterate as above).

Timing tables (results/tables/timing/, wall clock, not reproducible):

moe_fit_times: dataset, method, split, fit_seconds, iterations, seconds_per_iteration.
    A method's runs on every split of a dataset train together, as one stack
    (emnn.models.batch.fit_together: one loop advances all the networks); fit_seconds
    is a run's share of its stack's wall time, in proportion to the iterations it
    made (an iteration of the stack costs about the same for each network in it), so
    seconds_per_iteration is the same for every run of a stack and fit_seconds sum
    to the stack's time.
moe_fit_summary: dataset, method, n_splits, fit_seconds_median, fit_seconds_total,
    seconds_per_iteration_median.

The paired comparisons of these tables, which only the report makes, live in
emnn.parts.moe.comparisons, so that changing a statistic never re-trains this stage.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ...core import records
from ...core.seeds import job_seeds
from ...core.stats import corrected_interval
from ...core.tidy import csv_text, is_true, read_table
from ...data.datasets import load_dataset
from ...data.splits import prepare, split_indices
from ...models.batch import fit_together, time_shares
from ...models.moe import MoEClassifier
from ...study.selection import select_params
from .contract import DECREASE_RTOL

TRACE_SPLITS = (0,)
EPS = np.finfo(np.float64).eps
log = logging.getLogger("emnn.moe")


def dataset_splits(data_spec: dict, root: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The main study's (train, test) rows of a dataset (`data_spec` as in a job spec)."""
    dataset = load_dataset(data_spec["name"], data_spec)
    seed = job_seeds(root, dataset.name, 0)["split"]["seed"]
    return split_indices(dataset.y, data_spec["splits"], seed)


def decreases(objective) -> tuple[bool, int, float, int]:
    """Whether, how often and by how much at most a sequence of objectives (iteration 0
    first) ever fell, and at which iteration it first did (0: never), which tells a fall
    the algorithm makes from one a cap could be blamed for."""
    values = np.asarray(objective, dtype=float)
    fall = _falls(values)
    counted = fall[fall > 0]
    first = int(np.flatnonzero(fall > 0)[0]) + 1 if counted.size else 0
    largest = float(counted.max()) if counted.size else 0.0
    return bool(counted.size), int(counted.size), largest, first


def _falls(values: np.ndarray) -> np.ndarray:
    """Per step, the fall of the objective when it counts (see DECREASE_RTOL), else 0."""
    if values.size < 2:
        return np.zeros(0)
    fall = values[:-1] - values[1:]
    return np.where(fall > DECREASE_RTOL * np.abs(values[:-1]), fall, 0.0)


def fit_one(params: dict, max_iter: int, seed: int, X_train, y_train, X_test, y_test, n_classes):
    """One fit: its row of moe_runs, its objective trace (iteration 0 first) and seconds."""
    (found,) = fit_splits(
        [params], max_iter, [seed], [(X_train, y_train, X_test, y_test)], n_classes
    )
    return found


def fit_splits(params: list[dict], max_iter: int, seeds, splits, n_classes) -> list[tuple]:
    """Fit one method on several splits, (X_train, y_train, X_test, y_test) each with its
    seed and its parameters, together (emnn.models.batch.fit_together): each run's row of
    moe_runs, its objective trace (iteration 0 first) and its share of the stack's seconds
    (in proportion to its iterations; see moe_fit_times)."""
    models = [
        MoEClassifier(**chosen, max_iter=max_iter, random_state=seed)
        for chosen, seed in zip(params, seeds, strict=True)
    ]
    initial: list[list[float]] = [[] for _ in models]
    spent: list[float] = []

    def monitor_of(k, X_train, y_train):
        def monitor(iteration, estimator):
            if iteration == 0:  # the initial weights: not timed
                entered = time.perf_counter()
                initial[k].append(estimator.log_likelihood(X_train, y_train) - estimator._penalty())
                spent.append(time.perf_counter() - entered)
            return False

        return monitor

    monitors = [monitor_of(k, X, y) for k, (X, y, _, _) in enumerate(splits)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # capped and diverged runs are flagged in the row
        started = time.perf_counter()
        fit_together(models, [(X, y) for X, y, _, _ in splits], monitors)
        seconds = time.perf_counter() - started - sum(spent)
    shares = time_shares(seconds, [model.n_iter_ for model in models])
    return [
        (*_outcome(model, start, y_train, X_test, y_test, n_classes), share)
        for model, start, (_, y_train, X_test, y_test), share in zip(
            models, initial, splits, shares, strict=True
        )
    ]


def _outcome(model, initial, y_train, X_test, y_test, n_classes) -> tuple[dict, np.ndarray]:
    """A fitted run's row of moe_runs (but its settings) and its objective trace."""
    trace = np.array(initial + list(model.history_["objective"]), dtype=float)
    proba = np.zeros((len(X_test), n_classes))
    proba[:, model.classes_] = model.predict_proba(X_test)
    chosen = np.clip(proba[np.arange(len(y_test)), y_test], EPS, 1.0)
    n_correct = int((proba.argmax(axis=1) == y_test).sum())
    ever, count, largest, first = decreases(trace)
    row = {
        "n_train": len(y_train),
        "n_test": len(y_test),
        "n_correct": n_correct,
        "test_accuracy": n_correct / len(y_test),
        "test_log_loss": float(-np.log(chosen).mean()),
        "initial_objective": float(trace[0]),
        "train_objective": float(trace[-1]),
        "iterations": int(model.n_iter_),
        "converged": bool(model.converged_),
        "diverged": bool(model.diverged_),
        "ever_decreased": ever,
        "n_decreases": count,
        "largest_decrease": largest,
        "first_decrease": first,
        # What a fall of 1e14 nats is made of: the weights' size and the penalty's share.
        "largest_weight": float(max(np.abs(w).max() for w in model._stacked())),
        "final_penalty": model._penalty(),
    }
    return row, trace


def chosen_params(part: dict, dataset: str, splits) -> list[dict]:
    """Each split's parameters: the part's, with its learning rate chosen by inner
    cross-validation on the split's training part where part["search"] asks (as the main
    study's SGD's: emnn.study.selection, the folds from the split's inner-CV seed)."""
    params, search = part["params"], part.get("search")
    if not search:
        return [params] * len(splits)

    def make(_model, candidate, seed):
        return MoEClassifier(**candidate, max_iter=part["max_iter"], random_state=seed)

    data = [
        (X_train, y_train, job_seeds(part["seed"], dataset, k))
        for k, (X_train, y_train, _, _) in enumerate(splits)
    ]
    log.info("%s: choosing %s's %s by inner cross-validation", dataset, part["method"],
             ", ".join(search["grid"]))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a capped candidate is scored as it stands
        chosen = select_params({"model": "moe", "params": params, **search}, data, make)
    return [found for found, _ in chosen]


def part_tables(part: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One method on the splits of one dataset (a job of its own, emnn.plan.Plan.moe_json):
    its rows of moe_runs, of moe_traces and of moe_fit_times. part = {"seed", "method",
    "params", "dataset" (a job spec's dataset), "max_iter", "n_splits"} and, to choose
    the learning rate by inner cross-validation, "search" ({"grid", "inner_folds"})."""
    root, data_spec, name, params = part["seed"], part["dataset"], part["method"], part["params"]
    dataset = load_dataset(data_spec["name"], data_spec)
    pairs = split_indices(
        dataset.y, data_spec["splits"], job_seeds(root, dataset.name, 0)["split"]["seed"]
    )
    splits, seeds = [], []
    for k, (train, test) in enumerate(pairs[: part["n_splits"]]):
        seeds.append(job_seeds(root, dataset.name, k)["init"]["seed"])
        X_train, X_test = prepare(dataset.X, train, test, data_spec["splits"]["standardize"])
        splits.append((X_train, dataset.y[train], X_test, dataset.y[test]))
    chosen = chosen_params(part, dataset.name, splits)
    log.info("%s: fitting %s on %d splits together", dataset.name, name, len(splits))
    found = fit_splits(chosen, part["max_iter"], seeds, splits, dataset.n_classes)
    rows, traces, timing = [], [], []
    for k, (row, trace, seconds) in enumerate(found):
        key = {"dataset": dataset.name, "method": name, "split": k}
        settings = {
            "algorithm": params["algorithm"],
            "irls_rate": params.get("irls_rate", np.nan),
            "learning_rate": chosen[k].get("learning_rate", np.nan),
            "n_experts": params["n_experts"],
            "max_iter": part["max_iter"],
        }
        rows.append({**key, **settings, **row})
        timing.append({**key, "fit_seconds": seconds, "iterations": row["iterations"]})
        if k in TRACE_SPLITS:
            fell = np.concatenate([[False], _falls(trace) > 0])
            steps = {"iteration": np.arange(trace.size), "objective": trace}
            traces.append(
                pd.DataFrame({**key, "n_train": row["n_train"], **steps, "decreased": fell})
            )
    return pd.DataFrame(rows), pd.concat(traces, ignore_index=True), pd.DataFrame(timing)


def merge(parts) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The stage's result and timing tables from its parts, (runs, traces, timing) each."""
    order = ["dataset", "method", "split"]
    runs = pd.concat([p[0] for p in parts]).sort_values(order, ignore_index=True)
    traces = pd.concat([p[1] for p in parts]).sort_values([*order, "iteration"], ignore_index=True)
    times = pd.concat([p[2] for p in parts]).sort_values(order, ignore_index=True)
    times["seconds_per_iteration"] = times["fit_seconds"] / times["iterations"].clip(lower=1)
    results = {"moe_runs": runs, "moe_summary": summarize(runs), "moe_traces": traces}
    timings = {"moe_fit_times": times, "moe_fit_summary": timing_summary(times)}
    return results, timings


def stage_tables(spec: dict) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Every part of a whole stage spec, {"seed", "methods": {name: params}, "datasets":
    [{"dataset", "max_iter", "n_splits"}]}, in one process (max_iter an int, or a
    mapping of method to int): the tables the workflow builds from its parallel jobs."""
    parts = []
    for entry in spec["datasets"]:
        for name, params in spec["methods"].items():
            cap = entry["max_iter"]
            if isinstance(cap, dict):
                cap = cap.get(name, spec.get("max_iter", 200))
            part = {"seed": spec["seed"], "method": name, "params": params, "max_iter": cap}
            part.update(dataset=entry["dataset"], n_splits=entry["n_splits"])
            if spec.get("search", {}).get(name):
                part["search"] = spec["search"][name]
            parts.append(part_tables(part))
    return merge(parts)


PART_FILES = ("runs", "traces", "timing")  # <part directory>/<name>.csv


def write_part(part: dict, out_dir) -> None:
    for name, frame in zip(PART_FILES, part_tables(part), strict=True):
        records.write_text(Path(out_dir) / f"{name}.csv", csv_text(frame))


def write_tables(part_dirs, out_dir, timing_dir) -> None:
    parts = [tuple(read_part(Path(d) / f"{name}.csv") for name in PART_FILES) for d in part_dirs]
    results, timings = merge(parts)
    for directory, frames in ((out_dir, results), (timing_dir, timings)):
        for name, frame in frames.items():
            records.write_text(Path(directory) / f"{name}.csv", csv_text(frame))


def read_part(path) -> pd.DataFrame:
    """A part's table as written, its booleans booleans again."""
    frame = read_table(path)
    for column in ("converged", "diverged", "ever_decreased", "decreased"):
        if column in frame:
            frame[column] = frame[column].map(is_true)
    return frame


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and method: test metrics with corrected intervals, and how training went."""
    lines = []
    for (dataset, method), group in runs.groupby(["dataset", "method"], sort=True):
        ratio = float((group["n_test"] / group["n_train"]).mean())
        line = {"dataset": dataset, "method": method, "n_splits": len(group)}
        for name, column, bounds in (
            ("accuracy", "test_accuracy", (0.0, 1.0)),
            ("log_loss", "test_log_loss", (0.0, np.inf)),
        ):
            mean, low, high = corrected_interval(group[column], ratio, bounds)
            line.update({f"{name}_mean": mean, f"{name}_ci_low": low, f"{name}_ci_high": high})
        line.update(
            ever_decreased=int(group["ever_decreased"].sum()),
            ever_decreased_share=float(group["ever_decreased"].mean()),
            largest_decrease_max=float(group["largest_decrease"].max()),
            converged=int(group["converged"].sum()),
            diverged=int(group["diverged"].sum()),
            iterations_median=float(group["iterations"].median()),
            iterations_max=int(group["iterations"].max()),
            max_iter=int(group["max_iter"].max()),
            objective_per_example_mean=float((group["train_objective"] / group["n_train"]).mean()),
        )
        lines.append(line)
    return pd.DataFrame(lines)


def timing_summary(times: pd.DataFrame) -> pd.DataFrame:
    return (
        times.groupby(["dataset", "method"], sort=True)
        .agg(
            n_splits=("split", "size"),
            fit_seconds_median=("fit_seconds", "median"),
            fit_seconds_total=("fit_seconds", "sum"),
            seconds_per_iteration_median=("seconds_per_iteration", "median"),
        )
        .reset_index()
    )
