"""The datasets of the study: scikit-learn's bundled copies, a synthetic teacher, a user's CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn import datasets as sk_datasets

from .errors import DataError
from .models.estep import marginal_proba

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
    """A user's table: numeric, finite features and a class column with at least 2 classes."""
    if "path" not in spec or "target" not in spec:
        raise DataError(f"dataset '{name}': a csv dataset needs both 'path' and 'target'")
    path = Path(spec["path"])
    where = f"dataset '{name}' ({path})"
    if not path.is_file():
        raise DataError(f"{where}: file not found (relative paths start at {Path.cwd()})")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{where}: not a readable CSV file: {error}") from None
    target = spec["target"]
    if target not in frame.columns:
        raise DataError(
            f"{where}: no target column '{target}'; columns are {', '.join(frame.columns)}"
        )
    features = spec.get("features") or [c for c in frame.columns if c != target]
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: no feature column {', '.join(map(repr, missing))}")
    if target in features:
        raise DataError(f"{where}: the target column '{target}' is also listed as a feature")
    if not features:
        raise DataError(f"{where}: no feature columns besides the target '{target}'")
    X = np.column_stack([_numeric_column(frame[c], c, where) for c in features])
    labels = frame[target].str.strip()
    empty = np.flatnonzero(labels == "")
    if empty.size:
        raise DataError(f"{where}: column '{target}', line {empty[0] + 2}: missing class label")
    classes, y = np.unique(labels.to_numpy(), return_inverse=True)
    if classes.size < 2:
        raise DataError(
            f"{where}: column '{target}' holds a single class ({classes[0]!r}); "
            "classification needs at least 2"
        )
    return Dataset(name, X, y.astype(np.int64), list(classes), list(features), "csv")


def _numeric_column(values: pd.Series, column: str, where: str) -> np.ndarray:
    text = values.str.strip()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    for row in np.flatnonzero(~np.isfinite(numbers)):
        raw = text.iloc[row]
        line = f"{where}: column '{column}', line {row + 2}"  # line 1 is the header
        if raw == "" or raw.lower() in {"nan", "na", "null"}:
            raise DataError(f"{line}: missing value")
        if np.isnan(numbers[row]):
            raise DataError(f"{line}: {raw!r} is not a number")
        raise DataError(f"{line}: value {raw} is not finite")
    return numbers
