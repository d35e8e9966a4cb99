"""Everything the paper shows: the values of every section, its tables as data, and the
sections' texts numbered by the one outline (emnn.paper.outline) both formats print.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from importlib import metadata
from pathlib import Path

import pybtex
from markupsafe import Markup

from ..core import provenance
from ..core.errors import StudyError
from ..core.layout import FIGURES
from ..parts.main import section as main_part
from ..parts.moe import section as moe_part
from ..parts.replication import section as replication_part
from ..parts.scaling import section as scaling_part
from ..study.config import canonical_json
from ..typeset.formats import date_text
from . import setup_tables as setup
from .bibliography import references
from .originating import originating_context
from .outline import outline, texts
from .prose import abstract, self_citation
from .protocol import protocol
from .setup_tables import common_code
from .setup_tables import figure_provenance as figure_provenance_table

# The parts of the study, in the order their tables are gathered. Each gives the paper
# values(config, plan, data), the values its sections show, and tables(values), its tables
# as data; the paper knows them by this registry only.
PARTS = (main_part, replication_part, scaling_part, moe_part)


def context(config: dict, data: dict, root: Path, out_dir: str) -> dict:
    """Everything the templates show, as plain values and short generated sentences."""
    plan, tables = data["plan"], data["tables"]
    main = plan["main"]
    data = {**data, "records_of": first_records(data["runs"])}
    refs = references()
    values = {
        "title_block": title_block(config.get("report", {})),
        "labels": plan["labels"],
        "main": main,
        "baseline": main.get("baseline"),
        "figures": figure_context(data["figures"], root, out_dir),
        "protocol": protocol(config, plan, data["records_of"], data["runs"]),
        "timing": timing_context(data, plan),
        "appendix": appendix(config, data),
        "references": refs,
        "refnum": {entry["key"]: entry["position"] for entry in refs},
    }
    for part in PARTS:
        values.update(part.values(config, plan, data))
    values["title"] = values["title_block"]["title"]
    values["authors"] = values["title_block"]["authors"]
    values["originating"] = originating_context(config, plan, tables, values)
    values["abstract"] = abstract(plan, tables, values)
    values["citation"] = self_citation(values)
    values["tables"] = all_tables(values)
    values.update(outline(texts(values), values["figures"]))
    missing = [a for a in values["table_order"] if a not in values["tables"]]
    if missing:
        raise StudyError(f"report: the text places table {missing[0]!r}, which no code builds")
    values["references"] = cited(values, refs)
    values["refnum"] = {entry["key"]: entry["position"] for entry in values["references"]}
    # The figure provenance appendix lists the figures in the order of their numbers.
    values["appendix"]["figures"].sort(key=lambda f: values["numbers"][f["anchor"]])
    values["tables"]["tab-figures"] = figure_provenance_table(values["appendix"]["figures"])
    return values


_CITATION = re.compile(r"(?<!\\)\[@([A-Za-z0-9_:-]+)\]")


def cited(values: dict, refs: list[dict]) -> list[dict]:
    """The references the paper cites (its texts, abstract, tables and figure captions),
    numbered afresh in the bibliography's order: an entry no section cites is left out."""
    shown = [values["sections"], values["abstract"], values["tables"],
             [(f["title"], f["caption"]) for f in values["figures"].values()]]  # fmt: skip
    keys = set(_CITATION.findall(json.dumps(shown, default=str)))
    kept = [entry for entry in refs if entry["key"] in keys]
    return [{**entry, "position": k} for k, entry in enumerate(kept, 1)]


def title_block(report: dict) -> dict:
    """Title, authors, affiliation and date, as the config gives them (the date is the
    config's, never today's, so reruns give the same bytes)."""
    date = str(report.get("date", "2026-11-21"))
    return {
        "title": report.get("title", "emnn report"),
        "authors": list(report.get("authors", [])),
        "affiliation": report.get("affiliation", ""),
        "date": date_text(date),
        "year": date.split("-")[0],
    }


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
        "code_files": list(figure["code"]["files"]),
        "inputs": sorted(figure["inputs"].items()),
        "study_sha256": figure["study_sha256"],
        "seed": figure["seed"],
        "emnn_version": figure["emnn_version"],
    }


def appendix(config: dict, data: dict) -> dict:
    figures = [figure_provenance(f) for f in data["figures"].values() if not f["timing"]]
    return {
        "common_code": ", ".join(common_code(figures)),
        "versions": sorted(
            {
                **provenance.versions(),
                "pybtex": pybtex.__version__,
                "latex2mathml": metadata.version("latex2mathml"),
            }.items()
        ),
        "commit": provenance.git_commit(),
        "config_sha256": hashlib.sha256(canonical_json(config).encode()).hexdigest(),
        "figures": figures,
        "listing": data["listing"],
        "n_sums": len(data["sums"]),
        "report_code_sha256": provenance.code_hash(provenance.stage_sources("report")),
    }


def all_tables(values: dict) -> dict:
    """Every table the sections may place, by anchor: the protocol's, each part's (its
    tables()), the appendices'."""
    protocol = values["protocol"]
    found = [setup.datasets(protocol), setup.seeds(protocol), setup.methods(protocol)]
    found.append(setup.selection(protocol))
    for part in PARTS:
        found += part.tables(values)
    appendix, timing = values["appendix"], values["timing"]
    found += [setup.environment(appendix), setup.figure_provenance(appendix["figures"])]
    found.append(setup.hashes("tab-artifacts", "Artifacts and their SHA-256.", appendix["listing"]))
    found += [setup.fit_times(timing["fit"]), setup.estep_cost(timing["estep"])]
    found.append(
        setup.hashes(
            "tab-timing-artifacts",
            "Timing artifacts and their SHA-256 (they differ between reruns).",
            timing["listing"],
        )
    )
    return {t["anchor"]: t for t in found}
