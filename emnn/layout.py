"""Where the study's files live, and file-system-safe names for datasets and methods."""

from __future__ import annotations

import hashlib
import re

RESULTS = "results"
RUNS = f"{RESULTS}/runs"
TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures"
TIMING_TABLES = f"{TABLES}/timing"
TIMING_FIGURES = f"{FIGURES}/timing"
REPORT = "report/build"
LOGS = "logs"
BENCHMARKS = "benchmarks"

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def slug(name: str) -> str:
    """The name itself when it is safe in paths and shells, else a readable, unique stand-in."""
    if _SAFE.fullmatch(name):
        return name
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")[:40]
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{readable}-{digest}" if readable else f"name-{digest}"


def run_dir(dataset: str, method: str, n_hidden: int) -> str:
    return f"{RUNS}/{slug(dataset)}/{slug(method)}/h{n_hidden}"
