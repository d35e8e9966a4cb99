"""The primary analysis: a small named family of paired contrasts.

The main study's secondary table compares every method with one baseline (50 tests,
one Holm family), so that a real difference of one contrast drowns in the
adjustment. The primary analysis is named in the config (study.main.primary, whose
margins the paper says were set after the first version's results): a few contrasts,
each a method against a baseline on every dataset and both test metrics, each contrast
a family of its own for Holm's adjustment (it answers its own question), and an
equivalence test against the margins. Only splits on which both runs met their
stopping rule enter: a capped run is no result.
"""

from __future__ import annotations

import pandas as pd

from ...core.stats import corrected_paired_test, equivalence_test, holm
from ...study.runs import METRICS, runs_of

COLUMNS = [
    "contrast", "dataset", "method", "baseline", "metric", "n_pairs", "n_left_out",
    "method_mean", "baseline_mean", "mean_difference", "ci_low", "ci_high", "p_value",
    "p_holm", "margin", "p_equivalence", "p_equivalence_holm", "verdict", "family_size",
]  # fmt: skip
# Verdicts, in the words the paper uses.
BETTER, WORSE, EQUIVALENT, UNDECIDED, TOO_FEW = (
    "better", "worse", "equivalent", "undecided", "too few converged pairs",
)  # fmt: skip


def verdict(row: dict, alpha: float) -> str:
    """A difference found after Holm is the verdict, its direction by the metric; else
    equivalence within the margin (TOST, Holm-adjusted); else undecided."""
    if row["n_pairs"] < 2:
        return TOO_FEW
    if row["p_holm"] <= alpha:
        higher_is_better = METRICS[row["metric"]][1]
        return BETTER if (row["mean_difference"] > 0) == higher_is_better else WORSE
    if row["p_equivalence_holm"] <= alpha:
        return EQUIVALENT
    return UNDECIDED


def analyse(runs: pd.DataFrame, study: dict) -> pd.DataFrame:
    """One row per contrast, dataset and metric: the paired difference over converged
    pairs (method minus baseline), its corrected 95 % interval, the corrected t-test and
    the equivalence test, both Holm-adjusted within the family, and the verdict."""
    spec = study["main"].get("primary")
    if not spec:
        return pd.DataFrame(columns=COLUMNS)
    hidden = study["n_hidden"]
    rows = []
    for number, contrast in enumerate(spec["contrasts"], start=1):
        method, baseline = contrast["method"], contrast["baseline"]
        for dataset in study["main"]["datasets"]:
            own = runs_of(runs, dataset, method, hidden[method])
            base = runs_of(runs, dataset, baseline, hidden[baseline])
            splits = own.index.intersection(base.index)
            both = splits[own.loc[splits, "converged"].to_numpy(bool)
                          & base.loc[splits, "converged"].to_numpy(bool)]  # fmt: skip
            ratio = float((own.loc[splits, "n_test"] / own.loc[splits, "n_train"]).mean())
            for metric, (column, _) in METRICS.items():
                a, b = own.loc[both, column].to_numpy(float), base.loc[both, column].to_numpy(float)
                d = a - b
                test = (
                    corrected_paired_test(d, ratio)
                    if d.size
                    else dict.fromkeys(
                        ("mean_difference", "ci_low", "ci_high", "p_value"), float("nan")
                    )
                )
                margin = float(spec["margins"][metric])
                rows.append({
                    "contrast": number, "dataset": dataset, "method": method,
                    "baseline": baseline, "metric": metric, "n_pairs": int(d.size),
                    "n_left_out": int(len(splits) - d.size),
                    # Each arm over the same pairs: what the difference is a difference of.
                    "method_mean": float(a.mean()) if a.size else float("nan"),
                    "baseline_mean": float(b.mean()) if b.size else float("nan"),
                    **{k: test[k] for k in ("mean_difference", "ci_low", "ci_high", "p_value")},
                    "margin": margin, "p_equivalence": equivalence_test(d, ratio, margin),
                })  # fmt: skip
    table = pd.DataFrame(rows)
    # Each contrast asks its own question, so each is its own family.
    for column, adjusted in (("p_value", "p_holm"), ("p_equivalence", "p_equivalence_holm")):
        table[adjusted] = table.groupby("contrast")[column].transform(
            lambda p: holm(p.to_numpy(float))
        )
    table["family_size"] = table.groupby("contrast")["p_value"].transform("count").astype(int)
    alpha = float(spec["alpha"])
    table["verdict"] = [verdict(row, alpha) for row in table.to_dict("records")]
    return table[COLUMNS]
