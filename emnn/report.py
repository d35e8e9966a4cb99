"""The paper: one HTML page and one LaTeX document, both from the study's own files.

Every number, name and sentence with a number in it is read from the result
tables, the figure sidecars and the run records, so the text cannot drift from
the results: load() gathers the inputs, context() turns them into what the
templates show, render() writes the files. Wall-clock times are the one thing
that differs between reruns; they appear only inside <section id="timing"> of
report.html and in timing.tex, which report.tex inputs, so report.tex and the
rest of report.html are byte for byte reproducible.

Both template environments share one Jinja2 syntax, ((* block *)), ((( variable )))
and ((= comment =)), which neither LaTeX nor CSS uses, so that macros.j2 can
serve both. The HTML environment escapes every value; the LaTeX one escapes
with the `tex` filter.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from functools import partial
from importlib import resources
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from . import aggregate, latex, provenance, records
from .ablations.study import TABLE_NAMES as ABLATION_TABLES
from .config import canonical_json, figure_plan, split_spec
from .errors import StudyError
from .figures import figure_names, output_prefix
from .layout import FIGURES, REPORT, TABLES, TIMING_TABLES, slug
from .narrative import narrative
from .replication import replication

PACKAGE_FILES = ("templates",)  # the Jinja2 templates and references.bib, package data
TIMING_TABLE_NAMES = [*aggregate.TIMING_TABLES, "estep_cost"]
FIGURE_KINDS = ("svg", "pdf", "png")
SYNTAX = {
    "block_start_string": "((*",
    "block_end_string": "*))",
    "variable_start_string": "(((",
    "variable_end_string": ")))",
    "comment_start_string": "((=",
    "comment_end_string": "=))",
}
# The year of the release in CITATION.cff, for the BibTeX entry of the report.
RELEASE_YEAR = 2026

MODELS = {
    "em": "stochastic binary hidden units, trained by exact EM",
    "lbfgs": (
        "stochastic binary hidden units; the same exact penalized likelihood maximized "
        "directly by L-BFGS (SciPy), its gradient from one E-step by Fisher's identity"
    ),
    "sgd": "deterministic sigmoid hidden units, trained by minibatch SGD with momentum",
    "sklearn-mlp": (
        "scikit-learn MLPClassifier with logistic hidden units: the deterministic network "
        "with the same penalty"
    ),
}


def model_text(model: str, params: dict) -> str:
    """What a method trains and how, from its model and its effective hyperparameters."""
    text = MODELS.get(model, model)
    if model == "em":
        m_step = params.get("m_step", "newton")
        if m_step == "newton" and params.get("newton_steps") is None:
            text += " with Newton M-steps solved to tolerance"
        elif m_step == "newton":
            steps = params["newton_steps"]
            text += (
                f" with {steps} Newton step{'s' if steps != 1 else ''} per half of the M-step "
                f"(generalized EM)"
            )
        elif m_step == "gradient":
            steps = params.get("inner_steps", 1)
            text += f" with {steps} gradient-ascent step{'s' if steps != 1 else ''} per M-step"
        else:
            text += f" with M-step {m_step}"
        if params.get("acceleration", "none") == "squarem":
            text += ", accelerated by SQUAREM (scheme S3)"
    elif model == "sklearn-mlp" and params.get("solver"):
        text += f", trained by its {params['solver']} solver"
    return text


def stopping_rule(model: str, params: dict) -> dict:
    """A method's own stopping rule, its cap and what one of its iterations is."""
    tol = sci(params.get("tol"))
    patience = params.get("n_iter_no_change")
    if model == "em":
        if params.get("acceleration", "none") == "squarem":
            step, unit = "one SQUAREM cycle (three or more E-steps)", "cycle"
        else:
            step, unit = "one E-step and one M-step", "iteration"
        rule = f"relative change of ℓ per {unit} ≤ {tol}"
        cap = f"{params.get('max_iter')} {unit}s"
    elif model == "lbfgs":
        step = "one quasi-Newton step (one or more E-steps)"
        rule = f"largest |∂ℓ/∂θ| ≤ {tol}"
        cap = f"{params.get('max_iter')} iterations"
    elif model == "sgd":
        step = "one epoch"
        rule = f"plateau: training ℓ not up by more than {tol} (relative) for {patience} epochs"
        cap = f"{params.get('max_epochs')} epochs"
    elif model == "sklearn-mlp":
        step = "one epoch"
        rule = (
            f"plateau: training loss per example not down by more than {tol} for {patience} epochs"
        )
        cap = f"{params.get('max_epochs')} epochs"
    else:
        step = rule = cap = "–"
    return {"step": step, "rule": rule, "cap": cap}


def sci(value) -> str:
    """A tolerance as Python writes it, without the exponent's leading zero: 1e-6."""
    if value is None:
        return "–"
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{value:g}").replace("e+", "e")


SCHEMES = {
    "shuffle": "repeated stratified shuffle splits",
    "kfold": "repeated stratified k-fold",
    "original": "the originating study's single split",
}


