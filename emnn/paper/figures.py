"""The study's figures, from the tables only, byte for byte reproducible.

Each figure is written as SVG, PDF and PNG with a JSON sidecar that carries its
provenance: the tables it read (with their SHA-256), the code that drew it, the
study's config hash and root seed, and the command that regenerates it.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ..core import provenance, records
from ..core.layout import FIGURES, TABLES, TIMING_FIGURES, TIMING_TABLES, slug
from ..core.tidy import read_table
from ..parts.moe import contract as moe
from ..typeset.figure_style import STYLE

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
        names.append(moe.FIGURE)
    if study.get("estep_cost"):
        names.append("timing/estep-cost")
    if study.get("scaling"):
        names.append("scaling-sweep")
    return names


# Who draws each figure: "module:function" of the part that owns it, imported only by the
# job that draws it, so a figure's code is its own painter's closure and editing one part's
# figure code redraws that part's figures only (emnn.core.provenance.stage_sources).
PAINTERS = {
    "learning-": "emnn.parts.main.learning_figures:learning_curves",
    "suboptimality": "emnn.parts.main.learning_figures:suboptimality",
    "cross-scoring": "emnn.parts.main.comparison_figures:cross_scoring",
    "paired-accuracy": "emnn.parts.main.comparison_figures:paired_accuracy",
    "sweep-accuracy": "emnn.parts.main.comparison_figures:sweep_accuracy",
    "initializations": "emnn.parts.replication.figure:initializations",
    "timing/estep-cost": "emnn.parts.timing.figure:estep_cost",
    moe.FIGURE: "emnn.parts.moe.figure:objective_traces",
    "scaling-sweep": "emnn.parts.scaling.figure:scaling_sweep",
}


def painter(name: str) -> str:
    """The "module:function" that draws a figure."""
    return PAINTERS["learning-" if name.startswith("learning-") else name]


def code_files(name: str) -> list[str]:
    """The source files a figure's job depends on: the figure command and its painter."""
    return provenance.stage_sources("figures", painter(name).split(":")[0])


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
        "suboptimality": [f"{TABLES}/suboptimality.csv", f"{TABLES}/convergence.csv"],
        "cross-scoring": [f"{TABLES}/cross.csv", f"{TABLES}/main.csv"],
        "paired-accuracy": [f"{TABLES}/runs.csv"],
        "sweep-accuracy": [f"{TABLES}/sweep.csv"],
        "initializations": [f"{TABLES}/ablation_inits.csv"],
        "timing/estep-cost": [f"{TIMING_TABLES}/estep_cost.csv"],
        moe.FIGURE: moe.FIGURE_INPUTS,
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
    module, function = painter(name).split(":")
    paint = getattr(importlib.import_module(module), function)
    with plt.rc_context(STYLE):
        if name.startswith("learning-"):
            dataset = next(d for d in study["main"]["datasets"] if f"learning-{slug(d)}" == name)
            fig, title, caption = paint(*frames, study, dataset)
        else:
            fig, title, caption = paint(*frames, study)
        sidecar = {
            "name": name,
            "anchor": "fig-" + name.replace("/", "-"),
            "title": title,
            "caption": caption,
            "files": {kind: f"{output_prefix(name)}.{kind}" for kind in ("svg", "pdf", "png")},
            "inputs": {path: _sha256(root / path) for path in tables},
            "code": provenance.code(code_files(name)),
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
