"""The main study's share of the paper, behind the interface every part gives the paper
(emnn.paper.context): values() adds this part's values, tables() its tables as data."""

from __future__ import annotations

from ...study.jobs import penalty_searched
from ...typeset.markup import literal
from . import floats
from .narrative import accelerated_em, by_model, narrative
from .overfitting import overfitting_sentences
from .primary_text import primary_context
from .results import capped_cells, comparison, headline_method, results
from .verdicts import converged_time


def values(config: dict, plan: dict, data: dict) -> dict:
    """The results, the paired comparisons, the primary analysis, the teacher's
    overfitting and the narrative (Introduction, Discussion, Limitations, Conclusion)."""
    tables, main = data["tables"], plan["main"]
    exact = by_model(config, main["methods"], "em", "lbfgs")
    n_splits = int(tables["main"]["n_splits"].max()) if len(tables["main"]) else 0
    return {
        "em": headline_method(config, main),
        "results": results(config, plan, tables, data["records_of"]),
        "comparison": comparison(plan, tables["comparisons"], capped_cells(tables["main"])),
        "primary": primary_context(config, plan, tables["primary"]),
        "overfitting": overfitting_sentences(
            tables["runs"], tables["main"], plan, exact, penalty_searched(config)
        ),
        "narrative": narrative(config, plan, tables, n_splits),
        "converged_time": _converged_time(config, plan, data),
    }


def _converged_time(config: dict, plan: dict, data: dict) -> str | None:
    """Accelerated EM against direct maximization and back-propagation in seconds, for the
    timing appendix only (its numbers vary between reruns)."""
    main = plan["main"]
    direct, accelerated = by_model(config, main["methods"], "lbfgs"), accelerated_em(config, main)
    fit = data.get("timing", {}).get("fit_summary")
    if not (direct and accelerated) or fit is None:
        return None
    labels = {m: literal(label) for m, label in plan["labels"].items()}
    return converged_time(
        fit.to_dict("records"), direct[0], accelerated[0], main.get("baseline"), labels, plan
    )


def tables(values: dict) -> list[dict]:
    results = values["results"]
    found = [floats.summary(metric, results["floors"]) for metric in results["metrics"]]
    found += [floats.stopping(results["convergence"]), floats.convergence(results["convergence"])]
    found += [floats.cross(results["cross"]), floats.sweep(results["sweep_rows"])]
    if values["comparison"]:
        found.append(floats.comparisons(values["comparison"]))
    if values["primary"]:
        found += values["primary"]["tables"]
    return found
