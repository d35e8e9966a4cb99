"""The paper's "Mixture of experts" section: its values, its tables as data (the paper
spec's table dicts) and its verdicts (emnn.parts.moe.verdicts), from the moe stage's tables.

moe_context() is the one entry point: the section text (templates/text/moe.j2) reads the
keys it returns under the name `moe`. Wall-clock times appear only in `timing_table`
(emnn.parts.moe.timing_table), which belongs in the timing appendix, never in the section.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.stats import ALPHA, corrected_interval
from ...core.tidy import is_true
from ...typeset.floats import column, table
from ...typeset.formats import finite, number, pct, power_of_ten, sci
from ...typeset.markup import literal
from ...typeset.words import count_of, counted, join, series
from . import against_mlp
from . import verdicts as moe_verdicts
from .comparisons import main_mlp_runs
from .contract import DECREASE_RTOL, FIGURE, METHODS, labels
from .falls import blow_ups
from .timing_table import timing_table


def moe_context(config: dict, plan: dict, tables: dict, timing: dict | None = None) -> dict:
    """Everything the section shows. `plan`: emnn.study.jobs.figure_plan(config) (labels, the
    main study); `tables`: the result tables by name (moe_runs, moe_summary and the main
    study's runs); `timing`: the timing tables by name (moe_fit_summary), or None."""
    moe = config["study"]["moe"]
    runs, summary = tables["moe_runs"], tables["moe_summary"]
    datasets = [d for d in moe["datasets"] if d in set(runs["dataset"])]
    methods = [m for m in METHODS if m in set(runs["method"])]
    names = labels(moe["irls_rate"])
    mlp = mlp_runs(tables["runs"], plan) if "runs" in tables else None
    baseline = moe.get("baseline")
    paired = moe_verdicts.in_order(moe_verdicts.paired_table(runs, mlp, baseline), datasets)
    chosen = mlp_choice(paired)
    mlp_names = {d: chosen[d] for d in datasets if d in chosen}
    claims = [
        moe_verdicts.claim_monotone(runs, datasets, moe["irls_rate"]),
        moe_verdicts.claim_can_fail(runs, datasets),
        moe_verdicts.claim_ecm_better(runs, paired, datasets, moe["irls_rate"]),
    ]
    values = {
        "setup": setup(moe, runs, datasets),
        "labels": names,
        "claims": claims,
        "blow_ups": blow_ups(runs, names, moe.get("l2")),
        "mlp_choice": mlp_choice_sentence(mlp_names, baseline, plan["labels"]),
        "mlp": against_mlp.mlp_sentences(paired, moe["irls_rate"]) if mlp is not None else [],
        "sgd": sgd_sentences(paired, names, moe),
        # The summary leaves out the objective: SGD's and EM's stopping rules differ.
        "sgd_summary": after_colon(
            " ".join(
                moe_verdicts.test_sentences(
                    paired, "moe-sgd", names["moe-sgd"], names["moe-ecm"], "moe-ecm"
                )
            )
        ),
        "alpha": f"{ALPHA:g}",
        "tables": [
            training_table(summary, runs, datasets, methods, names),
            comparison_table(paired, datasets, names, plan["labels"]),
        ],
        "figure": FIGURE,
        "timing_table": (
            timing_table(timing["moe_fit_summary"], summary, datasets, methods, names)
            if timing and "moe_fit_summary" in timing
            else None
        ),
    }
    return values


def after_colon(sentences: str) -> str:
    """Sentences that go on after "For mixtures of experts:": "In final objective ..."
    continues as "in final objective ..."; a name keeps its capitals."""
    return sentences[0].lower() + sentences[1:] if sentences.startswith("In ") else sentences


def mlp_runs(runs: pd.DataFrame, plan: dict) -> pd.DataFrame | None:
    """The main study's runs the MoE methods are compared with (None: no MLP runs)."""
    chosen = main_mlp_runs(runs, plan)
    return chosen if len(chosen) else None


def mlp_choice(paired: pd.DataFrame) -> dict[str, str]:
    """The MLP method each dataset's MoE methods were compared with, by dataset."""
    rows = paired[paired["other_kind"] == "mlp"]
    return dict(zip(rows["dataset"], rows["other"], strict=False))


def mlp_choice_sentence(chosen: dict, baseline: str | None, labels: dict) -> str | None:
    if not chosen:
        return None
    shown = {d: literal(labels.get(m, m)) for d, m in chosen.items()}
    if baseline:
        return (
            f"Each MoE method is compared with the MLP trainer {shown[next(iter(shown))]} "
            "on the same splits, set in the configuration (`study.moe.baseline`) rather than "
            "chosen by test accuracy on these splits, which would favour the MLP."
        )
    by_method: dict[str, list[str]] = {}
    for dataset, method in shown.items():
        by_method.setdefault(method, []).append(literal(dataset))
    listing = join([f"{method} on {join(found)}" for method, found in by_method.items()])
    return (
        f"Each MoE method is compared with the best MLP trainer of the main study on each "
        f"dataset, the one with the highest mean test accuracy over its splits among those "
        f"that met their stopping rule on every split ({listing}). "
        f"That choice is made on the same test splits, which favours the MLP: a difference "
        f"in the MoE's favour is conservative, one against it may be overstated."
    )


def setup(moe: dict, runs: pd.DataFrame, datasets: list[str]) -> dict:
    """The configuration the section states, every number from the config or the runs."""
    per_dataset = []
    names = labels(moe["irls_rate"])
    for dataset in datasets:
        rows = runs[runs["dataset"] == dataset]
        caps = rows.groupby("method", sort=False)["max_iter"].max()
        by_cap: dict[int, list[str]] = {}
        for method in [m for m in METHODS if m in caps.index]:
            by_cap.setdefault(int(caps[method]), []).append(names[method])
        cap = (
            f"{next(iter(by_cap))} iterations"
            if len(by_cap) == 1
            else join([f"{n} iterations for {join(found)}" for n, found in by_cap.items()])
        )
        per_dataset.append(
            {"dataset": literal(dataset), "n_splits": int(rows["split"].nunique()),
             "max_iter": int(rows["max_iter"].max()), "cap": cap}
        )  # fmt: skip
    caps = {}
    for entry in per_dataset:
        caps.setdefault((entry["n_splits"], entry["cap"]), []).append(entry["dataset"])
    cap_text = series(
        [
            f"{cap} on {'the ' + counted(n, 'split')} of {join(found)}"
            for (n, cap), found in caps.items()
        ]
    )
    limited = [d for d in datasets if d in moe.get("limits", {})]
    sgd = moe["sgd"]
    return {
        "limited": join([literal(d) for d in limited]) if limited else None,
        "squarem": moe.get("squarem", False),
        "n_experts": moe["n_experts"],
        "irls_rate": f"{moe['irls_rate']:g}",
        "l2": f"{moe['l2']:g}",
        "tol": sci(moe["tol"]),
        "datasets": join([literal(d) for d in datasets]),
        "caps": cap_text,
        "per_dataset": per_dataset,
        "sgd": {
            "learning_rate": rate_text(sgd, runs, datasets),
            "tuned": bool(sgd.get("learning_rates")),
            "batch_size": sgd["batch_size"],
            "momentum": f"{sgd['momentum']:g}",
            "tol": sci(sgd["tol"]),
            "n_iter_no_change": sgd["n_iter_no_change"],
        },
    }


def rate_text(sgd: dict, runs: pd.DataFrame, datasets) -> str:
    """moe-sgd's learning rate as the appendix says it: set, or chosen per split by inner
    cross-validation (which rates, and how often one at an end of the grid)."""
    grid = sgd.get("learning_rates")
    if not grid:
        return f"learning rate {sgd['learning_rate']:g}"
    chosen = runs.loc[(runs["method"] == "moe-sgd") & runs["dataset"].isin(datasets),
                      "learning_rate"]  # fmt: skip
    edges = int(chosen.isin([min(grid), max(grid)]).sum())
    said = (
        f"learning rate chosen per split by {sgd.get('inner_folds', 3)}-fold inner "
        f"cross-validation on its training part, by mean log-loss as the MLP's SGD's, from "
        f"{join([f'{r:g}' for r in sorted(grid)])}"
    )
    if len(chosen):
        said += (
            f"; the rates chosen range from {chosen.min():g} to {chosen.max():g}, at an end "
            f"of the grid in {count_of(edges, len(chosen))}"
        )
    return said


def objective_kind(values) -> str:
    """One format for a column of objectives per example, so that its rows compare: four
    decimals, or scientific notation in every row when a run blew up (a penalty of 1e14
    would print fifteen digits)."""
    blew_up = any(finite(v) and abs(float(v)) >= 1e3 for v in values)
    return "sci" if blew_up else "objective"


def sgd_sentences(paired: pd.DataFrame, names: dict, moe: dict) -> list[str]:
    """Back-propagation of the same likelihood against ECM (the EM algorithm that is
    monotone by construction) on the test metrics; not on the final objective, where each
    one's stopping rule decides where it ends."""
    a, b, sgd = names["moe-sgd"], names["moe-ecm"], moe["sgd"]
    tests = moe_verdicts.test_sentences(paired, "moe-sgd", a, b, "moe-ecm")
    rules = (
        f"Their final objectives are not compared: {a} stops when its training loss per "
        f"example has not fallen by {power_of_ten(sgd['tol'])} in {sgd['n_iter_no_change']} "
        f"epochs and {b} at a relative change of {power_of_ten(moe['tol'])}, so where each "
        "ends measures its stopping rule as much as its algorithm."
    )
    return [*tests, rules] if tests else []


# ------------------------------------------------------------------ tables as data


def training_table(summary, runs, datasets, methods, names) -> dict:
    """Per dataset and method: how training went, and test accuracy over converged runs."""
    found = {(r["dataset"], r["method"]): r for r in summary.to_dict("records")}
    shown = [found[d, m]["objective_per_example_mean"] for d in datasets for m in methods
             if (d, m) in found]  # fmt: skip
    objective = objective_kind(shown)
    groups = []
    for dataset in datasets:
        group = []
        for method in methods:
            row = found.get((dataset, method))
            if row is None:
                continue
            mine = runs[(runs["dataset"] == dataset) & (runs["method"] == method)]
            done = mine[mine["converged"].map(is_true)]
            n = int(row["n_splits"])
            accuracy = "–"
            if len(done):
                ratio = float((done["n_test"] / done["n_train"]).mean())
                mean, low, high = corrected_interval(done["test_accuracy"], ratio, (0.0, 1.0))
                accuracy = pct(mean) + (f" [{pct(low)}, {pct(high)}]" if np.isfinite(low) else "")
            group.append(
                [
                    literal(dataset) if not group else "",
                    names[method],
                    f"{int(row['ever_decreased'])} of {n}",
                    f"{int(row['diverged'])}",
                    f"{int(row['converged'])} of {n}",
                    f"{number(row['iterations_median'], 'median')} ({int(row['max_iter'])})",
                    number(row["objective_per_example_mean"], objective, minus="−"),
                    accuracy,
                    f"{len(done)}",
                ]
            )
        if group:
            groups.append(group)
    threshold = power_of_ten(DECREASE_RTOL)
    return table(
        "tab-moe-training",
        (
            "How each mixture-of-experts algorithm trained, per dataset: the runs in which "
            "the penalized log-likelihood ever fell between two successive iterations "
            f"(the initial weights included; a fall counts when it exceeds {threshold} of the "
            "objective's size) and those in which it stopped being finite, the runs "
            "that met their stopping rule before the cap, the median number of iterations "
            "(SGD: epochs) with the cap in parentheses, and the final objective per "
            "training example (mean over all splits, at the cap where a run did not "
            "converge). Test accuracy is the mean over the converged runs only (their "
            "number in the last column), with its corrected 95 % confidence interval "
            "[@nadeau2003inference]; a dash: no run converged."
        ),
        [
            column("Dataset"),
            column("Method", width=0.14),
            column("fell", "r"),
            column("non-finite", "r"),
            column("converged", "r"),
            column("iterations", "r"),
            column("$\\ell/n$", "r"),
            column("accuracy (%)", "r"),
            column("$n$", "r"),
        ],
        groups,
        header_groups=[("", 2), ("runs", 3), ("training", 2), ("converged runs", 2)],
        size="footnotesize",
    )


def _cell(row: dict | None, kind: str, effect: str = "mean_difference") -> tuple[str, str]:
    """A difference and its Holm-adjusted p-value, bold where p < ALPHA; dashes if untested."""
    if row is None or row["n_splits"] < 2 or not np.isfinite(row["p_holm"]):
        return "–", "–"
    significant = row["p_holm"] < ALPHA
    value = number(row[effect], kind, minus="−")
    p = number(row["p_holm"], "p", minus="−")
    return (
        {"text": value, "bold": True} if significant else value,
        {"text": p, "bold": True} if significant else p,
    )


def _capped(row: dict | None) -> str:
    """Of the splits an objective difference is taken over, those where a run stopped at
    its cap, as "k/n"; a dash where none was compared."""
    if row is None or not row["n_splits"] or pd.isna(row["n_capped"]):
        return "–"
    return f"{int(row['n_capped'])}/{int(row['n_splits'])}"


def comparison_table(paired: pd.DataFrame, datasets, names, mlp_labels) -> dict:
    """The paired comparisons, one row per (dataset, pair): the objective over every split,
    accuracy and log-loss over the splits where both runs converged."""
    found = {
        (r["dataset"], r["method"], r["other"], r["metric"]): r for r in paired.to_dict("records")
    }
    pairs = paired[["dataset", "method", "other", "other_kind"]].drop_duplicates()
    order = {m: k for k, m in enumerate(METHODS)}
    groups = []
    for dataset in datasets:
        here = pairs[pairs["dataset"] == dataset].to_dict("records")
        here.sort(key=lambda r: (r["other_kind"] == "mlp", order[r["method"]],
                                 order.get(r["other"], -1)))  # fmt: skip
        group = []
        for pair in here:
            key = (dataset, pair["method"], pair["other"])
            other = (
                names[pair["other"]]
                if pair["other_kind"] == "moe"
                else literal(mlp_labels.get(pair["other"], pair["other"]))
            )
            objective_row = found.get((*key, "objective"))
            objective = (*_cell(objective_row, "sci", "median_difference"), _capped(objective_row))
            accuracy_row = found.get((*key, "accuracy"))
            accuracy = _cell(accuracy_row, "diff_accuracy")
            log_loss = _cell(found.get((*key, "log_loss")), "diff_log_loss")
            if pair["other_kind"] == "mlp":
                objective = ("–", "–", "–")  # different models: their objectives do not compare
            group.append(
                [
                    literal(dataset) if not group else "",
                    f"{names[pair['method']]} − {other}",
                    *objective,
                    str(int(accuracy_row["n_splits"])) if accuracy_row else "0",
                    *accuracy,
                    *log_loss,
                ]
            )
        if group:
            groups.append(group)
    family = int(paired["family_size"].iloc[0]) if len(paired) else 0
    return table(
        "tab-moe-comparisons",
        (
            "Paired comparisons of the mixture-of-experts algorithms with each other and "
            "with the MLP trainer each is compared with, per dataset (first method minus "
            "second), each with its $p$-value adjusted by Holm [@holm1979simple] over one "
            f"family of {family} tests; bold where $p < {ALPHA:g}$. The final objective "
            "per training example: the median difference over every split where the runs "
            "stopped (the caps of [#app-moe-detail]; against SGD, which stops on another "
            "rule, over the splits where both met their rule), and the sign test; capped: on "
            "how many of those splits a run of the two stopped at its cap, where its "
            "objective is what the cap left (on digits the caps differ). Test accuracy "
            "(percentage points) and "
            "log-loss: the mean difference over the $n$ splits on which both runs met their "
            "stopping rule, and the corrected resampled $t$-test [@nadeau2003inference]. A "
            "dash: fewer than two such splits, or objectives of different models."
        ),
        [
            column("Dataset"),
            column("Comparison", width=0.3),
            column("$\\Delta\\ell/n$", "r"),
            column("$p_{\\mathrm{Holm}}$", "r"),
            column("capped", "r"),
            column("$n$", "r"),
            column("$\\Delta$ acc.", "r"),
            column("$p_{\\mathrm{Holm}}$", "r"),
            column("$\\Delta$ log-loss", "r"),
            column("$p_{\\mathrm{Holm}}$", "r"),
        ],
        groups,
        header_groups=[("", 2), ("objective", 3), ("converged pairs", 5)],
        size="footnotesize",
        long=True,
    )


# ------------------------------------------------------------------ the paper's interface


def values(config: dict, plan: dict, data: dict) -> dict:
    """This part's values for the paper (emnn.paper.context); None without the part."""
    shown = moe_context(config, plan, data["tables"], data["timing"]) if "moe" in plan else None
    return {"moe": shown}


def tables(values: dict) -> list[dict]:
    moe = values["moe"]
    if not moe:
        return []
    return moe["tables"] + ([moe["timing_table"]] if moe["timing_table"] else [])
