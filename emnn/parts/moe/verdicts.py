"""Ng & McLachlan's (2004) three claims about mixtures of experts, judged from the moe
stage's tables (emnn.parts.moe.runs): each verdict is a sentence computed from the data, never
typed in, so that it changes when the data do. Counts are stated as counts ("the
objective fell in 10 of 10 runs on digits").

The claims:
1. IRLS with a learning rate below one is stable and increases the log-likelihood
   monotonically (method moe-irls);
2. with a learning rate of one it can fail to (moe-irls-1);
3. ECM does better than IRLS (moe-ecm against both).

"Better" in claim 3 is read in three senses, each with its own evidence: monotonicity
(counts of runs in which the objective fell); the final objective per training example
at an equal budget of EM iterations (every run of a dataset has the same cap, and a run
that met its stopping rule earlier keeps its final value), paired over all splits; and
test accuracy and log-loss, paired over the splits on which both runs met their
stopping rule only - an unconverged run is no result, while a fall of the objective is
evidence whether or not the run went on to converge. Paired tests (emnn.parts.moe.comparisons)
are Nadeau and Bengio's corrected resampled t-test for the test metrics and the sign
test for the objective, with Holm's adjustment over one family, every comparison of
`paired_table`; the sign test's direction is its median difference.
"""

from __future__ import annotations

import pandas as pd

from ...core.stats import ALPHA
from ...core.tidy import is_true
from ...typeset.formats import number
from ...typeset.markup import literal
from ...typeset.words import count_of, join, names, series
from .comparisons import comparisons
from .contract import labels

METRIC_TEXT = {
    "accuracy": "test accuracy",
    "log_loss": "test log-loss",
    "objective": "final objective per training example",
}
HIGHER_IS_BETTER = {"accuracy": True, "log_loss": False, "objective": True}


def _grouped(counts: list[tuple[str, int, int]]) -> list[tuple[list[str], int, int]]:
    """Datasets with the same (count, total), in first-seen order: ([names], count, total)."""
    groups: dict[tuple[int, int], list[str]] = {}
    for dataset, count, total in counts:
        groups.setdefault((count, total), []).append(dataset)
    return [(chosen, count, total) for (count, total), chosen in groups.items()]


def fell_counts(runs: pd.DataFrame, method: str, datasets) -> list[tuple[str, int, int, int]]:
    """Per dataset with runs of the method: (dataset, runs whose objective ever fell,
    runs that diverged, runs)."""
    found = []
    for dataset in datasets:
        rows = runs[(runs["dataset"] == dataset) & (runs["method"] == method)]
        if len(rows):
            fell = int(rows["ever_decreased"].map(is_true).sum())
            diverged = int(rows["diverged"].map(is_true).sum())
            found.append((dataset, fell, diverged, len(rows)))
    return found


def _fell_clause(counts) -> str:
    """ "the objective fell in all 10 runs on digits and in no run elsewhere": only where it
    fell, as the training table gives every count."""
    fell = [(d, f, n) for d, f, _, n in counts if f]
    if not fell:
        return "the objective fell in no run"
    parts = [f"in {count_of(count, total)} on {names(chosen)}"
             for chosen, count, total in _grouped(fell)]  # fmt: skip
    elsewhere = (", and" if len(parts) > 1 else " and") + " in no run elsewhere"
    return "the objective fell " + series(parts) + (elsewhere if len(fell) < len(counts) else "")


def largest_fall(runs: pd.DataFrame, method: str) -> str:
    """ " (the largest fall: 0.254 per training example, on iris; first falls at iteration 2
    to 5)", or "" if none fell."""
    rows = runs[runs["method"] == method]
    if not len(rows):
        return ""
    per_example = (rows["largest_decrease"] / rows["n_train"]).to_numpy(float)
    if not per_example.max() > 0:
        return ""
    where = literal(rows["dataset"].iloc[int(per_example.argmax())])
    largest = number(per_example.max(), "gap", minus="−")
    first = ""
    if "first_decrease" in rows:  # each run's first fall, before or at its cap
        at = rows.loc[rows["ever_decreased"].map(is_true), "first_decrease"].astype(int)
        low, high = at.min(), at.max()
        first = f"; first falls at iteration {low}" + (f" to {high}" if high > low else "")
    return f" (the largest fall: {largest} per training example, on {where}{first})"


