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

from . import provenance, records
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
    if study["main"].get("baseline"):
        names.append("paired-accuracy")
    if study.get("sweep"):
        names.append("sweep-accuracy")
    if study.get("replication"):
        names.append("replication")
    if study.get("estep_cost"):
        names.append("timing/estep-cost")
    return names


def inputs(name: str) -> list[str]:
    """The table files a figure reads."""
    if name.startswith("learning-"):
        return [f"{TABLES}/curves.csv"]
    return {
        "paired-accuracy": [f"{TABLES}/runs.csv"],
        "sweep-accuracy": [f"{TABLES}/sweep.csv"],
        "replication": [f"{TABLES}/replication.csv"],
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
            fig, title, caption = learning_curves(frames[0], study, dataset)
        else:
            painter = {
                "paired-accuracy": paired_accuracy,
                "sweep-accuracy": sweep_accuracy,
                "replication": replication,
                "timing/estep-cost": estep_cost,
            }[name]
            fig, title, caption = painter(frames[0], study)
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
    """Text matplotlib draws literally: a name holding two "$" would turn into math."""
    return text.replace("$", r"\$")


def _label(study, method):
    return study.get("labels", {}).get(method, method)


def _colors(study):
    methods = list(dict.fromkeys(study["main"]["methods"] + _part_methods(study)))
    return {m: COLORS[i % len(COLORS)] for i, m in enumerate(methods)}


def _part_methods(study):
    return [m for part in ("sweep", "replication") for m in study.get(part, {}).get("methods", [])]


# ------------------------------------------------------------------ the figures


def learning_curves(curves: pd.DataFrame, study: dict, dataset: str):
    colors = _colors(study)
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 2.8), layout="constrained")
    shown = curves[curves["dataset"] == dataset]
    for method in study["main"]["methods"]:
        for axis, value in ((left, "train_loss"), (right, "test_accuracy")):
            line = shown[(shown["method"] == method) & (shown["value"] == value)]
            if line.empty:
                continue
            x = line["iteration"].to_numpy()
            axis.plot(x, line["median"], color=colors[method], lw=1.4,
                      label=_drawn(_label(study, method)))  # fmt: skip
            axis.fill_between(x, line["q25"], line["q75"], color=colors[method], alpha=0.2, lw=0)
    left.set_yscale("log")
    left.set_xlabel("iteration (EM) or epoch (SGD)")
    left.set_ylabel("penalized training log-loss per example")
    right.set_xlabel("iteration (EM) or epoch (SGD)")
    right.set_ylabel("test accuracy")
    right.legend(loc="lower right", fontsize=8)
    title = f"Learning curves on {dataset}"
    caption = (
        f"Training objective (penalized log-loss per training example, log scale) and test "
        f"accuracy against iteration on {dataset}: median over splits, band from the first to "
        f"the third quartile. A run that stopped early keeps its final value."
    )
    return fig, title, caption


def paired_accuracy(runs: pd.DataFrame, study: dict):
    main = study["main"]
    baseline = main["baseline"]
    others = [m for m in main["methods"] if m != baseline]
    hidden = study["n_hidden"]
    fig, axes = plt.subplots(
        1, len(others), figsize=(2.6 * len(others), 2.8), layout="constrained", squeeze=False
    )
    markers = "osD^v<>p"
    for axis, method in zip(axes[0], others, strict=True):
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
        low = min(axis.get_xlim()[0], axis.get_ylim()[0])
        axis.plot([low, 1], [low, 1], color="0.4", lw=0.8, ls="--")
        axis.set_xlabel(_drawn(f"{_label(study, baseline)} test accuracy"))
        axis.set_ylabel(_drawn(f"{_label(study, method)} test accuracy"))
    axes[0][-1].legend(loc="lower right", fontsize=7)
    title = "Paired per-split test accuracy"
    caption = (
        f"Test accuracy of each method (vertical) against {_label(study, baseline)} "
        f"(horizontal) on the same split; marker area grows with the number of splits at a "
        f"point. Points above the dashed diagonal are splits the method wins."
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


def replication(table: pd.DataFrame, study: dict):
    spec = study["replication"]
    methods, datasets = spec["methods"], spec["datasets"]
    reported = spec.get("reported", {})
    fig, axis = plt.subplots(figsize=(7.2, 3.0), layout="constrained")
    width = 0.8 / (len(datasets) + 1)
    offsets = (np.arange(len(datasets) + 1) - len(datasets) / 2) * width
    x = np.arange(len(methods))
    heights = [reported.get(m, np.nan) for m in methods]
    axis.bar(x + offsets[0], heights, width, color="0.6", label="reported by the originating study")
    for k, dataset in enumerate(datasets, start=1):
        rows = table[table["dataset"] == dataset].set_index("method").reindex(methods)
        error = np.vstack([rows["accuracy_mean"] - rows["accuracy_ci_low"],
                           rows["accuracy_ci_high"] - rows["accuracy_mean"]])  # fmt: skip
        has_interval = bool(np.isfinite(error).any())
        axis.bar(
            x + offsets[k], rows["accuracy_mean"], width, color=COLORS[(k - 1) % len(COLORS)],
            yerr=error if has_interval else None, capsize=2,
            label=_drawn(f"{dataset}, {int(rows['n_splits'].max())} split(s)"),
        )  # fmt: skip
    axis.set_xticks(x, [_drawn(_label(study, m)) for m in methods], fontsize=7)
    axis.set_ylabel("test accuracy")
    axis.set_ylim(0, 1.05)
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3, fontsize=7)
    title = "Replication of the originating study"
    caption = (
        "Test accuracy reported by the originating study beside ours: under its protocol "
        f"({datasets[0]}) and under ours ({', '.join(datasets[1:])}), with corrected 95 % "
        "confidence intervals where there are several splits."
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
