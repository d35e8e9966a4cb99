"""The primary analysis as the paper shows it: its table, and one verdict sentence per
contrast, every word of which comes from results/tables/primary.csv (emnn.parts.main.primary)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...study.jobs import tuned_contrasts
from ...typeset.floats import column, grouped, interval, num, table
from ...typeset.markup import literal
from ...typeset.words import METRIC_TEXT, SEARCHED, counted, join
from . import primary

KIND = {"accuracy": "diff_accuracy", "log_loss": "diff_log_loss"}
MEAN_KIND = {"accuracy": "accuracy", "log_loss": "log_loss"}


def margin_text(metric: str, margin: float) -> str:
    if metric == "accuracy":
        return f"±{num(margin * 100, 'median')} percentage points of accuracy"
    return f"±{num(margin, 'gap')} nats of log-loss per example"


def primary_context(config: dict, plan: dict, table: pd.DataFrame) -> dict | None:
    """The contrasts in config order, each with its rows (dataset order, accuracy first)
    and its sentence; None when the study names no primary analysis."""
    spec = plan["main"].get("primary")
    if not spec or table.empty:
        return None
    labels = plan["labels"]
    contrasts = []
    for number, contrast in enumerate(spec["contrasts"], start=1):
        rows = table[table["contrast"] == number].to_dict("records")
        for k, row in enumerate(rows):
            row["first"] = k % len(primary.METRICS) == 0
            row["span"] = len(primary.METRICS)
        contrasts.append({
            "number": number,
            "anchor": f"tab-primary-{number}",
            "question": contrast["question"],
            "why": contrast.get("why", ""),
            # How the abstract, the introduction and the conclusion name the contrast.
            "subject": f"{literal(labels.get(contrast['method'], contrast['method']))} "
            f"against {literal(labels.get(contrast['baseline'], contrast['baseline']))}",
            "method": labels.get(contrast["method"], contrast["method"]),
            "baseline": labels.get(contrast["baseline"], contrast["baseline"]),
            "rows": rows,
            "sentence": verdict_sentence(rows),
            "compact": compact_sentence(rows),
            "left_out": int(sum(r["n_left_out"] for r in rows)) // len(primary.METRICS),
            "tuning": tuning(config, labels, contrast["method"], contrast["baseline"]),
            "decided": decided_cells(rows),
            "worse_side": worse_side_cells(rows),
            "abstract_tuning": one_side_tuned(
                config, labels, contrast["method"], contrast["baseline"]
            ),
            "shared": shared_training(config, contrast["method"], contrast["baseline"]),
        })  # fmt: skip
    margins = spec["margins"]
    penalties = {config["methods"][m]["params"].get("l2") for m in plan["main"]["methods"]}
    shown = {
        "l2": penalties.pop() if len(penalties) == 1 else None,
        "tuned": contrast_names(tuned_contrasts(config)),
        "contrasts": contrasts,
        "margins": join([margin_text(m, margins[m]) for m in primary.METRICS]),
        "rationale": margins.get("rationale", ""),
        "alpha": f"{spec['alpha']:g}",
        "family_size": int(table["family_size"].max()),
    }
    shown["tables"] = primary_tables(shown)
    return shown


def contrast_names(numbers: list[int]) -> str:
    """ "contrast 1", "contrast 1 and contrast 2"; empty for none."""
    return join([f"contrast {n}" for n in numbers]) if numbers else ""


def _searched(grid: dict) -> str:
    return join([
        f"{SEARCHED.get(k, literal(k))} from $\\{{{', '.join(format(v, 'g') for v in values)}\\}}$"
        for k, values in grid.items()
    ])  # fmt: skip


def tuning(config: dict, labels: dict, method: str, baseline: str) -> str:
    """Say which settings of a contrast inner CV chose: on one side only (each method as
    it is practised), on both from one grid (each at its best), or on each its own."""
    grids = [config["methods"][m].get("grid") for m in (method, baseline)]
    if all(grids):
        where = "per split by inner cross-validation ([#tab-selection])"
        if grids[0] == grids[1]:
            return f"Both choose {_searched(grids[0])} {where}."
        first, second = (literal(labels.get(m, m)) for m in (method, baseline))
        return (
            f"{first} chooses {_searched(grids[0])} and {second} {_searched(grids[1])}, "
            f"each {where}; the setting the other searches stays at its configured value."
        )
    tuned = [m for m, grid in zip((method, baseline), grids, strict=True) if grid]
    if len(tuned) != 1:
        return ""
    (one,) = tuned
    other = baseline if one == method else method
    keys = join([literal(k) for k in config["methods"][one]["grid"]])
    return (
        f"Only {literal(labels.get(one, one))} has a setting chosen by inner cross-validation "
        f"({keys}); {literal(labels.get(other, other))} runs at the configured settings, its "
        "penalty included, so the contrast compares the two as each is practised."
    )


# Model pairs one optimizer trains, each network its own way: the model question's pair.
SAME_OPTIMIZER = {frozenset({"lbfgs", "lbfgs-deterministic"}): "L-BFGS"}


def shared_optimizer(config: dict, method: str, baseline: str) -> str | None:
    """The optimizer both sides of a contrast share while the model changes, or None."""
    models = frozenset(config["methods"][m]["model"] for m in (method, baseline))
    return SAME_OPTIMIZER.get(models)


def shared_training(config: dict, method: str, baseline: str) -> str:
    """ "each trained by L-BFGS at its cross-validated penalty": how both sides of a
    contrast that changes only the model are trained, so that the abstract and the
    Conclusion can name the pair by its question rather than by two long labels; empty
    for any other contrast."""
    specs = [config["methods"][m] for m in (method, baseline)]
    optimizer = shared_optimizer(config, method, baseline)
    if optimizer is None or not all("l2" in spec.get("grid", {}) for spec in specs):
        return ""
    return f"each trained by {optimizer} at its cross-validated penalty"


def decided_cells(rows: list[dict], order=(primary.WORSE, primary.BETTER)) -> str:
    """ "worse in test log-loss on teacher and better in ...": the tests a contrast decided
    either way, by name, in `order`; empty when none."""
    said = []
    for verdict in order:
        cells = [f"{METRIC_TEXT[r['metric']]} on {literal(r['dataset'])}" for r in rows
                 if r["verdict"] == verdict]  # fmt: skip
        if cells:
            said.append(f"{verdict} in {join(cells)}")
    return join(said) if said else ""


def worse_side_cells(rows: list[dict]) -> str:
    """ "test accuracy and test log-loss on digits": the undecided tests whose unadjusted
    interval already excludes 0 on the method's worse side (lower accuracy, higher
    log-loss), grouped by dataset; empty when none."""
    by_dataset: dict[str, list[str]] = {}
    for r in rows:
        low, high = r.get("ci_low"), r.get("ci_high")
        if r["verdict"] in (primary.WORSE, primary.BETTER) or not (
            low is not None and high is not None and np.isfinite(low) and np.isfinite(high)
        ):
            continue
        if (high < 0) if r["metric"] == "accuracy" else (low > 0):
            by_dataset.setdefault(r["dataset"], []).append(METRIC_TEXT[r["metric"]])
    shown = [f"{join(metrics)} on {literal(d)}" for d, metrics in by_dataset.items()]
    return join(shown) if shown else ""


def one_side_tuned(config: dict, labels: dict, method: str, baseline: str) -> str:
    """For the abstract: " (only SGD's learning rate tuned; penalty λ = 0.1)" when inner CV
    tunes one side only, so that a verdict is read with what each side was given; else
    empty."""
    methods = {m: config["methods"][m] for m in (method, baseline)}
    tuned = [m for m, spec in methods.items() if spec.get("grid")]
    if len(tuned) != 1:
        return ""
    (one,) = tuned
    searched = join([SEARCHED.get(k, literal(k)) for k in methods[one]["grid"]])
    penalties = {spec["params"].get("l2") for spec in methods.values()}
    l2 = penalties.pop() if len(penalties) == 1 else None
    shared = f"; penalty $\\lambda = {l2:g}$" if l2 is not None else ""
    return (
        f" (only {literal(labels.get(one, one))}'s {searched.removeprefix('the ')} tuned{shared})"
    )


def compact_sentence(rows: list[dict]) -> str:
    """The verdicts by count, naming only the cells found better or worse (the abstract)."""
    named = decided_cells(rows, order=(primary.BETTER, primary.WORSE))
    equivalent = sum(r["verdict"] == primary.EQUIVALENT for r in rows)
    decided = sum(r["verdict"] in (primary.BETTER, primary.WORSE) for r in rows)
    rest = len(rows) - equivalent - decided
    # A verdict no test reached is left unsaid ("equivalent in 0" reads as a finding).
    shown = [f"{text} in {n}" for text, n in (("equivalent within the margins", equivalent),
                                               ("undecided", rest)) if n]  # fmt: skip
    counts = f"{join(shown)} of {counted(len(rows), 'test')}" if shown else ""
    if not named:
        return f"{counts}, better or worse in none"
    return ", ".join(filter(None, [named, counts]))


def verdict_sentence(rows: list[dict]) -> str:
    """Where the method is better, worse or equivalent, by metric; the rest undecided."""
    parts = []
    for verdict in (primary.BETTER, primary.WORSE, primary.EQUIVALENT):
        by_metric = []
        for metric, text in METRIC_TEXT.items():
            where = [literal(r["dataset"]) for r in rows
                     if r["verdict"] == verdict and r["metric"] == metric]  # fmt: skip
            if where:
                by_metric.append(f"in {text} on {join(where)}")
        if by_metric:
            shown = "equivalent within the margins" if verdict == primary.EQUIVALENT else verdict
            parts.append(f"{shown} {join(by_metric)}")
    rest = sum(r["verdict"] in (primary.UNDECIDED, primary.TOO_FEW) for r in rows)
    if rest:
        parts.append(f"undecided in the other {rest} of {len(rows)} tests" if parts
                     else f"undecided in all {len(rows)} tests" if len(rows) > 1
                     else "undecided in its one test")  # fmt: skip
    return "; ".join(parts)


def tost_cell(row: dict) -> str:
    """The equivalence test's Holm-adjusted p, with its unadjusted p beside it."""
    adjusted = num(row["p_equivalence_holm"], "p")
    return adjusted if adjusted == "–" else f"{adjusted} ({num(row['p_equivalence'], 'p')})"


