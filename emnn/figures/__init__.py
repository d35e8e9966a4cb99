"""The study's figures, from the tables only, byte for byte reproducible.

Each figure is written as SVG, PDF and PNG with a JSON sidecar that carries its
provenance: the tables it read (with their SHA-256), the code that drew it, the
study's config hash and root seed, and the command that regenerates it.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker

from .. import ablations, provenance, records
from ..aggregate import main_runs, read_table
from ..layout import FIGURES, TABLES, TIMING_FIGURES, TIMING_TABLES, slug
from . import moe, scaling
from .style import (
    COLORS,
    STYLE,
    _Bounded,
    _colors,
    _count,
    _count_ticks,
    _drawn,
    _grid,
    _label,
    _log_ticks,
    _math,
    _text,
    _zoom,
)

# No dates or tool versions in the files: the same data give the same bytes.
METADATA = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
    "png": {"Software": None},
}


def figure_names(study: dict) -> list[str]:
    """Every figure the study draws; names under timing/ hold wall-clock times."""
    names = [f"learning-{slug(d)}" for d in study["main"]["datasets"]]
    names += ["suboptimality", "cross-scoring"]
    if study["main"].get("baseline"):
        names.append("paired-accuracy")
    if study.get("sweep"):
        names.append("sweep-accuracy")
    if study.get("ablation"):
        names.append("initializations")
    if study.get("moe"):
        names.append(moe.NAME)
    if study.get("estep_cost"):
        names.append("timing/estep-cost")
    if study.get("scaling"):
        names.append("scaling-sweep")
    return names


# The figures `snakemake scaling` draws (with the sweep's tables).
SCALING_FIGURES = ("scaling-sweep", "timing/estep-cost")


def inputs(name: str, study: dict | None = None) -> list[str]:
    """The table files a figure reads (the E-step cost figure: also the cost of a whole
    iteration per kind of E-step, when the study times it)."""
    if name == "timing/estep-cost" and (study or {}).get("estep_cost", {}).get("e_steps"):
        return [f"{TIMING_TABLES}/estep_cost.csv", f"{TIMING_TABLES}/iteration_cost.csv"]
    if name.startswith("learning-"):
        return [f"{TABLES}/curves.csv", f"{TABLES}/convergence.csv"]
    return {
        "suboptimality": [f"{TABLES}/suboptimality.csv"],
        "cross-scoring": [f"{TABLES}/cross.csv", f"{TABLES}/main.csv"],
        "paired-accuracy": [f"{TABLES}/runs.csv"],
        "sweep-accuracy": [f"{TABLES}/sweep.csv"],
        "initializations": [f"{TABLES}/ablation_inits.csv"],
        "timing/estep-cost": [f"{TIMING_TABLES}/estep_cost.csv"],
        moe.NAME: moe.INPUTS,
        "scaling-sweep": [f"{TABLES}/scaling.csv"],
    }[name]


def output_prefix(name: str) -> str:
    return (
        f"{TIMING_FIGURES}/{name.split('/', 1)[1]}"
        if name.startswith("timing/")
        else f"{FIGURES}/{name}"
    )


def draw(name: str, study: dict, root: Path = Path(".")) -> dict:
    """Draw one figure into root/results/figures; return its sidecar."""
    tables = {path: read_table(root / path) for path in inputs(name, study)}
    frames = list(tables.values())
    with plt.rc_context(STYLE):
        if name.startswith("learning-"):
            dataset = next(d for d in study["main"]["datasets"] if f"learning-{slug(d)}" == name)
            fig, title, caption = learning_curves(*frames, study, dataset)
        else:
            painter = {
                "suboptimality": suboptimality,
                "cross-scoring": cross_scoring,
                "paired-accuracy": paired_accuracy,
                "sweep-accuracy": sweep_accuracy,
                "initializations": initializations,
                "timing/estep-cost": estep_cost,
                moe.NAME: moe.objective_traces,
                "scaling-sweep": scaling.scaling_sweep,
            }[name]
            fig, title, caption = painter(*frames, study)
        sidecar = {
            "name": name,
            "anchor": "fig-" + name.replace("/", "-"),
            "title": title,
            "caption": caption,
            "files": {kind: f"{output_prefix(name)}.{kind}" for kind in ("svg", "pdf", "png")},
            "inputs": {path: _sha256(root / path) for path in tables},
            "code": provenance.code(provenance.stage_sources("figures")),
            "study_sha256": hashlib.sha256(json.dumps(study, sort_keys=True).encode()).hexdigest(),
            "seed": study.get("seed"),
            "emnn_version": provenance.versions()["emnn"],
            "command": f"snakemake --cores 1 --force {output_prefix(name)}.svg",
        }
        # The files carry their provenance too, so a figure copied alone stays citable.
        stamp = (
            f"emnn {sidecar['emnn_version']}; code sha256 {sidecar['code']['sha256']}; "
            f"study sha256 {sidecar['study_sha256']}; seed {sidecar['seed']}; "
            f"regenerate: {sidecar['command']}"
        )
        described = {"svg": "Description", "pdf": "Subject", "png": "Description"}
        prefix = root / output_prefix(name)
        for kind in ("svg", "pdf", "png"):
            buffer = io.BytesIO()
            metadata = {**METADATA[kind], described[kind]: stamp}
            fig.savefig(buffer, format=kind, metadata=metadata, bbox_inches="tight")
            records.write_bytes(f"{prefix}.{kind}", buffer.getvalue())
        plt.close(fig)
    records.write_text(f"{prefix}.json", records.dumps(sidecar))
    return sidecar


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ------------------------------------------------------------------ the figures


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
PREDICTORS = {"exact": ("o", COLORS[0]), "mean-field": ("s", COLORS[1])}


def _objectives(convergence: pd.DataFrame, dataset: str) -> dict:
    """Each main method's training objective ("exact" or "mean-field") on a dataset."""
    rows = convergence[convergence["dataset"] == dataset]
    return dict(zip(rows["method"], rows["objective"], strict=True))