def _diverged_clause(counts) -> str:
    """Where the objective stopped being finite; "" where it never did (the table says so)."""
    diverged = [(d, v, n) for d, _, v, n in counts if v]
    if not diverged:
        return ""
    parts = [
        f"{count_of(count, total)} on {names(chosen)}"
        for chosen, count, total in _grouped(diverged)
    ]
    return "; the objective stopped being finite in " + series(parts)


def _evidence(label: str, counts, fall: str = "") -> str:
    # One parenthesis: the largest fall, then the table that counts every run.
    where = f"{fall[:-1]}; [#tab-moe-training])" if fall else " ([#tab-moe-training])"
    return f"With {label}, {_fell_clause(counts)}{_diverged_clause(counts)}{where}."


def _falls(runs: pd.DataFrame, method: str, datasets, irls_rate: float):
    """An IRLS method's falls and non-finite runs: the counts per dataset, the datasets
    where some run fell or stopped being finite, those where none did, and the evidence
    sentence the claims 1 and 2 state."""
    counts = fell_counts(runs, method, datasets)
    failed = [d for d, fell, diverged, _ in counts if fell or diverged]
    clean = [d for d, fell, diverged, _ in counts if not (fell or diverged)]
    label = labels(irls_rate)[method]
    return counts, failed, clean, _evidence(label, counts, largest_fall(runs, method))


def claim_monotone(runs: pd.DataFrame, datasets, irls_rate: float) -> dict:
    """Claim 1: at a rate below one, IRLS-EM never lowers the objective and never diverges."""
    counts, failed, held, evidence = _falls(runs, "moe-irls", datasets, irls_rate)
    if not counts:
        verdict = "No run of this method was made, so the data say nothing about it."
    elif not failed:
        verdict = "The data support the claim on every dataset."
    elif not held:
        verdict = "The data contradict the claim on every dataset."
    else:
        verdict = (
            f"The data support the claim on {names(held)} and contradict it on {names(failed)}."
        )
    return {"number": 1, "evidence": evidence, "verdict": verdict, "held": held,
            "failed": failed}  # fmt: skip


def claim_can_fail(runs: pd.DataFrame, datasets) -> dict:
    """Claim 2: at rate one, IRLS-EM can lower the objective (or diverge); one such run
    on a dataset bears it out there, none leaves it unobserved (never refuted: "can")."""
    counts, failed, quiet, evidence = _falls(runs, "moe-irls-1", datasets, 1.0)
    if not counts:
        verdict = "No run of this method was made, so the data say nothing about it."
    elif not quiet:
        verdict = "The data bear the claim out on every dataset."
    elif not failed:
        verdict = (
            "No run failed to increase the objective, so these data do not bear the claim "
            "out (they cannot refute a claim that IRLS *can* fail)."
        )
    else:
        verdict = (
            f"The data bear the claim out on {names(failed)}; on {names(quiet)} no run failed."
        )
    return {"number": 2, "evidence": evidence, "verdict": verdict, "failed": failed,
            "quiet": quiet}  # fmt: skip


# ------------------------------------------------------------------ paired comparisons


def paired_table(
    moe_runs: pd.DataFrame, mlp_runs: pd.DataFrame | None = None, baseline: str | None = None
) -> pd.DataFrame:
    """Every paired comparison of the section under one Holm family (moe_comparisons.comparisons):
    the final objective over every split, test accuracy and log-loss over the splits on
    which both runs met their stopping rule."""
    return comparisons(moe_runs, mlp_runs, baseline, converged_only=True)


