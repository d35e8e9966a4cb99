"""Where the study's files live, and file-system-safe names for datasets and methods."""

from __future__ import annotations

import hashlib
import re
import unicodedata

RESULTS = "results"
RUNS = f"{RESULTS}/runs"
TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures"
TIMING_TABLES = f"{TABLES}/timing"
TIMING_FIGURES = f"{FIGURES}/timing"
MOE_PARTS = f"{RESULTS}/moe"  # one directory per dataset and method of the MoE stage
REPORT = "report/build"
LOGS = "logs"
BENCHMARKS = "benchmarks"

# A name used as it is in paths: ASCII letters, digits, ".", "_", "-", at most 64 characters.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Snakemake refuses a wildcard value that ends in a substring repeated 20 times (it
# takes it for an endless recursion); 10 keeps a margin for prefixes like "learning-".
_PERIODIC = re.compile(r"(.+)\1{9,}$")


def slug(name: str) -> str:
    """The name itself when it is safe in paths, wildcards and shells, else a readable,
    unique stand-in: its letters folded to ASCII, then 8 hex digits of its SHA-256.

    "Café Müller" -> "Cafe-Muller-0d756dd4", "データ" -> "name-16773842". Distinct names
    give distinct slugs, but a name can be typed as another one's slug: emnn.study.config
    refuses two names whose slugs are equal or differ only in case.
    """
    if _SAFE.fullmatch(name) and not _PERIODIC.search(name):
        return name
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-._")[:40].rstrip("-._")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{readable}-{digest}" if readable else f"name-{digest}"


def run_dir(dataset: str, method: str, n_hidden: int) -> str:
    return f"{RUNS}/{slug(dataset)}/{slug(method)}/h{n_hidden}"
