"""The m-sweep section's sentences and verdicts, computed from the sweep's tables
(emnn.parts.scaling.summary) so that the text follows the data; emnn.parts.scaling.section
sets its tables and gathers the section's values.
"""

from __future__ import annotations

import pandas as pd

from ...typeset.formats import finite, fixed, number, pct, pvalue, signed_points
from ...typeset.markup import literal
from ...typeset.words import counted, join
from .summary import FAMILIES, family_cells

LEVEL = 0.05  # the family-wise level of the Holm-adjusted paired tests
FAMILY_NAMES = {"em": "EM", "lbfgs": "L-BFGS", "baseline": "back-propagation"}


def points(value) -> str:
    """A difference of accuracies in percentage points, unsigned."""
    return number(abs(value), "accuracy")


def m_list(values) -> str:
    """The numbers of hidden units as the text lists them: 1, 2, 4 and 8."""
    return join([str(int(v)) for v in sorted(values)])


def limits_text(spec: dict, datasets: list) -> str:
    """The datasets that stop short of the last m, as " (on iris and wine up to m = 12)"."""
    top = max(spec["n_hidden"])
    limits = {d: m for d, m in spec.get("max_hidden", {}).items() if d in datasets and m < top}
    if not limits:
        return ""
    parts = [
        f"{join([literal(d) for d in limits if limits[d] == m])} up to $m = {m}$"
        for m in sorted(set(limits.values()))
    ]
    return f" (on {join(parts)})"


def label(config: dict, method: str) -> str:
    return literal(config["methods"][method].get("label", method))


E_STEP_NAMES = {"variational": "variational", "monte-carlo": "Monte-Carlo"}


def role_names(config: dict, spec: dict) -> dict:
    """How the sentences name each role (the tables and the figure use the labels):
    exact EM, variational (or Monte-Carlo) EM, L-BFGS on either objective, and the
    baseline's label."""
    e_step = config["methods"][spec["approximate"]]["params"]["e_step"]
    names = {
        "exact": "exact EM",
        "approximate": f"{E_STEP_NAMES[e_step]} EM",
        "baseline": label(config, spec["baseline"]),
    }
    if "exact_lbfgs" in spec:
        names["exact_lbfgs"] = "L-BFGS on the exact likelihood"
    if "approximate_lbfgs" in spec:
        names["approximate_lbfgs"] = "L-BFGS on the mean-field bound"
    return names


def present_families(best: pd.DataFrame, dataset: str) -> list[str]:
    """The families the sweep chose a best m for on a dataset, in FAMILIES' order."""
    found = set(best.loc[best["dataset"] == dataset, "family"])
    return [f for f in FAMILIES if f in found]


def tolerance(value) -> str:
    """A tolerance as the text writes it: $10^{-4}$, $5 \\times 10^{-5}$."""
    mantissa, exponent = f"{float(value):.0e}".split("e")
    power = f"10^{{{int(exponent)}}}"
    return f"${power}$" if mantissa == "1" else f"${mantissa} \\times {power}$"


# ------------------------------------------------------------------------ sentences

E_STEP_TEXT = {
    "variational": "a mean-field posterior, so that EM raises a lower bound of the likelihood",
    "monte-carlo": "posterior samples by importance sampling from $p(z \\mid x)$",
}


def stopping_sentence(methods: dict, labels: dict) -> str:
    """The EM methods' stopping rule and cap, once if they share them, and L-BFGS's."""
    caps = {
        role: (methods[role]["params"].get("tol"), methods[role]["params"].get("max_iter"))
        for role in ("exact", "approximate")
    }

    def rule(tol, max_iter):
        return (
            f"stops when its objective changes by at most a relative {tolerance(tol)} per "
            f"iteration (a SQUAREM cycle where accelerated), or after {max_iter} iterations"
        )

    if caps["exact"] == caps["approximate"]:
        said = f"Each EM run {rule(*caps['exact'])}"
    else:
        said = (
            f"A run of {labels['exact']} {rule(*caps['exact'])}; one of {labels['approximate']} "
            f"{rule(*caps['approximate'])}"
        )
    lbfgs = [role for role in ("exact_lbfgs", "approximate_lbfgs") if role in methods]
    for role in lbfgs:
        params = methods[role]["params"]
        said += (
            f"; {labels[role]} when the largest entry of its objective's gradient is at most "
            f"{tolerance(params.get('tol'))}, or after {params.get('max_iter')} iterations"
        )
    return said + "; back-propagation keeps its plateau rule."