def judged(rows: pd.DataFrame, metric: str) -> dict[str, list]:
    """The datasets of some comparison rows (one metric, one row per dataset) by outcome:
    "better" / "worse" for the method at Holm-adjusted p < ALPHA, "same" otherwise,
    "untested" with fewer than two paired splits; and "unanimous", the "same" datasets
    on which every split went one way, as (dataset, "better" or "worse", splits): the
    corrected test is cautious, and a count says what it does not."""
    out = {"better": [], "worse": [], "same": [], "untested": [], "unanimous": []}
    for row in rows.to_dict("records"):
        if row["n_splits"] < 2 or pd.isna(row["p_holm"]):
            out["untested"].append(row["dataset"])
        elif row["p_holm"] >= ALPHA:
            out["same"].append(row["dataset"])
            for word, count in (("better", row["wins"]), ("worse", row["losses"])):
                if count == row["n_splits"]:
                    out["unanimous"].append((row["dataset"], word, int(count)))
        else:
            # The sign test (the objective's) judges the median, not the mean.
            key = "median_difference" if row.get("test") == "sign" else "mean_difference"
            gain = row[key] if HIGHER_IS_BETTER[metric] else -row[key]
            out["better" if gain > 0 else "worse"].append(row["dataset"])
    return out


def paired_sentence(
    rows: pd.DataFrame, metric: str, a: str, b: str, every_split: bool | None = None
) -> str | None:
    """One comparison (method a against b) on one metric over datasets, as a sentence:
    where a is better, where worse (Holm-adjusted p < ALPHA), where the two are
    indistinguishable and where too few splits were paired to test. `every_split`: the
    metric was paired over every split, not the converged ones only (by default, the
    objective is: between EM algorithms, at their equal cap)."""
    if rows.empty:
        return None
    every_split = metric == "objective" if every_split is None else every_split
    found = judged(rows, metric)
    return _sentence(found, METRIC_TEXT[metric], a, b, every_split)


def _sentence(found: dict, metric_text: str, a: str, b: str, every_split: bool) -> str:
    sides = [f"{word} on {names(found[word])}" for word in ("better", "worse") if found[word]]
    clauses = []
    if sides:
        first, *rest = sides
        word, where = first.split(" on ", 1)
        text = f"{a} is {word} than {b} on {where}" + "".join(f" and {r}" for r in rest)
        clauses.append(f"{text} (Holm-adjusted $p < {ALPHA:g}$)")
    if found["same"]:
        who = "the two show" if clauses else f"{a} and {b} show"
        text = f"{who} no detectable difference on {names(found['same'])}"
        notes = [
            f"{word} on all {count} splits of {literal(dataset)}"
            for dataset, word, count in found["unanimous"]
        ]
        clauses.append(text + (f", although {a} is {join(notes)}" if notes else ""))
    if found["untested"]:
        who = "they" if clauses else f"{a} and {b}"
        why = "were run" if every_split else "have both runs converged"
        clauses.append(
            f"{who} are not compared on {names(found['untested'])}, where fewer than two "
            f"splits {why}"
        )
    return f"In {metric_text}, " + "; ".join(clauses) + "."


def test_sentences(table: pd.DataFrame, a_method: str, a: str, b: str, other=None) -> list[str]:
    """Test accuracy and log-loss of one pair (other=None: against the MLP), paired over
    converged splits: one sentence when both metrics give the same outcome everywhere."""
    found = {m: judged(pair_rows(table, a_method, other, m), m) for m in ("accuracy", "log_loss")}
    if not len(pair_rows(table, a_method, other, "accuracy")):
        return []
    if found["accuracy"] == found["log_loss"]:
        text = f"{METRIC_TEXT['accuracy']} and in {METRIC_TEXT['log_loss']}"
        return [_sentence(found["accuracy"], text, a, b, False)]
    return [_sentence(found[m], METRIC_TEXT[m], a, b, False) for m in found]


def in_order(table: pd.DataFrame, datasets) -> pd.DataFrame:
    """A comparison table's rows with the datasets in the study's order."""
    rank = {d: k for k, d in enumerate(datasets)}
    return table.sort_values("dataset", key=lambda c: c.map(rank), kind="stable")


def pair_rows(table: pd.DataFrame, method: str, other: str | None, metric: str) -> pd.DataFrame:
    """The comparison rows of a method against another MoE method (other=None: against
    the MLP of each dataset) on one metric."""
    chosen = (table["method"] == method) & (table["metric"] == metric)
    chosen &= table["other_kind"].eq("mlp") if other is None else table["other"].eq(other)
    return table[chosen]


