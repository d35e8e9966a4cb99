"""The m-sweep's section (templates/text/scaling.j2): its tables as data and the values
its text uses, the sentences coming from emnn.report.scaling_text.

scaling_context(config, plan, tables) -> the values the section's text uses: names,
settings, one computed sentence per claim, the tables as data (paper-spec section 2)
and the figures it places.
"""

from __future__ import annotations

import pandas as pd

from ..layout import slug
from ..models.montecarlo import PREDICT_SAMPLES
from ..scoring import USED_UNIT_NATS
from ..verdicts import join
from .floats import column, table
from .formats import fixed, number, pct, pvalue, signed_points
from .markup import literal
from .scaling_text import (
    E_STEP_TEXT,
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
    verdict_sentence,
)
from .scaling_units import pruning_sentence, units_sentence

FIGURES = ["scaling-sweep"]


# ------------------------------------------------------------------------ tables


def sweep_table(summary: pd.DataFrame, best: pd.DataFrame, dataset: str, labels: dict) -> dict:
    """Means per m: accuracy and log-loss of each role, and how many runs converged."""
    shown = summary[summary["dataset"] == dataset]
    roles = ("exact", "approximate", "baseline")
    chosen = best[best["dataset"] == dataset]
    bold = {(r.role, int(r.n_hidden)) for r in chosen.itertuples()}
    rows = []
    for m, group in shown.groupby("n_hidden", sort=True):
        cells = group.set_index("role")
        row = [str(int(m))]
        for metric, show in (("accuracy_mean", pct), ("log_loss_mean", fixed)):
            for role in roles:
                if role not in cells.index:
                    row.append("–")
                    continue
                cell = cells.loc[role]
                row.append(
                    {"text": show(cell[metric]), "bold": (role, int(m)) in bold,
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
    short = ["exact", "approx.", "SGD"]
    return table(
        f"tab-scaling-{slug(dataset)}",
        (
            f"The sweep on {literal(dataset)}: mean test accuracy (%) and log-loss over the "
            f"first {n_splits} paired splits, for {labels['exact']} (exact), "
            f"{labels['approximate']} (approx.) and {labels['baseline']} (SGD), and how many "
            "runs of each met their stopping rule, and the median number of hidden units "
            f"they used (switching the unit on moves some log-odds by {USED_UNIT_NATS:g} "
            "nats or more). Bold: the best $m$ of EM and of back-propagation; italics: a "
            "mean with runs stopped at their cap."
        ),
        [column("$m$", "r")]
        + [column(s, "r") for s in short * 2]
        + [column("converged", "r"), column("units used", "r")],
        [rows],
        header_groups=[("", 1), ("test accuracy (%)", 3), ("test log-loss", 3), ("", 2)],
    )


def chosen_m(split_choices: str) -> str:
    """The m each split is scored at: "8, 8, 12", or "12" where all agree."""
    choices = str(split_choices).split()
    return choices[0] if len(set(choices)) == 1 else ", ".join(choices)


def comparison_table(comparisons: pd.DataFrame, best: pd.DataFrame, datasets) -> dict:
    groups = []
    for dataset in datasets:
        rows = comparisons[comparisons["dataset"] == dataset].set_index("metric")
        picks = best[best["dataset"] == dataset].set_index("family")
        group = []
        for metric in ("accuracy", "log_loss"):
            row = rows.loc[metric]
            show = pct if metric == "accuracy" else fixed
            diff = signed_points if metric == "accuracy" else signed_loss
            group.append(
                [
                    literal(dataset),
                    "accuracy (%)" if metric == "accuracy" else "log-loss",
                    chosen_m(picks.loc["em", "split_choices"]),
                    chosen_m(picks.loc["baseline", "split_choices"]),
                    show(row["em_mean"]),
                    show(row["baseline_mean"]),
                    "tied on every split"
                    if row["ties"] == row["n_splits"]
                    else f"{diff(row['mean_difference'])} [{diff(row['ci_low'])}, "
                    f"{diff(row['ci_high'])}]",
                    pvalue(row["p_holm"]),
                    f"{int(row['wins'])}/{int(row['ties'])}/{int(row['losses'])}",
                    verdict(row),
                ]
            )
        groups.append(group)
    titles = [("dataset", "l"), ("metric", "l"), ("EM $m$", "r"), ("SGD $m$", "r"),
              ("EM", "r"), ("SGD", "r"), ("difference [95 % CI]", "r"), ("$p$ (Holm)", "r"),
              ("W/T/L", "r"), ("better", "l")]  # fmt: skip
    widths = {"difference [95 % CI]": 0.16}  # wraps, so that per-split m fit the page
    return table(
        "tab-scaling-comparison",
        (
            "EM against back-propagation, each at its best $m$, split by split: means over "
            "the splits at each split's leave-one-split-out choice, the mean paired "
            "difference (EM minus SGD) with its corrected 95 % interval, the corrected "
            "resampled $t$-test's $p$-value adjusted by Holm over the table, and EM's wins, "
            "ties and losses. The $m$ columns give each split's $m$, chosen on the other "
            "splits (one number where all agree)."
        ),
        [column(t, a, widths.get(t)) for t, a in titles],
        groups,
        size="footnotesize",
    )


# ------------------------------------------------------------------------ context


def scaling_context(config: dict, plan: dict, tables: dict) -> dict:
    """The values scaling.j2 uses; empty when the study has no sweep."""
    if "scaling" not in plan:
        return {}
    spec = plan["scaling"]
    summary, best = tables["scaling"], tables["scaling_best"]
    comparisons = tables["scaling_comparisons"]
    labels = {role: label(config, spec[role]) for role in ("exact", "approximate", "baseline")}
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
        "pruning": pruning_sentence(summary, datasets, names),
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
        "table_refs": join([f"[#tab-scaling-{slug(d)}]" for d in datasets]),
        "per_dataset": [
            {
                "name": literal(dataset),
                "overlap": overlap_sentence(summary, dataset, names),
                "units": units_sentence(summary, dataset, names, define=k == 0),
                "best": " ".join(
                    filter(
                        None,
                        [
                            best_sentence(best, dataset, names),
                            cap_sentence(summary, best, dataset, names),
                        ],
                    )
                ),
                "verdict": verdict_sentence(comparisons, dataset),
                "table": f"tab-scaling-{slug(dataset)}",
            }
            for k, dataset in enumerate(datasets)
        ],
        "tables": [sweep_table(summary, best, d, labels) for d in datasets]
        + [comparison_table(comparisons, best, datasets)],
        "figures": FIGURES,
    }