# ---------------------------------------------------------------- public interface


def render(
    config: dict, run_dirs: list[str], root: Path = Path("."), out_dir: str = REPORT
) -> None:
    """Write report.html, report.tex, timing.tex and SHA256SUMS into root/out_dir."""
    root = Path(root)
    data = load(config, run_dirs, root)
    values = context(config, data, root, out_dir)
    html_env, tex_env = environments()
    outputs = {
        "report.html": html_env.get_template("report.html.j2").render(values),
        "report.tex": tex_env.get_template("report.tex.j2").render(values, part="report"),
        "timing.tex": tex_env.get_template("report.tex.j2").render(values, part="timing"),
        "SHA256SUMS": "".join(f"{digest}  {path}\n" for digest, path in data["sums"]),
    }
    for name, text in outputs.items():
        records.write_text(root / out_dir / name, text)


# ---------------------------------------------------------------- loading


def load(config: dict, run_dirs, root: Path) -> dict:
    """The tables, figure sidecars and run records the paper is made of, with hashes."""
    plan = figure_plan(config)
    table_names = [*aggregate.RESULT_TABLES, *(ABLATION_TABLES if "ablation" in plan else ())]
    tables = {name: read_table(root, f"{TABLES}/{name}.csv") for name in table_names}
    timing_names = [n for n in TIMING_TABLE_NAMES if n != "estep_cost" or plan.get("estep_cost")]
    timing = {name: read_table(root, f"{TIMING_TABLES}/{name}.csv") for name in timing_names}
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


def read_table(root: Path, path: str) -> pd.DataFrame:
    """A table with its name columns kept as text (a dataset may be called "NA")."""
    file = root / path
    if not file.is_file():
        raise StudyError(f"report: table {path} not found; run the aggregate stage first")
    return aggregate.read_table(file)


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


# ---------------------------------------------------------------- context


def context(config: dict, data: dict, root: Path, out_dir: str) -> dict:
    """Everything the templates show, as plain values and short generated sentences."""
    plan, tables = data["plan"], data["tables"]
    labels = plan["labels"]
    main = plan["main"]
    baseline = main.get("baseline")
    em = headline_method(config, main)
    records_of = first_records(data["runs"])
    figures = figure_context(data["figures"], root, out_dir)
    report = config.get("report", {})
    refs = references(resources.files("emnn").joinpath("templates/references.bib").read_text())
    values = {
        "title": report.get("title", "emnn report"),
        "authors": report.get("authors", []),
        "labels": labels,
        "main": main,
        "baseline": baseline,
        "em": em,
        "figures": figures,
        "protocol": protocol(config, plan, records_of, data["runs"]),
        "results": results(config, plan, tables, records_of),
        "comparison": comparison(plan, tables["comparisons"]),
        "replication": replication(tables["ablation"], tables["ablation_inits"])
        if "ablation" in plan
        else None,
        "timing": timing_context(data, plan),
        "appendix": appendix(config, data),
        "references": refs,
        "refnum": {entry["key"]: entry["position"] for entry in refs},
    }
    n_splits = int(tables["main"]["n_splits"].max()) if len(tables["main"]) else 0
    values["narrative"] = narrative(config, plan, tables, n_splits)
    values["abstract"] = abstract(plan, tables, values)
    values["citation"] = self_citation(values)
    values["sections"] = section_numbers(values)
    values["numbers"] = numbering(values)
    return values


def headline_method(config: dict, main: dict) -> str | None:
    """The main EM method with a Newton M-step (else the first non-baseline method)."""
    others = [m for m in main["methods"] if m != main.get("baseline")]
    for name in others:
        method = config["methods"][name]
        if method["model"] == "em" and method["params"].get("m_step", "newton") == "newton":
            return name
    return others[0] if others else None


def first_records(runs: list[dict]) -> dict:
    """The first record of each dataset and of each method, keyed by name."""
    by = {"dataset": {}, "method": {}}
    for run in runs:
        record = run["first"]
        by["dataset"].setdefault(record["dataset"]["name"], record)
        by["method"].setdefault(record["method"]["name"], record)
    return by


def figure_context(figures: dict, root: Path, out_dir: str) -> dict:
    figure_dir = Path(os.path.relpath(root / FIGURES, root / out_dir)).as_posix()
    shown = {}
    for name, figure in figures.items():
        shown[name] = {
            "name": name,
            "anchor": figure["anchor"],
            "title": figure["title"],
            "caption": figure["caption"],
            "svg": inline_svg(figure["svg_text"], figure["anchor"]),
            "pdf": f"{figure_dir}/{Path(figure['files']['pdf']).relative_to(FIGURES).as_posix()}",
        }
    return shown


