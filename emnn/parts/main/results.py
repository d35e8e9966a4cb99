"""The results tables: accuracy and log-loss, convergence, cross-scoring and comparisons.

Each function turns a result table (and the config) into the rows both templates
show, in study order. The sentences built here carry names, so each name is marked
literal (emnn.typeset.markup), never read as mathematics or a citation.
"""

from __future__ import annotations

import pandas as pd

from ...core.layout import slug
from ...core.tidy import is_true, rows_by
from ...study.method_text import stopping_rule
from ...study.runs import CONVERGED_SHARE, capped_rate
from ...typeset.formats import finite, number, power_of_ten
from ...typeset.markup import literal
from ...typeset.words import join
from . import aggregate, verdicts
from .narrative import accelerated_em, by_model
from .reference import reference, reference_name


def headline_method(config: dict, main: dict) -> str | None:
    """The main EM method with a Newton M-step (else the first non-baseline method)."""
    others = [m for m in main["methods"] if m != main.get("baseline")]
    for name in others:
        method = config["methods"][name]
        if method["model"] == "em" and method["params"].get("m_step", "newton") == "newton":
            return name
    return others[0] if others else None


FLOOR_LABEL = "teacher network (floor)"


def capped(row: dict) -> bool:
    return capped_rate(row["converged_rate"])


def own_width(runs: pd.DataFrame, plan: dict) -> pd.DataFrame:
    """The runs of each method at its own number of hidden units (the main study's)."""
    hidden = plan["n_hidden"]
    return runs[[hidden[m] == n for m, n in zip(runs["method"], runs["n_hidden"], strict=True)]]


OBJECTIVES = {
    "exact": "exact $\\ell$ [#eq-objective]: stochastic units",
    "mean-field": "mean-field $\\ell$: deterministic network",
}


def summary_rows(table, datasets, methods, labels, metric, higher_is_better) -> list[dict]:
    """Rows grouped by dataset, methods in study order, the best mean of each group marked;
    a dataset's reference rows (the teacher's own log-loss) close its group."""
    found = rows_by(table, ["dataset", "method"])
    references = [r for r in table.to_dict("records") if is_true(r.get("reference"))]
    rows = []
    for dataset in datasets:
        group = [found[(dataset, m)] for m in methods if (dataset, m) in found]
        # Only a method whose runs met their stopping rule can be the best.
        means = [r[f"{metric}_mean"] for r in group if not capped(r)]
        best = (max if higher_is_better else min)(means) if means else None
        shown = [
            {
                "method": row["method"],
                "label": labels.get(row["method"], row["method"]),
                "reference": False,
                "n_hidden": int(row["n_hidden"]),
                "n_splits": int(row["n_splits"]),
                "converged": int(row["converged"]),
                "capped": capped(row),
                "mean": row[f"{metric}_mean"],
                "sd": row[f"{metric}_std"],
                "low": row[f"{metric}_ci_low"],
                "high": row[f"{metric}_ci_high"],
                "best": row[f"{metric}_mean"] == best,
            }
            for row in group
        ]
        shown += [
            {
                "method": row["method"],
                "label": FLOOR_LABEL if row["method"] == aggregate.TEACHER else row["method"],
                "reference": True,
                "n_hidden": None,
                "n_splits": int(row["n_splits"]),
                "mean": row[f"{metric}_mean"],
                "sd": None,
                "low": None,
                "high": None,
                "best": False,
            }
            for row in references
            if row["dataset"] == dataset and finite(row.get(f"{metric}_mean"))
        ]
        for k, row in enumerate(shown):
            rows.append({**row, "dataset": dataset, "first": k == 0, "span": len(shown)})
    return rows


