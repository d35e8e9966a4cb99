"""Shared helpers: small configs written into a temporary directory."""

import copy
import shutil
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
# What a run, an install or a tool generates inside the checkout.
GENERATED = {".snakemake", "results", "logs", "benchmarks", ".git", ".venv", "__pycache__",
             ".pytest_cache", ".ruff_cache", "build"}  # fmt: skip


def copy_checkout(destination: Path) -> Path:
    """The working tree without anything a run or a build generates."""
    shutil.copytree(
        REPO, destination, symlinks=True,
        ignore=lambda _, names: [n for n in names if n in GENERATED or n.endswith(".egg-info")],
    )  # fmt: skip
    return destination


FAST_METHODS = {
    "em-newton": {"model": "em", "params": {"n_hidden": 3, "max_iter": 8}},
    "em-gradient": {"model": "em", "params": {"n_hidden": 3, "m_step": "gradient", "max_iter": 8}},
    "sgd": {"model": "sgd", "params": {"n_hidden": 3, "max_epochs": 8}},
    "sgd-wide": {"model": "sgd", "params": {"n_hidden": 5, "max_epochs": 8}},
}


def small_config(**overrides) -> dict:
    config = {
        "seed": 7,
        "splits": {"n_splits": 3, "test_size": 0.2},
        "datasets": {"iris": {}, "wine": {}},
        "methods": FAST_METHODS,
        "study": {"main": {"datasets": ["iris", "wine"], "methods": list(FAST_METHODS)}},
    }
    config.update(overrides)
    return copy.deepcopy(config)


@pytest.fixture
def write_config(tmp_path):
    """Write a config mapping to a YAML file in tmp_path and return its path."""

    def write(config: dict, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    return write