def inline_svg(text: str, anchor: str) -> Markup:
    """An SVG file as an element of the page: no prolog, no metadata, ids of its own.

    matplotlib names glyphs and clip paths alike in every figure, so each id,
    and every reference to it, gets the figure's anchor as a prefix.
    """
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{anchor}-\1"', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{anchor}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{anchor}-\1)", text)
    # The style sheet of each figure would otherwise apply to the whole page.
    text = re.sub(r"(<style[^>]*>\s*)\*\s*\{", rf"\1#{anchor} svg *{{", text)
    text = text.replace("<svg ", '<svg role="img" ', 1)
    return Markup(text.strip())


def protocol(config: dict, plan: dict, records_of: dict, runs: list[dict]) -> dict:
    """Datasets, splits, seeds and methods, from the config and the run records."""
    datasets = []
    for name in study_datasets(plan):
        record = records_of["dataset"].get(name)
        if record is None:
            raise StudyError(
                f"report: no run records of dataset '{name}' among the run directories"
            )
        info = record["dataset"]
        spec = config["datasets"][name]
        extra = {k: v for k, v in spec.items() if k not in ("source", "splits")}
        datasets.append(
            {
                "name": name,
                "source": info["source"],
                "source_params": params_text(extra),
                "n": info["n"],
                "p": info["p"],
                "g": info["g"],
                "class_counts": ", ".join(map(str, info["class_counts"])),
                "n_train": info["n_train"],
                "n_test": info["n_test"],
                "splits": split_text(split_spec(config, name), info),
            }
        )
    first = study_datasets(plan)[0]
    seeds = records_of["dataset"][first]["seeds"]
    roles = {
        "split": "train/test splits of the dataset",
        "init": "initial weights and minibatch order",
        "inner_cv": "folds of the inner cross-validation",
    }
    seed_rows = [
        {
            "role": role,
            "use": roles.get(role, role),
            "spawn_key": str(tuple(value["spawn_key"])),
            "seed": value["seed"],
        }
        for role, value in sorted(
            seeds.items(),
            key=lambda item: list(roles).index(item[0]) if item[0] in roles else len(roles),
        )
        if role != "root"
    ]
    methods = []
    for name in study_methods(plan):
        method = config["methods"][name]
        record = records_of["method"].get(name)
        effective = record["method"]["params"] if record else {}
        configured = method["params"]
        grid = method.get("grid", {})
        defaults = {
            k: v
            for k, v in effective.items()
            if k not in configured and k not in grid and k != "random_state"
        }
        methods.append(
            {
                "name": name,
                "label": plan["labels"][name],
                "model": method["model"],
                "model_text": model_text(method["model"], {**effective, **configured}),
                "params": params_text(configured),
                "defaults": params_text(defaults),
                "grid": params_text(grid),
                "inner_folds": method.get("inner_folds") if grid else None,
                "n_hidden": plan["n_hidden"][name],
            }
        )
    return {
        "seed": config["seed"],
        "splits": config["splits"],
        "datasets": datasets,
        "seed_dataset": first,
        "seed_rows": seed_rows,
        "methods": methods,
        "sweep": plan.get("sweep"),
        "selection": selection_rows(config, plan, runs),
    }


def selection_rows(config: dict, plan: dict, runs: list[dict]) -> list[dict]:
    """Per main dataset and method with a grid: how often inner CV chose each value, and
    whether that value lies at an edge of its grid."""
    counts, scoring = {}, {}
    for run in runs:
        for item in run["chosen"]:
            key = (item["dataset"], item["method"], item["n_hidden"])
            choice = tuple(sorted(item["chosen"].items()))
            counts.setdefault(key, {}).setdefault(choice, 0)
            counts[key][choice] += 1
            scoring[key] = (item["inner_folds"], item["scoring"])
    main, rows = plan["main"], []
    for dataset in main["datasets"]:
        for method in main["methods"]:
            key = (dataset, method, plan["n_hidden"][method])
            if key not in counts:
                continue
            found = counts[key]
            total = sum(found.values())
            grid = config["methods"][method].get("grid", {})
            rows.append(
                {
                    "dataset": dataset,
                    "label": plan["labels"].get(method, method),
                    "inner_folds": scoring[key][0],
                    "scoring": scoring[key][1],
                    "choices": "; ".join(
                        f"{params_text(dict(choice))}{grid_edge(choice, grid)} in {k} of {total}"
                        for choice, k in sorted(found.items())
                    ),
                }
            )
    return rows


def study_datasets(plan: dict) -> list[str]:
    parts = [plan[p]["datasets"] for p in ("main", "sweep") if p in plan]
    return list(dict.fromkeys(d for part in parts for d in part))


def study_methods(plan: dict) -> list[str]:
    parts = [plan[p]["methods"] for p in ("main", "sweep") if p in plan]
    return list(dict.fromkeys(m for part in parts for m in part))


def grid_edge(choice: tuple, grid: dict) -> str:
    """ " (grid edge)" when a chosen value is the smallest or largest of its grid."""
    for name, value in choice:
        values = grid.get(name, [])
        if len(values) > 1 and value in (min(values), max(values)):
            return " (grid edge)"
    return ""


