"""The ablation table's rows, and runs of a row on the original split or a paired one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from ...core.seeds import stream_seed
from ...data.datasets import load_dataset
from ...data.splits import original_split
from .backprop import BACKPROP_DEFECTS, originating_backprop
from .common import (
    BACKPROP_EPOCHS,
    CONVERGED_CAP,
    CONVERGED_TOL,
    EM_ITERATIONS,
    ORIGINAL_SPLIT,
    OriginatingNetwork,
    training_order,
)
from .contract import REPORTED_CORRECT
from .em import EM_DEFECTS, originating_em


@dataclass(frozen=True)
class AblationRow:
    key: str
    name: str  # as the paper prints it
    model: str  # "em" or "backprop"
    defects: frozenset
    removed: str | None  # the defect this row removes, "all", or None (bug-compatible)
    # "originating": the notebook's fixed count of iterations or epochs; "converged": until
    # the training objective settles (common.CONVERGED_TOL), one rule for both.
    budget: str = "originating"

    @property
    def cap(self) -> int:
        """The most iterations (EM) or epochs (back-propagation) the row may run."""
        if self.budget == "converged":
            return CONVERGED_CAP
        return EM_ITERATIONS if self.model == "em" else BACKPROP_EPOCHS


def _rows(model, all_defects, first, rest, corrected, converged):
    rows = [AblationRow(f"{model}-bug-compatible", first, model, frozenset(all_defects), None)]
    for defect, (suffix, label) in rest.items():
        name = f"{first}, {label}"
        rows.append(
            AblationRow(f"{model}-{suffix}", name, model, frozenset(all_defects) - {defect}, defect)
        )
    rows.append(AblationRow(f"{model}-corrected", corrected, model, frozenset(), "all"))
    rows.append(
        AblationRow(f"{model}-converged", converged, model, frozenset(), "all", "converged")
    )
    return rows


ABLATION_ROWS = tuple(
    _rows(
        "em", EM_DEFECTS, "originating EM, bug-compatible",
        {
            "frozen_output": ("output-trained", "with output layer trained"),
            "no_biases": ("biases", "with biases"),
            "raw_features": ("standardized", "standardized"),
            "mean_field_prediction": ("exact-prediction", "exact prediction"),
            "gradient_mstep": ("newton-mstep", "Newton M-step"),
        },
        "originating EM settings, corrected: all defects removed",
        "originating EM settings, corrected, trained to convergence",
    )
    + _rows(
        "backprop", BACKPROP_DEFECTS, "originating back-propagation, bug-compatible",
        {
            "doubled_derivative": ("correct-derivative", "correct derivative"),
            "b1_gradient_times_p": ("b1-gradient-correct", "b1 gradient correct"),
            "raw_features": ("standardized", "standardized"),
        },
        "originating back-propagation settings, corrected: all defects removed",
        "originating back-propagation settings, corrected, trained to convergence",
    )
)  # fmt: skip


def ablation_row(key: str) -> AblationRow:
    for row in ABLATION_ROWS:
        if row.key == key:
            return row
    raise ValueError(
        f"unknown ablation row {key!r}; choose one of {[r.key for r in ABLATION_ROWS]}"
    )


def fit_row(row: AblationRow | str, X_train, y_train, init="original") -> OriginatingNetwork:
    row = ablation_row(row) if isinstance(row, str) else row
    fit = originating_em if row.model == "em" else originating_backprop
    tol = CONVERGED_TOL if row.budget == "converged" else None
    return fit(X_train, y_train, row.defects, init, row.cap, tol=tol)


@dataclass(frozen=True)
class RowResult:
    key: str
    n_correct: int
    n_test: int
    n_train: int
    # Mean cross-entropy of the training rows after the last iteration or epoch, under the
    # row's own predictor: log(3) is the uniform prediction of Iris's three classes.
    train_cross_entropy: float
    train_correct: int  # training rows the final network classifies right
    n_steps: int  # iterations (EM) or epochs (back-propagation) run
    cap: int  # the most the row may run: n_steps < cap means its stopping rule was met

    @property
    def accuracy(self) -> float:
        return self.n_correct / self.n_test


def iris():
    """Iris as the study loads it (scikit-learn's copy): X (150 x 4), y."""
    data = load_dataset("iris", {})
    return data.X, data.y


def original_split_order() -> tuple[np.ndarray, np.ndarray]:
    """The originating split's rows in train_test_split's order (the order SGD visits them).

    The packaged split (emnn/data/iris_seed_split.json) holds the same rows, sorted.
    """
    train, test = train_test_split(np.arange(150), **ORIGINAL_SPLIT)
    packaged_train, packaged_test = original_split()
    if not (
        np.array_equal(np.sort(train), packaged_train)
        and np.array_equal(np.sort(test), packaged_test)
    ):
        raise RuntimeError(
            "train_test_split(test_size=0.2, random_state=1017) no longer gives the "
            "packaged original Iris split"
        )
    return train, test


def run_original(row: AblationRow | str) -> RowResult:
    """A row on Iris's original split, rows in the originating order, the originating init."""
    X, y = iris()
    train, test = original_split_order()
    row = ablation_row(row) if isinstance(row, str) else row
    net = fit_row(row, X[train], y[train])
    return outcome(row, net, X, y, train, test)


def outcome(row: AblationRow, net, X, y, train, test) -> RowResult:
    """A trained row's test and training results, and its final training loss."""
    return RowResult(
        row.key, net.n_correct(X[test], y[test]), len(test), len(train),
        float(net.history_["cross_entropy"][-1]), net.n_correct(X[train], y[train]),
        net.n_steps, row.cap,
    )  # fmt: skip


def run_paired(row: AblationRow | str, X, y, train, test, seed) -> RowResult:
    """A row on one paired split: random_init(seed), training rows in training_order(seed).

    train and test are row indices (emnn.data.splits.split_indices gives them sorted;
    the fixed random order stands in for train_test_split's shuffled one). The
    same seed gives EM and back-propagation rows the same initial weights.
    """
    row = ablation_row(row) if isinstance(row, str) else row
    X, y = np.asarray(X), np.asarray(y)
    train = np.asarray(train)[training_order(seed, len(train))]
    net = fit_row(row, X[train], y[train], init=seed)
    return outcome(row, net, X, y, train, test)


def init_distribution(n_draws=200, root=0, row="em-bug-compatible") -> np.ndarray:
    """Correct test predictions (of 30) of a row on the original split over n_draws random inits.

    Draw k starts from random_init(stream_seed(root, (k,))); the split and the
    data order are the originating ones.
    """
    X, y = iris()
    train, test = original_split_order()
    row = ablation_row(row) if isinstance(row, str) else row
    counts = [
        fit_row(row, X[train], y[train], init=stream_seed(root, (k,))).n_correct(X[test], y[test])
        for k in range(n_draws)
    ]
    return np.array(counts, dtype=np.int64)


def summarize_distribution(counts, n_test=30, reported=REPORTED_CORRECT["em"]) -> dict:
    """Median, quartiles (as accuracies) and the share of draws reaching the reported count."""
    accuracy = np.asarray(counts) / n_test
    q1, median, q3 = np.percentile(accuracy, [25, 50, 75])
    return {
        "n_draws": len(accuracy),
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "share_reaching_reported": float(np.mean(np.asarray(counts) >= reported)),
    }
