"""Result files: canonical JSON, written atomically; and the run-record format's one owner.

A run directory holds, per split k, the record `k.json` (deterministic) and its
wall-clock timings `k.timing.json`. Only this module names those files and
checks a record's `schema_version`; everything else reads and writes runs here.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

# Files are created private by mkstemp; give them the permissions a plain open() would.
_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK
_DIR_MODE = 0o777 & ~_UMASK


def jsonable(value):
    """Plain JSON types: NumPy scalars and arrays unwrapped, non-finite floats as null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def dumps(value) -> str:
    """Sorted keys and shortest round-trip floats: the same value always gives the same bytes."""
    return json.dumps(jsonable(value), sort_keys=True, indent=1, allow_nan=False) + "\n"


def write_text(path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def _remove_leftovers(path: Path) -> None:
    """Temporary siblings of `path` that a killed writer left behind."""
    for stale in path.parent.glob(f".{path.name}.*.part"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def write_bytes(path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file.

    One writer per path at a time (Snakemake runs one job per output), so any
    temporary sibling already there was left by a writer that was killed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_directory(path, files: dict[str, str]) -> None:
    """Write a directory of text files as a whole: built beside it, then renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part"))
    try:
        os.chmod(staging, _DIR_MODE)
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8", newline="\n")
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ------------------------------------------------------------- run records

SCHEMA_VERSION = 3
"""Version of the run-record layout; bump it when a key is added, renamed or removed
(2: metrics.hidden_units_used; 3: metrics.gradient_max)."""

_TIMING_SUFFIX = ".timing.json"


def timing_path(record_path) -> Path:
    """The timings file that belongs to a record file."""
    record_path = Path(record_path)
    return record_path.with_name(record_path.stem + _TIMING_SUFFIX)


def write_run(record_path, record: dict, timing: dict) -> None:
    """One split's record and, beside it, its timings."""
    write_text(timing_path(record_path), dumps(timing))
    write_text(record_path, dumps(record))


def write_run_directory(directory, results) -> None:
    """Every split's (record, timing) pair as one directory, written as a whole."""
    write_directory(directory, run_files(results))


def run_files(results) -> dict[str, str]:
    """File name -> text for a run directory of (record, timing) pairs."""
    files = {}
    for record, timing in results:
        k = record["split"]["index"]
        files[f"{k}.json"] = dumps(record)
        files[f"{k}{_TIMING_SUFFIX}"] = dumps(timing)
    return files


def record_files(directory) -> list[Path]:
    """A run directory's record files in split order (0, 1, ..., 10, ...)."""
    directory = Path(directory)
    found = directory.glob("*.json") if directory.is_dir() else []
    records = [p for p in found if not p.name.endswith(_TIMING_SUFFIX)]
    return sorted(records, key=lambda p: (len(p.stem), p.stem))


def timing_files(directory) -> list[Path]:
    return [timing_path(p) for p in record_files(directory) if timing_path(p).is_file()]


def read_record(path) -> dict:
    """A run record, refused when it was written in another layout."""
    record = read(path)
    version = record.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"run record {path} has schema_version {version!r}, this emnn reads version "
            f"{SCHEMA_VERSION}: train it again (delete its directory and re-run the study)"
        )
    return record


def read_timing(record_path) -> dict:
    return read(timing_path(record_path))
