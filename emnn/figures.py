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

from . import ablations, provenance, records
from .aggregate import main_runs, read_table
from .layout import FIGURES, TABLES, TIMING_FIGURES, TIMING_TABLES, slug

STYLE = {
    "svg.hashsalt": "emnn",  # fixed ids in SVG output
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
}
# No dates or tool versions in the files: the same data give the same bytes.
METADATA = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
    "png": {"Software": None},
}
COLORS = ["#1b6ca8", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#00798c", "#2e4057"]


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
    if study.get("estep_cost"):
        names.append("timing/estep-cost")
    return names


def inputs(name: str) -> list[str]:
    """The table files a figure reads."""
    if name.startswith("learning-"):
        return [f"{TABLES}/curves.csv", f"{TABLES}/convergence.csv"]
    return {
        "suboptimality": [f"{TABLES}/suboptimality.csv"],
        "cross-scoring": [f"{TABLES}/cross.csv", f"{TABLES}/main.csv"],
        "paired-accuracy": [f"{TABLES}/runs.csv"],
        "sweep-accuracy": [f"{TABLES}/sweep.csv"],
        "initializations": [f"{TABLES}/ablation_inits.csv"],
        "timing/estep-cost": [f"{TIMING_TABLES}/estep_cost.csv"],
    }[name]


def output_prefix(name: str) -> str:
    return (
        f"{TIMING_FIGURES}/{name.split('/', 1)[1]}"
        if name.startswith("timing/")
        else f"{FIGURES}/{name}"
    )


def draw(name: str, study: dict, root: Path = Path(".")) -> dict:
    """Draw one figure into root/results/figures; return its sidecar."""
    tables = {path: read_table(root / path) for path in inputs(name)}
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


def _drawn(text: str) -> str:
    """Text matplotlib draws literally: a name holding two "$" would turn into math, and a
    legend leaves out a label that starts with "_" (a zero-width space before it keeps it)."""
    text = text.replace("$", r"\$")
    return "\u200b" + text if text.startswith("_") else text


def _label(study, method):
    return study.get("labels", {}).get(method, method)


def _colors(study):
    methods = list(dict.fromkeys(study["main"]["methods"] + _part_methods(study)))
    return {m: COLORS[i % len(COLORS)] for i, m in enumerate(methods)}


def _part_methods(study):
    return study.get("sweep", {}).get("methods", [])


# ------------------------------------------------------------------ the figures


# What one iteration is, per objective: exact-likelihood trainers count EM iterations,
# SQUAREM cycles or L-BFGS steps (each its own kind); back-propagation counts epochs.
STEP_LABELS = {
    "exact": "iteration (EM step, SQUAREM cycle or L-BFGS step)",
    "mean-field": "epoch",
}
ROW_TITLES = {
    "exact": "Exact-likelihood trainers (stochastic units)",
    "mean-field": "Back-propagation trainers (deterministic network)",
}
LOSS_LABELS = {
    "exact": "exact penalized loss $-\\ell/n$",
    "mean-field": "mean-field penalized loss $-\\hat{\\ell}/n$",
}
PREDICTORS = {"exact": ("o", COLORS[0]), "mean-field": ("s", COLORS[1])}


PLAIN = ticker.FuncFormatter(lambda value, _: f"{value:g}")


def _plain_log_labels(axis, values) -> None:
    """Label a log-scaled axis 0.1, 0.2, 0.5, 1, ... rather than in powers of ten, with
    more ticks per decade when the values span less than two decades."""
    values = values[np.isfinite(values) & (values > 0)]
    decades = np.log10(values.max() / values.min()) if values.size else 3.0
    if decades < 0.6:  # well within a decade: evenly spaced round numbers read best
        axis.set_major_locator(ticker.MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    else:
        subs = (1.0, 2.0, 5.0) if decades >= 2 else (1.0, 2.0, 3.0, 5.0)
        axis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    axis.set_major_formatter(PLAIN)
    axis.set_minor_formatter(ticker.NullFormatter())


def _power(value: float) -> str:
    """A power of ten as the text of a caption: 1e-7."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


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


def _grid(count: int) -> tuple[int, int]:
    """Rows and columns of a grid of panels: one row up to 3, two columns for 4."""
    columns = count if count <= 3 else (2 if count == 4 else 3)
    return -(-count // columns), columns


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
            for axis, value in ((left, "train_loss"), (right, "test_accuracy")):
                line = shown[(shown["method"] == method) & (shown["value"] == value)]
                if line.empty:
                    continue
                x = line["iteration"].to_numpy()
                axis.plot(x, line["median"], color=colors[method], lw=1.4,
                          marker="o" if len(x) == 1 else None, ms=5,
                          label=_drawn(_label(study, method)))  # fmt: skip
                axis.fill_between(
                    x, line["q25"], line["q75"], color=colors[method], alpha=0.2, lw=0
                )
                if len(x) == 1 and value == "train_loss":
                    single.append(_label(study, method))
        for axis in row:
            axis.set_xscale("symlog", linthresh=1.0, linscale=0.4)
            axis.set_xlim(left=0)
            axis.xaxis.set_major_locator(
                ticker.SymmetricalLogLocator(linthresh=1.0, base=10, subs=(1.0, 2.0, 5.0))
            )
            axis.xaxis.set_major_formatter(PLAIN)
        panel.supxlabel(STEP_LABELS[kind], fontsize=9)
        left.set_yscale("log")
        losses = shown[shown["method"].isin(chosen) & (shown["value"] == "train_loss")]
        _plain_log_labels(left.yaxis, losses[["q25", "median", "q75"]].to_numpy(dtype=float))
        left.set_ylabel(LOSS_LABELS[kind])
        right.set_ylabel("test accuracy")
        panel.suptitle(ROW_TITLES[kind], x=0.02, ha="left", fontsize=9, fontweight="bold")
        panel.legend(handles=right.get_legend_handles_labels()[0], loc="outside right center",
                     fontsize=7, handlelength=1.5)  # fmt: skip
    for row in axes[1:]:
        row[1].sharey(axes[0][1])
    title = f"Learning curves on {dataset}"
    caption = (
        f"Each method's own training objective (penalized log-loss per training example, log "
        f"scale) and test accuracy under its own predictor on {dataset}, against its own "
        f"iteration count (0, then logarithmic): median over splits, band from the first to the "
        f"third quartile. Exact-likelihood trainers (top) minimize the exact loss of the "
        f"stochastic-unit network, and an iteration is one EM step, one SQUAREM cycle (three or "
        f"more E-steps) or one L-BFGS step; back-propagation trainers (bottom) minimize the "
        f"mean-field network's loss, counted in epochs. The two objectives are different "
        f"quantities and never share an axis. A run that stopped early keeps its final value."
    )
    if single:
        caption += (
            f" {' and '.join(single)} {'is' if len(single) == 1 else 'are'} recorded at the "
            f"final epoch only (one point)."
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
        axis.xaxis.set_major_formatter(PLAIN)
        axis.set_yscale("log")
        axis.set_ylim(bottom=floor / 2)
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
        "Relative suboptimality (ℓ* − ℓ)/|ℓ*| of each exact-likelihood trainer after a given "
        "number of E-step evaluations (both axes logarithmic), where ℓ is its penalized "
        "log-likelihood (4) and ℓ* the best final one any exact-likelihood trainer reached on "
        "the same split: median over splits, band from the first to the third quartile. The "
        "E-step is the unit of cost all of them share: EM spends one per iteration, SQUAREM "
        "three or more per cycle, L-BFGS one per function evaluation (line-search trials "
        "included). A run that stopped keeps its final value; a value of 0 (the run that "
        f"found the split's best) is drawn on the dotted line at {_power(floor)}."
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
    caption = (
        "Mean test log-loss over splits of each method's trained weights under the exact "
        "predictor (3) of the stochastic-unit network (circles) and under the mean-field "
        "predictor of the deterministic network (squares); the filled marker is the predictor "
        "the method was trained for, the hollow one scores the same weights as the other kind "
        "of model. A long segment means the weights are a poor model of the other kind."
    )
    if floors:
        caption += (
            f" The dashed line on {', '.join(floors)} is the teacher network's own test log-loss, "
            "the floor for data sampled from it."
        )
    return fig, title, caption


def paired_accuracy(runs: pd.DataFrame, study: dict):
    main = study["main"]
    baseline = main["baseline"]
    others = [m for m in main["methods"] if m != baseline]
    hidden = study["n_hidden"]
    rows, columns = _grid(len(others))
    fig, axes = plt.subplots(
        rows, columns, figsize=(min(2.4 * columns + 1.6, 7.2), 0.6 + 2.3 * rows),
        layout="constrained", squeeze=False, sharex=True, sharey=True,
    )  # fmt: skip
    markers = "osD^v<>p"
    for axis, method in zip(axes.flat, others, strict=False):
        for k, dataset in enumerate(main["datasets"]):
            pair = [
                main_runs(runs, dataset, name, hidden).set_index("split")["test_accuracy"]
                for name in (baseline, method)
            ]
            joined = pd.concat(pair, axis=1, keys=["x", "y"]).dropna()
            counts = joined.groupby(["x", "y"]).size().reset_index(name="count")
            axis.scatter(
                counts["x"], counts["y"], s=14 * np.sqrt(counts["count"]), marker=markers[k % 8],
                color=COLORS[k % len(COLORS)], alpha=0.7, label=_drawn(dataset), lw=0,
            )  # fmt: skip
        axis.set_title(_drawn(_label(study, method)), fontsize=9)
    low = min(axes.flat[0].get_xlim()[0], axes.flat[0].get_ylim()[0])
    for axis in axes.flat[: len(others)]:
        axis.plot([low, 1], [low, 1], color="0.4", lw=0.8, ls="--")
        axis.xaxis.set_tick_params(labelbottom=True)
    for axis in axes.flat[len(others) :]:
        axis.remove()
    fig.supxlabel(_drawn(f"{_label(study, baseline)} test accuracy"), fontsize=9)
    fig.supylabel("the method's test accuracy", fontsize=9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    title = "Paired per-split test accuracy"
    caption = (
        f"Test accuracy of each method (vertical, one panel per method) against "
        f"{_label(study, baseline)} (horizontal) on the same split; marker area grows with the "
        f"number of splits at a point. Points above the dashed diagonal are splits the method "
        f"wins."
    )
    return fig, title, caption


def sweep_accuracy(sweep: pd.DataFrame, study: dict):
    colors = _colors(study)
    datasets = study["sweep"]["datasets"]
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(3.4 * len(datasets), 2.8), layout="constrained", squeeze=False
    )
    for axis, dataset in zip(axes[0], datasets, strict=True):
        for method in study["sweep"]["methods"]:
            line = sweep[(sweep["dataset"] == dataset) & (sweep["method"] == method)]
            line = line.sort_values("n_hidden")
            error = np.vstack(
                [line["accuracy_mean"] - line["accuracy_ci_low"],
                 line["accuracy_ci_high"] - line["accuracy_mean"]]
            )  # fmt: skip
            axis.errorbar(
                line["n_hidden"], line["accuracy_mean"], yerr=np.nan_to_num(error), capsize=2,
                marker="o", ms=3, lw=1.2, color=colors[method], label=_drawn(_label(study, method)),
            )  # fmt: skip
        axis.set_title(_drawn(dataset))
        axis.set_xlabel("hidden units m")
        axis.set_ylabel("test accuracy")
    axes[0][-1].legend(loc="lower right", fontsize=8)
    title = "Test accuracy against the number of hidden units"
    caption = (
        "Mean test accuracy over splits with its corrected 95 % confidence interval "
        "(Nadeau and Bengio), against the number of hidden units m."
    )
    return fig, title, caption


def initializations(table: pd.DataFrame, study: dict):
    reported = ablations.REPORTED_CORRECT
    rows = [("em-bug-compatible", "em"), ("backprop-bug-compatible", "backprop")]
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.6), layout="constrained", sharey=True)
    n_draws = n_test = 0
    for axis, (key, model) in zip(axes, rows, strict=True):
        shown = table[table["row"] == key]
        n_draws, n_test = len(shown), int(shown["n_test"].iloc[0])
        counts = shown["n_correct"].value_counts().reindex(range(n_test + 1), fill_value=0)
        accuracy = 100 * counts.index.to_numpy() / n_test
        axis.bar(accuracy, counts.to_numpy(), width=100 / n_test * 0.85, color=COLORS[0])
        mark = 100 * reported[model] / n_test
        axis.axvline(mark, color=COLORS[1], lw=1.2, ls="--")
        reaching = int((shown["n_correct"] >= reported[model]).sum())
        axis.text(mark, 0.97, f" reported {reported[model]}/{n_test}\n {reaching} of "
                  f"{n_draws} draws reach it", transform=axis.get_xaxis_transform(),
                  ha="right", va="top", fontsize=7, color=COLORS[1])  # fmt: skip
        axis.set_title(_drawn(ablations.ablation_row(key).name), fontsize=9)
        axis.set_xlabel("test accuracy (%) on the original split")
        axis.set_xlim(-2, 102)
    axes[0].set_ylabel("initializations")
    title = "The originating results over random initializations"
    caption = (
        f"Test accuracy on the originating study's split of its two notebooks rebuilt bug for "
        f"bug, from {n_draws} random initializations each (everything else as originally "
        f"run); the dashed line marks the accuracy the originating study reported from its "
        f"one initialization, {reported['em']}/{n_test} for EM and {reported['backprop']}/"
        f"{n_test} for back-propagation."
    )
    return fig, title, caption


def estep_cost(cost: pd.DataFrame, study: dict):
    fig, axis = plt.subplots(figsize=(4.2, 2.8), layout="constrained")
    m = cost["n_hidden"].to_numpy()
    for column, label, color in (
        ("e_step_seconds", "E-step", COLORS[0]),
        ("m_step_seconds", "Newton M-step", COLORS[1]),
    ):
        axis.plot(m, 1e3 * cost[column], marker="o", ms=3, color=color, label=label)
    anchor = 1e3 * cost["e_step_seconds"].iloc[-1] / 2.0 ** m[-1]
    axis.plot(m, anchor * 2.0**m, color="0.4", ls="--", lw=0.8, label=r"$\propto 2^m$")
    axis.set_yscale("log")
    axis.set_xlabel("hidden units m")
    axis.set_ylabel("milliseconds")
    axis.legend(fontsize=8)
    n = int(cost["n"].iloc[0])
    title = "Cost of one exact EM iteration"
    caption = (
        f"Wall-clock time of one exact E-step and one Newton M-step on {n} examples against "
        "m (log scale), best of repeated calls on one core, with a 2^m trend through the "
        "largest E-step."
    )
    return fig, title, caption
