"""The m-sweep's figure: test accuracy and log-loss against m, exact and approximate EM
side by side where both ran, L-BFGS on the same two objectives where run, and
back-propagation; registered in emnn.paper.figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker

from ...typeset.figure_style import COLORS, drawn, method_label, zoom
from ...typeset.words import counted

# role -> (marker, line style, offset in log2(m) so that overlapping error bars stay apart)
STYLES = {
    "exact": ("o", "-", -0.09),
    "approximate": ("s", "--", -0.03),
    "exact_lbfgs": ("D", "-.", 0.03),
    "approximate_lbfgs": ("v", (0, (3, 1, 1, 1, 1, 1)), 0.06),
    "baseline": ("^", ":", 0.09),
}
MAX_COLUMNS = 2
ROWS = (("accuracy", "test accuracy (%)", 100.0), ("log_loss", "test log-loss", 1.0))


def scaling_sweep(table: pd.DataFrame, study: dict):
    scaling = study["scaling"]
    datasets = scaling["datasets"]
    roles = [role for role in STYLES if role in scaling]
    colors = dict(zip(STYLES, COLORS, strict=False))
    # at most two datasets side by side; each takes a block of two rows (accuracy, log-loss)
    columns = min(len(datasets), MAX_COLUMNS)
    blocks = -(-len(datasets) // columns)
    fig, axes = plt.subplots(
        2 * blocks, columns, figsize=(3.5 * columns, 1.0 + 3.8 * blocks), layout="constrained",
        squeeze=False,
    )  # fmt: skip
    for empty in range(len(datasets), blocks * columns):
        block, column = divmod(empty, columns)
        axes[2 * block][column].set_visible(False)
        axes[2 * block + 1][column].set_visible(False)
    for k, dataset in enumerate(datasets):
        block, column = divmod(k, columns)
        shown = table[table["dataset"] == dataset]
        for row, (metric, label, scale) in enumerate(ROWS):
            axis = axes[2 * block + row][column]
            for role in roles:
                marker, style, offset = STYLES[role]
                line = shown[shown["role"] == role].sort_values("n_hidden")
                if line.empty:
                    continue
                m = line["n_hidden"].to_numpy(dtype=float) * 2.0**offset
                mean = scale * line[f"{metric}_mean"].to_numpy(dtype=float)
                low = scale * line[f"{metric}_ci_low"].to_numpy(dtype=float)
                high = scale * line[f"{metric}_ci_high"].to_numpy(dtype=float)
                error = np.nan_to_num(np.vstack([mean - low, high - mean]))
                complete = (line["converged"] == line["n_splits"]).to_numpy()
                axis.errorbar(m, mean, yerr=error, color=colors[role], ls=style, lw=1.1,
                              capsize=2, marker="none")  # fmt: skip
                for mask, face in ((complete, colors[role]), (~complete, "white")):
                    axis.plot(m[mask], mean[mask], ls="none", marker=marker, ms=4,
                              color=colors[role], markerfacecolor=face)  # fmt: skip
            if metric == "accuracy":
                values = shown[["accuracy_mean", "accuracy_ci_low", "accuracy_ci_high"]]
                zoom(axis, 100 * values.to_numpy(dtype=float))
                axis.set_title(drawn(dataset))
            axis.set_ylabel(label)
            # each dataset's own range of m (iris and wine stop at a smaller m than the
            # others), so that no panel draws an empty stretch of axis
            swept = sorted(shown["n_hidden"].dropna().astype(int).unique())
            axis.set_xscale("log", base=2)
            axis.set_xlim(swept[0] * 2.0**-0.3, swept[-1] * 2.0**0.3)
            axis.xaxis.set_major_locator(ticker.FixedLocator(swept))
            axis.xaxis.set_major_formatter(ticker.FormatStrFormatter("%d"))
            axis.xaxis.set_minor_locator(ticker.NullLocator())
            axis.tick_params(axis="x", labelsize=7, labelbottom=row == len(ROWS) - 1)
            if row == len(ROWS) - 1:
                axis.set_xlabel("hidden units $m$ (log scale)")
    labels = {role: drawn(method_label(study, scaling[role])) for role in roles}
    handles = [
        plt.Line2D([], [], color=colors[r], ls=STYLES[r][1], marker=STYLES[r][0], ms=4,
                   label=labels[r]) for r in roles
    ] + [plt.Line2D([], [], color="0.3", ls="none", marker="o", ms=4, markerfacecolor="white",
                    label="a run stopped at its cap")]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8)
    counts = sorted(set(table["n_splits"].dropna().astype(int)))
    over = f"the first {counted(counts[0], 'paired split')}" if len(counts) == 1 else "splits"
    sampled = table.loc[table["predictor"].str.contains("monte-carlo"), "n_hidden"]
    scored = (
        f"from $m = {int(sampled.min())}$ on the stochastic-unit network is scored by its "
        "Monte-Carlo predictor, below by its exact marginal"
        if len(sampled)
        else "the stochastic-unit network is scored by its exact marginal"
    )
    title = "Test accuracy and log-loss against the number of hidden units"
    lbfgs = (
        f" {labels['exact_lbfgs']} and {labels['approximate_lbfgs']} maximize the same two "
        "objectives with a general optimizer."
        if "exact_lbfgs" in labels and "approximate_lbfgs" in labels
        else ""
    )
    caption = (
        f"Mean over {over} with its corrected 95 % interval (Nadeau and Bengio), against $m$ "
        f"(log scale). {labels['exact']} runs up to $m = {scaling['exact_max_hidden']}$, "
        f"{labels['approximate']} at every $m$, so the two overlap there; {scored}.{lbfgs} "
        f"A hollow marker: at least one run of that point stopped at its iteration cap "
        f"before its stopping rule."
    )
    return fig, title, caption
