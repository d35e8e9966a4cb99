"""What a schema cannot see: names that refer to nothing, parts of the study that cannot
run as configured, data that cannot be split or searched by inner cross-validation."""

from __future__ import annotations

import numpy as np

from ..core.errors import ConfigError
from ..core.names import config_key
from ..core.seeds import job_seeds
from ..data.datasets import load_dataset, source_of
from ..data.splits import check_splittable, split_indices
from .jobs import runs, scaling_hidden, scaling_roles, split_spec, used_datasets
from .methods import check_method, exact_e_step, hidden_units


def check_reference(config: dict) -> None:
    """study.main.reference must be an exact-likelihood method at the main study's m whose
    gaps it measures, and may not grade itself."""
    main = config["study"]["main"]
    name = main.get("reference")
    if name is None:
        return
    where = f"config: study.main.reference '{name}'"
    if name not in config["methods"]:
        raise ConfigError(
            f"{where} is not a defined method; defined: {', '.join(config['methods'])}"
        )
    if name in main["methods"]:
        raise ConfigError(f"{where} is one of study.main.methods: a reference cannot grade itself")
    method = config["methods"][name]
    if method["model"] not in ("em", "lbfgs") or not exact_e_step(method):
        raise ConfigError(
            f"{where} must maximize the exact objective (model em or lbfgs, exact E-step)"
        )
    widths = {hidden_units(config["methods"][m]) for m in main["methods"]
              if exact_e_step(config["methods"][m])}  # fmt: skip
    if widths and widths != {hidden_units(method)}:
        raise ConfigError(
            f"{where} trains {hidden_units(method)} hidden units, the main study's exact "
            f"trainers {', '.join(map(str, sorted(widths)))}: its optimum is of another objective"
        )


def check_study(config: dict) -> None:
    """Stop with one message when the study refers to something that cannot run."""
    study = config["study"]
    for part in ("main", "sweep"):
        if part not in study:
            continue
        for kind in ("datasets", "methods"):
            for name in study[part][kind]:
                if name not in config[kind]:
                    defined = ", ".join(sorted(config[kind]))
                    raise ConfigError(
                        f"config: study.{part}.{kind} names unknown {kind[:-1]} '{name}'; "
                        f"defined {kind}: {defined}"
                    )
    baseline = study["main"].get("baseline")
    if baseline is not None and baseline not in study["main"]["methods"]:
        raise ConfigError(f"config: study.main.baseline '{baseline}' is not one of its methods")
    for k, contrast in enumerate(study["main"].get("primary", {}).get("contrasts", [])):
        for role in ("method", "baseline"):
            if contrast[role] not in config["methods"]:
                raise ConfigError(
                    f"config: study.main.primary.contrasts[{k}].{role} names unknown method "
                    f"'{contrast[role]}'; defined methods: {', '.join(sorted(config['methods']))}"
                )
    check_reference(config)
    for name, method in config["methods"].items():
        check_method(name, method)
    sweep = study.get("sweep")
    if sweep:
        for name in sweep["methods"]:
            for n_hidden in sweep["n_hidden"]:
                check_method(name, config["methods"][name], n_hidden)
    if "scaling" in study:
        check_scaling(config)
    if "ablation" in study:
        name = study["ablation"]["dataset"]
        if name not in config["datasets"]:
            raise ConfigError(f"config: study.ablation.dataset '{name}' is not defined")
        if source_of(name, config["datasets"][name]) != "iris":
            raise ConfigError(
                f"config: study.ablation.dataset '{name}' must be Iris (source: iris): the "
                "originating study's split and data order are Iris's"
            )
    if "moe" in study:
        check_moe(config)
    for name in used_datasets(config):
        dataset = load_dataset(name, config["datasets"][name])
        check_splittable(name, dataset.y, dataset.classes, split_spec(config, name))
        check_inner_folds(config, dataset)


