"""The paper's inputs: result tables, figure sidecars and run records, with their hashes.

A figure drawn from other tables, or for another study plan, stops the report:
the paper never shows a figure that disagrees with its tables.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from ..core import records
from ..core.errors import StudyError
from ..core.layout import TABLES, TIMING_TABLES
from ..core.tidy import read_table
from ..parts.main import contract as main
from ..parts.moe import contract as moe
from ..parts.replication.contract import TABLE_NAMES as ABLATION_TABLES
from ..parts.scaling.contract import TABLE_NAMES as SCALING_TABLES
from ..study.jobs import figure_plan
from .figures import figure_names, output_prefix

TIMING_TABLE_NAMES = [*main.TIMING_TABLES, "estep_cost", "iteration_cost"]
FIGURE_KINDS = ("svg", "pdf", "png")


def load(config: dict, run_dirs, root: Path) -> dict:
    """The tables, figure sidecars and run records the paper is made of, with hashes."""
    plan = figure_plan(config)
    table_names = [
        *main.RESULT_TABLES,
        *(ABLATION_TABLES if "ablation" in plan else ()),
        *(SCALING_TABLES if "scaling" in plan else ()),
        *(moe.TABLE_NAMES if "moe" in plan else ()),
    ]
    tables = {name: study_table(root, f"{TABLES}/{name}.csv") for name in table_names}
    timing_names = [n for n in TIMING_TABLE_NAMES if timed(n, plan)]
    timing_names += moe.TIMING_NAMES if "moe" in plan else ()
    timing = {name: study_table(root, f"{TIMING_TABLES}/{name}.csv") for name in timing_names}
    plan_sha256 = hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()
    figures = {name: read_figure(root, name, plan_sha256) for name in figure_names(plan)}
    runs = read_runs(root, run_dirs)

    listing, sums = [], []
    for name in table_names:
        path = f"{TABLES}/{name}.csv"
        listing.append((sha256_file(root / path), path))
    for figure in figures.values():
        if not figure["timing"]:
            listing.extend((sha256_file(root / path), path) for path in figure["paths"])
    sums.extend(listing)
    for run in runs:
        lines = [(sha256_file(root / path), path) for path in run["records"]]
        sums.extend(lines)
        listing.append((sha256_lines(lines), run["path"] + "/"))

    timing_listing = [
        (sha256_file(root / f"{TIMING_TABLES}/{n}.csv"), f"{TIMING_TABLES}/{n}.csv")
        for n in timing_names
    ]
    for figure in figures.values():
        if figure["timing"]:
            timing_listing.extend((sha256_file(root / path), path) for path in figure["paths"])
    timing_records = [(sha256_file(root / p), p) for run in runs for p in run["timing"]]
    timing_listing.append(
        (sha256_lines(timing_records), f"{len(timing_records)} run timing records (*.timing.json)")
    )
    return {
        "plan": plan,
        "tables": tables,
        "timing": timing,
        "figures": figures,
        "runs": runs,
        "listing": listing,
        "sums": sums,
        "timing_listing": timing_listing,
    }


def timed(name: str, plan: dict) -> bool:
    """Whether the study writes a timing table: the E-step cost stage's are configured."""
    cost = plan.get("estep_cost") or {}
    return {"estep_cost": bool(cost), "iteration_cost": bool(cost.get("e_steps"))}.get(name, True)


def study_table(root: Path, path: str) -> pd.DataFrame:
    """One of the study's tables, or a clear error when its stage has not run."""
    file = root / path
    if not file.is_file():
        raise StudyError(f"report: table {path} not found; run the aggregate stage first")
    return read_table(file)


def read_figure(root: Path, name: str, plan_sha256: str) -> dict:
    """A figure's sidecar and SVG text; a figure drawn from other tables, or for another
    study plan (other labels, say), stops the report."""
    sidecar_path = f"{output_prefix(name)}.json"
    if not (root / sidecar_path).is_file():
        raise StudyError(f"report: figure {sidecar_path} not found; run the figures stage first")
    sidecar = records.read(root / sidecar_path)
    for path, digest in sidecar["inputs"].items():
        if not (root / path).is_file() or sha256_file(root / path) != digest:
            raise StudyError(
                f"report: figure {name} was drawn from another version of {path}; "
                f"redraw it ({sidecar['command']})"
            )
    if sidecar["study_sha256"] != plan_sha256:
        raise StudyError(
            f"report: figure {name} was drawn for another study plan; "
            f"redraw it ({sidecar['command']})"
        )
    paths = [sidecar["files"][kind] for kind in FIGURE_KINDS] + [sidecar_path]
    for path in paths:
        if not (root / path).is_file():
            raise StudyError(f"report: figure file {path} not found; run the figures stage first")
    return {
        **sidecar,
        "timing": name.startswith("timing/"),
        "paths": paths,
        "svg_text": (root / sidecar["files"]["svg"]).read_text(encoding="utf-8"),
    }


def read_runs(root: Path, run_dirs) -> list[dict]:
    """Each run directory: its path from root, its record files, its first record and the
    hyperparameters each split's inner cross-validation chose."""
    runs = []
    for directory in run_dirs:
        path = Path(directory) if Path(directory).is_absolute() else root / directory
        record_files = records.record_files(path)
        if not record_files:
            raise StudyError(f"report: no run records in {directory}")
        chosen = []
        for file in record_files:
            record = records.read_record(file)
            selection = record["method"].get("selection")
            if selection:
                chosen.append(
                    {
                        "dataset": record["dataset"]["name"],
                        "method": record["method"]["name"],
                        "n_hidden": record["method"]["params"]["n_hidden"],
                        "chosen": selection["chosen"],
                        "inner_folds": selection.get("inner_folds"),
                        "scoring": selection.get("scoring"),
                    }
                )
        runs.append(
            {
                "path": relative(path, root),
                "records": [relative(p, root) for p in record_files],
                "timing": [relative(p, root) for p in records.timing_files(path)],
                "first": records.read_record(record_files[0]),
                "chosen": chosen,
            }
        )
    return sorted(runs, key=lambda run: run["path"])


def relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sha256_lines(lines) -> str:
    """SHA-256 of `sha256sum` lines: one hash of many files, checkable from SHA256SUMS."""
    text = "".join(f"{digest}  {path}\n" for digest, path in lines)
    return hashlib.sha256(text.encode()).hexdigest()