def _teacher_floor(main: pd.DataFrame, dataset: str) -> float | None:
    """The teacher network's own mean test log-loss on a dataset sampled from it."""
    if "reference" not in main:
        return None
    rows = main[(main["dataset"] == dataset) & main["reference"].astype(str).eq("True")]
    values = rows["log_loss_mean"].dropna()
    return float(values.iloc[0]) if len(values) else None


def _n_splits(table: pd.DataFrame, dataset: str) -> int | None:
    """The number of splits behind a dataset's rows, if the table says and they agree."""
    if "n_splits" not in table:
        return None
    counts = set(table.loc[table["dataset"] == dataset, "n_splits"].dropna().astype(int))
    return counts.pop() if len(counts) == 1 else None


def learning_curves(curves: pd.DataFrame, convergence: pd.DataFrame, study: dict, dataset: str):
    colors = _colors(study)
    kinds = _objectives(convergence, dataset)
    methods = study["main"]["methods"]
    groups = [
        (kind, [m for m in methods if kinds.get(m) == kind]) for kind in ("exact", "mean-field")
    ]
    groups = [(kind, chosen) for kind, chosen in groups if chosen]
    fig = plt.figure(figsize=(7.2, 2.6 * len(groups)), layout="constrained")
    # One sub-figure per kind of trainer: its own title, x quantity and legend.
    panels = np.atleast_1d(fig.subfigures(len(groups), 1, hspace=0.04))
    axes = [panel.subplots(1, 2) for panel in panels]
    shown = curves[curves["dataset"] == dataset]
    single = []  # methods recorded at their final iteration only
    for panel, row, (kind, chosen) in zip(panels, axes, groups, strict=True):
        left, right = row
        for method in chosen:
            for axis, value, scale in ((left, "train_loss", 1), (right, "test_accuracy", 100)):
                line = shown[(shown["method"] == method) & (shown["value"] == value)]
                if line.empty:
                    continue
                x = line["iteration"].to_numpy()
                axis.plot(x, scale * line["median"], color=colors[method], lw=1.4,
                          marker="o" if len(x) == 1 else None, ms=5,
                          label=_drawn(_label(study, method)))  # fmt: skip
                axis.fill_between(
                    x, scale * line["q25"], scale * line["q75"], color=colors[method],
                    alpha=0.2, lw=0,
                )  # fmt: skip
                if len(x) == 1 and value == "train_loss":
                    single.append(_label(study, method))
        left.set_yscale("log")
        for axis in row:
            axis.set_xscale("symlog", linthresh=1.0, linscale=0.4)
            axis.set_xlim(left=0)
            axis.set_xlabel(STEP_LABELS[kind])
            _count_ticks(axis.xaxis)
        _log_ticks(left.yaxis)
        left.set_ylabel(LOSS_LABELS[kind])
        right.set_ylabel("test accuracy (%)")
        panel.suptitle(ROW_TITLES[kind], x=0.02, ha="left", fontsize=9, fontweight="bold")
        panel.legend(handles=right.get_legend_handles_labels()[0], loc="outside right center",
                     fontsize=7, handlelength=1.5)  # fmt: skip
    # Accuracy: the same limits in every row, from the data of every row.
    accuracy = shown[shown["method"].isin(methods) & (shown["value"] == "test_accuracy")]
    for row in axes:
        _zoom(row[1], 100 * accuracy[["q25", "median", "q75"]].to_numpy(dtype=float))
    n_splits = _n_splits(convergence, dataset)
    over = f"the {_count(n_splits, 'split')}" if n_splits else "splits"
    title = f"Learning curves on {_text(dataset)}"
    caption = (
        f"Each method's own training objective (penalized log-loss per training example, log "
        f"scale) and test accuracy under its own predictor on {_text(dataset)}, against its "
        f"own iteration count (0, then logarithmic): median over {over}, band from the first "
        f"to the third quartile. Exact-likelihood trainers (top) minimize the exact loss of "
        f"the stochastic-unit network, and one iteration is one update of the weights: an EM "
        f"step, a SQUAREM cycle (three or more E-steps) or an L-BFGS step (the suboptimality "
        f"figure puts them on one scale of cost, E-step evaluations); back-propagation "
        f"trainers (bottom) minimize the mean-field network's loss, counted in epochs. The two "
        f"objectives are different quantities and never share an axis. A run that stopped "
        f"early keeps its final value."
    )
    if single:
        caption += (
            f" {' and '.join(_text(s) for s in single)} "
            f"{'is' if len(single) == 1 else 'are'} recorded at the final epoch only (one point)."
        )
    return fig, title, caption


