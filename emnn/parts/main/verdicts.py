"""The paper's verdicts: sentences computed from the result tables, never typed in, so
that they change when the data do. Counts are stated as counts (3 of 5 datasets)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.stats import ALPHA
from ...core.tidy import is_true
from ...typeset.words import METRIC_TEXT, join

# Relative suboptimality at which a trainer counts as having reached the split's optimum.
REACHED = 1e-6


def family_verdict(
    comparisons: pd.DataFrame, methods: list[str], labels: dict, metric: str, who: str
) -> str | None:
    """One sentence for several methods against the baseline: how many of their comparisons
    show no difference after Holm's correction, and which differ, in whose favour."""
    rows = comparisons[
        comparisons["method"].isin(methods)
        & (comparisons["metric"] == metric)
        & comparisons["p_holm"].notna()
    ]
    if rows.empty:
        return None
    baseline = rows["baseline"].iloc[0]
    b, n = labels.get(baseline, baseline), len(rows)
    differ = rows[rows["p_holm"] < ALPHA]
    if differ.empty:
        return (
            f"{who} and {b} show no detectable difference in {METRIC_TEXT[metric]} on any "
            f"dataset after Holm’s correction: all {n} comparisons have adjusted p ≥ {ALPHA:g}."
        )
    better = (
        differ["mean_difference"] > 0 if metric == "accuracy" else (differ["mean_difference"] < 0)
    )
    parts = []
    for method in [m for m in methods if m in set(differ["method"])]:
        a = labels.get(method, method)
        mine = differ["method"] == method
        for winner, loser, chosen in (
            (a, b, differ[mine & better]),
            (b, a, differ[mine & ~better]),
        ):
            if len(chosen):
                parts.append(f"{winner} is better than {loser} on {join(list(chosen['dataset']))}")
    inside = who[0].lower() + who[1:] if who.startswith("The ") else who
    return (
        f"{n - len(differ)} of the {n} comparisons of {inside} with {b} in {METRIC_TEXT[metric]} "
        f"show no detectable difference after Holm’s correction (adjusted p ≥ {ALPHA:g}); "
        + "; ".join(parts) + "."
    )  # fmt: skip


def family_verdicts(
    comparisons: pd.DataFrame, methods: list[str], labels: dict, who: str, metrics=METRIC_TEXT
) -> list[str]:
    """The family verdict of each metric, or one sentence for all of them when no
    comparison of any differs after Holm's correction."""
    rows = comparisons[
        comparisons["method"].isin(methods)
        & comparisons["metric"].isin(list(metrics))
        & comparisons["p_holm"].notna()
    ]
    if rows.empty:
        return []
    if (rows["p_holm"] >= ALPHA).all() and rows["metric"].nunique() > 1:
        baseline = rows["baseline"].iloc[0]
        shown = join([METRIC_TEXT[m] for m in metrics if m in set(rows["metric"])])
        return [
            f"{who} and {labels.get(baseline, baseline)} show no detectable difference in "
            f"{shown} on any dataset after Holm’s correction: all {len(rows)} comparisons "
            f"have adjusted p ≥ {ALPHA:g}."
        ]
    found = (family_verdict(comparisons, methods, labels, m, who) for m in metrics)
    return [sentence for sentence in found if sentence]


def _median_curve(suboptimality: pd.DataFrame, dataset: str, method: str) -> pd.DataFrame:
    rows = suboptimality[
        (suboptimality["dataset"] == dataset) & (suboptimality["method"] == method)
    ]
    return rows.sort_values("n_estep")


def estep_to_reach(
    suboptimality: pd.DataFrame, dataset: str, method: str, level: float = REACHED
) -> float | None:
    """E-step evaluations after which the median split is within `level` of its optimum."""
    rows = _median_curve(suboptimality, dataset, method)
    reached = rows[rows["median"] <= level]
    return float(reached["n_estep"].iloc[0]) if len(reached) else None


def catch_up(suboptimality: pd.DataFrame, dataset: str, fast: str, slow: str):
    """How many E-steps `fast` needs to reach where `slow` ends (median split), and how many
    `slow` spent to get there: the speed-up when `slow` never reaches the optimum."""
    end = _median_curve(suboptimality, dataset, slow)
    if end.empty:
        return None
    level, spent = float(end["median"].iloc[-1]), float(end["n_estep"].iloc[-1])
    needed = estep_to_reach(suboptimality, dataset, fast, level)
    return None if needed is None else (needed, spent)


def fewer(ratios: np.ndarray, spec: str) -> str:
    """ "3× to 5× fewer", or "about as many" when no ratio reaches 1.5 (never "1× fewer")."""
    low, high = ratios.min(), ratios.max()
    if high < 1.5:
        return "about as many"
    if low < 1.5:
        return f"up to {high:{spec}}× fewer"
    if format(low, spec) == format(high, spec):
        return f"{low:{spec}}× fewer"
    return f"{low:{spec}}× to {high:{spec}}× fewer"


