"""The replication's figure: the originating study's two notebooks, rebuilt bug for bug,
over random initializations (the ablation stage's ablation_inits table), against the
accuracy the originating study reported from its one initialization.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ...typeset.figure_style import COLORS, Bounded, drawn
from ...typeset.words import counted
from .contract import REPORTED_CORRECT
from .rows import ablation_row


def initializations(table: pd.DataFrame, study: dict):
    reported = REPORTED_CORRECT
    rows = [("em-bug-compatible", "em"), ("backprop-bug-compatible", "backprop")]
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.6), layout="constrained", sharey=True)
    n_draws = n_test = tallest = 0
    lowest = 100.0
    for axis, (key, model) in zip(axes, rows, strict=True):
        shown = table[table["row"] == key]
        n_draws, n_test = len(shown), int(shown["n_test"].iloc[0])
        counts = shown["n_correct"].value_counts().reindex(range(n_test + 1), fill_value=0)
        accuracy = 100 * counts.index.to_numpy() / n_test
        axis.bar(accuracy, counts.to_numpy(), width=100 / n_test * 0.85, color=COLORS[0])
        mark = 100 * reported[model] / n_test
        axis.axvline(mark, color=COLORS[1], lw=1.2, ls="--")
        reaching = int((shown["n_correct"] >= reported[model]).sum())
        axis.annotate(
            f"reported {reported[model]}/{n_test}\nreached or passed by {reaching} of "
            f"{counted(n_draws, 'draw')}", xy=(mark, 0.97), xycoords=axis.get_xaxis_transform(),
            xytext=(-4, 0), textcoords="offset points", ha="right", va="top", fontsize=7,
            color=COLORS[1], bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )  # fmt: skip
        tallest = max(tallest, int(counts.max()))
        axis.set_title(drawn(ablation_row(key).name), fontsize=9)
        axis.set_xlabel("test accuracy (%) on the original split")
        lowest = min(lowest, 100 * shown["n_correct"].min() / n_test, mark)
    # Accuracy from the lowest draw to 100 %, half a bar's width beyond either end.
    half = 100 / n_test / 2 if n_test else 1.0
    for axis in axes:
        axis.set_xlim(max(lowest - 3 * half, -half), 100 + half)
        axis.xaxis.set_major_locator(Bounded(0, 100, nbins=6, steps=[1, 2, 2.5, 5, 10]))
    # Headroom above the tallest bar for the two lines that mark the reported accuracy.
    axes[0].set_ylim(0, 1.3 * max(tallest, 1))
    axes[0].set_ylabel("initializations")
    title = "The originating results over random initializations"
    caption = (
        f"Test accuracy on the originating study's split of its two notebooks rebuilt bug for "
        f"bug, from {counted(n_draws, 'random initialization')} each (everything else as "
        f"originally run); the dashed line marks the accuracy the originating study reported "
        f"from its one initialization, {reported['em']}/{n_test} for EM and "
        f"{reported['backprop']}/{n_test} for back-propagation."
    )
    return fig, title, caption
