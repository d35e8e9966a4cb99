"""The m-sweep's sentence on the variational E-step's switching hidden units off (the sweep
tables count the units each network uses; emnn.parts.scaling.sentences has the others)."""

from __future__ import annotations

import pandas as pd

from ...typeset.markup import literal
from ...typeset.words import join


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
