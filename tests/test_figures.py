"""The figures of the fair comparison, drawn from small hand-made tables.

What a referee checks by eye is checked here: exact-likelihood and
back-propagation trainers never share an axis, a method with final values only
draws no learning curve, the suboptimality figure draws its zeros on a stated
floor of its log scale, and the cross-scoring figure marks the teacher's floor.
"""

from __future__ import annotations

import itertools
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from emnn.core.layout import TABLES
from emnn.paper import figures
from emnn.parts.main import learning_figures as learning
from emnn.parts.main.comparison_figures import cross_scoring, paired_accuracy, sweep_accuracy
from emnn.parts.main.learning_figures import learning_curves, suboptimality
from emnn.parts.replication.figure import initializations
from emnn.parts.timing.figure import estep_cost
from emnn.typeset import figure_style as style
from emnn.typeset import words

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
                # Up to 1,000 iterations, as a run at its cap records them.
                for iteration in (0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000):
                    level = 1.0 / (1 + iteration) ** 0.3
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
    fig, title, caption = learning_curves(curves(), convergence(), STUDY, "iris")
    loss_axes = [a for a in fig.axes if "penalized loss" in a.get_ylabel()]
    assert len(loss_axes) == 2
    for axis in fig.axes:
        drawn = {line.get_label() for line in axis.get_lines()}
        kinds = {OBJECTIVE[m] for m, label in STUDY["labels"].items() if label in drawn}
        assert len(kinds) == 1, (axis.get_ylabel(), drawn)
    exact = next(a for a in loss_axes if "exact" in a.get_ylabel())
    assert {line.get_label() for line in exact.get_lines()} == {"EM", "L-BFGS"}
    for panel, kind in zip(fig.subfigs, ("exact", "mean-field"), strict=True):
        assert {axis.get_xlabel() for axis in panel.axes} == {learning.STEP_LABELS[kind]}
    assert "never share an axis" in caption and title == "Learning curves on iris"


def test_only_the_first_learning_curve_caption_explains_the_curves():
    first, *others = STUDY["main"]["datasets"]
    _, _, explained = learning_curves(curves(), convergence(), STUDY, first)
    for dataset in others:
        _, _, caption = learning_curves(curves(), convergence(), STUDY, dataset)
        assert caption.startswith(f"As [#fig-learning-{first}], on {dataset}:")
        assert "never share an axis" not in caption and len(caption) < len(explained) / 2
    # A capped method: the note that explains the label once, in the first caption.
    capped = convergence().assign(converged=20, n_splits=20)
    capped.loc[capped["method"] == "em", "converged"] = 2
    said = [learning_curves(curves(), capped, STUDY, d)[2] for d in (first, *others)]
    assert ["labelled capped" in caption for caption in said] == [True] + [False] * len(others)


def test_learning_curves_with_one_kind_of_trainer_have_one_row():
    exact_only = convergence()[lambda t: t["objective"] == "exact"]
    fig, _, _ = learning_curves(curves(), exact_only, STUDY, "iris")
    assert len(fig.subfigs) == 1 and len(fig.axes) == 2


def test_learning_curves_leave_out_a_method_with_final_values_only():
    # scikit-learn's runs record their final weights only: one row per run, at the
    # iteration it stopped, none at 0. A line through them is no learning curve.
    study = {**STUDY, "main": {**STUDY["main"], "methods": [*METHODS, "skl"]},
             "labels": {**STUDY["labels"], "skl": "scikit-learn"}}  # fmt: skip
    finals = pd.DataFrame(
        [("iris", "skl", value, iteration, 0.9, 0.92, 0.95)
         for value in ("train_loss", "train_accuracy", "test_accuracy", "test_log_loss")
         for iteration in (103, 134, 175)],
        columns=curves().columns,
    )  # fmt: skip
    kinds = pd.concat([convergence(), pd.DataFrame([("iris", "skl", "mean-field")],
                                                   columns=convergence().columns)])  # fmt: skip
    fig, _, caption = learning_curves(pd.concat([curves(), finals]), kinds, study, "iris")
    drawn = {artist.get_label() for axis in fig.axes for artist in axis.get_children()}
    assert "scikit-learn" not in drawn and "SGD" in drawn
    assert "scikit-learn is not drawn: its runs record their final values only" in caption


