"""The main study's figures of where training ended, method against method: cross-scoring
(each method's weights under both predictors), paired per-split test accuracy against the
baseline, and test accuracy against the number of hidden units in the sweep.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker

from ...study.runs import CAPPED_TEXT, capped_rate, runs_of
from ...typeset.figure_style import (
    COLORS,
    drawn,
    method_colors,
    method_label,
    panel_grid,
    zoom,
)
from ...typeset.markup import literal
from ...typeset.words import counted

PREDICTORS = {"exact": ("o", COLORS[0]), "mean-field": ("s", COLORS[1])}


def _teacher_floor(main: pd.DataFrame, dataset: str) -> float | None:
    """The teacher network's own mean test log-loss on a dataset sampled from it."""
    if "reference" not in main:
        return None
    rows = main[(main["dataset"] == dataset) & main["reference"].astype(str).eq("True")]
    values = rows["log_loss_mean"].dropna()
    return float(values.iloc[0]) if len(values) else None


def cross_scoring(table: pd.DataFrame, main: pd.DataFrame, study: dict):
    datasets = study["main"]["datasets"]
    methods = [m for m in study["main"]["methods"] if m in set(table["method"])]
    rows, columns = panel_grid(len(datasets))
    fig, axes = plt.subplots(
        rows, columns, figsize=(7.2, 0.5 + (0.7 + 0.25 * len(methods)) * rows),
        layout="constrained", squeeze=False, sharey=True,
    )  # fmt: skip
    y = {m: -k for k, m in enumerate(methods)}
    # The panels share their method labels, so a method capped on any dataset is marked.
    capped = _capped_anywhere(main, datasets)
    for axis, dataset in zip(axes.flat, datasets, strict=False):
        shown = table[table["dataset"] == dataset]
        for method in methods:
            pair = shown[shown["method"] == method].set_index("predictor")
            if pair.empty:
                continue
            axis.plot(pair["test_log_loss_mean"], [y[method]] * len(pair), color="0.6", lw=1)
            for predictor, row in pair.iterrows():
                marker, color = PREDICTORS[predictor]
                own = row["trained_for"] == predictor
                axis.plot(
                    row["test_log_loss_mean"], y[method], marker=marker, ms=6, ls="none",
                    color=color, markerfacecolor=color if own else "none", mew=1.3,
                )  # fmt: skip
        floor = _teacher_floor(main, dataset)
        if floor is not None:
            axis.axvline(floor, color="0.3", lw=0.9, ls="--")
        axis.set_title(drawn(dataset), fontsize=9)
        axis.set_xlabel("test log-loss")
        names = [method_label(study, m) + (" (capped)" if m in capped else "") for m in methods]
        axis.set_yticks(list(y.values()), [drawn(name) for name in names])
        axis.set_ylim(-len(methods) + 0.5, 0.5)
        axis.grid(axis="y", visible=False)
    for axis in axes.flat[len(datasets) :]:
        axis.remove()
    legend = [
        plt.Line2D([], [], marker=PREDICTORS["exact"][0], color=PREDICTORS["exact"][1],
                   ls="none", label="exact predictor (stochastic units)"),
        plt.Line2D([], [], marker=PREDICTORS["mean-field"][0],
                   color=PREDICTORS["mean-field"][1], ls="none",
                   label="mean-field predictor (deterministic network)"),
        plt.Line2D([], [], marker="o", color="0.3", ls="none", label="filled: trained for it"),
        plt.Line2D([], [], marker="o", color="0.3", markerfacecolor="none", ls="none",
                   label="hollow: not trained for it"),
    ]  # fmt: skip
    floors = [d for d in datasets if _teacher_floor(main, d) is not None]
    if floors:
        legend.append(plt.Line2D([], [], color="0.3", lw=0.9, ls="--",
                                 label="teacher network's own log-loss (floor)"))  # fmt: skip
    fig.legend(handles=legend, loc="outside lower center", ncols=2, fontsize=8)
    title = "Cross-scoring: each method's weights under both predictors"
    counts = set(table["n_splits"].dropna().astype(int)) if "n_splits" in table else set()
    over = f"the {counted(counts.pop(), 'split')}" if len(counts) == 1 else "splits"
    caption = (
        f"Mean test log-loss over {over} of each method's trained weights under the exact "
        "predictor [#eq-marginal] of the stochastic-unit network (circles) and under the "
        "mean-field predictor of the deterministic network (squares); the filled marker is the "
        "predictor the method was trained for, the hollow one scores the same weights as the "
        "other kind of model. A long segment means the weights are a poor model of the other kind."
    )
    if floors:
        caption += (
            f" The dashed line on {', '.join(literal(d) for d in floors)} is the teacher "
            "network's own test log-loss, the floor for data sampled from it."
        )
    if capped:
        caption += (
            f" (capped): the method met its stopping rule on {CAPPED_TEXT} of the splits of at "
            "least one dataset; its points there are where the cap stopped it."
        )
    return fig, title, caption