def split_text(spec: dict, info: dict) -> str:
    scheme = spec["scheme"]
    if scheme == "original":
        text = f"{SCHEMES[scheme]} ({info['n_train']} train / {info['n_test']} test)"
    elif scheme == "kfold":
        text = f"{spec['n_splits']} splits: {SCHEMES[scheme]} with {spec['n_folds']} folds"
    else:
        text = (
            f"{spec['n_splits']} {SCHEMES.get(scheme, scheme)}, test fraction {spec['test_size']}"
        )
    standardized = "standardized" if spec["standardize"] else "raw features"
    return f"{text}; {standardized}"


def params_text(params: dict) -> str:
    """key=value pairs in a stable order; floats in Python's shortest round-trip form."""
    return ", ".join(f"{key}={value_text(value)}" for key, value in sorted(params.items()))


def value_text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _rows(table: pd.DataFrame, keys: list[str]) -> dict:
    return {tuple(row[k] for k in keys): row for row in table.to_dict("records")}


FLOOR_LABEL = "teacher network (floor)"
OBJECTIVES = {
    "exact": "exact ℓ (4): stochastic units",
    "mean-field": "mean-field ℓ: deterministic network",
}


def summary_rows(table, datasets, methods, labels, metric, higher_is_better) -> list[dict]:
    """Rows grouped by dataset, methods in study order, the best mean of each group marked;
    a dataset's reference rows (the teacher's own log-loss) close its group."""
    found = _rows(table, ["dataset", "method"])
    references = [r for r in table.to_dict("records") if is_true(r.get("reference"))]
    rows = []
    for dataset in datasets:
        group = [found[(dataset, m)] for m in methods if (dataset, m) in found]
        means = [r[f"{metric}_mean"] for r in group]
        best = (max if higher_is_better else min)(means) if means else None
        shown = [
            {
                "method": row["method"],
                "label": labels.get(row["method"], row["method"]),
                "reference": False,
                "n_hidden": int(row["n_hidden"]),
                "n_splits": int(row["n_splits"]),
                "mean": row[f"{metric}_mean"],
                "sd": row[f"{metric}_std"],
                "low": row[f"{metric}_ci_low"],
                "high": row[f"{metric}_ci_high"],
                "best": row[f"{metric}_mean"] == best,
            }
            for row in group
        ]
        shown += [
            {
                "method": row["method"],
                "label": FLOOR_LABEL if row["method"] == aggregate.TEACHER else row["method"],
                "reference": True,
                "n_hidden": None,
                "n_splits": int(row["n_splits"]),
                "mean": row[f"{metric}_mean"],
                "sd": None,
                "low": None,
                "high": None,
                "best": False,
            }
            for row in references
            if row["dataset"] == dataset and finite(row.get(f"{metric}_mean"))
        ]
        for k, row in enumerate(shown):
            rows.append({**row, "dataset": dataset, "first": k == 0, "span": len(shown)})
    return rows


def is_true(value) -> bool:
    """A boolean cell of a table read back from CSV (True, or the text "True")."""
    return value is True or str(value).strip().lower() in ("true", "1")


def results(config: dict, plan: dict, tables: dict, records_of: dict) -> dict:
    main, labels = plan["main"], plan["labels"]
    metrics = [
        {
            "name": "accuracy",
            "title": "Test accuracy (%)",
            "kind": "accuracy",
            "anchor": "tab-main-accuracy",
            "better": "higher",
        },
        {
            "name": "log_loss",
            "title": "Test log-loss",
            "kind": "log_loss",
            "anchor": "tab-main-log-loss",
            "better": "lower",
        },
    ]
    for metric in metrics:
        metric["rows"] = summary_rows(
            tables["main"],
            main["datasets"],
            main["methods"],
            labels,
            metric["name"],
            metric["better"] == "higher",
        )
    floors = [r for r in metrics[1]["rows"] if r["reference"]]
    sweep_rows = []
    if plan.get("sweep"):
        found = _rows(tables["sweep"], ["dataset", "method", "n_hidden"])
        sweep = plan["sweep"]
        for dataset in sweep["datasets"]:
            for method in sweep["methods"]:
                for m in sorted(sweep["n_hidden"]):
                    row = found.get((dataset, method, m))
                    if row is not None:
                        sweep_rows.append({**row, "label": labels.get(method, method)})
    return {
        "metrics": metrics,
        "floors": [r["dataset"] for r in floors],
        "convergence": convergence(config, plan, tables, records_of),
        "cross": cross(plan, tables["cross"], headline_method(config, main)),
        "sweep_rows": sweep_rows,
        "learning": [f"learning-{slug(d)}" for d in main["datasets"]],
    }


def effective_params(config: dict, records_of: dict, name: str) -> dict:
    """A method's hyperparameters in effect: its record's (defaults included), then the
    configured ones."""
    record = records_of["method"].get(name)
    return {
        **(record["method"]["params"] if record else {}),
        **config["methods"][name]["params"],
    }


