"""The timing figure: wall-clock cost of one exact EM iteration against m and, when the study
times them, of one whole iteration per kind of E-step. Wall-clock times differ from machine
to machine, so emnn.paper.figures writes this figure apart, under results/figures/timing/.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import ticker

from ...typeset.figure_style import COLORS, log_ticks


def estep_cost(cost: pd.DataFrame, *rest):
    """The exact E-step and M-step against m; called (cost, study), or (cost, iterations,
    study) to draw beside it one whole EM iteration per kind of E-step
    (iteration_cost_panel, below)."""
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
    log_ticks(axis.yaxis)
    axis.set_xlabel("hidden units $m$")
    axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axis.set_ylabel("milliseconds")
    axis.legend(fontsize=8)
    n = int(cost["n"].iloc[0])
    title = "Cost of one exact EM iteration"
    caption = (
        f"Wall-clock time of one exact E-step and one Newton M-step on {n} examples against "
        "$m$ (time on a log scale), best of repeated calls on one core, with a $2^m$ trend "
        "through the largest E-step."
    )
    if iterations is not None:
        axis.set_title("exact E-step and M-step", fontsize=9)
        title = "Cost of one EM iteration, exact and approximate"
        right = iteration_cost_panel(axes[0][1], iterations, study)
        caption = f"Left: {caption[0].lower()}{caption[1:]} {right}"
    return fig, title, caption


E_STEP_LABELS = {"exact": "exact", "variational": "variational", "monte-carlo": "Monte Carlo"}


def iteration_cost_panel(axis, table: pd.DataFrame, study: dict) -> str:
    """One whole EM iteration per kind of E-step against m (log-log); the caption's
    sentence about it."""
    for k, (e_step, label) in enumerate(E_STEP_LABELS.items()):
        line = table[table["e_step"] == e_step].sort_values("n_hidden")
        if not line.empty:
            axis.plot(line["n_hidden"], 1e3 * line["iteration_seconds"], marker="os^"[k], ms=3,
                      color=COLORS[k], label=label)  # fmt: skip
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    log_ticks(axis.yaxis)
    axis.xaxis.set_major_locator(ticker.FixedLocator(sorted(set(table["n_hidden"]))))
    axis.xaxis.set_major_formatter(ticker.FormatStrFormatter("%d"))
    axis.xaxis.set_minor_locator(ticker.NullLocator())
    axis.tick_params(axis="x", labelsize=7)
    axis.set_xlabel("hidden units $m$ (log scale)")
    axis.set_ylabel("milliseconds")
    axis.set_title("one EM iteration, by E-step", fontsize=9)
    axis.legend(fontsize=8)
    n, samples = int(table["n"].iloc[0]), int(table["n_samples"].iloc[0])
    return (
        f"Right: one whole EM iteration (Newton M-step, then E-step) on {n} examples for "
        f"each kind of E-step (Monte Carlo with {samples} draws per example), best of "
        "repeated iterations continuing a fit, both axes logarithmic."
    )