def catch_up_summary(
    suboptimality: pd.DataFrame,
    fast: str,
    slow: str,
    labels: dict,
    datasets: list[str],
    capped: tuple[int, int] | None = None,
) -> str | None:
    """One clause for the abstract: how many times fewer E-steps `fast` needs to reach the
    objective at which `slow` stops, over the datasets (median split); `capped` (runs that
    stopped at the cap, runs) says where that stop is, since the ratio depends on it."""
    caught = [catch_up(suboptimality, d, fast, slow) for d in datasets]
    values = np.array([spent / needed for c in caught if c for needed, spent in [c]])
    if values.size == 0:
        return None
    where = f" (its cap, in {capped[0]} of {capped[1]} runs)" if capped and capped[0] else ""
    return (
        f"On the exact likelihood, {labels.get(fast, fast)} reaches the objective at which "
        f"{labels.get(slow, slow)} stops{where} in {fewer(values, '.0f')} E-steps on "
        f"{values.size} of {len(datasets)} datasets (median split)."
    )


def speed_verdict(
    suboptimality: pd.DataFrame, fast: str, slow: str, labels: dict, datasets: list[str]
) -> str | None:
    """How many times fewer E-steps one exact-likelihood trainer needs than another to come
    within REACHED of the split's reference optimum (median split)."""
    a, b = labels.get(fast, fast), labels.get(slow, slow)
    ratios, missed, neither = [], [], []
    for dataset in datasets:
        if any(_median_curve(suboptimality, dataset, m).empty for m in (fast, slow)):
            continue
        x, y = (
            estep_to_reach(suboptimality, dataset, fast),
            estep_to_reach(suboptimality, dataset, slow),
        )
        if x is None and y is None:
            neither.append(dataset)
        elif y is None:
            missed.append(dataset)
        elif x is not None:
            ratios.append((dataset, y / x))
    if not (ratios or missed or neither):
        return None
    near = f"within a relative {REACHED:.0e} of the split’s reference optimum"
    parts = []
    if ratios:
        values = np.array([r for _, r in ratios])
        first, second = a, b
        if np.median(values) < 1:  # the "fast" one is slower: say so the other way round
            values, first, second = 1 / values, b, a
        parts.append(
            f"{first} comes {near} in {fewer(values, '.1f')} E-step evaluations than {second} "
            f"(median split) on {len(ratios)} of {len(datasets)} datasets"
        )
    if missed:
        parts.append(f"{b} does not come {near} before it stops on {join(missed)}, where {a} does")
    if neither:
        parts.append(f"neither {a} nor {b} comes {near} on {join(neither)}")
    stuck = missed + neither
    caught = [catch_up(suboptimality, dataset, fast, slow) for dataset in stuck]
    if stuck and all(caught):
        values = np.array([spent / needed for needed, spent in caught])
        where = "there" if len(stuck) == 1 else "on those datasets"
        parts.append(
            f"{a} reaches the objective at which {b} stops in {fewer(values, '.0f')} E-step "
            f"evaluations {where} (median split)"
        )
    sentence = "; ".join(parts).replace("e-0", "e-")
    return sentence[0].upper() + sentence[1:] + "."


def convergence_verdict(convergence: pd.DataFrame, labels: dict) -> str | None:
    """Which methods met their own stopping rule on every split, and which did not."""
    if convergence.empty:
        return None
    totals = convergence.groupby("method", sort=False)[["converged", "n_splits"]].sum()
    always = [labels.get(m, m) for m, r in totals.iterrows() if r["converged"] == r["n_splits"]]
    partly = [
        f"{labels.get(m, m)} in {int(r['converged'])} of {int(r['n_splits'])} runs"
        for m, r in totals.iterrows()
        if r["converged"] < r["n_splits"]
    ]
    parts = []
    if always:
        parts.append(f"{join(always)} met {'its' if len(always) == 1 else 'their'} own "
                     f"stopping rule on every run")  # fmt: skip
    if partly:
        parts.append(
            f"the stopping rule was met before the cap by {join(partly)}; the other runs "
            "are reported as they stood at the cap"
        )
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


# Two final objectives per training example further apart than this are different optima.
DIFFERENT_OPTIMA = 1e-4


def optima_sentence(runs: pd.DataFrame, datasets: list[str], direct: str, em: str,
                    labels: dict) -> str | None:  # fmt: skip
    """On how many splits two converged trainers of one objective ended on different
    optima, and which one was higher: local optima, not speed, decide where they end.
    Only the runs on `datasets` count."""

    def final(method):
        chosen = runs[runs["method"] == method].set_index(["dataset", "split"])
        return chosen["train_objective"] / chosen["n_train"]

    gap = (final(em) - final(direct)).dropna()
    gap = gap[gap.index.get_level_values(0).isin(datasets)]
    if gap.empty:
        return None
    # Totals over the datasets: the per-dataset counts would be a table written as prose.
    below, above = int((gap > DIFFERENT_OPTIMA).sum()), int((gap < -DIFFERENT_OPTIMA).sum())
    return (
        f"{labels.get(direct, direct)} and {labels.get(em, em)} both meet their stopping rules, "
        f"yet not at one optimum: {labels.get(direct, direct)} ends more than "
        f"{DIFFERENT_OPTIMA:g} nats per example below {labels.get(em, em)} on {below} and "
        f"above it on {above} of the {len(gap)} paired runs; on the others they end within "
        "that distance."
    )


