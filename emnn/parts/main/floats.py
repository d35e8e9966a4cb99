"""The main study's tables as data (emnn.typeset.floats says what a table as data is):
the summaries, stopping rules, convergence, cross-scoring, the hidden-unit sweep and the
paired comparisons with the baseline."""

from __future__ import annotations

from functools import partial

from ...study.runs import CAPPED_TEXT
from ...typeset.floats import column, grouped, interval, mean_sd, num, spanned, table
from ...typeset.formats import number
from ...typeset.markup import literal
from .aggregate import OTHER_OPTIMUM


def summary(metric: dict, floors: list) -> dict:
    kind = metric["kind"]

    def cells(r):
        shown = mean_sd(r["mean"], r["sd"], kind)
        if r["reference"]:
            italic = partial(dict, italic=True)
            return [
                spanned(r, r["dataset"]),
                italic(text=literal(r["label"])),
                "–",
                "–",
                italic(text=shown),
                interval(r["low"], r["high"], kind),
            ]
        return [
            spanned(r, r["dataset"]),
            {
                "text": marked(r),
                "italic": r["capped"],
            },
            str(r["n_hidden"]),
            f"{r['converged']}/{r['n_splits']}",
            {"text": shown, "bold": r["best"], "italic": r["capped"]},
            interval(r["low"], r["high"], kind),
        ]

    columns = [
        column("Dataset", width=0.17),
        column("Method", width=0.27),
        column("$m$", "r"),
        column("Converged", "r"),
        column("Mean ± SD", "r"),
        column("95 % CI", "r"),
    ]
    caption = (
        f"{metric['title']} on the test parts ({metric['better']} is better): mean ± SD "
        "over splits and corrected 95 % CI; Converged: runs that met their stopping rule, of "
        f"all splits. A method whose runs met it on {CAPPED_TEXT} of the splits is marked "
        "capped and set in italics: its values are where the cap stopped it, and it is never "
        "the bold best."
    )
    if metric["name"] == "log_loss" and floors:
        caption += " The teacher network (floor) row is a reference, not a trained model."
    return table(metric["anchor"], caption, columns, grouped(metric["rows"], cells))


CAPPED = (
    f"(capped): the method met its stopping rule on {CAPPED_TEXT} of the splits; its values "
    "are where the cap stopped it."
)


def marked(row: dict) -> str:
    """A method's label, marked where its runs stopped at the cap."""
    return literal(row["label"]) + (" (capped)" if row.get("capped") else "")


def stopping(convergence: dict) -> dict:
    # The objective is paper markup (it refers to an equation); the rest are plain text.
    rows = [
        [
            literal(r["label"]),
            r["objective_text"],
            *(literal(r[k]) for k in ("step", "rule", "cap")),
        ]
        for r in convergence["rules"]
    ]
    columns = [
        column("Method", width=0.17),
        column("Maximizes", width=0.16),
        column("One iteration", width=0.18),
        column("Stopping rule", width=0.26),
        column("Cap", width=0.1),
    ]
    caption = (
        "Each method's objective, stopping rule and cap ($\\ell$: the penalized "
        "log-likelihood it maximizes; $\\theta$: its weights and biases)."
    )
    # Set in place, as the convergence table after it is: a float would drift past it.
    return table("tab-stopping", caption, columns, [rows], size="footnotesize", long=True)


def convergence(convergence: dict) -> dict:
    def cells(r):
        return [
            spanned(r, r["dataset"]),
            marked(r),
            f"{r['converged']}/{r['n_splits']}",
            num(r["iterations"], "median"),
            num(r["n_estep"], "median"),
            num(r["exact_objective"], "objective"),
            num(r["mean_field_objective"], "objective"),
            num(r["gap"], "sci"),
            "–" if r.get("other_optima") is None else "{}/{}".format(*r["other_optima"]),
            num(r.get("gradient"), "sci"),
        ]

    columns = [
        column("Dataset", width=0.13),
        column("Method", width=0.18),
        column("Converged", "r"),
        column("Iterations", "r"),
        column("E-steps", "r"),
        column("exact", "r"),
        column("mean-field", "r"),
        column("median", "r"),
        column("below/above", "r"),
        column("$\\max|\\nabla\\ell|$", "r"),
    ]
    caption = (
        "Convergence per dataset and method: splits that met the stopping rule before the cap, "
        "median iterations (epochs for back-propagation) and E-steps, mean final "
        "penalized log-likelihood per training example $\\ell/n$ of the method's own "
        "objective (exact and mean-field values are not comparable), the median gap to "
        f"{convergence['reference']} with the runs ending more than {OTHER_OPTIMUM:g} below "
        "and above it, and the median largest entry of the exact $\\ell$'s gradient "
        "at the end (a dash: the mean-field objective)."
    ) + (f" {CAPPED}" if any(r.get("capped") for r in convergence["rows"]) else "")
    groups = [("", 5), ("Final $\\ell/n$", 2), ("Gap to the reference", 2), ("End", 1)]
    return table(
        "tab-convergence",
        caption,
        columns,
        grouped(convergence["rows"], cells),
        header_groups=groups,
        size="footnotesize",
        long=True,  # 30 rows and more: it may break across pages, never overflow one
    )