def _capped_anywhere(main: pd.DataFrame, datasets: list[str]) -> set[str]:
    """The methods capped (emnn.study.runs.capped_rate) on any of the datasets."""
    if "converged_rate" not in main:
        return set()
    rows = main[main["dataset"].isin(datasets) & main["converged_rate"].notna()]
    return {m for m, rate in zip(rows["method"], rows["converged_rate"], strict=True)
            if capped_rate(rate)}  # fmt: skip


SIZE_PER_SPLIT = 14.0  # marker area (points squared) grows with the square root of the count


def _splits_legend(n_splits: int) -> list:
    """Marker sizes for one split, a round number of splits and all of them, each labelled
    with its count."""
    n_splits = max(int(n_splits), 1)
    shown = sorted({1, *(n for n in (5, 10, 20, 50, 100) if n < n_splits), n_splits})
    if len(shown) > 3:
        shown = [shown[0], shown[len(shown) // 2], shown[-1]]
    return [
        plt.scatter([], [], s=SIZE_PER_SPLIT * np.sqrt(n), color="0.45", lw=0,
                    label=counted(n, "split"))
        for n in shown
    ]  # fmt: skip


def paired_accuracy(runs: pd.DataFrame, study: dict):
    main = study["main"]
    baseline = main["baseline"]
    others = [m for m in main["methods"] if m != baseline]
    datasets = main["datasets"]
    hidden = study["n_hidden"]
    rows, columns = panel_grid(len(others))
    fig, axes = plt.subplots(
        rows, columns, figsize=(7.2, 0.8 + 2.2 * rows), layout="constrained", squeeze=False,
        sharey=True,
    )  # fmt: skip
    differences, n_splits, any_capped = [], 1, False
    for axis, method in zip(axes.flat, others, strict=False):
        for k, dataset in enumerate(datasets):
            pair = [runs_of(runs, dataset, name, hidden[name]) for name in (baseline, method)]
            joined = pd.concat(
                [frame["test_accuracy"] for frame in pair], axis=1, keys=["base", "method"]
            ).dropna()
            if joined.empty:
                continue
            # A split where either run stopped at its cap is drawn hollow.
            converged = [
                frame.get("converged", pd.Series(True, frame.index)).reindex(joined.index)
                for frame in pair
            ]
            capped = ~(
                converged[0].fillna(True).astype(bool) & converged[1].fillna(True).astype(bool)
            )
            # Percentage points, rounded so that splits with the same difference stack.
            change = (100 * (joined["method"] - joined["base"])).round(9)
            color = COLORS[k % len(COLORS)]
            for hollow in (False, True):
                counts = change[capped == hollow].value_counts().sort_index()
                if counts.empty:
                    continue
                any_capped |= hollow
                axis.scatter(
                    np.full(len(counts), k), counts.index, s=SIZE_PER_SPLIT * np.sqrt(counts),
                    facecolors="none" if hollow else color, edgecolors=color,
                    alpha=0.75, lw=1.0 if hollow else 0, zorder=3,
                )  # fmt: skip
            axis.plot([k - 0.3, k + 0.3], [change.mean()] * 2, color="0.15", lw=1.4, zorder=4)
            differences += list(change)
            n_splits = max(n_splits, len(change))
        axis.axhline(0, color="0.4", lw=0.8, ls="--", zorder=2)
        axis.set_title(drawn(method_label(study, method)), fontsize=9)
        axis.set_xticks(range(len(datasets)), [drawn(d) for d in datasets], rotation=30,
                        ha="right", rotation_mode="anchor", fontsize=8)  # fmt: skip
        axis.set_xlim(-0.6, len(datasets) - 0.4)
        axis.grid(axis="x", visible=False)
        axis.yaxis.set_tick_params(labelleft=True)
    for axis in axes.flat[len(others) :]:
        axis.remove()
    if differences:
        low, high = min(*differences, 0.0), max(*differences, 0.0)
        pad = 0.08 * (high - low) if high > low else 1.0
        axes.flat[0].set_ylim(low - pad, high + pad)
    fig.supylabel(
        drawn(f"test accuracy minus {method_label(study, baseline)}'s (percentage points)"),
        fontsize=9,
    )
    handles = [
        *_splits_legend(n_splits),
        plt.Line2D([], [], color="0.15", lw=1.4, label="mean difference"),
    ]
    if any_capped:
        handles.append(plt.Line2D([], [], marker="o", color="0.3", markerfacecolor="none",
                                  ls="none", label="hollow: a run stopped at its cap"))  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    title = "Paired per-split test accuracy"
    caption = (
        f"Per split, each method's test accuracy minus that of "
        f"{literal(method_label(study, baseline))} "
        f"on the same split, in percentage points (one panel per method, one column per "
        f"dataset); marker area grows with the number of splits with that difference, and "
        f"the bar marks the mean difference. Points above the dashed zero line are splits the "
        f"method wins, points on it ties."
    ) + (
        " Hollow markers are splits on which either run stopped at its cap, not at its rule."
        if any_capped
        else ""
    )
    return fig, title, caption


def sweep_accuracy(sweep: pd.DataFrame, study: dict):
    colors = method_colors(study)
    datasets = study["sweep"]["datasets"]
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(3.4 * len(datasets), 2.8), layout="constrained", squeeze=False
    )
    for axis, dataset in zip(axes[0], datasets, strict=True):
        shown = sweep[sweep["dataset"] == dataset]
        for method in study["sweep"]["methods"]:
            line = shown[shown["method"] == method].sort_values("n_hidden")
            mean = 100 * line["accuracy_mean"]
            error = np.vstack(
                [mean - 100 * line["accuracy_ci_low"], 100 * line["accuracy_ci_high"] - mean]
            )
            axis.errorbar(
                line["n_hidden"], mean, yerr=np.nan_to_num(error), capsize=2,
                marker="o", ms=3, lw=1.2, color=colors[method],
                label=drawn(method_label(study, method)),
            )  # fmt: skip
        values = shown[["accuracy_mean", "accuracy_ci_low", "accuracy_ci_high"]]
        zoom(axis, 100 * values.to_numpy(dtype=float))
        axis.set_title(drawn(dataset))
        axis.set_xlabel("hidden units $m$")
        axis.set_ylabel("test accuracy (%)")
        axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axes[0][-1].legend(loc="lower right", fontsize=8)
    counts = sorted(set(sweep["n_splits"].dropna().astype(int))) if "n_splits" in sweep else []
    over = f"the {counted(counts[0], 'split')}" if len(counts) == 1 else "splits"
    title = "Test accuracy against the number of hidden units"
    caption = (
        f"Mean test accuracy over {over} with its corrected 95 % confidence interval "
        f"(Nadeau and Bengio), against the number of hidden units $m$."
    )
    return fig, title, caption
