"""The datasets of the study: scikit-learn's bundled copies, a synthetic teacher, a user's CSV."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit
from sklearn import datasets as sk_datasets

from ..core import names
from ..core.errors import DataError
from ..models.estep import marginal_proba

if TYPE_CHECKING:
    import pandas as pd

BUNDLED = {
    "iris": sk_datasets.load_iris,
    "wine": sk_datasets.load_wine,
    "breast_cancer": sk_datasets.load_breast_cancer,
    "digits": sk_datasets.load_digits,
}

TEACHER_DEFAULTS = {
    "n_samples": 1000,
    "n_features": 5,
    "n_hidden": 4,
    "n_classes": 3,
    "weight_scale": 3.0,
    "seed": 0,
}


@dataclass
class Dataset:
    name: str
    X: np.ndarray
    y: np.ndarray  # class index per row, 0..g-1
    classes: list  # the class labels, in index order
    feature_names: list[str]
    source: str
    teacher: dict | None = field(default=None, repr=False)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def summary(self) -> dict:
        counts = np.bincount(self.y, minlength=self.n_classes)
        return {
            "name": self.name,
            "source": self.source,
            "n": len(self.y),
            "p": int(self.X.shape[1]),
            "g": self.n_classes,
            "classes": [str(c) for c in self.classes],
            "class_counts": counts.tolist(),
        }

    def teacher_log_loss(self, rows: np.ndarray) -> float | None:
        """Mean -log p_teacher(y | x) over the rows: the best log-loss any model can expect."""
        if self.teacher is None:
            return None
        t = self.teacher
        proba = marginal_proba(self.X[rows] @ t["W"] + t["b"], t["V"], t["c"])
        return float(-np.log(proba[np.arange(len(rows)), self.y[rows]]).mean())


def source_of(name: str, spec: dict) -> str:
    return spec.get("source", name)


def load_dataset(name: str, spec: dict) -> Dataset:
    """The dataset a config entry describes; a DataError names any problem."""
    source = source_of(name, spec)
    if source in BUNDLED:
        bunch = BUNDLED[source]()
        return Dataset(
            name, bunch.data.astype(np.float64), bunch.target.astype(np.int64),
            [str(c) for c in getattr(bunch, "target_names", np.unique(bunch.target))],
            [str(f) for f in getattr(bunch, "feature_names", range(bunch.data.shape[1]))],
            source,
        )  # fmt: skip
    if source == "teacher":
        return teacher_dataset(name, {**TEACHER_DEFAULTS, **spec})
    if source == "csv":
        return csv_dataset(name, spec)
    raise DataError(
        f"dataset '{name}': unknown source '{source}'; "
        f"choose one of {sorted(BUNDLED)}, 'teacher' or 'csv' (with path and target)"
    )


def teacher_dataset(name: str, spec: dict) -> Dataset:
    """Rows sampled from a stochastic-hidden-unit network with known random weights.

    x ~ N(0, I_p); z_h ~ Bernoulli(sigmoid(w_h.x + b_h)); y ~ softmax(V z + c).
    The teacher's own weights stay with the dataset, so each split can report
    the teacher's test log-loss.
    """
    p, m, g, n = spec["n_features"], spec["n_hidden"], spec["n_classes"], spec["n_samples"]
    scale = spec["weight_scale"]
    rng = np.random.default_rng(spec["seed"])
    teacher = {
        "W": rng.normal(0.0, scale / np.sqrt(p), (p, m)),
        "b": rng.normal(0.0, 1.0, m),
        "V": rng.normal(0.0, scale, (m, g)),
        "c": np.zeros(g),
    }
    X = rng.normal(size=(n, p))
    Z = rng.random((n, m)) < expit(X @ teacher["W"] + teacher["b"])
    logits = Z @ teacher["V"] + teacher["c"]
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (rng.random((n, 1)) > np.cumsum(P, axis=1)).sum(axis=1)
    present = np.unique(y)
    if present.size < 2:
        raise DataError(f"dataset '{name}': the teacher produced a single class; change its seed")
    return Dataset(
        name, X, np.searchsorted(present, y), [f"class {k}" for k in present],
        [f"x{k}" for k in range(p)], "teacher", teacher,
    )  # fmt: skip


def csv_dataset(name: str, spec: dict) -> Dataset:
    """A user's table: numeric, finite features and a class column with at least 2 classes.

    Read with Python's csv module (comma-separated, double quotes), so every message
    names the file's own line. The text is UTF-8 unless the entry gives an
    `encoding`; a byte-order mark (UTF-8, UTF-16 or UTF-32) decides by itself. Column
    names and class labels follow the rule for names (emnn.core.names), with surrounding
    spaces of a cell ignored; class labels are text, so 1, 01 and 1.0 are three classes.
    """
    if "path" not in spec or "target" not in spec:
        raise DataError(f"dataset '{name}': a csv dataset needs both 'path' and 'target'")
    path = Path(spec["path"])
    where = f"dataset '{name}' ({path})"
    if not path.is_file():
        raise DataError(f"{where}: file not found (relative paths start at {Path.cwd()})")
    header, rows = _csv_rows(_csv_text(path, spec.get("encoding"), where), where)
    target = spec["target"]
    if target not in header:
        hint = next(
            (
                f" (is the file separated by {sep!r} rather than commas?)"
                for sep in (";", "\t", "|")
                if len(header) == 1 and sep in header[0]
            ),
            "",
        )
        raise DataError(
            f"{where}: no target column '{target}'; columns are {', '.join(header)}{hint}"
        )  # fmt: skip
    features = spec.get("features") or [c for c in header if c != target]
    missing = [c for c in features if c not in header]
    if missing:
        raise DataError(f"{where}: no feature column {', '.join(map(repr, missing))}")
    if target in features:
        raise DataError(f"{where}: the target column '{target}' is also listed as a feature")
    if not features:
        raise DataError(f"{where}: no feature columns besides the target '{target}'")
    for column in [target, *features]:
        _check_column_name(header, column, where)
    lines = [line for line, _ in rows]
    import pandas as pd  # only for a user's table: training jobs on bundled data skip it

    table = pd.DataFrame([cells for _, cells in rows], columns=range(len(header)), dtype=str)
    X = np.column_stack(
        [_numeric_column(table[header.index(c)], c, where, lines) for c in features]
    )
    labels = table[header.index(target)].str.strip()
    for row, label in enumerate(labels):
        problem = "missing class label" if label == "" else names.problem(label)
        if problem:
            detail = problem if label == "" else f"the class label {label!r} {problem}"
            raise DataError(f"{where}: column '{target}', line {lines[row]}: {detail}")
    found, y = np.unique(labels.to_numpy(dtype=str), return_inverse=True)
    classes = [str(c) for c in found]
    if len(classes) < 2:
        raise DataError(
            f"{where}: column '{target}' holds a single class ({classes[0]!r}); "
            "classification needs at least 2"
        )
    return Dataset(name, X, y.astype(np.int64), classes, list(features), "csv")


# Byte-order marks and the encodings they announce (UTF-32's before UTF-16's: FF FE 00 00).
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def _csv_text(path: Path, encoding: str | None, where: str) -> str:
    """The file's text: by its byte-order mark, else the given encoding, else UTF-8."""
    data = path.read_bytes()
    codec = next((c for bom, c in _BOMS if data.startswith(bom)), encoding or "utf-8")
    try:
        codecs.lookup(codec)
    except LookupError:
        raise DataError(f"{where}: unknown encoding {codec!r}") from None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start : error.start + 1].hex()
        advice = (
            "check the encoding given for it" if encoding
            else "save it as UTF-8, or give its encoding in the dataset's entry "
            "(for example encoding: latin-1 or cp1252)"
        )  # fmt: skip
        raise DataError(
            f"{where}: line {line} is not {codec} text (byte 0x{byte}); {advice}"
        ) from None
    if "\x00" in text:
        raise DataError(
            f"{where}: the file holds NUL characters: is it UTF-16 without a byte-order "
            "mark? Save it as UTF-8, or give its encoding (for example encoding: utf-16-le)"
        )
    return text


