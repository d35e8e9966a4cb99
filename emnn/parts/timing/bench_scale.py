"""Benchmark of the approximate E-steps at scale: m = 64 on digits.

Part of `python -m emnn.parts.timing.bench` (or alone: `python -m emnn.parts.timing.bench
--scale-only`).
Digits: the stratified 80 % training part (1,437 rows, 64 features, 10
classes), standardized on it; the other 360 rows are the test part. One BLAS
thread.

* Cost of one EM iteration (M-step then E-step, after the first few, median of
  ITERATIONS) against m for the exact, variational and Monte-Carlo E-steps;
  the exact one up to EXACT_MAX_HIDDEN.
* At m = 64: one approximate iteration (target < 1 s) and its peak traced
  memory (tracemalloc, target < 1 GiB); full fits (target: converged in
  under 2 minutes) of variational EM, plain and with SQUAREM, and of
  Monte-Carlo EM, each stopped after FIT_BUDGET seconds, with their
  iterations, test accuracy and the time of one Monte-Carlo predict_proba of
  the test part.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ...models import EMMLPClassifier
from ...models.em import TRAINING_OBJECTIVE
from ...models.montecarlo import PREDICT_SAMPLES
from .estep_cost import warm_model

SCALE_HIDDEN = 64
TRAIN_ROWS = 1437
HIDDEN = (4, 8, 12, 16, 24, 32, 48, 64)
EXACT_MAX_HIDDEN = 16
ITERATIONS = 5
TARGETS = {"iteration_seconds": 1.0, "peak_mib": 1024, "fit_seconds": 120}
E_STEPS = ("variational", "monte-carlo")
FIT_BUDGET = 150  # seconds a full fit may run before it is stopped
LOOSE_TOL = 1e-4
FITS = (
    ("variational EM", "variational", {}),
    ("variational EM + SQUAREM", "variational", {"acceleration": "squarem"}),
    ("Monte-Carlo EM", "monte-carlo", {}),
)


def digits_parts():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=TRAIN_ROWS, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def started_model(e_step, X, y, n_hidden):
    """A model after one EM iteration (so the variational E-step is warm), its
    design matrix, targets and last E-step (the study's timing stage's own)."""
    return warm_model(e_step, X, y, n_hidden)


def iteration_seconds(e_step, X, y, n_hidden, iterations=ITERATIONS) -> float:
    """Median seconds of one EM iteration (M-step, then E-step)."""
    model, Xt, Y, post = started_model(e_step, X, y, n_hidden)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        post, _ = model._em_map(Xt, Y, post)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def iteration_peak_mib(e_step, X, y, n_hidden) -> float:
    """Peak traced MiB of one EM iteration, the data and model already in memory."""
    model, Xt, Y, post = started_model(e_step, X, y, n_hidden)
    gc.collect()
    tracemalloc.start()
    model._em_map(Xt, Y, post)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def full_fit(e_step, X, y, X_test, y_test, budget=FIT_BUDGET, **params) -> dict:
    """Fit at m = 64 with the model's default tol (1e-6), stopped after `budget` seconds.

    Also reports when the relative change of the training objective first fell to
    LOOSE_TOL (for Monte Carlo, whose estimate is noisy, its own plateau rule only).
    """
    model = EMMLPClassifier(
        n_hidden=SCALE_HIDDEN, e_step=e_step, max_iter=100_000, random_state=0, **params
    )
    stamps = []

    def monitor(iteration, estimator):
        stamps.append(time.perf_counter() - start)
        return stamps[-1] > budget

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, monitor=monitor)
    seconds = time.perf_counter() - start
    trace = np.array(model.history_[TRAINING_OBJECTIVE[e_step]])
    change = np.abs(np.diff(trace)) / np.abs(trace[:-1])
    loose = np.flatnonzero(change <= LOOSE_TOL)
    start = time.perf_counter()
    proba = model.predict_proba(X_test)
    predict_seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "iterations": model.n_iter_,
        "converged": model.converged_,
        "last_change": float(change[-1]) if change.size else np.nan,
        "loose_seconds": float(stamps[loose[0] + 2]) if loose.size else None,
        "test_accuracy": float((model.classes_[proba.argmax(axis=1)] == y_test).mean()),
        "mean_field_accuracy": float((model.predict(X_test, method="mean-field") == y_test).mean()),
        "predict_seconds": predict_seconds,
    }


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def scale_section() -> None:
    X, y, X_test, y_test = digits_parts()
    print(
        f"\napproximate E-steps on digits ({len(X)} training rows, {X.shape[1]} features, "
        f"10 classes, standardized), one BLAS thread on this {os.cpu_count()}-core machine; "
        f"Monte Carlo with n_samples = {EMMLPClassifier().n_samples} per example",
        flush=True,
    )
    print("seconds per EM iteration (M-step + E-step, median of 5) against m:")
    print(f"  {'m':>3} {'exact':>9} {'variational':>12} {'monte-carlo':>12}")
    for m in HIDDEN:
        exact = iteration_seconds("exact", X, y, m) if m <= EXACT_MAX_HIDDEN else None
        approx = [iteration_seconds(e, X, y, m) for e in E_STEPS]
        exact_text = f"{exact:9.3f}" if exact is not None else f"{'-':>9}"
        print(f"  {m:3d} {exact_text} {approx[0]:12.3f} {approx[1]:12.3f}", flush=True)
    m = SCALE_HIDDEN
    limit, mib = TARGETS["iteration_seconds"], TARGETS["peak_mib"]
    for e_step in E_STEPS:
        seconds = iteration_seconds(e_step, X, y, m)
        peak = iteration_peak_mib(e_step, X, y, m)
        print(
            f"{e_step}, m = {m}: one iteration {seconds:.3f} s (target < {limit:g} s: "
            f"{verdict(seconds < limit)}), peak memory {peak:.0f} MiB (target < {mib} MiB: "
            f"{verdict(peak < mib)})",
            flush=True,
        )
    fit_limit = TARGETS["fit_seconds"]
    print(
        f"full fits at m = {m} (default tol = 1e-6; each stopped after {FIT_BUDGET} s), "
        f"target: converged in under {fit_limit} s:"
    )
    for label, e_step, params in FITS:
        fit = full_fit(e_step, X, y, X_test, y_test, **params)
        state = (
            "converged"
            if fit["converged"]
            else f"not converged, last relative change {fit['last_change']:.1e}"
        )
        loose = (
            ""
            if e_step == "monte-carlo"
            else "; relative change first <= {:g} after {}".format(
                LOOSE_TOL,
                "never" if fit["loose_seconds"] is None else f"{fit['loose_seconds']:.1f} s",
            )
        )
        print(
            f"  {label}: {fit['seconds']:.1f} s, {fit['iterations']} iterations, {state}: "
            f"{verdict(fit['converged'] and fit['seconds'] < fit_limit)}{loose}; test accuracy "
            f"{fit['test_accuracy']:.3f} (Monte Carlo, {PREDICT_SAMPLES} samples, "
            f"{fit['predict_seconds']:.2f} s for {len(X_test)} rows), "
            f"{fit['mean_field_accuracy']:.3f} (mean-field)",
            flush=True,
        )