def results(config: dict, plan: dict, tables: dict, records_of: dict) -> dict:
    main, labels = plan["main"], plan["labels"]
    metrics = [
        {
            "name": "accuracy",
            "title": "Test accuracy (%)",
            "kind": "accuracy",
            "anchor": "tab-main-accuracy",
            "better": "higher",
        },
        {
            "name": "log_loss",
            "title": "Test log-loss",
            "kind": "log_loss",
            "anchor": "tab-main-log-loss",
            "better": "lower",
        },
    ]
    for metric in metrics:
        metric["rows"] = summary_rows(
            tables["main"],
            main["datasets"],
            main["methods"],
            labels,
            metric["name"],
            metric["better"] == "higher",
        )
    floors = [r for r in metrics[1]["rows"] if r["reference"]]
    sweep_rows = []
    if plan.get("sweep"):
        found = rows_by(tables["sweep"], ["dataset", "method", "n_hidden"])
        sweep = plan["sweep"]
        for dataset in sweep["datasets"]:
            for method in sweep["methods"]:
                for m in sorted(sweep["n_hidden"]):
                    row = found.get((dataset, method, m))
                    if row is not None:
                        sweep_rows.append(
                            {**row, "label": labels.get(method, method), "capped": capped(row)}
                        )
    return {
        "metrics": metrics,
        "optima": optima(config, plan, tables),
        "reference": reference(config, plan, tables),
        "capped": capped_sentence(plan, tables["main"]),
        "plateau": plateau_gap(plan, tables["convergence"]),
        "endpoint": endpoint_gradient(config, plan, tables["convergence"]),
        "floors": [r["dataset"] for r in floors],
        "convergence": convergence(config, plan, tables, records_of),
        "cross": cross(plan, tables["cross"], capped_cells(tables["main"])),
        "sweep_rows": sweep_rows,
        "learning": [f"learning-{slug(d)}" for d in main["datasets"]],
    }


def capped_cells(main: pd.DataFrame) -> set[tuple[str, str]]:
    """(dataset, method) whose runs met their stopping rule on fewer than CONVERGED_SHARE
    of the splits: every table that shows them marks them."""
    rows = main[main["converged_rate"].notna()].to_dict("records")
    return {(row["dataset"], row["method"]) for row in rows if capped(row)}


def capped_sentence(plan: dict, main: pd.DataFrame) -> str | None:
    """The methods that met their stopping rule on fewer than CONVERGED_SHARE of the runs,
    with how often they did."""
    rows = main[main["converged_rate"].notna() & main["method"].isin(plan["main"]["methods"])]
    totals = rows.groupby("method", sort=False)[["converged", "n_splits"]].sum()
    shown = [(literal(plan["labels"].get(m, m)), int(r["converged"]), int(r["n_splits"]))
             for m, r in totals.iterrows()
             if r["converged"] < CONVERGED_SHARE * r["n_splits"]]  # fmt: skip
    if not shown:
        return None
    parts = [f"{label} in {k} of {n}" for label, k, n in shown]
    label, k, n = shown[0]
    parts[0] = f"{label} met its stopping rule in {k} of {n} runs"
    return join(parts) + "."


def plateau_gap(plan: dict, convergence: pd.DataFrame) -> str | None:
    """How far below another trainer of the same mean-field objective the baseline's
    plateau rule stops it (mean final objective per example, per dataset)."""
    baseline = plan["main"].get("baseline")
    field = convergence[convergence["objective"] == "mean-field"]
    if baseline not in set(field["method"]):
        return None
    means = field.pivot_table(index="dataset", columns="method",
                              values="objective_per_example_mean")  # fmt: skip
    others = [m for m in plan["main"]["methods"] if m in means.columns and m != baseline]
    if not others:
        return None
    other = others[0]
    gap = (means[other] - means[baseline]).dropna()
    labels = {m: literal(plan["labels"].get(m, m)) for m in (baseline, other)}
    below = gap[gap > 0]
    if below.empty:
        return None
    return (
        f"{labels[baseline]} and {labels[other]} maximize the same mean-field objective; "
        f"{labels[baseline]}'s plateau rule stops it below where {labels[other]} ends on "
        f"{len(below)} of {len(gap)} datasets, by {fixed_gap(below.min())} to "
        f"{fixed_gap(below.max())} per training example (mean $\\ell/n$): its runs count as "
        "converged because the plateau rule held, not because they reached an optimum."
    )


