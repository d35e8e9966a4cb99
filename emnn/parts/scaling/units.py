"""The m-sweep's sentences on how many hidden units its networks use, and on the
variational E-step's switching units off (emnn.parts.scaling.sentences has the others)."""

from __future__ import annotations

import pandas as pd

from ...models.scoring import USED_UNIT_NATS
from ...typeset.formats import number
from ...typeset.markup import literal
from ...typeset.words import join


def units_sentence(summary: pd.DataFrame, dataset: str, names: dict, define=True) -> str:
    """How many hidden units each role used at its widest m (exact EM's beside the
    approximate E-step's where both ran); `define`: say first what "used" means."""
    shown = summary[summary["dataset"] == dataset]
    widest = {
        role: cells.loc[cells["n_hidden"].idxmax()]
        for role, cells in shown.groupby("role", sort=False)
    }
    if not {"approximate", "baseline"} <= set(widest):
        return ""

    def used(row) -> str:
        return f"{number(row['units_used_median'], 'median')} of {int(row['n_hidden'])}"

    approximate = widest["approximate"]
    said = (
        "A hidden unit counts as used when switching it on moves the log-odds of some class "
        f"against another by at least {USED_UNIT_NATS:g} nats. On "
        if define
        else "On "
    ) + f"{literal(dataset)} at $m = {int(approximate['n_hidden'])}$ "
    if "exact" in widest and widest["exact"]["n_hidden"] == approximate["n_hidden"]:
        return said + (
            f"{names['exact']} used a median of {used(widest['exact'])} hidden units, "
            f"{names['approximate']} {used(approximate)} and {names['baseline']} "
            f"{used(widest['baseline'])}."
        )
    said += (
        f"{names['approximate']} used a median of {used(approximate)} hidden units and "
        f"{names['baseline']} {used(widest['baseline'])}"
    )
    if "exact" in widest:
        exact = widest["exact"]
        m_exact = int(exact["n_hidden"])
        said += f"; at $m = {m_exact}$ {names['exact']} used {used(exact)}"
        beside = shown[(shown["role"] == "approximate") & (shown["n_hidden"] == m_exact)]
        if len(beside) and beside["units_used_median"].iloc[0] != exact["units_used_median"]:
            said += f" and {names['approximate']} {used(beside.iloc[0])}"
    return said + "."


def pruned(summary: pd.DataFrame, dataset: str) -> bool:
    """Whether the approximate E-step switched units off on a dataset, judged on the cells
    whose runs all met their stopping rule: at its widest such m it used at most half of
    them, or fewer than exact EM beside it at exact EM's widest such m."""
    shown = summary[
        (summary["dataset"] == dataset) & (summary["converged"] == summary["n_splits"])
    ].set_index(["role", "n_hidden"])
    roles = shown.index.get_level_values("role")
    if "approximate" not in roles:
        return False
    approximate = shown.loc["approximate"]
    top = approximate.index.max()
    if approximate.loc[top, "units_used_median"] <= top / 2:
        return True
    if "exact" not in roles:
        return False
    m_exact = shown.loc["exact"].index.max()
    return bool(
        m_exact in approximate.index
        and approximate.loc[m_exact, "units_used_median"]
        < shown.loc[("exact", m_exact), "units_used_median"]
    )


def pruning_sentence(summary: pd.DataFrame, datasets: list, names: dict) -> str:
    """Why the approximate E-step's networks are narrower than their m, where they are."""
    where = [d for d in datasets if pruned(summary, d)]
    if not where:
        return ""
    return (
        f"On {join([literal(d) for d in where])}, {names['approximate']} switched hidden "
        "units off: the mean-field bound is loosest for a unit whose posterior is uncertain "
        "and whose output weights are large, so raising the bound can drive such a unit's "
        "output weights to zero, the over-pruning of mean-field bounds [@mackay2001local]. "
        "Its network is then narrower than its $m$ says. (Judged on the cells whose runs all "
        "met their stopping rule.)"
    )