def claim_ecm_better(runs: pd.DataFrame, table: pd.DataFrame, datasets, irls_rate: float) -> dict:
    """Claim 3: ECM does better than IRLS, in three senses (module docstring), against
    IRLS-EM at the rate below one and at rate one."""
    names_of = labels(irls_rate)
    table = in_order(table, datasets)
    ecm = fell_counts(runs, "moe-ecm", datasets)
    sentences = [_evidence("ECM", ecm)]
    better: dict[str, dict[str, list[str]]] = {}
    for other in ("moe-irls", "moe-irls-1"):
        if not len(pair_rows(table, "moe-ecm", other, "objective")):
            continue
        found = {m: judged(pair_rows(table, "moe-ecm", other, m), m) for m in HIGHER_IS_BETTER}
        irls = {d: fell or diverged for d, fell, diverged, _ in fell_counts(runs, other, datasets)}
        steady = {d for d, fell, diverged, _ in ecm if not (fell or diverged)}
        found["monotone"] = {"better": [d for d in irls if irls[d] and d in steady]}
        better[other] = found
    verdict = _sum_up(better, names_of)
    if better:
        verdict += " " + _elsewhere(better, names_of)
    return {"number": 3, "evidence": " ".join(sentences), "verdict": verdict,
            "better": better}  # fmt: skip


# Each sense of "does better": its name, and what it means, said the first time only.
SENSES = {
    "monotone": ("monotonicity", " (the other fell in at least one run, ECM in none)"),
    "objective": ("final objective", " where the runs stopped"),
    "accuracy": ("test accuracy", " over converged runs"),
    "log_loss": ("test log-loss", " over converged runs"),
}


def _sum_up(better: dict, names_of: dict) -> str:
    """Claim 3's verdict: in which senses and on which datasets ECM did better (or worse)."""
    if not better:
        return "No ECM and IRLS runs were paired, so the data say nothing about it."
    sentences, said = [], set()

    def sense_text(sense: str) -> str:
        name, meaning = SENSES[sense]
        text = name if sense in said else name + meaning
        said.add(sense)
        return text

    for other, found in better.items():
        wins = [
            f"in {sense_text(sense)} on {names(found[sense]['better'])}"
            for sense in SENSES
            if found[sense]["better"]
        ]
        losses = [
            f"in {sense_text(sense)} on {names(found[sense]['worse'])}"
            for sense in SENSES
            if found[sense].get("worse")
        ]
        text = f"Against {names_of[other]}, ECM does better "
        text += join(wins) if wins else "in none of these senses on any dataset"
        if losses:
            text += f", and worse {join(losses)}"
        sentences.append(text + ".")
    return " ".join(sentences)


def _elsewhere(better: dict, names_of: dict) -> str:
    """What claim 3's verdict leaves out, said once for both IRLS rates: every other paired
    comparison found no detectable difference (the table gives them), the ones that went
    one way on every split nonetheless, and those too few splits allowed."""
    unanimous: dict[tuple, list[str]] = {}
    untested: dict[tuple, list[str]] = {}
    for other, found in better.items():
        for metric in METRIC_TEXT:
            for dataset, word, count in found[metric]["unanimous"]:
                unanimous.setdefault((metric, word, dataset, count), []).append(other)
            if found[metric]["untested"] and metric != "objective":
                untested.setdefault(tuple(found[metric]["untested"]), []).append(metric)
    text = "In every other paired comparison the two show no detectable difference"
    notes = [
        f"ECM's {METRIC_TEXT[metric]} is {word} on all {count} splits of {literal(dataset)} "
        f"against {join([names_of[o] for o in others])}"
        for (metric, word, dataset, count), others in unanimous.items()
    ]
    if notes:
        text += ", although " + join(notes)
    for datasets, metrics in untested.items():
        shown = join(list(dict.fromkeys(METRIC_TEXT[m] for m in metrics)))
        text += (
            f"; {shown} are not compared on {names(list(datasets))}, where fewer than two "
            "splits have both runs converged"
        )
    return text + "."
