"""The MoE methods against the MLP, as the appendix says them: once for all methods (the
comparison table gives each), from the same paired comparisons as the claims."""

from __future__ import annotations

import pandas as pd

from ...core.stats import ALPHA
from ...typeset.markup import literal
from ...typeset.words import join, names, series
from .contract import METHODS, labels
from .verdicts import METRIC_TEXT, judged, pair_rows


def mlp_sentences(table: pd.DataFrame, irls_rate: float) -> list[str]:
    """Every MoE method against the MLP in test accuracy and log-loss, said once for all of
    them (the comparison table gives each): the decided comparisons, the undecided ones
    that went one way on every split, and the methods too few converged splits left out."""
    names_of = labels(irls_rate)
    decided, one_way, untested = [], {}, {}
    for method in METHODS:
        for metric in ("accuracy", "log_loss"):
            rows = pair_rows(table, method, None, metric)
            if not len(rows):
                continue
            found = judged(rows, metric)
            for word in ("better", "worse"):
                if found[word]:
                    decided.append(
                        f"{names_of[method]} is {word} than the MLP in {METRIC_TEXT[metric]} "
                        f"on {names(found[word])}"
                    )
            for dataset, word, count in found["unanimous"]:
                key = (method, word, dataset, count)
                one_way.setdefault(key, []).append(METRIC_TEXT[metric])
            if found["untested"]:
                untested.setdefault(tuple(found["untested"]), {})[names_of[method]] = None
    if not (decided or one_way or untested) and table[table["other_kind"].eq("mlp")].empty:
        return []
    out = [
        (f"{series(decided)} (Holm-adjusted $p < {ALPHA:g}$); every other comparison with the "
         "MLP shows no detectable difference" if decided else
         "No MoE method differs detectably from the MLP in test accuracy or test log-loss on "
         "any dataset after Holm's adjustment") + " ([#tab-moe-comparisons])."
    ]  # fmt: skip
    if one_way:
        parts = [
            f"{names_of[method]} is {word} in {join(metrics)} on all {count} splits of "
            f"{literal(dataset)}"
            for (method, word, dataset, count), metrics in one_way.items()
        ]
        out.append(f"Undecided by the test but one way on every split: {series(parts)}.")
    for datasets, methods in untested.items():
        out.append(
            f"{join(list(methods))} {'is' if len(methods) == 1 else 'are'} not compared with "
            f"the MLP on {names(list(datasets))}, where fewer than two splits have both runs "
            "converged."
        )
    return out