def test_suboptimality_draws_nothing_below_the_stated_floor():
    grid = np.array([1, 2, 4, 8, 16])
    table = pd.DataFrame(
        [("iris", m, n, q, q, q) for m in ("em", "lbfgs") for n, q in zip(
            grid, [1.0, 0.1, 1e-4, 1e-12, 0.0] if m == "lbfgs" else [1.0, 0.5, 0.2, 0.1, 0.1],
            strict=True)]
        + [("teacher", "em", n, 0.3, 0.4, 0.5) for n in grid],
        columns=["dataset", "method", "n_estep", "q25", "median", "q75"],
    )  # fmt: skip
    fig, title, caption = suboptimality(table, convergence(), STUDY)
    panels = [a for a in fig.axes if a.get_title()]
    assert [a.get_title() for a in panels] == ["iris", "teacher"]
    floor = learning.REACHED
    for axis in panels:
        assert axis.get_xscale() == "log" and axis.get_yscale() == "log"
        assert axis.get_xlabel() == "E-step evaluations"
        # Every value drawn is a gap or the floor, never a made-up level below it.
        lines = [line.get_ydata() for line in axis.get_lines()]
        bands = [path.vertices[:, 1] for band in axis.collections for path in band.get_paths()]
        assert min(np.min(y) for y in lines + bands) == floor
        (label,) = [t.get_text() for t in axis.texts]
        assert label.strip().startswith("reached the reference") and "$10^{-10}$" in label
    lbfgs = next(line for line in panels[0].get_lines() if line.get_label() == "L-BFGS")
    # 1e-12 and 0 both sit on the floor line: gaps that small are not told apart.
    assert list(lbfgs.get_ydata()[-2:]) == [floor, floor]
    assert "at or below $10^{-10}$, 0 included" in caption and "reached the reference" in caption
    assert title.startswith("Relative suboptimality")


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
    fig, _, caption = cross_scoring(cross, main, STUDY)
    panels = {a.get_title(): a for a in fig.axes}
    floors = {
        name: [line for line in axis.get_lines() if line.get_linestyle() == "--"]
        for name, axis in panels.items()
    }
    assert floors["iris"] == [] and len(floors["teacher"]) == 1
    assert floors["teacher"][0].get_xdata()[0] == pytest.approx(0.45)
    assert "dashed line on teacher" in caption
    assert "(capped)" not in caption  # no convergence known, nothing marked


def test_cross_scoring_marks_a_method_capped_on_any_dataset():
    cross = pd.DataFrame(
        [(d, m, OBJECTIVE[m], p, 0.9, 0.5, 0.4)
         for d in STUDY["main"]["datasets"] for m in METHODS for p in ("exact", "mean-field")],
        columns=["dataset", "method", "trained_for", "predictor", "test_accuracy_mean",
                 "test_log_loss_mean", "train_log_loss_mean"],
    )  # fmt: skip
    capped, other = METHODS[0], METHODS[1]
    main = pd.DataFrame(
        [(STUDY["main"]["datasets"][-1], capped, 0.5), (STUDY["main"]["datasets"][0], other, 1.0)],
        columns=["dataset", "method", "converged_rate"],
    )
    fig, _, caption = cross_scoring(cross, main, STUDY)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any(t.endswith("(capped)") for t in ticks)
    assert sum(t.endswith("(capped)") for t in ticks) == 1
    assert "(capped): the method met its stopping rule on fewer than 95 %" in caption