def convergence(config: dict, plan: dict, tables: dict, records_of: dict) -> dict:
    """Per main dataset and method: its own stopping rule and cap, how many splits met the
    rule, how long they ran, and where they ended (convergence.csv)."""
    main, labels = plan["main"], plan["labels"]
    found = _rows(tables["convergence"], ["dataset", "method"])
    table = tables["convergence"]
    objectives = dict(zip(table["method"], table["objective"], strict=True))
    rules = []
    for name in main["methods"]:
        model = config["methods"][name]["model"]
        rules.append(
            {
                "method": name,
                "label": labels.get(name, name),
                "objective": objectives.get(name, "–"),
                "objective_text": OBJECTIVES.get(objectives.get(name), "–"),
                **stopping_rule(model, effective_params(config, records_of, name)),
            }
        )
    rows = []
    for dataset in main["datasets"]:
        group = [found[(dataset, m)] for m in main["methods"] if (dataset, m) in found]
        for k, row in enumerate(group):
            exact = row["objective"] == "exact"
            rows.append(
                {
                    "dataset": dataset,
                    "first": k == 0,
                    "span": len(group),
                    "method": row["method"],
                    "label": labels.get(row["method"], row["method"]),
                    "objective": row["objective"],
                    "converged": int(row["converged"]),
                    "n_splits": int(row["n_splits"]),
                    "iterations": row["iterations_median"],
                    "iterations_max": row["iterations_max"],
                    "n_estep": row["n_estep_median"],
                    "exact_objective": row["objective_per_example_mean"] if exact else None,
                    "mean_field_objective": None if exact else row["objective_per_example_mean"],
                    "gap": row["gap_to_best_median"],
                    "gap_max": row["gap_to_best_max"],
                }
            )
    converged = sum(r["converged"] for r in rows)
    total = sum(r["n_splits"] for r in rows)
    sentence = (
        f"In all, {converged} of the {total} runs of the main comparison met their stopping rule "
        f"before the cap."
        if total
        else ""
    )
    return {"rules": rules, "rows": rows, "converged": converged, "total": total,
            "sentence": sentence}  # fmt: skip


CROSS_VALUES = (
    ("test_accuracy", "accuracy"),
    ("test_log_loss", "log_loss"),
    ("train_log_loss", "log_loss"),
)


def cross(plan: dict, table: pd.DataFrame, em: str | None) -> dict:
    """Each main method's weights under both predictors (cross.csv), and what that says
    of the baseline's weights as stochastic-unit networks and of the headline EM method's
    as deterministic networks."""
    main, labels = plan["main"], plan["labels"]
    found = _rows(table, ["dataset", "method", "predictor"])
    rows, sentences = [], []
    for dataset in main["datasets"]:
        group = [m for m in main["methods"] if (dataset, m, "exact") in found]
        for k, method in enumerate(group):
            pair = [found.get((dataset, method, p), {}) for p in ("exact", "mean-field")]
            trained_for = pair[0]["trained_for"]
            rows.append(
                {
                    "dataset": dataset,
                    "first": k == 0,
                    "span": len(group),
                    "label": labels.get(method, method),
                    "trained_for": trained_for,
                    "cells": [
                        {
                            "value": cell.get(f"{value}_mean"),
                            "kind": kind,
                            "own": cell.get("predictor") == trained_for,
                        }
                        for value, kind in CROSS_VALUES
                        for cell in pair
                    ],
                }
            )
        parts = []
        for method, own, other, as_other in (
            (main.get("baseline"), "mean-field", "exact", "stochastic-unit networks"),
            (em, "exact", "mean-field", "deterministic networks"),
        ):
            a, b = found.get((dataset, method, other)), found.get((dataset, method, own))
            if method and a and b and a["trained_for"] == own:
                parts.append(
                    f"{labels.get(method, method)}'s weights have a test log-loss of "
                    f"{fixed(a['test_log_loss_mean'])} as {as_other} "
                    f"({fixed(b['test_log_loss_mean'])} under their own predictor)"
                )
        if parts:
            sentences.append(f"On {dataset}, " + "; ".join(parts) + ".")
    return {"rows": rows, "sentences": sentences}


TESTS = {"corrected t": "corrected t", "sign": "sign test"}


