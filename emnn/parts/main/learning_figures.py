"""The main study's figures of training itself: each method's learning curves on a dataset,
and the exact-likelihood trainers' relative suboptimality against E-step evaluations.

Exact-likelihood and back-propagation trainers minimize different objectives, counted in
different steps (iterations, epochs), so these figures never put the two on one axis.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...core.layout import slug
from ...study.runs import CAPPED_TEXT, CONVERGED_SHARE
from ...typeset.figure_style import (
    count_ticks,
    drawn,
    log_ticks,
    method_colors,
    method_label,
    panel_grid,
    zoom,
)
from ...typeset.formats import power_of_ten
from ...typeset.markup import literal
from ...typeset.words import counted

# One x quantity per row of panels: exact-likelihood trainers count their iterations (an EM
# step, a SQUAREM cycle or an L-BFGS step: one update of the weights each), back-propagation
# counts epochs. The two never share an axis.
STEP_LABELS = {"exact": "iteration", "mean-field": "epoch"}
ROW_TITLES = {
    "exact": "Exact-likelihood trainers (stochastic units)",
    "mean-field": "Back-propagation trainers (deterministic network)",
}
LOSS_LABELS = {
    "exact": "exact penalized loss $-\\ell/n$",
    "mean-field": "mean-field penalized loss $-\\hat{\\ell}/n$",
}


def _objectives(convergence: pd.DataFrame, dataset: str) -> dict:
    """Each main method's training objective ("exact" or "mean-field") on a dataset."""
    rows = convergence[convergence["dataset"] == dataset]
    return dict(zip(rows["method"], rows["objective"], strict=True))


# A capped method (emnn.study.runs.CONVERGED_SHARE), labelled as the tables
# mark it.
CAPPED_NOTE = (
    f" A method labelled capped met its stopping rule on {CAPPED_TEXT} of the splits: its "
    "curve ends where the cap stopped its runs, short of the optimum."
)


def _capped(convergence: pd.DataFrame, dataset: str | None = None) -> set[str]:
    if "converged" not in convergence:
        return set()
    rows = convergence if dataset is None else convergence[convergence["dataset"] == dataset]
    totals = rows.groupby("method")[["converged", "n_splits"]].sum()
    return {m for m, r in totals.iterrows() if r["converged"] < CONVERGED_SHARE * r["n_splits"]}


def _n_splits(table: pd.DataFrame, dataset: str) -> int | None:
    """The number of splits behind a dataset's rows, if the table says and they agree."""
    if "n_splits" not in table:
        return None
    counts = set(table.loc[table["dataset"] == dataset, "n_splits"].dropna().astype(int))
    return counts.pop() if len(counts) == 1 else None


def _final_only(curves: pd.DataFrame) -> set:
    """Methods whose runs recorded their final weights only, not one value per iteration.

    Every trainer that reports its progress records its initial weights, iteration 0
    (emnn.study.training.Tracker); one that reports once, at the end (scikit-learn's
    MLPClassifier, emnn.models.sklearn_mlp), has no row at iteration 0. Its rows are then the
    final values of runs that stopped at different iterations: a line through them would
    look like a learning curve that no run followed.
    """
    started = set(curves.loc[curves["iteration"] == 0, "method"])
    return set(curves["method"]) - started


