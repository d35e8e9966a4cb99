"""The pre-specified primary analysis: converged pairs only, Holm within each contrast,
verdicts from the difference and the equivalence tests."""

import numpy as np
import pandas as pd
import pytest

from emnn.core.stats import corrected_paired_test, holm
from emnn.parts.main import primary

DATASETS = ["a", "b", "c"]


def runs_of(shifts: dict, converged: dict | None = None, n_splits: int = 20) -> pd.DataFrame:
    """Runs of methods m1, b1, m2, b2 on three datasets: each split's accuracy is a common
    split effect plus the method's shift on that dataset plus noise; log-loss likewise."""
    rng = np.random.default_rng(0)
    rows = []
    for dataset in DATASETS:
        effect = rng.normal(0.9, 0.02, n_splits)
        for method in ("m1", "b1", "m2", "b2"):
            shift = shifts.get((dataset, method), 0.0)
            noise = rng.normal(0, 0.005, n_splits)
            for split in range(n_splits):
                ok = (converged or {}).get((dataset, method, split), True)
                rows.append({
                    "dataset": dataset, "method": method, "n_hidden": 7, "split": split,
                    "converged": ok, "test_accuracy": effect[split] + shift + noise[split],
                    "test_log_loss": 1 - effect[split] - shift + noise[split],
                    "n_train": 120, "n_test": 30,
                })  # fmt: skip
    return pd.DataFrame(rows)


def study(alpha=0.05) -> dict:
    return {
        "n_hidden": {m: 7 for m in ("m1", "b1", "m2", "b2")},
        "main": {
            "datasets": DATASETS,
            "primary": {
                "contrasts": [
                    {"method": "m1", "baseline": "b1", "question": "one"},
                    {"method": "m2", "baseline": "b2", "question": "two"},
                ],
                "margins": {"accuracy": 0.02, "log_loss": 0.05},
                "alpha": alpha,
            },
        },
    }


def test_each_contrast_is_its_own_holm_family_and_pairs_are_paired_by_split():
    runs = runs_of({("a", "m1"): 0.05})
    table = primary.analyse(runs, study())
    assert len(table) == 2 * len(DATASETS) * 2
    assert set(table["family_size"]) == {len(DATASETS) * 2}
    for _, family in table.groupby("contrast"):
        np.testing.assert_allclose(family["p_holm"], holm(family["p_value"].to_numpy()))
    row = table[(table.contrast == 1) & (table.dataset == "a") & (table.metric == "accuracy")]
    own = runs[(runs.dataset == "a") & (runs.method == "m1")].sort_values("split")
    base = runs[(runs.dataset == "a") & (runs.method == "b1")].sort_values("split")
    d = own["test_accuracy"].to_numpy() - base["test_accuracy"].to_numpy()
    expected = corrected_paired_test(d, 30 / 120)
    assert row["mean_difference"].item() == pytest.approx(expected["mean_difference"])
    assert row["p_value"].item() == pytest.approx(expected["p_value"])
    # The arms are shown over the same pairs as their difference.
    assert row["method_mean"].item() == pytest.approx(own["test_accuracy"].mean())
    assert row["baseline_mean"].item() == pytest.approx(base["test_accuracy"].mean())


def test_verdicts_follow_the_direction_of_each_metric():
    table = primary.analyse(runs_of({("a", "m1"): 0.05, ("b", "m2"): -0.05}), study())
    verdict = table.set_index(["contrast", "dataset", "metric"])["verdict"]
    # Higher accuracy and lower log-loss are both "better".
    assert verdict[(1, "a", "accuracy")] == verdict[(1, "a", "log_loss")] == primary.BETTER
    assert verdict[(2, "b", "accuracy")] == verdict[(2, "b", "log_loss")] == primary.WORSE
    # No shift and little noise: equivalent within the margins.
    assert verdict[(1, "c", "accuracy")] == primary.EQUIVALENT


def test_a_shift_inside_the_margin_that_noise_hides_is_undecided():
    runs = runs_of({})
    noisy = runs["method"] == "m1"
    runs.loc[noisy, "test_accuracy"] += np.random.default_rng(1).normal(0.015, 0.05, noisy.sum())
    table = primary.analyse(runs, study())
    row = table[(table.contrast == 1) & (table.metric == "accuracy")]
    assert set(row["verdict"]) == {primary.UNDECIDED}


def test_capped_runs_leave_their_pairs_out():
    capped = {("a", "b1", 3): False, ("a", "m1", 7): False, ("a", "m1", 3): False}
    table = primary.analyse(runs_of({}, converged=capped), study())
    row = table[(table.contrast == 1) & (table.dataset == "a")]
    assert set(row["n_pairs"]) == {18} and set(row["n_left_out"]) == {2}
    everything_capped = {("b", "m2", k): False for k in range(19)}
    table = primary.analyse(runs_of({}, converged=everything_capped), study())
    row = table[(table.contrast == 2) & (table.dataset == "b")]
    assert set(row["verdict"]) == {primary.TOO_FEW}


def test_no_primary_analysis_configured_gives_an_empty_table():
    spec = study()
    del spec["main"]["primary"]
    assert primary.analyse(runs_of({}), spec).empty