def suboptimality(table: pd.DataFrame, study: dict):
    colors = _colors(study)
    datasets = study["main"]["datasets"]
    rows, columns = _grid(len(datasets))
    fig, axes = plt.subplots(
        rows, columns, figsize=(7.2, 0.4 + 2.3 * rows), layout="constrained", squeeze=False
    )
    values = table[["q25", "median", "q75"]].to_numpy(dtype=float).ravel()
    positive = values[np.isfinite(values) & (values > 0)]
    # Zero (the run that found the split's best) has no place on a log scale: it is drawn
    # on a dotted line a decade below the smallest positive value.
    floor = 10.0 ** (np.floor(np.log10(positive.min())) - 1) if positive.size else 1e-8
    floor = max(floor, 1e-15)
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
                label=_drawn(_label(study, method)),
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
        axis.text(0.01, floor, " 0 (the split's best)", transform=axis.get_yaxis_transform(),
                  ha="left", va="bottom", fontsize=7, color="0.35")  # fmt: skip
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_ylim(bottom=floor / 2)
        _log_ticks(axis.xaxis)
        _log_ticks(axis.yaxis)
        axis.set_title(_drawn(dataset), fontsize=9)
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
        "penalized log-likelihood [#eq-objective] and $\\ell^*$ the best final one any "
        "exact-likelihood trainer reached on the same split: median over splits, band from the "
        "first to the third quartile. The "
        "E-step is the unit of cost all of them share: EM spends one per iteration, SQUAREM "
        "three or more per cycle, L-BFGS one per function evaluation (line-search trials "
        "included). A run that stopped keeps its final value; a value of 0 (the run that "
        f"found the split's best) is drawn on the dotted line at {_math(floor)}."
    )
    return fig, title, caption


def cross_scoring(table: pd.DataFrame, main: pd.DataFrame, study: dict):
    datasets = study["main"]["datasets"]
    methods = [m for m in study["main"]["methods"] if m in set(table["method"])]
    rows, columns = _grid(len(datasets))
    fig, axes = plt.subplots(
        rows, columns, figsize=(7.2, 0.5 + (0.7 + 0.25 * len(methods)) * rows),
        layout="constrained", squeeze=False, sharey=True,
    )  # fmt: skip
    y = {m: -k for k, m in enumerate(methods)}
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
        axis.set_title(_drawn(dataset), fontsize=9)
        axis.set_xlabel("test log-loss")
        axis.set_yticks(list(y.values()), [_drawn(_label(study, m)) for m in methods])
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
    over = f"the {_count(counts.pop(), 'split')}" if len(counts) == 1 else "splits"
    caption = (
        f"Mean test log-loss over {over} of each method's trained weights under the exact "
        "predictor [#eq-marginal] of the stochastic-unit network (circles) and under the "
        "mean-field predictor of the deterministic network (squares); the filled marker is the "
        "predictor the method was trained for, the hollow one scores the same weights as the "
        "other kind of model. A long segment means the weights are a poor model of the other kind."
    )
    if floors:
        caption += (
            f" The dashed line on {', '.join(_text(d) for d in floors)} is the teacher "
            "network's own test log-loss, the floor for data sampled from it."
        )
    return fig, title, caption


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
                    label=_count(n, "split"))
        for n in shown
    ]  # fmt: skip