def overlap_sentence(summary: pd.DataFrame, dataset: str, labels: dict) -> str:
    """How far the approximate E-step's means lie from exact EM's at the m where both ran
    and every run of both met its stopping rule (a capped run is no result to compare),
    the means rounded as the tables print them."""
    shown = summary[summary["dataset"] == dataset]
    ran = set(shown.loc[shown["role"] == "exact", "n_hidden"]) & set(
        shown.loc[shown["role"] == "approximate", "n_hidden"]
    )
    if not ran:
        return ""
    done = shown[(shown["converged"] == shown["n_splits"]) & shown["n_hidden"].isin(ran)]
    both = done.pivot(index="n_hidden", columns="role", values=["accuracy_mean", "log_loss_mean"])
    pairs = [(key, role) for key in ("accuracy_mean", "log_loss_mean") for role in FAMILIES["em"]]
    both = both.reindex(columns=pd.MultiIndex.from_tuples(pairs)).dropna()  # a role may be absent
    if both.empty:
        return (
            f"On {literal(dataset)}, {labels['exact']} and {labels['approximate']} met their "
            "stopping rule on every split at no common $m$, so their means are not compared."
        )
    rounded = {"accuracy_mean": lambda v: float(pct(v)), "log_loss_mean": lambda v: float(fixed(v))}
    diff = {
        key: (both[key]["approximate"].map(show) - both[key]["exact"].map(show)).round(9)
        for key, show in rounded.items()
    }
    accuracy, loss = diff["accuracy_mean"] / 100.0, diff["log_loss_mean"]
    worst = accuracy.abs().idxmax()
    m_values = [int(m) for m in both.index]
    restricted = len(m_values) < len(ran)
    where = (
        f"On {literal(dataset)}, at the $m$ where both ran and every run of both converged "
        f"($m$ = {m_list(m_values)}), "
        if restricted
        else f"On {literal(dataset)}, where both ran ($m \\le {max(m_values)}$), "
    )
    every = "at every such $m$" if restricted else "at every $m$"
    same_loss = fixed(loss.abs().max()) == fixed(0.0)  # equal to the printed digits
    log_loss = (
        "the same mean test log-loss"
        if same_loss
        else f"a mean test log-loss within {fixed(loss.abs().max())}"
    )
    if points(accuracy.abs().max()) == points(0.0):
        if same_loss:
            return (
                f"{where}{labels['approximate']} has the same mean test accuracy and log-loss "
                f"as {labels['exact']} {every}."
            )
        return (
            f"{where}{labels['approximate']} has the same mean test accuracy as "
            f"{labels['exact']} {every} and {log_loss}."
        )
    return (
        f"{where}{labels['approximate']} has a mean test accuracy within "
        f"{points(accuracy.abs().max())} percentage points of {labels['exact']} {every} "
        f"(the largest difference, {signed_points(accuracy[worst])}, at $m = {int(worst)}$) "
        f"and {log_loss}."
    )


def convergence_sentence(summary: pd.DataFrame, labels: dict, datasets=None,
                         brief: bool = False) -> str:  # fmt: skip
    """How many runs met their stopping rule, and which (method, dataset, m) did not, in the
    order of `datasets` (the study's; by default the table's); `brief`: the counts only."""
    total, met = int(summary["n_splits"].sum()), int(summary["converged"].sum())
    if met == total:
        return f"All {total} runs of the sweep met their stopping rule before the cap."
    if brief:
        return (
            f"{met} of the {total} runs of the sweep met their stopping rule; the other "
            f"{total - met} stopped at their cap ([#app-scaling-detail] lists them), are drawn "
            "hollow and set in italics, and none of them is chosen as a best $m$."
        )
    short = summary[summary["converged"] < summary["n_splits"]]
    order = list(datasets or dict.fromkeys(short["dataset"]))
    short = short.sort_values("dataset", key=lambda d: d.map(order.index), kind="stable")
    cells = []
    for (dataset, role), group in short.groupby(["dataset", "role"], sort=False):
        at = [
            f"{int(row.n_hidden)} ({int(row.n_splits - row.converged)} of {int(row.n_splits)})"
            for row in group.sort_values("n_hidden").itertuples()
        ]
        where = join(at)
        cells.append(f"{labels[role]} on {literal(dataset)} at $m$ = {where}")
    return (
        f"{met} of the {total} runs of the sweep met their stopping rule; the other "
        f"{total - met} stopped at their cap: {'; '.join(cells)}. Their points are drawn "
        "hollow and their table cells in italics: they are not results of training to "
        "convergence, and none of them is chosen as a best $m$."
    )


