"""Benchmark of exact EM: `python -m emnn.bench` prints every figure it measures.

For n = 120 (Iris, training part) and n = 455 (breast cancer, training part) and
each m it times one E-step and one Newton M-step of EMMLPClassifier, and sets
two ratios beside them, measured in the same run:

* naive / vectorized E-step, where the naive E-step is plain Python looping
  over examples and configurations (emnn.models.naive; one enumeration per
  E-step, whereas the originating code enumerated m(g+1) times);
* vectorized E-step / floor, where the floor is np.exp over an n x 2^m float64
  array plus the two matrix products of the E-step with the configuration
  matrix Z (A Z^T, n x m by m x 2^m, and R Z, n x 2^m by 2^m x m).

It then reports the peak memory of one exact EM iteration at m = 20, n = 150
(tracemalloc, which sees NumPy's buffers), and the iterations each M-step
variant needs on standardized Iris (m = 7) to come within 1e-4 (relative) of
its own final objective.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .estep_cost import best_time, initial_model, iteration_times
from .models import EMMLPClassifier, estep, naive
from .models._common import one_hot, with_ones

SIZES = {120: load_iris, 455: load_breast_cancer}
HIDDEN = (4, 7, 8, 10, 12, 14, 16)
NAIVE_MAX_HIDDEN = 8


def training_part(n_rows: int):
    """The standardized training part of the dataset whose 80 % split has n_rows rows."""
    X, y = SIZES[n_rows](return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, train_size=n_rows, stratify=y, random_state=0)
    return StandardScaler().fit_transform(X_train), y_train


def fitted_model(X, y, n_hidden, iterations=2):
    """A model a few Newton-EM iterations in, so the weights are not the initial ones."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return EMMLPClassifier(n_hidden=n_hidden, max_iter=iterations, random_state=0).fit(X, y)


def floor_time(A, n_hidden, repeats):
    """np.exp over n x 2^m plus A Z^T and R Z: work no exact E-step can skip."""
    Z = estep.configurations(n_hidden)
    L = np.empty((len(A), len(Z)))

    def floor():
        np.matmul(A, Z.T, out=L)
        np.exp(L, out=L)
        return L @ Z

    return best_time(floor, repeats)


def step_timings(n_rows: int, n_hidden: int, repeats: int) -> dict:
    X, y = training_part(n_rows)
    model = fitted_model(X, y, n_hidden)
    y_index = np.searchsorted(model.classes_, y)
    row = {"n": n_rows, "m": n_hidden, **iteration_times(X, y_index, n_hidden, repeats, model)}
    row["e_step"], row["m_step"] = row.pop("e_step_seconds"), row.pop("m_step_seconds")
    Y = one_hot(y_index, model.classes_.size)
    weights = (model.coefs_, model.intercepts_)
    (W, V), (b, c) = weights
    A = X @ W + b
    row["floor"] = floor_time(A, n_hidden, repeats)
    if n_hidden <= NAIVE_MAX_HIDDEN:
        labels = Y.argmax(axis=1)
        start = time.perf_counter()
        ll, means, counts = naive.e_step(A, labels, V, c)
        row["naive"] = time.perf_counter() - start
        fast = estep.e_step(A, Y, estep.output_log_table(V, c))
        row["naive_max_abs_diff"] = max(
            np.abs(fast.row_log_likelihood - ll).max(),
            np.abs(fast.hidden_means - means).max(),
            np.abs(fast.class_counts - counts).max(),
        )
    return row


def peak_memory(n_hidden=20) -> tuple[float, float, float]:
    """Peak traced MiB, and seconds, of one E-step plus one Newton M-step on Iris (n = 150)."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = initial_model(X.shape[1], n_hidden, 3)
    Xt, Y = with_ones(X), one_hot(y, 3)
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    post = model._e_step(Xt, Y)
    e_seconds = time.perf_counter() - start
    model._m_step(Xt, post)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, e_seconds, seconds - e_seconds


def iterations_to_converge(m_step: str, max_iter: int, rel=1e-4) -> tuple[int, int, bool, float]:
    """Iterations after which the objective stays within rel of its final value.

    Each run goes on until the objective changes by less than 1e-10 (relative)
    between iterations, so "final" means converged, not cut off (the report
    says when the cap was hit instead).
    """
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = EMMLPClassifier(n_hidden=7, m_step=m_step, max_iter=max_iter, tol=1e-10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    objective = np.array(model.history_["objective"])
    final = objective[-1]
    outside = np.flatnonzero(np.abs(objective - final) > rel * abs(final))
    needed = int(outside[-1]) + 2 if outside.size else 1
    return needed, model.n_iter_, model.converged_, final


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m emnn.bench", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per figure (best kept)")
    parser.add_argument("--max-hidden", type=int, default=max(HIDDEN), help="largest m to time")
    parser.add_argument("--quick", action="store_true", help="skip the m = 20 and Iris parts")
    args = parser.parse_args(argv)

    with threadpool_limits(limits=1):
        print("exact EM, one BLAS thread; times are the best of up to", args.repeats, "calls")
        print(
            f"{'n':>4} {'m':>3} {'E-step ms':>10} {'M-step ms':>10} {'floor ms':>9} "
            f"{'E/floor':>8} {'naive ms':>10} {'naive/E':>9} {'max |diff|':>11}"
        )
        for n_rows in SIZES:
            for n_hidden in (m for m in HIDDEN if m <= args.max_hidden):
                row = step_timings(n_rows, n_hidden, args.repeats)
                naive_part = (
                    f"{1e3 * row['naive']:10.1f} {row['naive'] / row['e_step']:9.0f} "
                    f"{row['naive_max_abs_diff']:11.1e}"
                    if "naive" in row
                    else f"{'-':>10} {'-':>9} {'-':>11}"
                )
                print(
                    f"{n_rows:4d} {n_hidden:3d} {1e3 * row['e_step']:10.3f} "
                    f"{1e3 * row['m_step']:10.3f} {1e3 * row['floor']:9.3f} "
                    f"{row['e_step'] / row['floor']:8.2f} {naive_part}",
                    flush=True,
                )
        print("targets: naive/E >= 1000 at m = 8; E/floor <= 3 for m >= 12")
        if args.quick:
            return
        peak, e_seconds, m_seconds = peak_memory()
        print(
            f"\npeak memory of one EM iteration, m = 20, n = 150: {peak:.0f} MiB "
            f"(E-step {e_seconds:.1f} s, M-step {m_seconds:.1f} s); target < 512 MiB"
        )
        defaults = EMMLPClassifier()
        print(
            "\niterations to within 1e-4 (relative) of the final objective, standardized Iris, "
            f"m = 7, l2 = {defaults.l2}, gradient learning rate {defaults.learning_rate}:"
        )
        newton = iterations_to_converge("newton", max_iter=20_000)
        gradient = iterations_to_converge("gradient", max_iter=200_000)
        for name, (needed, ran, converged, final) in (("newton", newton), ("gradient", gradient)):
            state = "converged" if converged else "hit the iteration cap"
            print(
                f"  {name:8s} {needed:6d} iterations "
                f"(ran {ran}, {state}, final objective {final:.4f})"
            )
        print(f"  gradient / newton = {gradient[0] / newton[0]:.1f}; target >= 10")


if __name__ == "__main__":
    main()