def same_target_speed(
    same_target: pd.DataFrame, fast: str, slow: str, labels: dict, slack: float
) -> str | None:
    """How many times fewer E-steps one exact-likelihood trainer spends than another to
    reach one objective value from the same initial weights (within `slack` of the lower of
    their two ends), over the splits where both met their stopping rule: unlike E-steps to
    each run's own stop, the two counts measure the way to the same place."""
    pair = same_target[
        ((same_target["method"] == fast) & (same_target["other"] == slow))
        | ((same_target["method"] == slow) & (same_target["other"] == fast))
    ]
    pair = pair[pair["converged"].map(is_true) & pair["other_converged"].map(is_true)]
    if pair.empty:
        return None
    ratio = np.where(pair["method"] == fast, pair["other_n_estep"] / pair["n_estep"],
                     pair["n_estep"] / pair["other_n_estep"])  # fmt: skip
    medians = pd.Series(ratio, index=pair.index).groupby(pair["dataset"], sort=False).median()
    values = medians.to_numpy(dtype=float)
    first, second = labels.get(fast, fast), labels.get(slow, slow)
    if np.median(values) < 1:
        values, first, second = 1 / values, second, first
    return (
        f"From the same initial weights to one objective value (within {slack:g} nats per "
        f"example of the lower of their two ends), {first} spends {fewer(values, '.1f')} "
        f"E-steps than {second} (median split per dataset, over the {len(pair)} splits where "
        "both met their stopping rule)."
    )


def time_ratios(fit: list[dict], method: str, baseline: str, datasets, n_hidden: dict):
    """Per dataset, a method's median fit time over the baseline's (the timing summary's
    rows), each at its main number of hidden units; None unless both were timed on every
    dataset."""
    seconds = {(r["dataset"], r["method"]): r["fit_seconds_median"] for r in fit
               if r["n_hidden"] == n_hidden.get(r["method"])}  # fmt: skip
    pairs = [(seconds.get((d, method)), seconds.get((d, baseline))) for d in datasets]
    if not pairs or any(a is None or not b for a, b in pairs):
        return None
    return np.array([a / b for a, b in pairs])


def times_text(ratios: np.ndarray) -> str:
    """ "0.48× to 27×", two significant digits."""
    low, high = (f"{v:.2g}×" for v in (ratios.min(), ratios.max()))
    return low if low == high else f"{low} to {high}"


def converged_time(
    fit: list[dict], fast: str, slow: str, baseline: str | None, labels: dict, plan: dict
) -> str | None:
    """For the timing appendix, the one place wall-clock numbers may vary between reruns:
    accelerated EM's median run against direct maximization's (the E-step count leaves out
    what else an iteration costs) and against back-propagation's (the originating claim
    that EM is slower, which iterations against epochs cannot settle)."""
    datasets, n_hidden = plan["main"]["datasets"], plan["n_hidden"]
    against = [(other, time_ratios(fit, slow, other, datasets, n_hidden))
               for other in (fast, baseline) if other]  # fmt: skip
    shown = [f"{times_text(r)} {labels.get(o, o)}'s" for o, r in against if r is not None]
    if not shown:
        return None
    return (
        f"Per dataset, {labels.get(slow, slow)}'s median run takes {join(shown)}: counts "
        "of E-steps, iterations and epochs leave out what each step costs (EM's Newton "
        "M-step, L-BFGS's line search, an epoch's minibatches)."
    )


def below_reference(convergence: pd.DataFrame, direct: str, labels: dict, runs_text: str,
                    other_optimum: float) -> str | None:  # fmt: skip
    """The algorithm question's answer where the trainers end at different optima: how
    many exact-likelihood runs end below the independent reference, the direct maximizer's
    own among them, so that E-step counts measure the way to each run's own stop."""
    if "below_reference" not in convergence:
        return None
    exact = convergence[convergence["objective"] == "exact"]
    own = exact[exact["method"] == direct]
    if exact.empty or own.empty:
        return None
    below, total = int(exact["below_reference"].sum()), int(exact["n_splits"].sum())
    lead = "most runs end at a lower optimum than the reference: " if 2 * below > total else ""
    return (
        f"On the exact likelihood, {lead}{below} of the {total} runs end more than "
        f"{other_optimum:g} nats per example below {runs_text} on their split, "
        f"{labels.get(direct, direct)}'s own {int(own['below_reference'].sum())} of "
        f"{int(own['n_splits'].sum())} among them, so the E-steps a trainer spends measure "
        "its way to its own stop, not to one common optimum."
    )
