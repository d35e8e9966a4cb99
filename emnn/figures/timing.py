"""The timing figure: wall-clock cost of one exact EM iteration against m and, when the study
times them, of one whole iteration per kind of E-step. Wall-clock times differ from machine
to machine, so emnn.figures writes this figure apart, under results/figures/timing/.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import ticker

from . import scaling
from .style import COLORS, _log_ticks


def estep_cost(cost: pd.DataFrame, *rest):
    """The exact E-step and M-step against m; called (cost, study), or (cost, iterations,
    study) to draw beside it one whole EM iteration per kind of E-step
    (emnn.figures.scaling)."""
    *more, study = rest
    iterations = more[0] if more else None
    panels = 1 if iterations is None else 2
    fig, axes = plt.subplots(
        1, panels, figsize=(4.2 * panels, 2.8), layout="constrained", squeeze=False
    )
    axis = axes[0][0]
    m = cost["n_hidden"].to_numpy()
    for column, label, color in (
        ("e_step_seconds", "E-step", COLORS[0]),
        ("m_step_seconds", "Newton M-step", COLORS[1]),
    ):
        axis.plot(m, 1e3 * cost[column], marker="o", ms=3, color=color, label=label)
    anchor = 1e3 * cost["e_step_seconds"].iloc[-1] / 2.0 ** m[-1]
    axis.plot(m, anchor * 2.0**m, color="0.4", ls="--", lw=0.8, label=r"$\propto 2^m$")
    axis.set_yscale("log")
    _log_ticks(axis.yaxis)
    axis.set_xlabel("hidden units $m$")
    axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axis.set_ylabel("milliseconds")
    axis.legend(fontsize=8)
    n = int(cost["n"].iloc[0])
    title = "Cost of one exact EM iteration"
    caption = (
        f"Wall-clock time of one exact E-step and one Newton M-step on {n} examples against "
        "$m$ (log scale), best of repeated calls on one core, with a $2^m$ trend through the "
        "largest E-step."
    )
    if iterations is not None:
        axis.set_title("exact E-step and M-step", fontsize=9)
        title = "Cost of one EM iteration, exact and approximate"
        caption += " " + scaling.iteration_cost_panel(axes[0][1], iterations, study)
    return fig, title, caption
