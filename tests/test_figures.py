"""The figures of the fair comparison, drawn from small hand-made tables.

What a referee checks by eye is checked here: exact-likelihood and
back-propagation trainers never share an axis, the suboptimality figure keeps
its zeros visible on a log scale, and the cross-scoring figure marks the
teacher's floor.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from emnn import figures
from emnn.layout import TABLES

METHODS = ["em", "lbfgs", "sgd"]
OBJECTIVE = {"em": "exact", "lbfgs": "exact", "sgd": "mean-field"}
STUDY = {
    "main": {"datasets": ["iris", "teacher"], "methods": METHODS, "baseline": "sgd"},
    "n_hidden": dict.fromkeys(METHODS, 3),
    "labels": {"em": "EM", "lbfgs": "L-BFGS", "sgd": "SGD"},
    "seed": 1,
}


def curves() -> pd.DataFrame:
    rows = []
    for dataset in STUDY["main"]["datasets"]:
        for method in METHODS:
            for value in ("train_loss", "train_accuracy", "test_accuracy", "test_log_loss"):
                for iteration in range(6):
                    level = 1.0 / (1 + iteration)
                    rows.append(
                        (dataset, method, value, iteration, level, 1.1 * level, 1.2 * level)
                    )
    return pd.DataFrame(rows, columns=["dataset", "method", "value", "iteration", "q25",
                                       "median", "q75"])  # fmt: skip


def convergence() -> pd.DataFrame:
    return pd.DataFrame(
        [(d, m, OBJECTIVE[m]) for d in STUDY["main"]["datasets"] for m in METHODS],
        columns=["dataset", "method", "objective"],
    )


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_every_figure_has_its_tables():
    names = figures.figure_names(STUDY)
    assert {"suboptimality", "cross-scoring", "learning-iris", "paired-accuracy"} <= set(names)
    for name in names:
        assert all(path.startswith(TABLES) for path in figures.inputs(name))
    assert figures.inputs("learning-iris") == [f"{TABLES}/curves.csv", f"{TABLES}/convergence.csv"]


def test_learning_curves_never_put_two_objectives_on_one_axis():
    fig, title, caption = figures.learning_curves(curves(), convergence(), STUDY, "iris")
    loss_axes = [a for a in fig.axes if "penalized loss" in a.get_ylabel()]
    assert len(loss_axes) == 2
    for axis in fig.axes:
        drawn = {line.get_label() for line in axis.get_lines()}
        kinds = {OBJECTIVE[m] for m, label in STUDY["labels"].items() if label in drawn}
        assert len(kinds) == 1, (axis.get_ylabel(), drawn)
    exact = next(a for a in loss_axes if "exact" in a.get_ylabel())
    assert {line.get_label() for line in exact.get_lines()} == {"EM", "L-BFGS"}
    labels = {panel.get_supxlabel() for panel in fig.subfigs}
    assert labels == {figures.STEP_LABELS["exact"], figures.STEP_LABELS["mean-field"]}
    assert "never share an axis" in caption and title == "Learning curves on iris"


def test_learning_curves_with_one_kind_of_trainer_have_one_row():
    exact_only = convergence()[lambda t: t["objective"] == "exact"]
    fig, _, _ = figures.learning_curves(curves(), exact_only, STUDY, "iris")
    assert len(fig.subfigs) == 1 and len(fig.axes) == 2


def test_suboptimality_draws_zeros_on_a_labelled_floor():
    grid = np.array([1, 2, 4, 8])
    table = pd.DataFrame(
        [("iris", m, n, q, q, q) for m in ("em", "lbfgs") for n, q in zip(
            grid, [1.0, 0.1, 1e-4, 0.0] if m == "lbfgs" else [1.0, 0.5, 0.2, 0.1], strict=True)]
        + [("teacher", "em", n, 0.3, 0.4, 0.5) for n in grid],
        columns=["dataset", "method", "n_estep", "q25", "median", "q75"],
    )  # fmt: skip
    fig, title, caption = figures.suboptimality(table, STUDY)
    panels = [a for a in fig.axes if a.get_title()]
    assert [a.get_title() for a in panels] == ["iris", "teacher"]
    for axis in panels:
        assert axis.get_xscale() == "log" and axis.get_yscale() == "log"
        assert axis.get_xlabel() == "E-step evaluations"
    lbfgs = next(line for line in panels[0].get_lines() if line.get_label() == "L-BFGS")
    # Zero sits on the floor a decade below the smallest positive value, not off the axis.
    assert lbfgs.get_ydata()[-1] == pytest.approx(1e-5)
    assert "dotted line at 1e-5" in caption and title.startswith("Relative suboptimality")


def test_cross_scoring_marks_the_teacher_floor():
    cross = pd.DataFrame(
        [(d, m, OBJECTIVE[m], p, 0.9, 0.5 + 0.1 * k, 0.4)
         for d in STUDY["main"]["datasets"] for k, m in enumerate(METHODS)
         for p in ("exact", "mean-field")],
        columns=["dataset", "method", "trained_for", "predictor", "test_accuracy_mean",
                 "test_log_loss_mean", "train_log_loss_mean"],
    )  # fmt: skip
    main = pd.DataFrame(
        [("iris", "em", False, 0.5), ("teacher", "teacher network", True, 0.45)],
        columns=["dataset", "method", "reference", "log_loss_mean"],
    )
    fig, _, caption = figures.cross_scoring(cross, main, STUDY)
    panels = {a.get_title(): a for a in fig.axes}
    floors = {
        name: [line for line in axis.get_lines() if line.get_linestyle() == "--"]
        for name, axis in panels.items()
    }
    assert floors["iris"] == [] and len(floors["teacher"]) == 1
    assert floors["teacher"][0].get_xdata()[0] == pytest.approx(0.45)
    assert "dashed line on teacher" in caption
