"""The m-sweep's section (templates/text/scaling.j2): its tables as data and the values
its text uses, the sentences coming from emnn.parts.scaling.sentences.

scaling_context(config, plan, tables) -> the values the section's text uses: names,
settings, one computed sentence per claim, the tables as data (paper-spec section 2)
and the figures it places.
"""

from __future__ import annotations

import pandas as pd

from ...core.layout import slug
from ...models.montecarlo import PREDICT_SAMPLES
from ...models.scoring import USED_UNIT_NATS
from ...typeset.floats import column, table
from ...typeset.formats import fixed, number, pct, pvalue, signed_points
from ...typeset.markup import literal
from ...typeset.words import join
from .sentences import (
    E_STEP_TEXT,
    FAMILY_NAMES,
    best_sentence,
    cap_sentence,
    convergence_sentence,
    label,
    limits_text,
    m_list,
    overlap_sentence,
    role_names,
    signed_loss,
    stopping_sentence,
    summary_sentence,
    verdict,
)
from .units import pruning_sentence

FIGURES = ["scaling-sweep"]


# ------------------------------------------------------------------------ tables


SHORT = {"exact": "exact", "approximate": "approx.", "exact_lbfgs": "L-BFGS exact",
         "approximate_lbfgs": "L-BFGS approx.", "baseline": "SGD"}  # fmt: skip


def sweep_table(
    summary: pd.DataFrame, best: pd.DataFrame, dataset: str, labels: dict, first: str
) -> dict:
    """Means per m: the test log-loss of each role, how many runs converged and how many
    hidden units they used (test accuracy is in the figure). The first dataset's caption
    says how to read the table; the others point to it."""
    shown = summary[summary["dataset"] == dataset]
    roles = [role for role in SHORT if role in labels]
    chosen = best[best["dataset"] == dataset]
    bold = {(r.role, int(r.n_hidden)) for r in chosen.itertuples()}
    rows = []
    for m, group in shown.groupby("n_hidden", sort=True):
        cells = group.set_index("role")
        row = [str(int(m))]
        for role in roles:
            if role not in cells.index:
                row.append("–")
                continue
            cell = cells.loc[role]
            row.append(
                {"text": fixed(cell["log_loss_mean"]), "bold": (role, int(m)) in bold,
                 "italic": bool(cell["converged"] < cell["n_splits"])}
            )  # fmt: skip
        for key in ("converged", "units_used_median"):
            row.append(
                " / ".join(
                    number(cells.loc[r, key], "median") if r in cells.index else "–" for r in roles
                )
            )
        rows.append(row)
    n_splits = int(shown["n_splits"].max())
    named = join([f"“{SHORT[r]}” {labels[r]}" for r in roles])
    caption = (
        f"The $m$-sweep on {literal(dataset)}: mean test log-loss over the first {n_splits} "
        f"paired splits, in the columns {named}; how many runs of each met their "
        "stopping rule, "
        "and the median number of hidden units they used (switching the unit on moves "
        f"some log-odds by {USED_UNIT_NATS:g} nats or more), in the same order. Bold: "
        "each family's best $m$; italics: a mean with runs stopped at their cap."
        if dataset == first
        else f"The $m$-sweep on {literal(dataset)}, as [#tab-scaling-{slug(first)}]."
    )
    return table(
        f"tab-scaling-{slug(dataset)}",
        caption,
        [column("$m$", "r")]
        + [column(SHORT[r], "r") for r in roles]
        + [column("converged", "r"), column("units used", "r")],
        [rows],
        header_groups=[("", 1), ("test log-loss", len(roles)), ("", 2)],
        size="footnotesize",
    )


def chosen_m(split_choices: str) -> str:
    """The m each split is scored at: "8, 8, 12", or "12" where all agree."""
    choices = str(split_choices).split()
    return choices[0] if len(set(choices)) == 1 else ", ".join(choices)


