"""The m-sweep section's sentences and verdicts, computed from the sweep's tables
(emnn.parts.scaling.summary) so that the text follows the data; emnn.parts.scaling.section
sets its tables and gathers the section's values.
"""

from __future__ import annotations

import pandas as pd

from ...typeset.formats import finite, fixed, number, pct, power_of_ten
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
            f"stops when its objective changes by at most a relative {power_of_ten(tol)} per "
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
            f"{power_of_ten(params.get('tol'))}, or after {params.get('max_iter')} iterations"
        )
    return said + "; back-propagation keeps its plateau rule."


def _overlap(summary: pd.DataFrame, dataset: str) -> dict | None:
    """The approximate E-step's means against exact EM's at the m where both ran and every
    run of both met its stopping rule (a capped run is no result to compare), the means
    rounded as the tables print them: None where they never both ran, {} where they share
    no such m."""
    shown = summary[summary["dataset"] == dataset]
    ran = set(shown.loc[shown["role"] == "exact", "n_hidden"]) & set(
        shown.loc[shown["role"] == "approximate", "n_hidden"]
    )
    if not ran:
        return None
    done = shown[(shown["converged"] == shown["n_splits"]) & shown["n_hidden"].isin(ran)]
    both = done.pivot(index="n_hidden", columns="role", values=["accuracy_mean", "log_loss_mean"])
    pairs = [(key, role) for key in ("accuracy_mean", "log_loss_mean") for role in FAMILIES["em"]]
    both = both.reindex(columns=pd.MultiIndex.from_tuples(pairs)).dropna()  # a role may be absent
    if both.empty:
        return {}
    rounded = {"accuracy_mean": lambda v: float(pct(v)), "log_loss_mean": lambda v: float(fixed(v))}
    diff = {
        key: (both[key]["approximate"].map(show) - both[key]["exact"].map(show)).round(9).abs()
        for key, show in rounded.items()
    }
    m_values = [int(m) for m in both.index]
    return {
        "accuracy": points(diff["accuracy_mean"].max() / 100.0),
        "log_loss": fixed(diff["log_loss_mean"].max()),
        "where": f"$m$ = {m_list(m_values)}" if len(m_values) < len(ran)
        else f"$m \\le {max(m_values)}$",
    }  # fmt: skip


def overlap_sentence(summary: pd.DataFrame, datasets, labels: dict) -> str:
    """How far the approximate E-step's means lie from exact EM's, on every dataset in one
    sentence (the tables give each m)."""
    found = {d: _overlap(summary, d) for d in datasets}
    compared = {d: f for d, f in found.items() if f}
    apart = [literal(d) for d, f in found.items() if f == {}]
    said = []
    if compared:
        wheres = {}
        for d, f in compared.items():
            wheres.setdefault(f["where"], []).append(literal(d))
        where = (
            next(iter(wheres))
            if len(wheres) == 1
            else "; ".join(f"{w} on {join(ds)}" for w, ds in wheres.items())
        )
        names = join(list(map(literal, compared)))
        said.append(
            f"Where both E-steps ran and every run of both converged ({where}), "
            f"{labels['approximate']}'s mean test accuracy is within "
            f"{join([f['accuracy'] for f in compared.values()])} percentage points of "
            f"{labels['exact']}'s on {names}, and its mean test log-loss within "
            f"{join([f['log_loss'] for f in compared.values()])}."
        )
    if apart:
        said.append(
            f"On {join(apart)}, {labels['exact']} and {labels['approximate']} met their "
            "stopping rule on every split at no common $m$, so their means are not compared."
        )
    return " ".join(said)


def convergence_sentence(summary: pd.DataFrame, labels: dict, datasets=None,
                         brief: bool = False) -> str:  # fmt: skip
    """How many runs met their stopping rule, and which (method, dataset, m) did not, in the
    order of `datasets` (the study's; by default the table's); `brief`: the counts only."""
    total, met = int(summary["n_splits"].sum()), int(summary["converged"].sum())
    if met == total:
        return f"All {total} runs of the $m$-sweep met their stopping rule before the cap."
    if brief:
        return (
            f"{met} of the {total} runs of the $m$-sweep met their stopping rule; the other "
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
        f"{met} of the {total} runs of the $m$-sweep met their stopping rule; the other "
        f"{total - met} stopped at their cap: {'; '.join(cells)}. Their points are drawn "
        "hollow and their table cells in italics: they are not results of training to "
        "convergence, and none of them is chosen as a best $m$."
    )


def best_sentence(best: pd.DataFrame, datasets) -> str:
    """Where the tables show each family's best m, and what they cannot: the datasets on
    which a family chose among fewer values of m than it ran, because some stopped at the
    cap, or had to take an unconverged one."""
    restricted, fallback = [], []
    for dataset in datasets:
        rows = best[best["dataset"] == dataset].set_index("family")
        among = []
        for family in present_families(best, dataset):
            row = rows.loc[family]
            if not row["only_converged"]:
                fallback.append(f"{FAMILY_NAMES[family]} on {literal(dataset)}")
            elif row["n_converged_cells"] < row["n_cells"]:
                counts = f"{int(row['n_converged_cells'])} of {int(row['n_cells'])}"
                among.append(
                    f"{FAMILY_NAMES[family]}'s was chosen among the {counts} values of $m$ "
                    "whose runs all converged"
                    if not among
                    else f"{FAMILY_NAMES[family]}'s among {counts}"
                )
        if among:
            restricted.append(f"on {literal(dataset)}, {join(among)}")
    said = (
        "Each family's best $m$ is set in bold, and the $m$ chosen for each split on the other "
        "splits is in [#tab-scaling-comparison]"
    )
    said += f"; {'; '.join(restricted)}." if restricted else "."
    if fallback:
        said += (
            f" No cell of {join(fallback)} converged on every split, so that choice includes "
            "unconverged cells."
        )
    return said


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
            "trainer, decides the choice, and [#tab-scaling-comparison] measures the cap as much "
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
    family = int(comparisons["dataset"].isin(datasets).sum())  # L-BFGS's rows share it
    said = (
        f"{head}. At the best $m$ of each, EM and back-propagation differ in "
        f"{len(differ) or 'none'} of their {len(rows)} comparisons after Holm’s correction"
        + (f" over all {family} of [#tab-scaling-comparison]" if family > len(rows) else "")
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
    and 31 of 64 on b (capped)", marked where a run there stopped at its cap (a count of
    runs still moving, not of where they would settle)."""
    widest = beyond.loc[beyond.groupby("dataset", sort=False)["n_hidden"].idxmax()]
    parts = [
        f"{number(r.units_used_median, 'median')} of {int(r.n_hidden)}"
        + (" hidden units" if k == 0 else "")
        + f" on {literal(r.dataset)}"
        + (" (capped)" if r.converged < r.n_splits else "")
        for k, r in enumerate(widest.itertuples())
    ]
    return join(parts)


def signed_loss(value) -> str:
    return number(value, "diff_log_loss", minus="−")
