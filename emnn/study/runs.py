"""The MLP runs of a study as tidy frames, and what every part judges them by.

study.training writes one run record per (dataset, method, m, split) (emnn.core.records
owns the format); load() reads the directories it is given into one row per run, one
row per (run, iteration) and one row per run's timing. The main study, the m-sweep and
the paper share the metrics, their ranges and the share of converged splits below which
a method is capped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core import records

KEYS = ["dataset", "method", "n_hidden"]
METRICS = {"accuracy": ("test_accuracy", True), "log_loss": ("test_log_loss", False)}
RANGES = {"accuracy": (0.0, 1.0), "log_loss": (0.0, np.inf)}
# A method whose runs met their stopping rule on fewer than this share of the splits is
# capped wherever the paper shows it: its numbers are where the cap stopped it.
CONVERGED_SHARE = 0.95
CAPPED_TEXT = f"fewer than {100 * CONVERGED_SHARE:g} %"


def capped_rate(converged_rate: float) -> bool:
    """Whether a method with this share of converged splits counts as capped."""
    return float(converged_rate) < CONVERGED_SHARE


def load(run_dirs) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One row per run, one row per (run, iteration), one row per run's timing."""
    runs, history, timing = [], [], []
    for directory in run_dirs:
        found = records.record_files(directory)
        for path in found:
            record = records.read_record(path)
            key = {
                "dataset": record["dataset"]["name"],
                "method": record["method"]["name"],
                "n_hidden": record["method"]["params"]["n_hidden"],
                "split": record["split"]["index"],
            }
            cross = {
                f"{predictor.replace('-', '_')}_{name}": value
                for predictor, scores in record["cross_scores"].items()
                for name, value in scores.items()
            }
            runs.append(
                {
                    **key,
                    **record["metrics"],
                    **cross,
                    "n_train": record["dataset"]["n_train"],
                    "n_test": record["dataset"]["n_test"],
                    "teacher_test_log_loss": record["dataset"]["teacher_test_log_loss"],
                    # The penalty the run trained with (inner cross-validation's choice
                    # where the method searches it).
                    "l2": record["method"]["params"].get("l2"),
                }
            )
            steps = pd.DataFrame(record["history"])
            history.append(steps.assign(**key, n_train=record["dataset"]["n_train"]))
            times = records.read_timing(path)
            timing.append(
                {
                    **key,
                    "fit_seconds": times["fit_seconds"],
                    "iterations": record["metrics"]["iterations"],
                }
            )
        if not found:
            raise FileNotFoundError(f"no run records in {directory}")
    order = [*KEYS, "split"]
    runs = pd.DataFrame(runs).sort_values(order, ignore_index=True)
    history = pd.concat(history, ignore_index=True).sort_values(
        [*order, "iteration"], ignore_index=True
    )
    timing = pd.DataFrame(timing).sort_values(order, ignore_index=True)
    timing["seconds_per_iteration"] = timing["fit_seconds"] / timing["iterations"].clip(lower=1)
    return runs, history, timing


def runs_of(runs: pd.DataFrame, dataset: str, method: str, n_hidden: int) -> pd.DataFrame:
    """The runs of a method on a dataset with m = n_hidden hidden units, by split."""
    chosen = runs[
        (runs["dataset"] == dataset) & (runs["method"] == method) & (runs["n_hidden"] == n_hidden)
    ]
    if chosen.empty:
        raise ValueError(f"no runs of method '{method}' with m = {n_hidden} on dataset '{dataset}'")
    return chosen.set_index("split").sort_index()