def comparison_table(comparisons: pd.DataFrame, best: pd.DataFrame, datasets) -> dict:
    groups = []
    for dataset in datasets:
        shown = comparisons[comparisons["dataset"] == dataset]
        picks = best[best["dataset"] == dataset].set_index("family")
        group = []
        for family in dict.fromkeys(shown["family"]):
            rows = shown[shown["family"] == family].set_index("metric")
            for metric in ("accuracy", "log_loss"):
                row = rows.loc[metric]
                show = pct if metric == "accuracy" else fixed
                diff = signed_points if metric == "accuracy" else signed_loss
                group.append(
                    [
                        literal(dataset),
                        FAMILY_NAMES[family],
                        "accuracy (%)" if metric == "accuracy" else "log-loss",
                        chosen_m(picks.loc[family, "split_choices"]),
                        chosen_m(picks.loc["baseline", "split_choices"]),
                        show(row["family_mean"]),
                        show(row["baseline_mean"]),
                        # Tied on every split: a difference of 0 with no interval to give.
                        f"{diff(0.0)} [–]"
                        if row["ties"] == row["n_splits"]
                        else f"{diff(row['mean_difference'])} [{diff(row['ci_low'])}, "
                        f"{diff(row['ci_high'])}]",
                        pvalue(row["p_holm"]),
                        f"{int(row['wins'])}/{int(row['ties'])}/{int(row['losses'])}",
                        verdict(row),
                    ]
                )
        groups.append(group)
    titles = [("dataset", "l"), ("trainer", "l"), ("metric", "l"), ("its $m$", "r"),
              ("SGD $m$", "r"), ("trainer", "r"), ("SGD", "r"), ("difference [95 % CI]", "r"),
              ("$p$ (Holm)", "r"), ("W/T/L", "r"), ("better", "l")]  # fmt: skip
    widths = {"difference [95 % CI]": 0.15}  # wraps, so that per-split m fit the page
    return table(
        "tab-scaling-comparison",
        (
            "EM (and L-BFGS on the same objectives) against back-propagation, each at its "
            "best $m$, split by split: means over the splits at each split's "
            "leave-one-split-out choice, the mean paired difference (trainer minus SGD) with "
            "its corrected 95 % interval, the corrected resampled $t$-test's $p$-value "
            "adjusted by Holm over the table (a dash where the two tie on every split), and the "
            "trainer's wins, ties and losses. The "
            "$m$ columns give each split's $m$, chosen on the other splits (one number where "
            "all agree)."
        ),
        [column(t, a, widths.get(t)) for t, a in titles],
        groups,
        size="scriptsize",
    )


# ------------------------------------------------------------------------ context


def scaling_context(config: dict, plan: dict, tables: dict) -> dict:
    """The values scaling.j2 uses; empty when the study has no sweep."""
    if "scaling" not in plan:
        return {}
    spec = plan["scaling"]
    summary, best = tables["scaling"], tables["scaling_best"]
    comparisons = tables["scaling_comparisons"]
    labels = {role: label(config, spec[role]) for role in SHORT if role in spec}
    names = role_names(config, spec)
    methods = {role: config["methods"][spec[role]] for role in labels}
    sampled = summary.loc[summary["predictor"].str.contains("monte-carlo"), "n_hidden"]
    datasets = [d for d in spec["datasets"] if d in set(summary["dataset"])]
    return {
        "labels": labels,
        "names": names,
        "datasets": join([literal(d) for d in datasets]),
        "limits": limits_text(spec, datasets),
        "n_hidden": m_list(spec["n_hidden"]),
        "n_hidden_max": max(spec["n_hidden"]),
        "exact_max_hidden": spec["exact_max_hidden"],
        "n_splits": int(summary["n_splits"].max()),
        "e_step": literal(methods["approximate"]["params"]["e_step"]),
        "e_step_text": E_STEP_TEXT[methods["approximate"]["params"]["e_step"]],
        "stopping": stopping_sentence(methods, names),
        "monte_carlo_from": int(sampled.min()) if len(sampled) else None,
        "predict_samples": f"{PREDICT_SAMPLES:,}",
        "convergence": convergence_sentence(summary, names, datasets),
        "convergence_brief": convergence_sentence(summary, names, datasets, brief=True),
        "pruning": pruning_sentence(summary, datasets, names),
        "overlap": overlap_sentence(summary, datasets, names),
        "summary": summary_sentence(
            comparisons,
            datasets,
            names,
            max(spec["n_hidden"]),
            summary[
                (summary["role"] == "approximate")
                & (summary["n_hidden"] > spec["exact_max_hidden"])
                & summary["dataset"].isin(datasets)
            ],
            [d for d in datasets if cap_sentence(summary, best, d, names)],
        ),
        "n_comparisons": int(comparisons["dataset"].isin(datasets).sum()),
        "lbfgs": "exact_lbfgs" in spec and "approximate_lbfgs" in spec,
        "table_refs": join([f"[#tab-scaling-{slug(d)}]" for d in datasets]),
        "best": " ".join(
            filter(
                None,
                [best_sentence(best, datasets)]
                + [cap_sentence(summary, best, d, names) for d in datasets],
            )
        ),
        "sweep_tables": [f"tab-scaling-{slug(d)}" for d in datasets],
        "tables": [sweep_table(summary, best, d, labels, datasets[0]) for d in datasets]
        + [comparison_table(comparisons, best, datasets)],
        "figures": FIGURES,
    }


# ------------------------------------------------------------------ the paper's interface


def values(config: dict, plan: dict, data: dict) -> dict:
    """This part's values for the paper (emnn.paper.context); None without a sweep."""
    return {"scaling": scaling_context(config, plan, data["tables"]) or None}


def tables(values: dict) -> list[dict]:
    return values["scaling"]["tables"] if values["scaling"] else []