def best_sentence(best: pd.DataFrame, dataset: str, labels: dict) -> str:
    """Each family's best m on a dataset, and the m chosen for each split on the others."""
    rows = best[best["dataset"] == dataset].set_index("family")
    chosen = present_families(best, dataset)
    parts = []
    for family in chosen:
        row = rows.loc[family]
        how = f", {labels[row['role']]}" if family != "baseline" else ""
        among = (
            f"all {int(row['n_cells'])} of its values of $m$ converged"
            if row["n_converged_cells"] == row["n_cells"]
            else f"chosen among the {int(row['n_converged_cells'])} of its "
            f"{int(row['n_cells'])} values of $m$ whose runs all converged"
        )
        parts.append(
            f"{FAMILY_NAMES[family]}'s is $m = {int(row['n_hidden'])}$ (mean test accuracy "
            f"{pct(row['accuracy_mean'])} %, log-loss {fixed(row['log_loss_mean'])}{how}; "
            f"{among})"
        )
    splits = join(
        [f"{FAMILY_NAMES[f]}'s {', '.join(rows.loc[f, 'split_choices'].split())}"
         for f in chosen]
    )  # fmt: skip
    fallback = [FAMILY_NAMES[f] for f in chosen if not rows.loc[f, "only_converged"]]
    caveat = (
        f" No cell of {' or '.join(fallback)} converged on every split, so its choice "
        "includes unconverged cells."
        if fallback
        else ""
    )
    return (
        f"On {literal(dataset)}, by least mean test log-loss, {'; '.join(parts)}. Chosen "
        f"for each split on the other splits, the $m$ were {splits}.{caveat}"
    )


def cap_sentence(summary: pd.DataFrame, best: pd.DataFrame, dataset: str, names: dict) -> str:
    """Where a family's cells stopped at the cap hold a lower mean test log-loss than its
    chosen best m: then the cap, not the trainer, decides the choice, and the paired
    comparison measures the cap as much as the trainer."""
    said = []
    for family in FAMILY_NAMES:
        chosen = best[(best["dataset"] == dataset) & (best["family"] == family)]
        if chosen.empty:
            continue
        cells = family_cells(summary, dataset, family)
        capped = cells[cells["converged"] < cells["n_splits"]]
        if capped.empty:
            continue
        lowest = capped.loc[capped["log_loss_mean"].idxmin()]
        if lowest["log_loss_mean"] >= chosen["log_loss_mean"].iloc[0]:
            continue
        who = names[lowest["role"]]
        said.append(
            f"Among the cells stopped at their cap, {who} reaches a lower mean test log-loss "
            f"({fixed(lowest['log_loss_mean'])} at $m = {int(lowest['n_hidden'])}$) than "
            f"{FAMILY_NAMES[family]}'s best $m$ on {literal(dataset)}: there the cap, not the "
            "trainer, decides the choice, and the comparison below measures the cap as much "
            f"as {FAMILY_NAMES[family]}."
        )
    return " ".join(said)


def verdict(row) -> str:
    """ "EM" (or "L-BFGS"), "back-propagation" (the significantly better one at the
    family-wise level) or "neither"."""
    p = row["p_holm"]
    if not finite(p) or p >= LEVEL or row["mean_difference"] == 0:
        return "neither"
    metric = row.get("metric", getattr(row, "name", None))  # a row indexed by its metric
    better = row["mean_difference"] > 0 if metric == "accuracy" else (row["mean_difference"] < 0)
    return FAMILY_NAMES[row.get("family", "em")] if better else "back-propagation"


