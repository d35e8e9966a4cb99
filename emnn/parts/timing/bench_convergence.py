"""Benchmark of time to convergence of every trainer of the exact likelihood.

Part of `python -m emnn.parts.timing.bench` (or alone: `python -m emnn.parts.timing.bench
--convergence-only`).
The trainers run on standardized Iris and breast_cancer (m = 7, l2 = 0.1, five stratified 80/20
splits, the training part only, initial weights of random_state = split):
plain Newton-EM (solved M-step, no acceleration), GEM (one Newton step per
M-step, the default), SQUAREM-EM (on the default GEM map), L-BFGS, and EM with
the gradient M-step. For each split the best objective is the highest any of
them reached; the table gives the median E-steps and wall time each needed to
come within 1e-6 (relative) of it. L-BFGS and SQUAREM-EM run to their own
convergence first (they set the bar); the others stop once they reach it, at
their iteration cap, or when they converge (relative change 1e-12) elsewhere.
A run that hit its cap first counts with what it spent, a lower bound; one
that converged to a lower optimum never gets there and counts as infinite. A
median that depends on a lower bound is printed as one, with ">="; "never"
means most runs converged elsewhere. Speed-ups are against plain Newton-EM.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import StandardScaler

from ...models import EMMLPClassifier, LBFGSMLPClassifier

CONVERGENCE_DATA = {"Iris": load_iris, "breast_cancer": load_breast_cancer}
N_SPLITS = 5
WITHIN = 1e-6  # relative distance to the best objective that counts as converged
EM_TOL = 1e-12  # relative change at which a run that stalls elsewhere stops

# Iteration caps per dataset, so that the section takes a few minutes on two
# cores: plain Newton-EM needs about 2,000 iterations on Iris but 5,000-17,000
# on breast_cancer, where it is capped (and its figure is a lower bound).
CAPS = {
    "Iris": {"newton": 20_000, "gem": 20_000, "squarem": 5_000, "lbfgs": 5_000, "gradient": 3_000},
    "breast_cancer": {
        "newton": 3_000, "gem": 3_000, "squarem": 750, "lbfgs": 5_000, "gradient": 3_000,
    },
}  # fmt: skip

TRAINERS = {
    "newton": "plain Newton-EM (solved M-step)",
    "gem": "GEM (1 Newton step, default)",
    "squarem": "SQUAREM-EM (on the GEM map)",
    "lbfgs": "L-BFGS",
    "gradient": "EM, gradient M-step",
}


def trainer(key: str, cap: int, seed: int):
    common = {"n_hidden": 7, "l2": 0.1, "max_iter": cap, "random_state": seed}
    if key == "lbfgs":
        return LBFGSMLPClassifier(tol=1e-8, **common)
    settings = {
        "newton": {"newton_steps": None},
        "gem": {"newton_steps": 1},
        "squarem": {"newton_steps": 1, "acceleration": "squarem", "tol": 1e-10},
        "gradient": {"m_step": "gradient"},
    }[key]
    return EMMLPClassifier(**{"tol": EM_TOL, **common, **settings})


def trajectory(model, X, y, stop_at=np.inf) -> tuple[np.ndarray, str]:
    """Rows (seconds, E-steps, objective) after each iteration, and why the fit stopped:
    "bar" (it reached stop_at), "cap" (max_iter) or "own" (its own convergence test).

    Seconds run from the call of fit and leave out the time spent recording.
    """
    rows, spent, reached = [], [0.0], []

    def monitor(iteration, estimator):
        entered = time.perf_counter()
        if iteration == 0:
            return False
        objective = estimator.history_["objective"][-1]
        rows.append((entered - started - spent[0], estimator.n_estep_, objective))
        spent[0] += time.perf_counter() - entered
        if objective >= stop_at:
            reached.append(iteration)
            return True
        return False

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        model.fit(X, y, monitor=monitor)
    reason = "bar" if reached else "cap" if model.n_iter_ >= model.max_iter else "own"
    return np.array(rows), reason


def split_runs(X, y, caps: dict, seed: int) -> dict:
    """Trajectories (and stop reasons) of every trainer on one training part."""
    runs = {key: trajectory(trainer(key, caps[key], seed), X, y) for key in ("lbfgs", "squarem")}
    bar = max(run[:, 2].max() for run, _ in runs.values())
    stop_at = bar - WITHIN * abs(bar)
    for key in ("newton", "gem", "gradient"):
        runs[key] = trajectory(trainer(key, caps[key], seed), X, y, stop_at)
    return {key: runs[key] for key in TRAINERS}


def cost_to_reach(run: np.ndarray, reason: str, best: float) -> dict:
    """E-steps and seconds at the first iterate within WITHIN of best.

    A run that never got there costs infinity if it stopped by its own
    convergence test (it never will), else at least what it spent. gap is the
    relative shortfall of the run's best objective.
    """
    hits = np.flatnonzero(run[:, 2] >= best - WITHIN * abs(best))
    if hits.size:
        kind, row = "exact", run[hits[0]]
    else:
        kind, row = ("never" if reason == "own" else "lower"), run[-1]
    gap = (best - run[:, 2].max()) / abs(best)
    return {"e_steps": float(row[1]), "seconds": float(row[0]), "kind": kind, "gap": gap}


def median_of(costs: list[dict], field: str) -> tuple[float, bool]:
    """The median of field and whether it is exact; else it is a lower bound.

    Lower bounds sit at what the run spent, runs that never get there at
    infinity; the median is exact when it is the same with the bounds at infinity.
    """
    low = [np.inf if c["kind"] == "never" else c[field] for c in costs]
    high = [c[field] if c["kind"] == "exact" else np.inf for c in costs]
    low_median, high_median = float(np.median(low)), float(np.median(high))
    return low_median, low_median == high_median


def convergence_table(name: str) -> dict:
    """Per trainer: median E-steps and seconds to the best objective, splits that got there."""
    X_all, y_all = CONVERGENCE_DATA[name](return_X_y=True)
    splitter = StratifiedShuffleSplit(n_splits=N_SPLITS, test_size=0.2, random_state=0)
    costs = {key: [] for key in TRAINERS}
    for seed, (train, _) in enumerate(splitter.split(X_all, y_all)):
        X = StandardScaler().fit_transform(X_all[train])
        runs = split_runs(X, y_all[train], CAPS[name], seed)
        best = max(run[:, 2].max() for run, _ in runs.values())
        for key, (run, reason) in runs.items():
            costs[key].append(cost_to_reach(run, reason, best))
    table = {}
    for key, rows in costs.items():
        e_steps, e_exact = median_of(rows, "e_steps")
        seconds, s_exact = median_of(rows, "seconds")
        table[key] = {
            "e_steps": (e_steps, e_exact),
            "seconds": (seconds, s_exact),
            "reached": sum(c["kind"] == "exact" for c in rows),
            "gap": float(np.median([c["gap"] for c in rows])),
        }
    return table


def _median_text(median: tuple[float, bool], fmt: str) -> str:
    value, exact = median
    if np.isinf(value):
        return "never"
    return ("" if exact else ">=") + format(value, fmt)


def _speedup(base: tuple[float, bool], row: tuple[float, bool]) -> tuple[float, str, bool]:
    """base / row as text, and whether it is known to be at least its value."""
    (b, b_exact), (r, r_exact) = base, row
    if np.isinf(r) or np.isinf(b):
        return 0.0, "-", False
    ratio = b / r
    if b_exact and r_exact:
        return ratio, f"{ratio:.1f}x", True
    if r_exact:
        return ratio, f">={ratio:.1f}x", True
    if b_exact:
        return ratio, f"<={ratio:.1f}x", False
    return ratio, "?", False


def print_convergence(table: dict, name: str) -> None:
    cap = CAPS[name]
    print(
        f"\n{name}: median over {N_SPLITS} splits of the cost to come within {WITHIN:g} "
        "(relative) of the best objective any trainer found on the split"
    )
    print(
        f"  {'trainer':33s} {'E-steps':>8} {'seconds':>9} {'E-steps x':>10} {'time x':>8} "
        f"{'reached':>8} {'gap':>8} {'cap':>6}"
    )
    base = table["newton"]
    for key, label in TRAINERS.items():
        row = table[key]
        e_ratio = _speedup(base["e_steps"], row["e_steps"])[1]
        t_ratio = _speedup(base["seconds"], row["seconds"])[1]
        print(
            f"  {label:33s} {_median_text(row['e_steps'], '.0f'):>8} "
            f"{_median_text(row['seconds'], '.3f'):>9} {e_ratio:>10} {t_ratio:>8} "
            f"{row['reached']:>6}/{N_SPLITS} {row['gap']:8.1e} {cap[key]:>6}"
        )
    print(
        "  x: speed-up over plain Newton-EM; reached: splits on which the trainer got there; "
        "gap: median relative shortfall\n  of its best objective; cap: iterations (SQUAREM "
        "cycles); >=: a lower bound, some runs hit their cap first"
    )


def print_convergence_targets(table: dict) -> None:
    base = table["newton"]

    def speedups(key):
        return _speedup(base["e_steps"], table[key]["e_steps"]), _speedup(
            base["seconds"], table[key]["seconds"]
        )

    others = [key for key in TRAINERS if key != "newton"]
    fastest = max(others, key=lambda k: speedups(k)[1][0] if speedups(k)[1][2] else 0.0)
    for label, key, goal in (
        (f"the fastest exact-likelihood trainer ({TRAINERS[fastest]})", fastest, 30),
        ("SQUAREM-EM", "squarem", 3),
    ):
        (e_value, e_text, e_known), (t_value, t_text, t_known) = speedups(key)
        verdicts = [
            f"{what} {text}: {'met' if known and value >= goal else 'NOT met'}"
            for what, value, text, known in (
                ("E-steps", e_value, e_text, e_known),
                ("time", t_value, t_text, t_known),
            )
        ]
        print(
            f"target on Iris: {label} >= {goal}x faster than plain Newton-EM; "
            + "; ".join(verdicts)
        )


def convergence_section() -> None:
    print(
        f"\ntime to convergence of the exact-likelihood trainers, m = 7, l2 = 0.1, standardized "
        f"training parts of {N_SPLITS} stratified 80/20 splits; this machine has "
        f"{os.cpu_count()} cores, timings use one BLAS thread and the trainers run one after "
        "another in this process",
        flush=True,
    )
    tables = {}
    for name in CONVERGENCE_DATA:
        started = time.perf_counter()
        tables[name] = convergence_table(name)
        print_convergence(tables[name], name)
        print(f"  ({time.perf_counter() - started:.0f} s for this dataset)", flush=True)
    print_convergence_targets(tables["Iris"])