def _csv_rows(text: str, where: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's column names and (line, cells) of every non-blank row after it."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header, rows = None, []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if header is None:
                header = [cell.strip() for cell in cells]
                continue
            if len(cells) != len(header):
                raise DataError(
                    f"{where}: line {reader.line_num} has {len(cells)} field(s), "
                    f"the header {len(header)}"
                )
            rows.append((reader.line_num, cells))
    except csv.Error as error:
        raise DataError(f"{where}: line {reader.line_num} is not valid CSV: {error}") from None
    if header is None or not rows:
        raise DataError(f"{where}: the file holds {'no header' if header is None else 'no rows'}")
    return header, rows


def _check_column_name(header: list[str], column: str, where: str) -> None:
    """A column the study uses: named once in the header, and by the rule for names."""
    places = [k + 1 for k, c in enumerate(header) if c == column]
    if len(places) > 1:
        raise DataError(
            f"{where}: the header names columns {' and '.join(map(str, places))} both "
            f"{column!r}; give each column its own name"
        )
    problem = names.problem(column)
    if problem:
        what = "has no name" if column == "" else f"the column name {column!r} {problem}"
        raise DataError(f"{where}: column {places[0]} of the header: {what}; {names.RULE}")


# Feature values whose squares (in standardization and the models' sums) stay normal floats.
LARGEST, SMALLEST = 1e150, 1e-150


def _numeric_column(values: pd.Series, column: str, where: str, lines: list[int]) -> np.ndarray:
    import pandas as pd

    text = values.str.strip()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    for row in np.flatnonzero(~np.isfinite(numbers)):
        raw = text.iloc[row]
        line = f"{where}: column '{column}', line {lines[row]}"
        if raw == "" or raw.lower() in {"nan", "na", "null"}:
            raise DataError(f"{line}: missing value")
        if np.isnan(numbers[row]):
            raise DataError(f"{line}: {raw!r} is not a number")
        raise DataError(f"{line}: value {raw} is not finite")
    size = np.abs(numbers)
    for row in np.flatnonzero((size > LARGEST) | ((size > 0) & (size < SMALLEST))):
        line = f"{where}: column '{column}', line {lines[row]}"
        which = "large" if size[row] > LARGEST else "small"
        raise DataError(
            f"{line}: value {text.iloc[row]} is too {which}: squares of numbers beyond "
            f"{SMALLEST:g} to {LARGEST:g} in size leave the range of floating point, so the "
            "column could be neither standardized nor trained on; rescale it"
        )
    return numbers