def summary_sentence(
    comparisons: pd.DataFrame,
    datasets: list,
    names: dict,
    top: int,
    beyond: pd.DataFrame,
    capped: list = (),
) -> str:
    """The sweep's outcome in one sentence, for the abstract and the conclusion. `beyond`:
    the summary rows of the approximate E-step past the exact one's reach; `capped`: the
    datasets where a cell stopped at its cap beats a chosen best m (cap_sentence)."""
    rows = comparisons[comparisons["dataset"].isin(datasets) & (comparisons["family"] == "em")]
    per_dataset = beyond.groupby("dataset", sort=False)[["converged", "n_splits"]].sum()
    met = join(
        [
            f"{int(r.converged)} of {int(r.n_splits)} on {literal(d)}"
            for d, r in per_dataset.iterrows()
        ]
    )
    head = (
        f"Past exact EM's limit, {names['approximate']} was run up to $m = {top}$ hidden "
        f"units: its runs there met their stopping rule in {met}, and at the widest $m$ they "
        f"used a median of {widest_units(beyond)}"
    )
    if rows.empty:
        return head + "."
    outcomes = [verdict(row) for _, row in rows.iterrows()]
    differ = [
        f"{outcome} on {literal(row['dataset'])} in "
        f"{'accuracy' if row['metric'] == 'accuracy' else 'log-loss'}"
        for outcome, (_, row) in zip(outcomes, rows.iterrows(), strict=True)
        if outcome != "neither"
    ]
    n_splits = counted(int(rows["n_splits"].min()), "paired split")
    said = (
        f"{head}. At the best $m$ of each, EM and back-propagation differ in "
        f"{len(differ) or 'none'} of the {len(rows)} comparisons after Holm’s correction"
    )
    said += (
        f", which over {n_splits} leaves the question undecided"
        if not differ
        else f" over {n_splits} (better: " + "; ".join(differ) + ")"
    )
    if capped:
        said += (
            f"; on {join([literal(d) for d in capped])} a cell stopped at its iteration cap "
            "has a lower log-loss than the chosen $m$, so there the comparison measures the cap"
        )
    return said + "."


def widest_units(beyond: pd.DataFrame) -> str:
    """The median hidden units used at each dataset's widest m: "1 of 64 hidden units on a
    and 31 of 64 on b"."""
    widest = beyond.loc[beyond.groupby("dataset", sort=False)["n_hidden"].idxmax()]
    parts = [
        f"{number(r.units_used_median, 'median')} of {int(r.n_hidden)}"
        + (" hidden units" if k == 0 else "")
        + f" on {literal(r.dataset)}"
        for k, r in enumerate(widest.itertuples())
    ]
    return join(parts)


def verdict_sentence(comparisons: pd.DataFrame, dataset: str, family: str = "em") -> str:
    """The paired comparison of a family (EM or L-BFGS) against back-propagation at the
    best m of each, both metrics, with its verdict."""
    shown = comparisons[(comparisons["dataset"] == dataset) & (comparisons["family"] == family)]
    if shown.empty:
        return ""
    rows = shown.set_index("metric")
    parts = []
    for metric, unit in (("accuracy", "percentage points"), ("log_loss", "")):
        row = rows.loc[metric]
        value = signed_points if metric == "accuracy" else signed_loss
        name = "accuracy" if metric == "accuracy" else "log-loss"
        if row["ties"] == row["n_splits"]:
            parts.append(f"the same {name} on all {int(row['n_splits'])} splits")
            continue
        interval = (
            f"95 % interval {value(row['ci_low'])} to {value(row['ci_high'])}, "
            if finite(row["ci_low"]) and finite(row["ci_high"])
            else ""
        )
        parts.append(
            f"a mean {name} difference of {value(row['mean_difference'])}"
            f"{' ' + unit if unit else ''} ({interval}Holm-adjusted "
            f"$p = {pvalue(row['p_holm'])}$, {counted(int(row['wins']), 'win')}, "
            f"{counted(int(row['ties']), 'tie')} and "
            f"{counted(int(row['losses']), 'loss', 'losses')} "
            f"over {int(row['n_splits'])} splits)"
        )
    verdicts = {m: verdict(rows.loc[m]) for m in ("accuracy", "log_loss")}
    if set(verdicts.values()) == {"neither"}:
        outcome = (
            f"neither is better at the {number(LEVEL, 'rate')} % family-wise level on either "
            f"metric, which over {counted(int(rows['n_splits'].min()), 'paired split')} means "
            "undecided, not equal"
        )
    else:
        outcome = "; ".join(
            f"{v} is better in {'accuracy' if m == 'accuracy' else 'log-loss'}"
            if v != "neither"
            else f"neither is better in {'accuracy' if m == 'accuracy' else 'log-loss'}"
            for m, v in verdicts.items()
        )
        outcome += f" (family-wise level {number(LEVEL, 'rate')} %)"
    return (
        f"On {literal(dataset)}, {FAMILY_NAMES[family]} at its best $m$ against "
        f"back-propagation at its own: {parts[0]}, and {parts[1]}: {outcome}."
    )


def signed_loss(value) -> str:
    return number(value, "diff_log_loss", minus="−")