def comparison(plan: dict, table: pd.DataFrame) -> dict | None:
    """The paired comparisons with the baseline: raw and Holm-adjusted p-values, the test
    that gave each, and intervals left undefined where the differences do not vary."""
    main = plan["main"]
    baseline = main.get("baseline")
    if not baseline:
        return None
    found = _rows(table, ["dataset", "method", "metric"])
    rows = []
    for dataset in main["datasets"]:
        first = True
        for method in main["methods"]:
            for metric in ("accuracy", "log_loss"):
                row = found.get((dataset, method, metric))
                if method == baseline or row is None:
                    continue
                test = row.get("test") if isinstance(row.get("test"), str) else None
                rows.append(
                    {
                        **row,
                        "first": first,
                        "label": plan["labels"].get(method, method),
                        "kind": "diff_accuracy" if metric == "accuracy" else "diff_log_loss",
                        "metric_text": "accuracy" if metric == "accuracy" else "log-loss",
                        "test": test,
                        "test_text": TESTS.get(test, test) if test else "–",
                        "first_metric": metric == "accuracy"
                        or (dataset, method, "accuracy") not in found,
                        # Zero variance: no t statistic and no interval, the sign test instead.
                        "undefined": test == "sign",
                    }
                )
                first = False
    sizes = sorted({int(s) for s in table.get("family_size", pd.Series(dtype=float)).dropna()})
    return {
        "baseline": baseline,
        "label": plan["labels"].get(baseline, baseline),
        "rows": rows,
        "family_size": sizes[0] if len(sizes) == 1 else len(rows),
        "n_sign": sum(r["undefined"] for r in rows),
    }


def timing_context(data: dict, plan: dict) -> dict:
    labels = plan["labels"]
    fit = [
        {**row, "label": labels.get(row["method"], row["method"])}
        for row in data["timing"]["fit_summary"].to_dict("records")
    ]
    estep = (
        data["timing"]["estep_cost"].to_dict("records") if "estep_cost" in data["timing"] else []
    )
    figure = data["figures"].get("timing/estep-cost")
    return {
        "fit": fit,
        "estep": estep,
        "figure": "timing/estep-cost" if figure else None,
        "figure_provenance": figure_provenance(figure) if figure else None,
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor() or "unknown",
            "cpu_count": os.cpu_count(),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
        },
        "listing": data["timing_listing"],
    }


def figure_provenance(figure: dict) -> dict:
    return {
        "name": figure["name"],
        "anchor": figure["anchor"],
        "command": figure["command"],
        "code_sha256": figure["code"]["sha256"],
        "code_files": ", ".join(figure["code"]["files"]),
        "inputs": sorted(figure["inputs"].items()),
        "study_sha256": figure["study_sha256"],
        "seed": figure["seed"],
        "emnn_version": figure["emnn_version"],
    }


def appendix(config: dict, data: dict) -> dict:
    return {
        "versions": sorted(provenance.versions().items()),
        "commit": provenance.git_commit(),
        "config_sha256": hashlib.sha256(canonical_json(config).encode()).hexdigest(),
        "figures": [figure_provenance(f) for f in data["figures"].values() if not f["timing"]],
        "listing": data["listing"],
        "n_sums": len(data["sums"]),
        "report_code_sha256": provenance.code_hash(provenance.stage_sources("report")),
    }


def abstract(plan: dict, tables: dict, values: dict) -> list[str]:
    """The abstract's sentences, with the study's own numbers."""
    main, labels = plan["main"], plan["labels"]
    summary = _rows(tables["main"], ["dataset", "method"])
    splits = sorted({int(r["n_splits"]) for r in summary.values()}) or [0]
    n_splits = f"{splits[0]}" if len(splits) == 1 else f"{splits[0]} to {splits[-1]}"
    datasets = main["datasets"]
    out = [
        f"We train a network with one hidden layer of stochastic binary units by the exact EM "
        f"algorithm and the same architecture by back-propagation on {len(datasets)} "
        f"dataset{'s' if len(datasets) != 1 else ''} ({', '.join(datasets)}), each over "
        f"{n_splits} paired train/test splits, and compare {len(main['methods'])} methods "
        f"({', '.join(labels[m] for m in main['methods'])})."
    ]
    em, baseline = values["em"], values["baseline"]
    comparisons = _rows(tables["comparisons"], ["dataset", "method", "metric"])
    if em and baseline:
        parts = []
        for dataset in datasets:
            a, b = summary.get((dataset, em)), summary.get((dataset, baseline))
            if a is None or b is None:
                continue
            acc = comparisons.get((dataset, em, "accuracy"), {})
            loss = comparisons.get((dataset, em, "log_loss"), {})
            parts.append(
                f"on {dataset}, {pct(a['accuracy_mean'])} % against {pct(b['accuracy_mean'])} % "
                f"({adjusted_p_text(acc)}) and a test log-loss of "
                f"{fixed(a['log_loss_mean'])} against {fixed(b['log_loss_mean'])} "
                f"({adjusted_p_text(loss)})"
            )
        if parts:
            family = values["comparison"]["family_size"] if values["comparison"] else 0
            out.append(
                f"Mean test accuracy of {labels[em]} against {labels[baseline]}: "
                + "; ".join(parts)
                + f" (Nadeau–Bengio corrected resampled t-test unless a sign test is named; "
                f"p-values Holm-adjusted over the {family} paired comparisons of the study)."
            )
    conv = values["results"]["convergence"]
    if conv["total"]:
        out.append(
            f"Every method runs until its own stopping rule holds or its cap is reached; "
            f"{conv['converged']} of the {conv['total']} runs of the main comparison met "
            f"their stopping rule."
        )
    rep = values["replication"]
    if rep:
        out += rep["sentences"][:2]  # whether the rebuilt notebooks give the reported numbers
    out.append(
        "Every number in this report is generated from the study's result tables; wall-clock "
        "times are confined to one section."
    )
    return out + values["narrative"]["conclusion"]  # it ends in the verdict