def learning_curves(curves: pd.DataFrame, convergence: pd.DataFrame, study: dict, dataset: str):
    capped = _capped(convergence, dataset)
    colors = method_colors(study)
    kinds = _objectives(convergence, dataset)
    shown = curves[curves["dataset"] == dataset]
    final_only = _final_only(shown)
    left_out = [m for m in study["main"]["methods"] if m in final_only]
    methods = [m for m in study["main"]["methods"] if m not in final_only]
    groups = [
        (kind, [m for m in methods if kinds.get(m) == kind]) for kind in ("exact", "mean-field")
    ]
    groups = [(kind, chosen) for kind, chosen in groups if chosen]
    fig = plt.figure(figsize=(7.2, 2.6 * max(len(groups), 1)), layout="constrained")
    if not groups:
        fig.text(0.5, 0.5, "no method recorded values through training", ha="center",
                 va="center", color="0.4")  # fmt: skip
    # One sub-figure per kind of trainer: its own title, x quantity and legend.
    panels = np.atleast_1d(fig.subfigures(len(groups), 1, hspace=0.04)) if groups else []
    axes = [panel.subplots(1, 2) for panel in panels]
    for panel, row, (kind, chosen) in zip(panels, axes, groups, strict=True):
        left, right = row
        for method in chosen:
            for axis, value, scale in ((left, "train_loss", 1), (right, "test_accuracy", 100)):
                line = shown[(shown["method"] == method) & (shown["value"] == value)]
                if line.empty:
                    continue
                x = line["iteration"].to_numpy()
                axis.plot(x, scale * line["median"], color=colors[method], lw=1.4,
                          label=drawn(method_label(study, method)
                                       + (" (capped)" if method in capped else "")))  # fmt: skip
                axis.fill_between(
                    x, scale * line["q25"], scale * line["q75"], color=colors[method],
                    alpha=0.2, lw=0,
                )  # fmt: skip
        left.set_yscale("log")
        for axis in row:
            axis.set_xscale("symlog", linthresh=1.0, linscale=0.4)
            axis.set_xlim(left=0)
            axis.set_xlabel(STEP_LABELS[kind])
            count_ticks(axis.xaxis)
        log_ticks(left.yaxis)
        left.set_ylabel(LOSS_LABELS[kind])
        right.set_ylabel("test accuracy (%)")
        panel.suptitle(ROW_TITLES[kind], x=0.02, ha="left", fontsize=9, fontweight="bold")
        panel.legend(handles=right.get_legend_handles_labels()[0], loc="outside right center",
                     fontsize=7, handlelength=1.5)  # fmt: skip
    # Accuracy: the same limits in every row, from the data of every row.
    accuracy = shown[shown["method"].isin(methods) & (shown["value"] == "test_accuracy")]
    for row in axes:
        zoom(row[1], 100 * accuracy[["q25", "median", "q75"]].to_numpy(dtype=float))
    n_splits = _n_splits(convergence, dataset)
    over = f"the {counted(n_splits, 'split')}" if n_splits else "splits"
    title = f"Learning curves on {literal(dataset)}"
    first = study["main"]["datasets"][0]
    # The first dataset's caption says how to read the curves; the others point to it.
    caption = (
        f"As [#fig-learning-{slug(first)}], on {literal(dataset)}: median over {over}, band "
        f"from the first to the third quartile."
        if dataset != first
        else f"Each method's own training objective (penalized log-loss per training example, log "
        f"scale) and test accuracy under its own predictor on {literal(dataset)}, against its "
        f"own iteration count (0, then logarithmic): median over {over}, band from the first "
        f"to the third quartile. Exact-likelihood trainers (top) minimize the exact loss of "
        f"the stochastic-unit network, and one iteration is one update of the weights: an EM "
        f"step, a SQUAREM cycle (three or more E-steps) or an L-BFGS step ([#fig-suboptimality] "
        f"puts them on one scale of cost, E-step evaluations); back-propagation "
        f"trainers (bottom) minimize the mean-field network's loss, counted in epochs. The two "
        f"objectives are different quantities and never share an axis. A run that stopped "
        f"early keeps its final value."
    )
    if left_out and dataset != first:
        caption += f" Not drawn (final values only): {_listed(study, left_out)}."
    elif left_out:
        one = len(left_out) == 1
        caption += (
            f" {_listed(study, left_out)} "
            f"{'is' if one else 'are'} not drawn: {'its' if one else 'their'} runs record "
            f"their final values only, not values through training, so "
            f"{'it has' if one else 'they have'} no learning curve (a line through the final "
            f"values of runs that stopped at different iterations would look like one); "
            f"{'its' if one else 'their'} final values are in [#tab-main-accuracy] and "
            f"[#tab-convergence]."
        )
    configured = set(study["main"]["methods"])
    # the note once, in the first caption that needs it
    if capped & configured and (dataset == first or not _capped(convergence, first) & configured):
        caption += CAPPED_NOTE
    return fig, title, caption


