"""The protocol section: datasets, seeds, methods and the hyperparameters inner
cross-validation chose, from the config and the run records."""

from __future__ import annotations

from ..core.errors import StudyError
from ..study.jobs import main_methods, split_spec
from ..study.method_text import model_text
from ..typeset.formats import params_text
from ..typeset.markup import literal
from ..typeset.words import SEARCHED, join
from .prose import split_text


def protocol(config: dict, plan: dict, records_of: dict, runs: list[dict]) -> dict:
    """Datasets, splits, seeds and methods, from the config and the run records."""
    datasets = []
    for name in study_datasets(plan):
        record = records_of["dataset"].get(name)
        if record is None:
            raise StudyError(
                f"report: no run records of dataset '{name}' among the run directories"
            )
        info = record["dataset"]
        spec = config["datasets"][name]
        extra = {k: v for k, v in spec.items() if k not in ("source", "splits")}
        datasets.append(
            {
                "name": name,
                "source": info["source"],
                "source_params": params_text(extra),
                "n": info["n"],
                "p": info["p"],
                "g": info["g"],
                "class_counts": ", ".join(map(str, info["class_counts"])),
                "n_train": info["n_train"],
                "n_test": info["n_test"],
                "splits": split_text(split_spec(config, name), info),
            }
        )
    first = study_datasets(plan)[0]
    seeds = records_of["dataset"][first]["seeds"]
    roles = {
        "split": "train/test splits of the dataset",
        "init": "initial weights and minibatch order",
        "inner_cv": "folds of the inner cross-validation",
    }
    seed_rows = [
        {
            "role": role,
            "use": roles.get(role, role),
            "spawn_key": str(tuple(value["spawn_key"])),
            "seed": value["seed"],
        }
        for role, value in sorted(
            seeds.items(),
            key=lambda item: list(roles).index(item[0]) if item[0] in roles else len(roles),
        )
        if role != "root"
    ]
    methods = []
    for name in study_methods(plan):
        method = config["methods"][name]
        record = records_of["method"].get(name)
        effective = record["method"]["params"] if record else {}
        configured = method["params"]
        grid = method.get("grid", {})
        settings = {**effective, **configured}
        defaults = {
            k: v
            for k, v in effective.items()
            if k not in configured
            and k not in grid
            and k != "random_state"
            and applies(method["model"], k, settings)
        }
        methods.append(
            {
                "name": name,
                "label": plan["labels"][name],
                "model": method["model"],
                "model_text": model_text(method["model"], settings),
                "params": params_text(configured),
                "defaults": params_text(defaults),
                "grid": params_text(grid),
                "inner_folds": method.get("inner_folds") if grid else None,
                "inner_params": params_text(method.get("inner_params", {})) if grid else "",
                "n_hidden": plan["n_hidden"][name],
            }
        )
    return {
        "seed": config["seed"],
        "splits": config["splits"],
        "datasets": datasets,
        "seed_dataset": first,
        "seed_rows": seed_rows,
        "methods": methods,
        "sweep": plan.get("sweep"),
        "selection": selection_rows(config, plan, runs),
        "searched": searched_text(config, plan),
    }


# Hyperparameters a model uses only under some settings: (model, name) -> (setting, the
# values under which it is used). acceleration applies to itself: "none" is no setting.
USED_ONLY_WITH = {
    ("em", "n_samples"): ("e_step", {"monte-carlo"}),
    ("em", "newton_steps"): ("m_step", {"newton"}),
    ("em", "learning_rate"): ("m_step", {"gradient"}),
    ("em", "inner_steps"): ("m_step", {"gradient"}),
    ("em", "acceleration"): ("acceleration", {"squarem"}),
    ("lbfgs", "mean_field_tol"): ("e_step", {"variational"}),
    ("sklearn-mlp", "batch_size"): ("solver", {"adam", "sgd"}),
    ("sklearn-mlp", "learning_rate"): ("solver", {"adam", "sgd"}),
    ("sklearn-mlp", "n_iter_no_change"): ("solver", {"adam", "sgd"}),
}


def applies(model: str, name: str, settings: dict) -> bool:
    """Whether a hyperparameter changes what the method does under its settings: the
    methods table lists defaults in effect, not those of parts the method does not run
    (a learning rate beside a Newton M-step)."""
    if (model, name) not in USED_ONLY_WITH:
        return True
    setting, values = USED_ONLY_WITH[model, name]
    return settings.get(setting) in values


def selection_rows(config: dict, plan: dict, runs: list[dict]) -> list[dict]:
    """Per main dataset and method with a grid: how often inner CV chose each value, and
    whether that value lies at an edge of its grid."""
    counts, scoring = {}, {}
    for run in runs:
        for item in run["chosen"]:
            key = (item["dataset"], item["method"], item["n_hidden"])
            choice = tuple(sorted(item["chosen"].items()))
            counts.setdefault(key, {}).setdefault(choice, 0)
            counts[key][choice] += 1
            scoring[key] = (item["inner_folds"], item["scoring"])
    main, rows = plan["main"], []
    for dataset in main["datasets"]:
        for method in main_methods(main):
            key = (dataset, method, plan["n_hidden"][method])
            if key not in counts:
                continue
            found = counts[key]
            total = sum(found.values())
            grid = config["methods"][method].get("grid", {})
            rows.append(
                {
                    "dataset": dataset,
                    "label": plan["labels"].get(method, method),
                    "inner_folds": scoring[key][0],
                    "scoring": scoring[key][1],
                    "choices": "; ".join(
                        f"{params_text(dict(choice))}{grid_edge(choice, grid)} in {k} of {total}"
                        for choice, k in sorted(found.items())
                    ),
                }
            )
    return rows


def study_datasets(plan: dict) -> list[str]:
    parts = [plan[p]["datasets"] for p in ("main", "sweep") if p in plan]
    return list(dict.fromkeys(d for part in parts for d in part))


def study_methods(plan: dict) -> list[str]:
    parts = [main_methods(plan["main"]), plan["sweep"]["methods"] if "sweep" in plan else []]
    return list(dict.fromkeys(m for part in parts for m in part))


def searched_text(config: dict, plan: dict) -> str:
    """What inner cross-validation chooses, and for which methods: "the learning rate of
    SGD and the penalty $\\lambda$ of L-BFGS (tuned penalty) and ..."."""
    by_key: dict[str, list[str]] = {}
    for name in study_methods(plan):
        for key in config["methods"][name].get("grid", {}):
            by_key.setdefault(key, []).append(literal(plan["labels"][name]))
    shown = [f"{SEARCHED.get(k, literal(k))} of {join(names)}" for k, names in by_key.items()]
    return join(shown) if shown else ""


def grid_edge(choice: tuple, grid: dict) -> str:
    """ " (grid edge)" when a chosen value is the smallest or largest of its grid."""
    for name, value in choice:
        values = grid.get(name, [])
        if len(values) > 1 and value in (min(values), max(values)):
            return " (grid edge)"
    return ""
