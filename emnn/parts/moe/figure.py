"""The mixture-of-experts figure: the objective against iteration of the four algorithms on
one split per dataset (the moe stage's moe_traces table), falls of the objective marked.

Registered in emnn.paper.figures (its list, inputs and painters) when the study has a `moe`
section; drawn in the house style of emnn.typeset.figure_style (labelled log ticks, one x quantity
per panel).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ...core.tidy import is_true
from ...typeset.figure_style import COLORS, count_ticks, drawn, log_ticks
from ...typeset.formats import number, power_of_ten
from ...typeset.words import counted
from .contract import DECREASE_RTOL, METHODS, labels

# One x quantity per column: EM counts its iterations (one E-step and one M-step each),
# back-propagation its epochs. The two never share an axis.
COLUMNS = (
    ("EM iteration", ("moe-irls-1", "moe-irls", "moe-ecm")),
    ("SGD epoch", ("moe-sgd",)),
)
FELL = "x"  # the marker of an iteration at which the objective fell


CAPPED_END = "s"  # the marker, hollow, at the end of a run that stopped at its cap
OFF_SCALE = "^"  # the marker, at the top edge, where a blown-up curve leaves the axis
# A row's loss axis stops at this multiple of its largest initial loss: a run whose weights
# blow up reaches 1e14 nats per example, which would flatten every other curve of the row.
CEILING = 100.0


def objective_traces(traces: pd.DataFrame, runs: pd.DataFrame, study: dict):
    moe = study["moe"]
    names = labels(moe["irls_rate"])
    datasets = [d for d in moe["datasets"] if d in set(traces["dataset"])]
    colors = {m: COLORS[k] for k, m in enumerate(METHODS)}
    columns = [(x, [m for m in chosen if m in set(traces["method"])]) for x, chosen in COLUMNS]
    columns = [(x, chosen) for x, chosen in columns if chosen]
    fig, axes = plt.subplots(
        len(datasets), len(columns), figsize=(7.2, 0.6 + 1.55 * len(datasets)),
        layout="constrained", squeeze=False,
    )  # fmt: skip
    handles = {}
    splits = sorted(set(traces["split"]))
    converged = runs.set_index(["dataset", "method", "split"])["converged"].map(is_true)
    for row, dataset in zip(axes, datasets, strict=True):
        shown = traces[traces["dataset"] == dataset]
        for axis, (x_label, chosen) in zip(row, columns, strict=True):
            for method in chosen:
                line = shown[shown["method"] == method].sort_values("iteration")
                if line.empty:
                    continue
                loss = -line["objective"].to_numpy(float) / line["n_train"].to_numpy(float)
                x = line["iteration"].to_numpy()
                (handles[method],) = axis.plot(
                    x, loss, color=colors[method], lw=1.3, label=drawn(names[method])
                )
                split = int(line["split"].iloc[0])
                if not converged.get((dataset, method, split), True):
                    axis.plot(x[-1], loss[-1], marker=CAPPED_END, ms=5, mew=1.0, ls="none",
                              color=colors[method], markerfacecolor="none", zorder=5)  # fmt: skip
                    handles["capped"] = plt.Line2D(
                        [], [], ls="none", marker=CAPPED_END, ms=4, mew=1.0, color="0.3",
                        markerfacecolor="none", label="stopped at its cap",
                    )  # fmt: skip
                fell = line["decreased"].map(is_true).to_numpy(bool)
                if fell.any():
                    axis.scatter(x[fell], loss[fell], marker=FELL, s=14, lw=0.9,
                                 color=colors[method], zorder=4)  # fmt: skip
                    handles["fell"] = plt.Line2D(
                        [], [], ls="none", marker=FELL, ms=4, mew=0.9, color="0.3",
                        label="objective fell",
                    )  # fmt: skip
            axis.set_yscale("log")
            axis.set_xscale("symlog", linthresh=1.0, linscale=0.4)
            axis.set_xlim(left=0)
            count_ticks(axis.xaxis)
            axis.set_title(drawn(f"{dataset}: {x_label}s"), fontsize=8, loc="left")
        # The same loss scale across a row: one dataset, one objective.
        low = min(axis.get_ylim()[0] for axis in row)
        high = max(axis.get_ylim()[1] for axis in row)
        start = shown[shown["iteration"] == 0]
        ceiling = CEILING * float((-start["objective"] / start["n_train"]).max())
        if high > ceiling:
            high = ceiling
            for axis in row:
                if _mark_off_scale(axis, ceiling):
                    handles["off"] = plt.Line2D(
                        [], [], ls="none", marker=OFF_SCALE, ms=4, color="0.3",
                        label="off the scale",
                    )  # fmt: skip
        for axis in row:
            axis.set_ylim(low, high)
            log_ticks(axis.yaxis)
        row[0].set_ylabel("$-\\ell/n$")
    for axis, (x_label, _) in zip(axes[-1], columns, strict=True):
        axis.set_xlabel(x_label)
    order = [m for m in METHODS if m in handles]
    order += [k for k in ("fell", "capped", "off") if k in handles]
    fig.legend(
        handles=[handles[k] for k in order], loc="outside lower center", ncols=len(order),
        fontsize=8, handlelength=1.5,
    )  # fmt: skip
    which = "the first split" if splits == [0] else counted(len(splits), "split")
    threshold = power_of_ten(DECREASE_RTOL)
    title = "Mixture of experts: the objective against iteration"
    caption = (
        f"Penalized loss per training example $-\\ell/n$ (the objective with its sign "
        f"changed, log scale) of each mixture-of-experts algorithm on {which} of each "
        f"dataset, one row per dataset: the EM algorithms against their iterations (left; "
        f"an IRLS-EM iteration is one E-step and one Newton step, an ECM iteration "
        + (
            "a SQUAREM cycle of three or more ECM maps"
            if moe.get("squarem")
            else "one cycle of conditional maximizations"
        )
        + ", so the axis does not measure equal work), "
        f"back-propagation against epochs (right), each axis 0 then logarithmic; iteration "
        f"0 is the initial weights, the same for all four. A cross marks an iteration at "
        f"which the objective fell (the loss rose) by more than {threshold} of its size: "
        f"an EM algorithm that increases the likelihood monotonically has none, while SGD "
        f"makes no such promise. A curve ends where its run met its stopping rule or, "
        f"marked by a hollow square, the cap of iterations."
    )
    if "off" in handles:
        caption += (
            f" A row's axis stops at {CEILING:g} times its largest initial loss; a triangle "
            "on the top edge marks where a curve whose weights blew up leaves it, and a "
            "second one, with its final loss written beside it, where a curve that never "
            "comes back ends."
        )
    return fig, title, caption


def _mark_off_scale(axis, ceiling: float) -> bool:
    """A triangle on the top edge where each curve of the axis first passes the ceiling."""
    marked = False
    for line in list(axis.get_lines()):
        x, y = line.get_xdata(), line.get_ydata()
        if len(x) < 2:
            continue  # a marker, not a curve
        above = y > ceiling
        if above.any():
            first = int(above.argmax())
            axis.plot(x[first], ceiling, marker=OFF_SCALE, ms=5, ls="none",
                      color=line.get_color(), clip_on=False, zorder=6)  # fmt: skip
            if above[-1]:  # it ends off the scale: say where, at its last iteration
                axis.plot(x[-1], ceiling, marker=OFF_SCALE, ms=5, ls="none",
                          color=line.get_color(), clip_on=False, zorder=6)  # fmt: skip
                axis.annotate(
                    drawn(f"ends at {number(float(y[-1]), 'sci')}"), (x[-1], ceiling),
                    xytext=(-3, -9), textcoords="offset points", ha="right", va="top",
                    fontsize=6.5, color=line.get_color(),
                )  # fmt: skip
            marked = True
    return marked