def _listed(study: dict, methods: list) -> str:
    return " and ".join(literal(method_label(study, m)) for m in methods)


# Relative gaps at or below this are drawn on one line, "reached the reference": 0 (the run
# that found the split's best) has no place on a log axis, and gaps this small are far below
# what the stopping rules resolve (the configured EM stops at a relative change of 1e-6), so they
# say no more than 0 does. Fixed, so that the line means the same in every study.
REACHED = 1e-10


def suboptimality(table: pd.DataFrame, convergence: pd.DataFrame, study: dict):
    capped = _capped(convergence)
    colors = method_colors(study)
    datasets = study["main"]["datasets"]
    rows, columns = panel_grid(len(datasets))
    fig, axes = plt.subplots(
        rows, columns, figsize=(7.2, 0.4 + 2.3 * rows), layout="constrained", squeeze=False
    )
    floor = REACHED
    handles = {}
    for axis, dataset in zip(axes.flat, datasets, strict=False):
        shown = table[table["dataset"] == dataset]
        for method in study["main"]["methods"]:
            line = shown[shown["method"] == method]
            if line.empty:
                continue
            x = line["n_estep"].to_numpy()
            (handles[method],) = axis.plot(
                x, np.maximum(line["median"], floor), color=colors[method], lw=1.4,
                label=drawn(
                    method_label(study, method) + (" (capped)" if method in capped else "")
                ),
            )  # fmt: skip
            axis.fill_between(
                x, np.maximum(line["q25"], floor), np.maximum(line["q75"], floor),
                color=colors[method], alpha=0.2, lw=0,
            )  # fmt: skip
        if shown.empty:
            axis.text(0.5, 0.5, "no exact-likelihood trainer", ha="center", va="center",
                      transform=axis.transAxes, color="0.4")  # fmt: skip
            continue
        axis.axhline(floor, color="0.4", lw=0.8, ls=":")
        axis.text(0.01, floor, f" reached the reference\n (gap ≤ {power_of_ten(floor)})",
                  transform=axis.get_yaxis_transform(), ha="left", va="bottom", fontsize=7,
                  color="0.35")  # fmt: skip
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_ylim(bottom=floor / 2)
        log_ticks(axis.xaxis)
        log_ticks(axis.yaxis)
        axis.set_title(drawn(dataset), fontsize=9)
        axis.set_xlabel("E-step evaluations")
        axis.set_ylabel("relative suboptimality")
    for axis in axes.flat[len(datasets) :]:
        axis.remove()
    if handles:
        fig.legend(handles=list(handles.values()), loc="outside lower center",
                   ncols=min(len(handles), 4), fontsize=8)  # fmt: skip
    title = "Relative suboptimality against E-step evaluations"
    caption = (
        "Relative suboptimality $(\\ell^* - \\ell)/|\\ell^*|$ of each exact-likelihood trainer "
        "after a given number of E-step evaluations (both axes logarithmic), where $\\ell$ is its "
        "penalized log-likelihood [#eq-objective] and $\\ell^*$ "
        + (
            "the split's reference optimum (the best of independent L-BFGS runs, "
            "[#tab-convergence])"
            if study["main"].get("reference")
            else "the best final one any exact-likelihood trainer reached on the same split"
        )
        + ": median over splits, band from the first to the third quartile. The "
        "E-step is the unit of cost all of them share: EM spends one per iteration, SQUAREM "
        "three or more per cycle, L-BFGS one per function evaluation (line-search trials "
        "included). A run that stopped keeps its final value. A gap at or below "
        f"{power_of_ten(floor)}, 0 "
        + (
            "and a run above $\\ell^*$ included"
            if study["main"].get("reference")
            else "included (the run that found $\\ell^*$)"
        )
        + ", is drawn on the dotted line that says the run reached the reference: smaller gaps "
        "are not told apart, and nothing is drawn below that line."
        + (CAPPED_NOTE if capped else "")
    )
    return fig, title, caption