def adjusted_p_text(row: dict) -> str:
    """A comparison's Holm-adjusted p-value as the abstract quotes it, naming a sign test."""
    text = f"Holm-adjusted p = {pvalue(row.get('p_holm'))}"
    return text + ", sign test" if row.get("test") == "sign" else text


def self_citation(values: dict) -> str:
    """A BibTeX entry for this report (its fields escaped for LaTeX)."""
    authors = " and ".join("{" + tex_escape(a) + "}" for a in values["authors"]) or "{emnn}"
    version = provenance.versions()["emnn"]
    commit = values["appendix"]["commit"].split(" ")[0]
    return (
        "@techreport{emnn-report,\n"
        f"  title       = {{{tex_escape(values['title'])}}},\n"
        f"  author      = {{{authors}}},\n"
        "  institution = {emnn},\n"
        "  type        = {Reproducible study},\n"
        f"  year        = {{{RELEASE_YEAR}}},\n"
        f"  note        = {{emnn {tex_escape(version)}, commit {tex_escape(commit)}, "
        f"config sha256 {values['appendix']['config_sha256'][:16]}}}\n"
        "}\n"
    )


def section_numbers(values: dict) -> dict:
    """The numbered sections in order, the same list LaTeX numbers (\\section order)."""
    order = ["introduction", "models", "protocol", "results"]
    order += [name for name in ("comparison", "replication") if values[name]]
    order += ["discussion", "conclusion", "timing", "reproducibility"]
    return {name: k for k, name in enumerate(order, 1)}


def numbering(values: dict) -> dict:
    """Figure and table numbers of the HTML page, in the order the sections show them
    (LaTeX numbers its own with \\label and \\ref)."""
    figures = ["suboptimality", *values["results"]["learning"], "cross-scoring"]
    if values["results"]["sweep_rows"]:
        figures.append("sweep-accuracy")
    if values["comparison"]:
        figures.append("paired-accuracy")
    if values["replication"]:
        figures.append("initializations")
    if values["timing"]["figure"]:
        figures.append(values["timing"]["figure"])
    tables = ["tab-datasets", "tab-seeds", "tab-methods"]
    if values["protocol"]["selection"]:
        tables.append("tab-selection")
    tables += ["tab-main-accuracy", "tab-main-log-loss", "tab-stopping", "tab-convergence"]
    tables.append("tab-cross")
    if values["results"]["sweep_rows"]:
        tables.append("tab-sweep")
    if values["comparison"]:
        tables.append("tab-comparisons")
    if values["replication"]:
        tables.append("tab-replication")
    tables.append("tab-fit-times")
    if values["timing"]["estep"]:
        tables.append("tab-estep-cost")
    tables += ["tab-figures", "tab-artifacts"]
    present = [name for name in figures if name in values["figures"]]
    shown = {values["figures"][name]["anchor"]: k for k, name in enumerate(present, 1)}
    return {**shown, **{anchor: k for k, anchor in enumerate(tables, 1)}}


# ---------------------------------------------------------------- references


def references(text: str) -> list[dict]:
    """The entries of references.bib (its text), numbered in file order, with display text.

    The file holds plain text in braces (no TeX markup), so a minimal reader
    suffices; braces that protect capitals are dropped for display.
    """
    entries = []
    for match in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        fields, position = {}, match.end()
        while True:
            field = re.compile(r"\s*(\w+)\s*=\s*\{").match(text, position)
            if not field:
                break
            value, position = _braced(text, field.end())
            fields[field.group(1).lower()] = " ".join(
                value.replace("{", "").replace("}", "").split()
            )
            position = re.compile(r"\s*,?").match(text, position).end()
        fields = {"title": "", "year": "", "doi": None, **fields}
        entries.append({"key": match.group(2), "type": match.group(1).lower(), **fields})
    for position, entry in enumerate(entries, 1):
        entry["position"] = position
        entry["authors"] = author_text(entry.get("author", ""))
        venue = next(
            (entry[k] for k in ("journal", "booktitle", "publisher", "howpublished") if k in entry),
            "",
        )
        if entry.get("volume"):
            venue += f" {entry['volume']}"
            if entry.get("number"):
                venue += f"({entry['number'].replace('--', '–')})"
        if entry.get("pages"):
            venue += f", {entry['pages'].replace('--', '–')}"
        entry["venue"] = venue
    return entries


