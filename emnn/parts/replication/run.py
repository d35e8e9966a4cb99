"""The replication's tables: every ablation row on the original split and on the paired
splits, and the bug-compatible rebuilds over random initializations.

Counts of correct test predictions are stored, not accuracies, so that the paper
quotes 28/30 rather than a rounded percentage.
"""

from __future__ import annotations

import pandas as pd

from ...core.seeds import job_seeds, name_key, stream_seed
from ...data.datasets import load_dataset
from ...data.splits import split_indices
from .rows import ABLATION_ROWS, init_distribution, original_split_order, run_original, run_paired

# The rebuilds whose spread over initializations the paper shows.
DISTRIBUTION_ROWS = ("em-bug-compatible", "backprop-bug-compatible")


def row_columns(result) -> dict:
    return {"n_correct": result.n_correct, "n_test": result.n_test, "n_train": result.n_train,
            "train_cross_entropy": result.train_cross_entropy,
            "train_correct": result.train_correct, "n_steps": result.n_steps,
            "cap": result.cap}  # fmt: skip


def ablation_table(spec: dict) -> pd.DataFrame:
    """One line per row and split: protocol "original" (the originating split, data order
    and initial weights) or "paired" (split k of the study, random initial weights drawn
    from the seed the study's own runs on that split start from)."""
    dataset = load_dataset(spec["dataset"]["name"], spec["dataset"])
    root = spec["seed"]
    pairs = split_indices(
        dataset.y, spec["dataset"]["splits"], job_seeds(root, dataset.name, 0)["split"]["seed"]
    )
    lines = []
    for row in ABLATION_ROWS:
        about = {"row": row.key, "name": row.name, "model": row.model, "removed": row.removed,
                 "budget": row.budget}  # fmt: skip
        result = run_original(row)
        lines.append({**about, "protocol": "original", "split": 0, **row_columns(result)})
        for k, (train, test) in enumerate(pairs):
            seed = job_seeds(root, dataset.name, k)["init"]["seed"]
            result = run_paired(row, dataset.X, dataset.y, train, test, seed)
            lines.append({**about, "protocol": "paired", "split": k, **row_columns(result)})
    table = pd.DataFrame(lines)
    table["removed"] = table["removed"].fillna("none")
    return table


def inits_table(spec: dict) -> pd.DataFrame:
    """Correct test predictions of each bug-compatible rebuild on the original split, over
    n_inits random initializations (everything else as originally run)."""
    root = stream_seed(spec["seed"], (name_key("ablation-inits"),))
    n_test = len(original_split_order()[1])
    lines = []
    for key in DISTRIBUTION_ROWS:
        counts = init_distribution(spec["n_inits"], root=root, row=key)
        lines += [
            {"row": key, "draw": k, "n_correct": int(c), "n_test": n_test}
            for k, c in enumerate(counts)
        ]
    return pd.DataFrame(lines)