def endpoint_gradient(config: dict, plan: dict, convergence: pd.DataFrame) -> str | None:
    """How near a stationary point the accelerated EM ends, whose rule is a relative change
    of the objective, beside L-BFGS, whose rule bounds the gradient itself (a clause that
    follows the accelerated EM's name in the text)."""
    main = plan["main"]
    direct, em = by_model(config, main["methods"], "lbfgs"), accelerated_em(config, main)
    if not direct or not em or "gradient_max_median" not in convergence:
        return None
    by_method = convergence.groupby("method")["gradient_max_median"]
    ranges = {}
    for method in (em[0], direct[0]):
        values = by_method.get_group(method).dropna() if method in by_method.groups else []
        if not len(values):
            return None
        low, high = (number(v, "sci") for v in (values.min(), values.max()))  # as its table
        ranges[method] = low if low == high else f"{low} to {high}"
    tol = config["methods"][direct[0]]["params"].get("tol")
    labels = {m: literal(plan["labels"].get(m, m)) for m in ranges}
    return (
        f"where its runs end, the largest entry of the gradient is a median of "
        f"{ranges[em[0]]} per dataset, against {ranges[direct[0]]} for {labels[direct[0]]}, "
        "whose rule bounds it" + (f" by {power_of_ten(tol)}" if tol else "") + "."
    )


def fixed_gap(value: float) -> str:
    return number(value, "objective", minus="−")


def optima(config: dict, plan: dict, tables: dict) -> str | None:
    """Where L-BFGS and the converged accelerated EM of the main study end, split by split."""
    main = plan["main"]
    runs = own_width(tables["runs"], plan)
    direct, em = by_model(config, main["methods"], "lbfgs"), accelerated_em(config, main)
    if not direct or not em:
        return None
    labels = {m: literal(plan["labels"].get(m, m)) for m in (direct[0], em[0])}
    return verdicts.optima_sentence(runs, main["datasets"], direct[0], em[0], labels)


def effective_params(config: dict, records_of: dict, name: str) -> dict:
    """A method's hyperparameters in effect: its record's (defaults included), then the
    configured ones."""
    record = records_of["method"].get(name)
    return {
        **(record["method"]["params"] if record else {}),
        **config["methods"][name]["params"],
    }


def convergence(config: dict, plan: dict, tables: dict, records_of: dict) -> dict:
    """Per main dataset and method: its own stopping rule and cap, how many splits met the
    rule, how long they ran, and where they ended (convergence.csv)."""
    main, labels = plan["main"], plan["labels"]
    found = rows_by(tables["convergence"], ["dataset", "method"])
    table = tables["convergence"]
    objectives = dict(zip(table["method"], table["objective"], strict=True))
    rules = []
    for name in main["methods"]:
        model = config["methods"][name]["model"]
        rules.append(
            {
                "method": name,
                "label": labels.get(name, name),
                "objective": objectives.get(name, "–"),
                "objective_text": OBJECTIVES.get(objectives.get(name), "–"),
                **stopping_rule(model, effective_params(config, records_of, name)),
            }
        )
    rows = []
    for dataset in main["datasets"]:
        group = [found[(dataset, m)] for m in main["methods"] if (dataset, m) in found]
        for k, row in enumerate(group):
            exact = row["objective"] == "exact"
            rows.append(
                {
                    "dataset": dataset,
                    "first": k == 0,
                    "span": len(group),
                    "method": row["method"],
                    "label": labels.get(row["method"], row["method"]),
                    "objective": row["objective"],
                    "converged": int(row["converged"]),
                    "n_splits": int(row["n_splits"]),
                    "capped": capped_rate(row["converged"] / row["n_splits"]),
                    "iterations": row["iterations_median"],
                    "iterations_max": row["iterations_max"],
                    "n_estep": row["n_estep_median"],
                    "exact_objective": row["objective_per_example_mean"] if exact else None,
                    "mean_field_objective": None if exact else row["objective_per_example_mean"],
                    "gap": row["gap_to_reference_median"],
                    "other_optima": (int(row["below_reference"]), int(row["above_reference"]))
                    if exact and "below_reference" in row
                    else None,
                    "gradient": row.get("gradient_max_median"),
                }
            )
    converged = sum(r["converged"] for r in rows)
    total = sum(r["n_splits"] for r in rows)
    sentence = (
        f"In all, {converged} of the {total} runs of the main comparison met their stopping rule "
        f"before the cap."
        if total
        else ""
    )
    return {"rules": rules, "rows": rows, "converged": converged, "total": total,
            "sentence": sentence, "reference": reference_name(config, plan)}  # fmt: skip


