"""What a validated config asks to run: every (dataset, method, m) job, the splits each
runs, the spec each job depends on (and nothing else), and the plans the tables and
figures read."""

from __future__ import annotations

import copy

from ..core.errors import ConfigError
from ..data.splits import n_splits
from . import methods
from .methods import check_method


def used_datasets(config: dict) -> list[str]:
    return sorted({d for d, _, _ in runs(config)})


def split_spec(config: dict, dataset: str) -> dict:
    """The global splits with the dataset's own overrides."""
    return {**config["splits"], **config["datasets"][dataset].get("splits", {})}


def runs(config: dict, scaling: bool = True) -> list[tuple[str, str, int]]:
    """Every (dataset, method, n_hidden) the study trains, each once, sorted; with
    scaling=False, those of the main study and the sweep only."""
    study = config["study"]
    found = set()
    main = study["main"]
    for dataset in main["datasets"]:
        for name in main_methods(main):
            found.add((dataset, name, methods.hidden_units(config["methods"][name])))
    if "sweep" in study:
        sweep = study["sweep"]
        for dataset in sweep["datasets"]:
            for name in sweep["methods"]:
                found.update((dataset, name, m) for m in sweep["n_hidden"])
    return sorted(found | set(scaling_runs(config) if scaling else ()))


def main_methods(main: dict) -> list[str]:
    """The main study's methods, then those only its primary contrasts name (a contrast
    may run a method at settings of its own, the model question's penalty chosen by inner
    cross-validation, that no secondary table shows), then its reference optimum's."""
    contrasts = main.get("primary", {}).get("contrasts", [])
    named = [c[role] for c in contrasts for role in ("method", "baseline")]
    reference = [main["reference"]] if "reference" in main else []
    return list(dict.fromkeys([*main["methods"], *named, *reference]))


def penalty_searched(config: dict) -> list[str]:
    """The methods of the main study and its contrasts whose penalty (l2) inner
    cross-validation chooses."""
    return [m for m in main_methods(config["study"]["main"])
            if "l2" in config["methods"][m].get("grid", {})]  # fmt: skip


def tuned_contrasts(config: dict) -> list[int]:
    """The primary contrasts (numbered from 1) whose two methods both choose the penalty
    by inner cross-validation: those that compare the methods each at its best."""
    tuned = set(penalty_searched(config))
    contrasts = config["study"]["main"].get("primary", {}).get("contrasts", [])
    return [n for n, c in enumerate(contrasts, start=1) if {c["method"], c["baseline"]} <= tuned]


def scaling_runs(config: dict) -> list[tuple[str, str, int]]:
    """Every (dataset, method, n_hidden) study.scaling trains, sorted."""
    if "scaling" not in config["study"]:
        return []
    scaling = config["study"]["scaling"]
    return sorted(
        (dataset, scaling[role], m)
        for dataset in scaling["datasets"]
        for role, n_hidden in scaling_hidden(config, dataset).items()
        for m in n_hidden
    )


def scaling_hidden(config: dict, dataset: str) -> dict[str, list[int]]:
    """The numbers of hidden units each role of study.scaling runs at on a dataset."""
    scaling = config["study"]["scaling"]
    top = scaling.get("max_hidden", {}).get(dataset, max(scaling["n_hidden"]))
    hidden = sorted(m for m in scaling["n_hidden"] if m <= top)
    exact = [m for m in hidden if m <= scaling["exact_max_hidden"]]
    every = {"exact": exact, "approximate": hidden, "baseline": hidden,
             "exact_lbfgs": exact, "approximate_lbfgs": hidden}  # fmt: skip
    return {role: every[role] for role in scaling_roles(scaling)}


SCALING_ROLES = ("exact", "approximate", "exact_lbfgs", "approximate_lbfgs", "baseline")


def scaling_roles(scaling: dict) -> list[str]:
    """The roles study.scaling runs: EM exact and approximate, the baseline, and the
    optional L-BFGS rows on EM's two objectives."""
    return [role for role in SCALING_ROLES if role in scaling]


def first_splits(config: dict, dataset: str, method: str, n_hidden: int) -> int | None:
    """How many of a dataset's paired splits a job runs: all (None) when the main study or
    the sweep wants the job, else study.scaling's first n_splits (None if that is all)."""
    study = config["study"]
    if "scaling" not in study or (dataset, method, n_hidden) in runs(config, scaling=False):
        return None
    wanted = study["scaling"]["n_splits"]
    return wanted if wanted < n_splits(split_spec(config, dataset)) else None


def study_plan(config: dict) -> dict:
    """What aggregation needs to know of the study: its parts and each method's m."""
    plan = {part: config["study"][part] for part in ("main", "sweep", "ablation", "scaling")
            if part in config["study"]}  # fmt: skip
    plan["n_hidden"] = {name: methods.hidden_units(m) for name, m in config["methods"].items()}
    return plan


def figure_plan(config: dict) -> dict:
    """The study plan with what figures also show: labels, the root seed, timing parts."""
    labels = {name: m.get("label", name) for name, m in config["methods"].items()}
    extra = {part: config["study"][part] for part in ("estep_cost", "moe")
             if part in config["study"]}  # fmt: skip
    return {**study_plan(config), **extra, "labels": labels, "seed": config["seed"]}


def job_spec(config: dict, dataset: str, method: str, n_hidden: int | None = None) -> dict:
    """Everything one (dataset, method, n_hidden) job depends on, and nothing else."""
    if dataset not in config["datasets"]:
        raise ConfigError(f"unknown dataset '{dataset}'; defined: {', '.join(config['datasets'])}")
    if method not in config["methods"]:
        raise ConfigError(f"unknown method '{method}'; defined: {', '.join(config['methods'])}")
    spec = copy.deepcopy(config["methods"][method])
    if n_hidden is not None:
        spec["params"]["n_hidden"] = n_hidden
        check_method(method, spec)
    data = {k: v for k, v in config["datasets"][dataset].items() if k != "splits"}
    job = {
        "seed": config["seed"],
        "dataset": {"name": dataset, **data, "splits": split_spec(config, dataset)},
        "method": {"name": method, **spec},
    }
    count = None if n_hidden is None else first_splits(config, dataset, method, n_hidden)
    cap = None if n_hidden is None else em_cap(config, dataset, method, n_hidden)
    if cap is not None:
        spec["params"]["max_iter"] = cap
    # Only in the spec of a job that runs fewer splits, so no other job's spec changes.
    return job if count is None else {**job, "first_splits": count}


def em_cap(config: dict, dataset: str, method: str, n_hidden: int) -> int | None:
    """study.scaling.em_max_iter's cap for a job of the sweep's own (an EM role's on a
    dataset it names), or None: a job the main study or the hidden-unit sweep wants
    keeps its method's cap."""
    scaling = config["study"].get("scaling")
    if not scaling or method not in (scaling["exact"], scaling["approximate"]):
        return None
    if (dataset, method, n_hidden) in runs(config, scaling=False):
        return None
    return scaling.get("em_max_iter", {}).get(dataset)