def cross(cross: dict) -> dict:
    def cells(r):
        values = [{"text": num(c["value"], c["kind"]), "bold": c["own"]} for c in r["cells"]]
        return [spanned(r, r["dataset"]), marked(r), literal(r["trained_for"]), *values]

    columns = [
        column("Dataset", width=0.13),
        column("Method", width=0.21),
        column("Trained for"),
        *[column(t, "r") for t in ["exact", "mean-field"] * 3],
    ]
    caption = (
        "Cross-scoring: means over splits of each method's test accuracy, test log-loss and "
        "(unpenalized) training log-loss under the exact predictor [#eq-marginal] and under "
        f"the mean-field predictor. Bold: the predictor the method was trained for. {CAPPED}"
    )
    groups = [("", 3), ("Test accuracy (%)", 2), ("Test log-loss", 2), ("Training log-loss", 2)]
    return table(
        "tab-cross",
        caption,
        columns,
        grouped(cross["rows"], cells),
        header_groups=groups,
        size="footnotesize",
    )


def sweep(rows: list[dict]) -> dict:
    def cells(r):
        return [
            literal(r["dataset"]),
            marked(r),
            str(r["n_hidden"]),
            mean_sd(r["accuracy_mean"], r["accuracy_std"], "accuracy"),
            interval(r["accuracy_ci_low"], r["accuracy_ci_high"], "accuracy"),
            mean_sd(r["log_loss_mean"], r["log_loss_std"], "log_loss"),
            num(r["iterations_mean"], "iterations"),
        ]

    columns = [
        column("Dataset", width=0.17),
        column("Method", width=0.22),
        column("$m$", "r"),
        column("Accuracy (%)", "r"),
        column("95 % CI", "r"),
        column("Log-loss", "r"),
        column("Mean iterations", "r"),
    ]
    caption = (
        "Width sweep: the number of hidden units on the main study's splits: mean ± SD over "
        "splits and corrected 95 % CI, and the mean number of iterations (epochs for "
        "back-propagation)."
    ) + (f" {CAPPED}" if any(r.get("capped") for r in rows) else "")
    return table("tab-sweep", caption, columns, [list(map(cells, rows))], size="footnotesize")


def comparisons(comparison: dict) -> dict:
    def cells(r):
        test = f"$t = {number(r['t'], 't')}$" if r["test"] == "corrected t" else r["test_text"]
        ci = "undefined" if r["undefined"] else interval(r["ci_low"], r["ci_high"], r["kind"])
        return [
            literal(r["dataset"]) if r["first"] else "",
            marked(r) if r["first_metric"] else "",
            r["metric_text"],
            num(r["mean_difference"], r["kind"]),
            ci,
            test,
            num(r["p_value"], "p"),
            num(r["p_holm"], "p"),
            "/".join(num(r[k], "int") for k in ("wins", "ties", "losses")),
        ]

    columns = [
        column("Dataset", width=0.13),
        column("Method", width=0.18),
        column("Metric"),
        column("Mean diff.", "r"),
        column("95 % CI", "r"),
        column("Test"),
        column("$p$", "r"),
        column("$p_{\\mathrm{Holm}}$", "r"),
        column("W/T/L", "r"),
    ]
    label, family = literal(comparison["label"]), comparison["family_size"]
    caption = (
        f"Paired comparison with {label} on the splits of each dataset (W/T/L: splits won, tied "
        f"and lost). $p$: two-sided, unadjusted; $p_{{\\mathrm{{Holm}}}}$: Holm-adjusted over "
        f"the family of all {family} comparisons in this table. “Sign test”: zero-variance "
        f"differences, interval and $t$ undefined. {CAPPED}"
    )
    return table(
        "tab-comparisons",
        caption,
        columns,
        grouped(comparison["rows"], cells),
        size="footnotesize",
        long=True,
    )