CROSS_VALUES = (
    ("test_accuracy", "accuracy"),
    ("test_log_loss", "log_loss"),
    ("train_log_loss", "log_loss"),
)


def cross(plan: dict, table: pd.DataFrame, capped: set = frozenset()) -> dict:
    """Each main method's weights under both predictors (cross.csv); the Discussion says
    what they show across datasets (emnn.parts.main.narrative.cross_discussion)."""
    main, labels = plan["main"], plan["labels"]
    found = rows_by(table, ["dataset", "method", "predictor"])
    rows = []
    for dataset in main["datasets"]:
        group = [m for m in main["methods"] if (dataset, m, "exact") in found]
        for k, method in enumerate(group):
            pair = [found.get((dataset, method, p), {}) for p in ("exact", "mean-field")]
            trained_for = pair[0]["trained_for"]
            rows.append(
                {
                    "dataset": dataset,
                    "first": k == 0,
                    "span": len(group),
                    "label": labels.get(method, method),
                    "capped": (dataset, method) in capped,
                    "trained_for": trained_for,
                    "cells": [
                        {
                            "value": cell.get(f"{value}_mean"),
                            "kind": kind,
                            "own": cell.get("predictor") == trained_for,
                        }
                        for value, kind in CROSS_VALUES
                        for cell in pair
                    ],
                }
            )
    return {"rows": rows}


TESTS = {"corrected t": "corrected t", "sign": "sign test"}


def comparison(plan: dict, table: pd.DataFrame, capped: set = frozenset()) -> dict | None:
    """The paired comparisons with the baseline: raw and Holm-adjusted p-values, the test
    that gave each, and intervals left undefined where the differences do not vary."""
    main = plan["main"]
    baseline = main.get("baseline")
    if not baseline:
        return None
    found = rows_by(table, ["dataset", "method", "metric"])
    rows = []
    for dataset in main["datasets"]:
        first = True
        for method in main["methods"]:
            for metric in ("accuracy", "log_loss"):
                row = found.get((dataset, method, metric))
                if method == baseline or row is None:
                    continue
                test = row.get("test") if isinstance(row.get("test"), str) else None
                rows.append(
                    {
                        **row,
                        "first": first,
                        "label": plan["labels"].get(method, method),
                        "capped": (dataset, method) in capped,
                        "kind": "diff_accuracy" if metric == "accuracy" else "diff_log_loss",
                        "metric_text": "accuracy" if metric == "accuracy" else "log-loss",
                        "test": test,
                        "test_text": TESTS.get(test, test) if test else "–",
                        "first_metric": metric == "accuracy"
                        or (dataset, method, "accuracy") not in found,
                        # Zero variance: no t statistic and no interval, the sign test instead.
                        "undefined": test == "sign",
                    }
                )
                first = False
    sizes = sorted({int(s) for s in table.get("family_size", pd.Series(dtype=float)).dropna()})
    return {
        "baseline": baseline,
        "label": plan["labels"].get(baseline, baseline),
        "rows": rows,
        "family_size": sizes[0] if len(sizes) == 1 else len(rows),
        "n_sign": sum(r["undefined"] for r in rows),
    }