def check_scaling(config: dict) -> None:
    """study.scaling names an exact EM method, an approximate one and a baseline, each
    able to run at the numbers of hidden units it gets."""
    scaling = config["study"]["scaling"]
    for name in scaling["datasets"]:
        if name not in config["datasets"]:
            defined = ", ".join(sorted(config["datasets"]))
            raise ConfigError(
                f"config: study.scaling.datasets names unknown dataset '{name}'; "
                f"defined datasets: {defined}"
            )
    for role in scaling_roles(scaling):
        if scaling[role] not in config["methods"]:
            raise ConfigError(
                f"config: study.scaling.{role} names unknown method '{scaling[role]}'; "
                f"defined methods: {', '.join(sorted(config['methods']))}"
            )
    exact, approximate = (config["methods"][scaling[r]] for r in ("exact", "approximate"))
    if exact["model"] != "em" or not exact_e_step(exact):
        raise ConfigError(
            f"config: study.scaling.exact: method '{scaling['exact']}' must be EM (model: em) "
            "with the exact E-step"
        )
    if approximate["model"] != "em" or exact_e_step(approximate):
        raise ConfigError(
            f"config: study.scaling.approximate: method '{scaling['approximate']}' must be EM "
            "(model: em) with params.e_step 'variational' or 'monte-carlo'"
        )
    for role, exact in (("exact_lbfgs", True), ("approximate_lbfgs", False)):
        method = config["methods"].get(scaling.get(role))
        if method is not None and (method["model"] != "lbfgs" or exact_e_step(method) != exact):
            kind = "the exact likelihood" if exact else "the mean-field bound (e_step variational)"
            raise ConfigError(
                f"config: study.scaling.{role}: method '{scaling[role]}' must be L-BFGS "
                f"(model: lbfgs) on {kind}"
            )
    for name in scaling.get("em_max_iter", {}):
        if name not in config["datasets"]:
            raise ConfigError(
                f"config: study.scaling.em_max_iter names unknown dataset '{name}'; "
                f"defined datasets: {', '.join(sorted(config['datasets']))}"
            )
    for name, top in scaling.get("max_hidden", {}).items():
        if name not in config["datasets"]:  # a defined dataset the sweep skips is no error
            raise ConfigError(
                f"config: study.scaling.max_hidden names unknown dataset '{name}'; "
                f"defined datasets: {', '.join(sorted(config['datasets']))}"
            )
        if top < min(scaling["n_hidden"]):
            raise ConfigError(
                f"config: study.scaling.max_hidden.{name} is {top}, below every m of "
                f"study.scaling.n_hidden, so {name} would run nothing"
            )
    for dataset in scaling["datasets"]:
        for role, n_hidden in scaling_hidden(config, dataset).items():
            for m in n_hidden:
                check_method(scaling[role], config["methods"][scaling[role]], m)


def check_moe(config: dict) -> None:
    """study.moe runs on datasets of the main study, on (some of) their splits, and is
    compared with one of its methods."""
    moe, main = config["study"]["moe"], config["study"]["main"]
    for name in moe["datasets"]:
        if name not in main["datasets"]:
            raise ConfigError(
                f"config: study.moe.datasets names '{name}', which is not one of "
                f"study.main.datasets ({', '.join(main['datasets'])}): the mixture of experts "
                "runs on the main study's paired splits"
            )
    # Limits of datasets the stage does not run are unused (a layered config may drop one).
    for name in moe["limits"]:
        if name not in config["datasets"]:
            raise ConfigError(f"config: study.moe.limits names unknown dataset '{name}'")
    baseline = moe.get("baseline")
    if baseline is not None and baseline not in main["methods"]:
        raise ConfigError(
            f"config: study.moe.baseline '{baseline}' is not one of study.main.methods"
        )


def check_inner_folds(config: dict, dataset) -> None:
    """A grid searched by inner k-fold cross-validation needs k training rows of every
    class in the training part of every split."""
    searched = sorted({m for d, m, _ in runs(config) if d == dataset.name
                       if config["methods"][m].get("grid")})  # fmt: skip
    if not searched:
        return
    spec = split_spec(config, dataset.name)
    seed = job_seeds(config["seed"], dataset.name, 0)["split"]["seed"]
    for k, (train, _) in enumerate(split_indices(dataset.y, spec, seed)):
        counts = np.bincount(dataset.y[train], minlength=dataset.n_classes)
        smallest = int(np.argmin(counts))
        for name in searched:
            folds = config["methods"][name]["inner_folds"]
            if counts[smallest] < folds:
                raise ConfigError(
                    f"config: method '{name}' searches its grid by {folds}-fold inner "
                    f"cross-validation, but in split {k} of dataset '{dataset.name}' class "
                    f"{dataset.classes[smallest]!r} has {counts[smallest]} training row(s); "
                    f"lower {config_key(('methods', name, 'inner_folds'))}, or give that class "
                    "more rows"
                )