# ------------------------------------------------------------ what a reader can read
#
# Every figure drawn from small tables, then checked as a referee reads it: labelled
# ticks on log axes, accuracy axes zoomed to the data, split counts in words, math in
# captions, one x quantity per panel.


def runs(differences: dict | None = None, n_splits: int = 20) -> pd.DataFrame:
    """Per-split test accuracies: the baseline at 0.96 (0.60 on teacher), each other
    method off it by a few thirtieths."""
    rows = []
    for dataset in STUDY["main"]["datasets"]:
        base = 0.6 if dataset == "teacher" else 0.96
        for k, method in enumerate(METHODS):
            for split in range(n_splits):
                shift = 0.0 if method == "sgd" else ((split + k) % 3 - 1) / 30
                rows.append((dataset, method, 3, split, min(base + shift, 1.0)))
    return pd.DataFrame(rows, columns=["dataset", "method", "n_hidden", "split", "test_accuracy"])


def sweep(low: float = 0.95) -> pd.DataFrame:
    rows = [
        (d, m, h, 20, mean, max(mean - 0.02, 0), min(mean + 0.02, 1))
        for d in ("iris", "wine") for m in ("lbfgs", "sgd")
        for h, mean in zip((1, 2, 4), (low, 0.97, 0.98), strict=True)
    ]  # fmt: skip
    columns = ["dataset", "method", "n_hidden", "n_splits", "accuracy_mean", "accuracy_ci_low",
               "accuracy_ci_high"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def inits(n_draws: int = 200) -> pd.DataFrame:
    return pd.DataFrame(
        [(row, draw, 10 + draw % 20, 30)
         for row in ("em-bug-compatible", "backprop-bug-compatible") for draw in range(n_draws)],
        columns=["row", "draw", "n_correct", "n_test"],
    )  # fmt: skip


def cost() -> pd.DataFrame:
    m = np.arange(2, 17, 2)
    return pd.DataFrame(
        {"n_hidden": m, "n": 150, "e_step_seconds": 1e-5 * 2.0**m, "m_step_seconds": 1e-4 * m}
    )


SWEEP_STUDY = {**STUDY, "sweep": {"datasets": ["iris", "wine"], "methods": ["lbfgs", "sgd"]}}


def every_figure():
    """(name, figure, caption) of each kind of figure, from the tables above."""
    for dataset in STUDY["main"]["datasets"]:
        fig, _, caption = learning_curves(curves(), convergence(), STUDY, dataset)
        yield f"learning-{dataset}", fig, caption
    grid = np.array([1, 3, 10, 30, 100, 300])
    table = pd.DataFrame(
        [(d, m, n, 0.5 * q, q, 2 * q) for d in STUDY["main"]["datasets"] for m in ("em", "lbfgs")
         for n, q in zip(grid, 10.0 ** -np.arange(len(grid)), strict=True)],
        columns=["dataset", "method", "n_estep", "q25", "median", "q75"],
    )  # fmt: skip
    yield "suboptimality", *suboptimality(table, convergence(), STUDY)[::2]
    yield "paired-accuracy", *paired_accuracy(runs(), STUDY)[::2]
    yield "sweep-accuracy", *sweep_accuracy(sweep(), SWEEP_STUDY)[::2]
    yield "initializations", *initializations(inits(), STUDY)[::2]
    yield "timing/estep-cost", *estep_cost(cost(), STUDY)[::2]


def labelled(axis) -> list:
    """The tick labels drawn inside an axis's limits that carry text, major and minor."""
    axis.axes.figure.canvas.draw()
    return [
        tick.label1 for tick in axis._update_ticks()
        if tick.label1.get_visible() and tick.label1.get_text().strip()
    ]  # fmt: skip


def overlapping(labels) -> bool:
    boxes = sorted((label.get_window_extent() for label in labels), key=lambda b: b.x0)
    return any(a.overlaps(b) for a, b in itertools.pairwise(boxes))


def test_every_log_axis_of_every_figure_has_enough_labelled_ticks():
    seen = 0
    for name, fig, _ in every_figure():
        for axes in fig.axes:
            for axis, scale in ((axes.xaxis, axes.get_xscale()), (axes.yaxis, axes.get_yscale())):
                if scale in ("log", "symlog"):
                    seen += 1
                    labels = labelled(axis)
                    assert len(labels) >= 3, (name, [t.get_text() for t in labels])
                    assert not overlapping(labels), (name, [t.get_text() for t in labels])
        plt.close(fig)
    # Per dataset, learning curves have 3 log axes per row and suboptimality 2; E-step cost 1.
    assert seen == 2 * 2 * 3 + 2 * 2 + 1


@pytest.mark.parametrize(
    "low, high",
    [(0.66, 1.27), (0.11, 0.19), (0.03, 2.5), (0.14, 1.3), (6, 20), (1, 8), (1e-15, 30),
     (2e-4, 0.5), (1e3, 1e9)],
)  # fmt: skip
def test_a_log_axis_over_any_range_has_four_labelled_ticks(low, high):
    _, axes = plt.subplots(figsize=(2.5, 2.2))
    axes.plot([1, 2], [low, high])
    axes.set_yscale("log")
    axes.set_ylim(low, high)
    style.log_ticks(axes.yaxis)
    labels = labelled(axes.yaxis)
    assert len(labels) >= 4, [t.get_text() for t in labels]
    assert len({t.get_text() for t in labels}) == len(labels)


@pytest.mark.parametrize("high", [3, 8, 30, 250, 1000, 5000])
def test_a_count_axis_from_zero_has_uncrowded_labels(high):
    _, axes = plt.subplots(figsize=(2.6, 2.2))
    axes.plot([0, high], [0, 1])
    axes.set_xscale("symlog", linthresh=1.0, linscale=0.4)
    axes.set_xlim(left=0)
    style.count_ticks(axes.xaxis)
    labels = labelled(axes.xaxis)
    assert len(labels) >= 3 and labels[0].get_text() == "0"
    assert not overlapping(labels), [t.get_text() for t in labels]


def accuracy_limits(fig):
    return [a.get_ylim() for a in fig.axes if "test accuracy" in a.get_ylabel()]


def test_accuracy_axes_are_zoomed_to_the_data():
    # Learning curves between 95 % and 100 % fill their axes: nothing down to 30 %.
    high = curves().assign(
        q25=lambda t: 0.95, median=lambda t: 0.97 + 0.005 * (t["iteration"] % 2), q75=1.0
    )
    fig, _, _ = learning_curves(high, convergence(), STUDY, "iris")
    limits = accuracy_limits(fig)
    assert len(limits) == 2 and len(set(limits)) == 1  # the two rows read alike
    bottom, top = limits[0]
    assert 94 <= bottom < 95 and 100 < top <= 100.5
    for axes in (a for a in fig.axes if "test accuracy" in a.get_ylabel()):
        values = [float(t.get_text().replace("\u2212", "-")) for t in labelled(axes.yaxis)]
        assert len(values) >= 3 and max(values) <= 100  # no tick past what accuracy can be
    # Sweep: the limits follow the lowest interval, not a fixed 0.3.
    for low in (0.95, 0.6):
        fig, _, _ = sweep_accuracy(sweep(low), SWEEP_STUDY)
        span = 100 - 100 * (low - 0.02)  # from the lowest interval to 100 %
        for bottom, top in accuracy_limits(fig):
            assert bottom == pytest.approx(100 * (low - 0.02) - 0.06 * span)
            assert top == pytest.approx(100 + 0.06 * span)
    # Paired differences: limits from the differences, which are a few points here.
    fig, _, _ = paired_accuracy(runs(), STUDY)
    bottom, top = fig.axes[0].get_ylim()
    assert -4 < bottom < -3.3 and 3.3 < top < 4
    assert all(axes.get_ylim() == (bottom, top) for axes in fig.axes)


def test_paired_accuracy_draws_splits_with_a_capped_run_hollow():
    shown = runs()
    fig, _, caption = paired_accuracy(shown, STUDY)
    assert "Hollow" not in caption and "hollow: a run stopped at its cap" not in legend_texts(fig)
    # Split 0 of the first non-baseline method on iris stopped at its cap.
    method = next(m for m in METHODS if m != STUDY["main"]["baseline"])
    shown["converged"] = ~((shown["method"] == method) & (shown["dataset"] == "iris")
                           & (shown["split"] == 0))  # fmt: skip
    fig, _, caption = paired_accuracy(shown, STUDY)
    assert "Hollow markers are splits on which either run stopped at its cap" in caption
    assert "hollow: a run stopped at its cap" in legend_texts(fig)
    panel = fig.axes[0]
    hollow = [c for c in panel.collections if len(c.get_facecolors()) == 0
              or c.get_facecolors()[0][3] == 0]  # fmt: skip
    assert len(hollow) == 1 and len(hollow[0].get_offsets()) == 1


def test_zoom_clips_the_data_range_to_what_accuracy_can_be():
    _, axes = plt.subplots()
    style.zoom(axes, [96.0, 99.0, 100.0, 103.0])  # an interval reaching past 100 %
    bottom, top = axes.get_ylim()
    assert bottom == pytest.approx(96 - 0.06 * 4) and top == pytest.approx(100 + 0.06 * 4)
    style.zoom(axes, [100.0, 100.0])
    assert axes.get_ylim() == pytest.approx((99, 101))


def legend_texts(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_legends_count_splits_in_words():
    fig, _, _ = paired_accuracy(runs(), STUDY)
    assert legend_texts(fig)[:3] == ["1 split", "10 splits", "20 splits"]
    fig, _, _ = paired_accuracy(runs(n_splits=1), STUDY)
    assert legend_texts(fig)[:1] == ["1 split"] and "1 splits" not in legend_texts(fig)
    fig, _, _ = paired_accuracy(runs(n_splits=7), STUDY)
    assert legend_texts(fig)[:3] == ["1 split", "5 splits", "7 splits"]
    assert words.counted(1, "split") == "1 split" and words.counted(0, "split") == "0 splits"
    # The one-initialization study says so in the singular.
    fig, _, caption = initializations(inits(n_draws=1), STUDY)
    drawn = [t.get_text() for axes in fig.axes for t in axes.texts]
    assert all(text.endswith("reached or passed by 0 of 1 draw") for text in drawn), drawn
    assert "from 1 random initialization each" in caption


def test_no_figure_writes_split_s():
    for name, fig, caption in every_figure():
        texts = [t.get_text() for t in fig.findobj(plt.Text)] + [caption]
        assert not [t for t in texts if "(s)" in t], name
        plt.close(fig)


def outside_math(text: str) -> str:
    """A caption with its $...$ parts taken out (a backslash escapes the next character)."""
    parts = re.sub(r"\\.", "", text).split("$")
    assert len(parts) % 2 == 1, f"unbalanced $ in {text!r}"
    return "".join(parts[::2])


def math_parts(text: str) -> list[str]:
    return re.sub(r"\\[\\$\[]", "", text).split("$")[1::2]


def test_captions_write_mathematics_as_tex_between_dollars():
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("agg")
    captions = {name: caption for name, fig, caption in every_figure()}
    plt.close("all")
    assert "$2^m$" in captions["timing/estep-cost"] and "$m$" in captions["timing/estep-cost"]
    assert r"$(\ell^* - \ell)/|\ell^*|$" in captions["suboptimality"]
    assert "$m$" in captions["sweep-accuracy"]
    for name, caption in captions.items():
        prose = outside_math(caption)
        for symbol in ("^", "ℓ", "\\", "2^m"):
            assert symbol not in prose, (name, symbol)
        for part in math_parts(caption):
            parser.parse(f"${part}$")  # well-formed TeX, as far as mathtext reads it


HOSTILE = r"SGD $5 [@fisher1936] a\b"


def test_a_name_in_a_caption_is_neither_math_nor_a_citation():
    study = {**STUDY, "labels": {**STUDY["labels"], "sgd": HOSTILE}}
    _, _, caption = paired_accuracy(runs(), study)
    assert r"SGD \$5 \[@fisher1936] a\\b" in caption and outside_math(caption)


def test_captions_read_as_the_report_reads_them():
    markup = pytest.importorskip("emnn.typeset.markup")
    for name, fig, caption in every_figure():
        plt.close(fig)
        pieces = markup.segments(caption)
        assert [v for kind, v in pieces if kind == "math"] == math_parts(caption), name
        assert not [v for kind, v in pieces if kind == "cite"], name
    study = {**STUDY, "labels": {**STUDY["labels"], "sgd": HOSTILE}}
    _, _, caption = paired_accuracy(runs(), study)
    assert HOSTILE in markup.plain(caption)


def test_one_x_quantity_per_panel():
    for name, fig, _ in every_figure():
        for axes in fig.axes:
            label = axes.get_xlabel()
            assert " or " not in label and "(EM)" not in label, (name, label)
            assert not ("iteration" in label and "epoch" in label), (name, label)
        plt.close(fig)
    fig, _, _ = learning_curves(curves(), convergence(), STUDY, "iris")
    labels = [{axes.get_xlabel() for axes in panel.axes} for panel in fig.subfigs]
    assert labels == [{"iteration"}, {"epoch"}]


def test_the_reported_accuracy_label_clears_the_bars():
    # A tall bar right under the label, as the EM rebuild's 63 % bar is.
    table = inits().assign(n_correct=lambda t: np.where(t["draw"] % 4 == 0, 10, 20))
    fig, _, _ = initializations(table, STUDY)
    fig.canvas.draw()
    for axes in fig.axes:
        (label,) = axes.texts
        box = label.get_window_extent()
        assert not [bar for bar in axes.patches if bar.get_window_extent().overlaps(box)]


# ------------------------------------------------------------------ the package


def test_capped_methods_are_labelled_capped_in_the_curves():
    kinds = convergence().assign(converged=20, n_splits=20)
    kinds.loc[kinds["method"] == "em", "converged"] = 2
    grid = np.array([1, 2, 4])
    table = pd.DataFrame(
        [(d, m, n, 0.1, 0.2, 0.3) for d in STUDY["main"]["datasets"] for m in ("em", "lbfgs")
         for n in grid],
        columns=["dataset", "method", "n_estep", "q25", "median", "q75"],
    )  # fmt: skip
    fig, _, caption = suboptimality(table, kinds, STUDY)
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert any(label.endswith("(capped)") for label in labels)
    assert sum(label.endswith("(capped)") for label in labels) == 1
    assert "A method labelled capped met its stopping rule on fewer than 95 %" in caption
    _, _, plain = suboptimality(table, kinds.assign(converged=20), STUDY)
    assert "labelled capped" not in plain


def test_each_figure_depends_on_its_own_painter_and_no_trainer():
    """A figure job's code is the figure command and its own part's painter: editing the
    MoE estimator or another part's figure leaves it alone."""
    learning = set(figures.code_files("learning-iris"))
    assert "emnn/parts/main/learning_figures.py" in learning
    assert not {f for f in learning if f.startswith(("emnn/parts/moe/runs", "emnn/models/moe"))}
    assert "emnn/parts/moe/figure.py" not in learning
    moe = set(figures.code_files("moe-objective"))
    assert {"emnn/parts/moe/figure.py", "emnn/parts/moe/contract.py"} <= moe
    assert "emnn/parts/main/learning_figures.py" not in moe
    assert not {f for f in moe if f.startswith("emnn/models/")}
