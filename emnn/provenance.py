"""Where a result came from: versions, and a hash of exactly the code that produced it.

Each stage of the study lists the source files its output depends on. The
workflow declares the same lists as rule inputs, so editing a file re-runs the
stages that depend on it and nothing else, and each record carries the hash of
the files it was made with.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_TRAIN = [
    "emnn/experiment.py",
    "emnn/datasets.py",
    "emnn/splits.py",
    "emnn/seeds.py",
    "emnn/methods.py",
    "emnn/records.py",
    "emnn/provenance.py",
    "emnn/data/iris_seed_split.json",
]
_MODEL = {
    "em": [
        "emnn/models/_common.py",
        "emnn/models/em.py",
        "emnn/models/estep.py",
        "emnn/models/mstep.py",
    ],
    "sgd": ["emnn/models/_common.py", "emnn/models/sgd.py"],
    "sklearn-mlp": ["emnn/sklearn_mlp.py"],
}
# The teacher's own log-loss is its exact marginal, computed by the E-step code.
_TEACHER = ["emnn/models/_common.py", "emnn/models/estep.py"]

STAGES = {
    "aggregate": ["emnn/aggregate.py", "emnn/stats.py", "emnn/records.py"],
    "figures": ["emnn/figures.py", "emnn/aggregate.py", "emnn/records.py", "emnn/provenance.py"],
    "estep_cost": ["emnn/estep_cost.py", "emnn/models/_common.py", "emnn/models/estep.py"],
    "report": [
        "emnn/report.py",
        "emnn/config.py",
        "emnn/provenance.py",
        "report/templates/report.html.j2",
        "report/templates/report.tex.j2",
        "report/templates/macros.j2",
        "report/templates/references.bib",
    ],
}


def train_sources(model: str, dataset_source: str) -> list[str]:
    """Source files a training job of this model on this kind of dataset depends on."""
    files = _TRAIN + _MODEL[model] + (_TEACHER if dataset_source == "teacher" else [])
    return sorted(set(files))


def stage_sources(stage: str) -> list[str]:
    return list(STAGES[stage])


def code_hash(files: list[str]) -> str:
    """SHA-256 over the files' paths and contents, in sorted order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    return digest.hexdigest()


def code(files: list[str]) -> dict:
    return {"files": sorted(files), "sha256": code_hash(files)}


def versions() -> dict:
    import jinja2
    import matplotlib
    import numpy
    import pandas
    import scipy
    import sklearn

    from . import __version__

    return {
        "emnn": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pandas.__version__,
        "matplotlib": matplotlib.__version__,
        "jinja2": jinja2.__version__,
    }


def git_commit() -> str:
    """The checked-out commit, marked when the work tree has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" (with uncommitted changes)" if dirty else "")