def paired_accuracy(runs: pd.DataFrame, study: dict):
    main = study["main"]
    baseline = main["baseline"]
    others = [m for m in main["methods"] if m != baseline]
    datasets = main["datasets"]
    hidden = study["n_hidden"]
    rows, columns = _grid(len(others))
    fig, axes = plt.subplots(
        rows, columns, figsize=(7.2, 0.8 + 2.2 * rows), layout="constrained", squeeze=False,
        sharey=True,
    )  # fmt: skip
    differences, n_splits = [], 1
    for axis, method in zip(axes.flat, others, strict=False):
        for k, dataset in enumerate(datasets):
            pair = [
                main_runs(runs, dataset, name, hidden).set_index("split")["test_accuracy"]
                for name in (baseline, method)
            ]
            joined = pd.concat(pair, axis=1, keys=["base", "method"]).dropna()
            if joined.empty:
                continue
            # Percentage points, rounded so that splits with the same difference stack.
            change = (100 * (joined["method"] - joined["base"])).round(9)
            counts = change.value_counts().sort_index()
            axis.scatter(
                np.full(len(counts), k), counts.index, s=SIZE_PER_SPLIT * np.sqrt(counts),
                color=COLORS[k % len(COLORS)], alpha=0.75, lw=0, zorder=3,
            )  # fmt: skip
            axis.plot([k - 0.3, k + 0.3], [change.mean()] * 2, color="0.15", lw=1.4, zorder=4)
            differences += list(change)
            n_splits = max(n_splits, len(change))
        axis.axhline(0, color="0.4", lw=0.8, ls="--", zorder=2)
        axis.set_title(_drawn(_label(study, method)), fontsize=9)
        axis.set_xticks(range(len(datasets)), [_drawn(d) for d in datasets], rotation=30,
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
        _drawn(f"test accuracy minus {_label(study, baseline)}'s (percentage points)"),
        fontsize=9,
    )
    handles = [
        *_splits_legend(n_splits),
        plt.Line2D([], [], color="0.15", lw=1.4, label="mean difference"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    title = "Paired per-split test accuracy"
    caption = (
        f"Per split, each method's test accuracy minus that of {_text(_label(study, baseline))} "
        f"on the same split, in percentage points (one panel per method, one column per "
        f"dataset); marker area grows with the number of splits with that difference, and "
        f"the bar marks the mean difference. Points above the dashed zero line are splits the "
        f"method wins, points on it ties."
    )
    return fig, title, caption


def sweep_accuracy(sweep: pd.DataFrame, study: dict):
    colors = _colors(study)
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
                marker="o", ms=3, lw=1.2, color=colors[method], label=_drawn(_label(study, method)),
            )  # fmt: skip
        values = shown[["accuracy_mean", "accuracy_ci_low", "accuracy_ci_high"]]
        _zoom(axis, 100 * values.to_numpy(dtype=float))
        axis.set_title(_drawn(dataset))
        axis.set_xlabel("hidden units $m$")
        axis.set_ylabel("test accuracy (%)")
        axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axes[0][-1].legend(loc="lower right", fontsize=8)
    counts = sorted(set(sweep["n_splits"].dropna().astype(int))) if "n_splits" in sweep else []
    over = f"the {_count(counts[0], 'split')}" if len(counts) == 1 else "splits"
    title = "Test accuracy against the number of hidden units"
    caption = (
        f"Mean test accuracy over {over} with its corrected 95 % confidence interval "
        f"(Nadeau and Bengio), against the number of hidden units $m$."
    )
    return fig, title, caption


def initializations(table: pd.DataFrame, study: dict):
    reported = ablations.REPORTED_CORRECT
    rows = [("em-bug-compatible", "em"), ("backprop-bug-compatible", "backprop")]
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.6), layout="constrained", sharey=True)
    n_draws = n_test = tallest = 0
    lowest = 100.0
    for axis, (key, model) in zip(axes, rows, strict=True):
        shown = table[table["row"] == key]
        n_draws, n_test = len(shown), int(shown["n_test"].iloc[0])
        counts = shown["n_correct"].value_counts().reindex(range(n_test + 1), fill_value=0)
        accuracy = 100 * counts.index.to_numpy() / n_test
        axis.bar(accuracy, counts.to_numpy(), width=100 / n_test * 0.85, color=COLORS[0])
        mark = 100 * reported[model] / n_test
        axis.axvline(mark, color=COLORS[1], lw=1.2, ls="--")
        reaching = int((shown["n_correct"] >= reported[model]).sum())
        axis.annotate(
            f"reported {reported[model]}/{n_test}\nreached by {reaching} of "
            f"{_count(n_draws, 'draw')}", xy=(mark, 0.97), xycoords=axis.get_xaxis_transform(),
            xytext=(-4, 0), textcoords="offset points", ha="right", va="top", fontsize=7,
            color=COLORS[1], bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )  # fmt: skip
        tallest = max(tallest, int(counts.max()))
        axis.set_title(_drawn(ablations.ablation_row(key).name), fontsize=9)
        axis.set_xlabel("test accuracy (%) on the original split")
        lowest = min(lowest, 100 * shown["n_correct"].min() / n_test, mark)
    # Accuracy from the lowest draw to 100 %, half a bar's width beyond either end.
    half = 100 / n_test / 2 if n_test else 1.0
    for axis in axes:
        axis.set_xlim(max(lowest - 3 * half, -half), 100 + half)
        axis.xaxis.set_major_locator(_Bounded(0, 100, nbins=6, steps=[1, 2, 2.5, 5, 10]))
    # Headroom above the tallest bar for the two lines that mark the reported accuracy.
    axes[0].set_ylim(0, 1.3 * max(tallest, 1))
    axes[0].set_ylabel("initializations")
    title = "The originating results over random initializations"
    caption = (
        f"Test accuracy on the originating study's split of its two notebooks rebuilt bug for "
        f"bug, from {_count(n_draws, 'random initialization')} each (everything else as "
        f"originally run); the dashed line marks the accuracy the originating study reported "
        f"from its one initialization, {reported['em']}/{n_test} for EM and "
        f"{reported['backprop']}/{n_test} for back-propagation."
    )
    return fig, title, caption