def _braced(text: str, start: int) -> tuple[str, int]:
    """The text up to the brace closing the one opened just before `start`."""
    depth = 1
    for position in range(start, len(text)):
        if text[position] == "{":
            depth += 1
        elif text[position] == "}":
            depth -= 1
            if depth == 0:
                return text[start:position], position + 1
    raise StudyError("references.bib: unbalanced braces")


def author_text(authors: str) -> str:
    """'Last, First and ...' as 'First Last, ...', the first three and et al. past six."""
    names = []
    for name in authors.split(" and "):
        last, _, first = name.partition(",")
        names.append(f"{first.strip()} {last.strip()}".strip())
    if len(names) > 6:
        return ", ".join(names[:3]) + " et al."
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


# ---------------------------------------------------------------- templates and formats


CITATION = re.compile(r" ?\[@([A-Za-z0-9_-]+)\]")


def environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    """The HTML environment (escapes every value) and the LaTeX one (`tex` filter)."""
    common = {
        "loader": jinja2.PackageLoader("emnn", "templates"),
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        **SYNTAX,
    }
    html = jinja2.Environment(autoescape=True, **common)
    tex = jinja2.Environment(autoescape=False, **common)
    html.filters["num"] = partial(number, minus="−")
    tex.filters["num"] = partial(number, minus="$-$")
    # Characters the PDF's fonts lack get a fallback that still reads as typed (emnn.latex).
    tex.filters["tex"] = lambda value: latex.text(tex_escape(value))
    tex.filters["texpath"] = lambda value: latex.text(tex_path_text(value))
    # Prose written once (emnn.narrative): [@key] marks a citation.
    html.filters["prose"] = lambda value, refnum: Markup(
        CITATION.sub(
            lambda m: f' <a class="cite" href="#ref-{m[1]}">[{refnum[m[1]]}]</a>',
            str(Markup.escape(value)),
        )
    )
    tex.filters["prose"] = lambda value, refnum: CITATION.sub(
        lambda m: f"~\\cite{{{m[1]}}}" if refnum[m[1]] else m[0],
        latex.text(tex_escape(value)),
    )
    for env in (html, tex):
        env.tests["finite"] = finite
    return html, tex


def finite(value) -> bool:
    try:
        return value is not None and bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def number(value, kind: str, minus: str = "-") -> str:
    """One number as the paper prints it: fixed decimals, so the text is deterministic.

    Accuracies are percentages with two decimals, log-losses three decimals,
    p-values three significant digits; a missing value is an en dash.
    """
    if not finite(value):
        return "–"
    value = float(value)
    formats = {
        "accuracy": lambda v: f"{100 * v:.2f}",
        "diff_accuracy": lambda v: f"{100 * v:+.2f}",
        "log_loss": lambda v: f"{v:.3f}",
        "diff_log_loss": lambda v: f"{v:+.3f}",
        "p": lambda v: f"{v:#.3g}",
        "t": lambda v: f"{v:.2f}",
        "rate": lambda v: f"{100 * v:.0f}",
        "iterations": lambda v: f"{v:.1f}",
        "median": lambda v: f"{v:.0f}" if v == round(v) else f"{v:.1f}",
        "objective": lambda v: f"{v:.4f}",
        "gap": lambda v: re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{v:.3g}").replace("e+", "e"),
        "int": lambda v: f"{round(v)}",
        "seconds": lambda v: f"{v:.4g}",
        "ms": lambda v: f"{1e3 * v:.3g}",
    }
    text = formats[kind](value)
    if text.startswith("-"):
        text = minus + text[1:]
    return text


def pct(value) -> str:
    return number(value, "accuracy", minus="−")


def signed_points(value) -> str:
    return number(value, "diff_accuracy", minus="−")


def fixed(value) -> str:
    return number(value, "log_loss", minus="−")


def pvalue(value) -> str:
    return number(value, "p", minus="−")


TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    '"': r"\textquotedbl{}",
    "|": r"\textbar{}",
    # Characters pdflatex's UTF-8 input does not know.
    "−": r"$-$",
    "∝": r"$\propto$",
    "σ": r"$\sigma$",
    "λ": r"$\lambda$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "∈": r"$\in$",
    "→": r"$\rightarrow$",
    "ℓ": r"$\ell$",
    "∂": r"$\partial$",
    "θ": r"$\theta$",
}
_TEX_SPECIAL = re.compile("|".join(map(re.escape, TEX_ESCAPES)))
_ADJACENT_MATH = re.compile(r"(?<!\\)\$\$")


def tex_escape(value) -> str:
    """Text for LaTeX: every character that means something to TeX, spelled out."""
    text = _TEX_SPECIAL.sub(lambda match: TEX_ESCAPES[match.group()], str(value))
    # Two symbols in a row give "$a$$b$": one formula "$ab$" instead (never a display "$$").
    return _ADJACENT_MATH.sub("", text)


def tex_path_text(value) -> str:
    """A path in running LaTeX text, allowed to break after each slash."""
    return tex_escape(value).replace("/", r"/\allowbreak{}")
