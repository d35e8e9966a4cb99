"""Run records and other result files: canonical JSON, written atomically."""

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