def estep_cost(cost: pd.DataFrame, *rest):
    """The exact E-step and M-step against m; called (cost, study), or (cost, iterations,
    study) to draw beside it one whole EM iteration per kind of E-step
    (emnn.figures.scaling)."""
    *more, study = rest
    iterations = more[0] if more else None
    panels = 1 if iterations is None else 2
    fig, axes = plt.subplots(
        1, panels, figsize=(4.2 * panels, 2.8), layout="constrained", squeeze=False
    )
    axis = axes[0][0]
    m = cost["n_hidden"].to_numpy()
    for column, label, color in (
        ("e_step_seconds", "E-step", COLORS[0]),
        ("m_step_seconds", "Newton M-step", COLORS[1]),
    ):
        axis.plot(m, 1e3 * cost[column], marker="o", ms=3, color=color, label=label)
    anchor = 1e3 * cost["e_step_seconds"].iloc[-1] / 2.0 ** m[-1]
    axis.plot(m, anchor * 2.0**m, color="0.4", ls="--", lw=0.8, label=r"$\propto 2^m$")
    axis.set_yscale("log")
    _log_ticks(axis.yaxis)
    axis.set_xlabel("hidden units $m$")
    axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axis.set_ylabel("milliseconds")
    axis.legend(fontsize=8)
    n = int(cost["n"].iloc[0])
    title = "Cost of one exact EM iteration"
    caption = (
        f"Wall-clock time of one exact E-step and one Newton M-step on {n} examples against "
        "$m$ (log scale), best of repeated calls on one core, with a $2^m$ trend through the "
        "largest E-step."
    )
    if iterations is not None:
        axis.set_title("exact E-step and M-step", fontsize=9)
        title = "Cost of one EM iteration, exact and approximate"
        caption += " " + scaling.iteration_cost_panel(axes[0][1], iterations, study)
    return fig, title, caption
