"""Paired train/test splits: split k of a dataset is the same for every method."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedShuffleSplit
from sklearn.preprocessing import StandardScaler

from ..core.errors import DataError

PACKAGE_FILES = ("iris_seed_split.json",)


def original_split() -> tuple[np.ndarray, np.ndarray]:
    """The originating study's single Iris split (120 train, 30 test rows)."""
    data = json.loads(resources.files("emnn.data").joinpath(PACKAGE_FILES[0]).read_text())
    return np.array(data["train"]), np.array(data["test"])


def n_splits(spec: dict) -> int:
    return 1 if spec["scheme"] == "original" else spec["n_splits"]


def check_splittable(name: str, y: np.ndarray, classes, spec: dict) -> None:
    """Stop with a message naming the class when a class is too small for the splits."""
    counts = np.bincount(y, minlength=len(classes))
    scheme = spec["scheme"]
    if scheme == "original":
        if len(y) != 150:
            raise DataError(
                f"dataset '{name}': the 'original' split holds row indices of Iris's 150 rows; "
                f"this dataset has {len(y)}"
            )
        return
    if scheme == "kfold":
        if spec["n_splits"] % spec["n_folds"]:
            raise DataError(
                f"dataset '{name}': kfold n_splits ({spec['n_splits']}) must be a multiple of "
                f"n_folds ({spec['n_folds']})"
            )
        need, what = spec["n_folds"], f"stratified {spec['n_folds']}-fold splits"
    else:
        need, what = 2, "stratified shuffle splits"
        n_test = int(np.ceil(spec["test_size"] * len(y)))
        if n_test < len(classes) or len(y) - n_test < len(classes):
            raise DataError(
                f"dataset '{name}': test_size={spec['test_size']} of {len(y)} rows leaves "
                f"fewer rows than its {len(classes)} classes in one part"
            )
    smallest = int(np.argmin(counts))
    if counts[smallest] < need:
        raise DataError(
            f"dataset '{name}': class {classes[smallest]!r} has {counts[smallest]} row(s); "
            f"{what} need at least {need} per class"
        )


def split_indices(y: np.ndarray, spec: dict, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every (train, test) pair of row indices, sorted, in split order."""
    scheme = spec["scheme"]
    if scheme == "original":
        return [original_split()]
    if scheme == "kfold":
        splitter = RepeatedStratifiedKFold(
            n_splits=spec["n_folds"],
            n_repeats=spec["n_splits"] // spec["n_folds"],
            random_state=seed,
        )
    else:
        splitter = StratifiedShuffleSplit(
            n_splits=spec["n_splits"], test_size=spec["test_size"], random_state=seed
        )
    placeholder = np.zeros((len(y), 1))
    return [(np.sort(train), np.sort(test)) for train, test in splitter.split(placeholder, y)]


def prepare(X, train, test, standardize: bool):
    """Training and test features, standardized with the training part's statistics only."""
    X_train, X_test = X[train], X[test]
    if standardize:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, X_test
