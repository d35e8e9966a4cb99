"""What the mixture-of-experts part shows the rest of the study: its methods and their
labels, its tables and its figure. The plan, the figure registry and the paper import
this module, never the trainer (emnn.parts.moe.runs), so editing the model re-runs the
MoE jobs and what reads their tables, nothing else."""

from __future__ import annotations

from ...core.layout import TABLES

# In the order the comparisons read: each later method is compared with every earlier one.
METHODS = ("moe-irls-1", "moe-irls", "moe-ecm", "moe-sgd")
EM_METHODS = METHODS[:3]  # the EM algorithms, whose objective should never fall (SGD's may)
TABLE_NAMES = ("moe_runs", "moe_summary", "moe_traces")  # results/tables/<name>.csv
TIMING_NAMES = ("moe_fit_times", "moe_fit_summary")  # results/tables/timing/<name>.csv
# The figure: the objective against iteration, from moe_traces (moe_runs says which
# traced runs stopped at their cap).
FIGURE = "moe-objective"
FIGURE_INPUTS = [f"{TABLES}/moe_traces.csv", f"{TABLES}/moe_runs.csv"]
# A fall of the objective counts when it exceeds this times the objective's |value|:
# far above rounding (~1e-16 relative), far below any step of an iteration.
DECREASE_RTOL = 1e-10


def labels(irls_rate: float) -> dict[str, str]:
    """How the paper and its figures name each method."""
    return {
        "moe-irls-1": "IRLS-EM at rate 1",
        "moe-irls": f"IRLS-EM at rate {irls_rate:g}",
        "moe-ecm": "ECM",
        "moe-sgd": "SGD (mixture)",
    }


# The settings of study.moe.sgd that choose its learning rate rather than set it.
SEARCH_KEYS = ("learning_rates", "inner_folds")


def method_search(moe: dict) -> dict[str, dict]:
    """The methods whose learning rate is chosen by inner cross-validation: {name: {"grid",
    "inner_folds"}} (emnn.study.selection), empty when every rate is set."""
    sgd = moe["sgd"]
    if "moe-sgd" not in moe["methods"] or not sgd.get("learning_rates"):
        return {}
    grid = {"learning_rate": list(sgd["learning_rates"])}
    return {"moe-sgd": {"grid": grid, "inner_folds": sgd.get("inner_folds", 3)}}


def method_params(moe: dict) -> dict[str, dict]:
    """MoEClassifier's parameters (all but max_iter and random_state) of each method of
    the validated `study.moe` section."""
    common = {"n_experts": moe["n_experts"], "l2": moe["l2"], "tol": moe["tol"]}
    sgd = {k: v for k, v in moe["sgd"].items() if k not in SEARCH_KEYS}
    every = {
        "moe-irls-1": {"algorithm": "em-irls", "irls_rate": 1.0},
        "moe-irls": {"algorithm": "em-irls", "irls_rate": moe["irls_rate"]},
        "moe-ecm": {"algorithm": "ecm", "acceleration": "squarem" if moe["squarem"] else "none"},
        "moe-sgd": {"algorithm": "sgd", **sgd},
    }
    return {name: {**common, **every[name]} for name in METHODS if name in moe["methods"]}