def primary_tables(context: dict) -> list[dict]:
    def cells(r):
        kind = KIND[r["metric"]]
        return [
            {"text": literal(r["dataset"]), "rows": r["span"]} if r["first"] else None,
            METRIC_TEXT[r["metric"]].removeprefix("test "),
            num(r["method_mean"], MEAN_KIND[r["metric"]]),
            num(r["baseline_mean"], MEAN_KIND[r["metric"]]),
            num(r["mean_difference"], kind),
            interval(r["ci_low"], r["ci_high"], kind),
            num(r["p_holm"], "p"),
            tost_cell(r),
            f"{r['n_pairs']}",
            {"text": r["verdict"], "bold": r["verdict"] in (primary.BETTER, primary.WORSE)},
        ]

    columns = [
        column("Dataset", width=0.14), column("Metric"), column("A", "r"), column("B", "r"),
        column("A $-$ B", "r"),
        column("95 % CI", "r"), column("$p_{\\mathrm{Holm}}$", "r"),
        column("$p_{\\mathrm{TOST}}$", "r"), column("Pairs", "r"), column("Verdict"),
    ]  # fmt: skip
    tables = []
    for k, c in enumerate(context["contrasts"]):
        what = (
            f"Primary analysis, contrast {c['number']} ({c['question']}): A, "
            f"{literal(c['method'])}; B, {literal(c['baseline'])}"
        )
        if k == 0:
            caption = (
                f"{what}. Their means and mean paired difference (accuracy in percent and "
                "percentage points) over the splits where both runs met their stopping rule "
                "(Pairs), its corrected 95 % interval (not adjusted for the family), the "
                f"corrected $t$-test and the equivalence test (TOST) against "
                f"{context['margins']}, both Holm-adjusted within the contrast's "
                f"{context['family_size']} tests (the TOST's unadjusted $p$ in parentheses: "
                "Holm's order can part two tests with equal unadjusted $p$)."
            )
        else:  # the columns are the first table's: say so rather than again
            caption = f"{what}; the columns as in [#{context['contrasts'][0]['anchor']}]."
        tables.append(
            table(c["anchor"], caption, columns, grouped(c["rows"], cells), size="footnotesize")
        )
    return tables
