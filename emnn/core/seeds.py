"""Seeds of every random stream, derived from the root seed by stable integer keys.

A stream is SeedSequence(root, spawn_key=(dataset, [split,] role)): it depends on
what the job is, never on the order jobs run in or on Python's salted hash().
"""

from __future__ import annotations

import hashlib

import numpy as np

# Roles: what a stream is used for.
SPLIT = 0  # shuffling rows into train/test parts (one stream per dataset)
INIT = 1  # initial weights (and, inside the SGD model, the minibatch order)
INNER_CV = 2  # folds of the inner cross-validation of hyperparameter selection
STARTS = 3  # initial weights of a method's own starts (`starts`), none the main study's


def name_key(name: str) -> int:
    """A stable 32-bit integer for a name (first bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big")


def stream_seed(root: int, spawn_key: tuple[int, ...]) -> int:
    """A 32-bit seed for scikit-learn and the models, from one SeedSequence."""
    return int(np.random.SeedSequence(root, spawn_key=spawn_key).generate_state(1)[0])


def job_seeds(root: int, dataset: str, split: int) -> dict:
    """The seeds a (dataset, split) job uses, with their spawn keys, for the record."""
    key = name_key(dataset)
    keys = {
        "split": (key, SPLIT),
        "init": (key, split, INIT),
        "inner_cv": (key, split, INNER_CV),
    }
    return {
        "root": root,
        **{role: {"spawn_key": list(k), "seed": stream_seed(root, k)} for role, k in keys.items()},
    }


def start_seeds(root: int, dataset: str, split: int, n_starts: int) -> list[dict]:
    """The seeds of a method's n_starts starts on a split, with their spawn keys: stream
    (dataset, split, STARTS, r) for start r, independent of every other role's."""
    keys = [(name_key(dataset), split, STARTS, r) for r in range(n_starts)]
    return [{"spawn_key": list(k), "seed": stream_seed(root, k)} for k in keys]
