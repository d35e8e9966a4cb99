"""The study configuration: merged files, schema validation, checks, and what runs.

Config files are merged key by key, later files overriding earlier ones (as
Snakemake merges --configfile over the Snakefile's configfile), validated with
Snakemake's own JSON-schema validator against emnn/study/config.schema.yaml (which also
fills in defaults), then checked for what a schema cannot see: names that refer
to nothing, hyperparameters a model does not take, data that cannot be split.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from ..core import names
from ..core.errors import ConfigError
from ..core.layout import slug
from ..core.seeds import job_seeds
from ..data.datasets import load_dataset, source_of
from ..data.splits import check_splittable, n_splits, split_indices
from ..models.estep import MAX_EXACT_HIDDEN
from . import methods

PACKAGE_FILES = ("config.schema.yaml",)
SCHEMA = resources.files("emnn.study").joinpath(PACKAGE_FILES[0])


def load_config(paths) -> dict:
    """Merge, validate and check the config files, in order of increasing precedence."""
    from snakemake.utils import update_config

    merged: dict = {}
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} not found")
        try:
            content = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
        except ValueError as error:  # an unquoted date that is no date: 2026-13-01
            raise ConfigError(
                f"config file {path}: {error}: an unquoted value YAML reads as a date? "
                "Write dates as YYYY-MM-DD, or quote them"
            ) from None
        if not isinstance(content, dict):
            raise ConfigError(f"config file {path} must hold a mapping of keys, not {content!r}")
        update_config(merged, content)
    config = validate(merged)
    check_study(config)
    return config


def validate(config: dict) -> dict:
    """A validated copy of the config with the schema's defaults filled in."""
    import jsonschema
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate as snakemake_validate

    config = copy.deepcopy(config)
    check_names(config)
    _date_as_text(config)
    try:
        snakemake_validate(config, str(SCHEMA))
    except WorkflowError as error:
        # Snakemake raises from inside its handler of jsonschema's error.
        cause = error.__context__
        if isinstance(cause, jsonschema.ValidationError):
            raise ConfigError(describe(cause)) from None
        raise ConfigError(str(error)) from None
    # Defaults are shared objects of the loaded schema: give every entry its own.
    return copy.deepcopy(config)


def describe(error) -> str:
    """One line naming the config key a schema violation is about."""
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        where = f"under {path}" if path else "at the top level"
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"config: unknown key {', '.join(map(repr, unknown))} {where}{hint}"
    if error.validator == "pattern" and path == "report.date":
        return f"config: report.date: {error.instance!r} is not a date written as YYYY-MM-DD"
    return f"config: {path or 'top level'}: {error.message}"


def _date_as_text(config: dict) -> None:
    """YAML reads an unquoted 2026-11-21 as a date, not text; it means the same date."""
    report = config.get("report")
    if isinstance(report, dict) and isinstance(report.get("date"), datetime.date):
        report["date"] = report["date"].isoformat()


# YAML reads some unquoted words as other things than text: 007 as 7, no as False.
_YAML_TYPES = {bool: "a true/false value", int: "a number", float: "a number",
               type(None): "null (nothing)"}  # fmt: skip


def check_names(config: dict) -> None:
    """Stop with one message naming the key when a name breaks the rule for names
    (emnn.core.names), or two names would share files or read alike. Runs before the
    schema: entries of the wrong type are left for the schema to name."""
    datasets, method_entries = config.get("datasets"), config.get("methods")
    for kind, entries in (("datasets", datasets), ("methods", method_entries)):
        if isinstance(entries, dict):
            for name in entries:
                _check_name((kind,), name, f"{kind[:-1]} name")
            _check_distinct(kind, list(entries))
    for name, method in _items(method_entries):
        if isinstance(method, dict) and "label" in method:
            _check_name(("methods", name, "label"), method["label"], "label")
    for name, dataset in _items(datasets):
        if not isinstance(dataset, dict):
            continue
        if "target" in dataset:
            _check_name(("datasets", name, "target"), dataset["target"], "column name")
        for k, column in enumerate(_list(dataset.get("features"))):
            _check_name(("datasets", name, f"features[{k}]"), column, "column name")
        if isinstance(dataset.get("path"), str):
            _check_path(("datasets", name, "path"), dataset["path"])
    for part, spec in _items(config.get("study")):
        for field, value in _items(spec):
            if field in ("datasets", "methods"):
                for k, item in enumerate(_list(value)):
                    _check_name(("study", part, f"{field}[{k}]"), item, field[:-1] + " name")
            elif field in ("baseline", "dataset"):
                _check_name(("study", part, field), value, field.replace("baseline", "method"))
    report = config.get("report")
    if isinstance(report, dict):
        if isinstance(report.get("title"), str):
            _check_text(("report", "title"), report["title"], "title")
        for k, author in enumerate(_list(report.get("authors"))):
            if isinstance(author, str):
                _check_text(("report", f"authors[{k}]"), author, "author")


def _items(value):
    return value.items() if isinstance(value, dict) else ()


def _list(value):
    return value if isinstance(value, list) else ()


def _key(parts) -> str:
    """A config key for messages: study.main.datasets[2], datasets.'a b'.label."""
    shown = [p if isinstance(p, str) and re.fullmatch(r"[\w\[\]-]+", p) else repr(p)
             for p in parts]  # fmt: skip
    return ".".join(shown)


def _check_name(parts, name, what: str) -> None:
    if not isinstance(name, str):
        kind = _YAML_TYPES.get(type(name), f"a {type(name).__name__}")
        raise ConfigError(
            f"config: {_key(parts)}: the {what} {name!r} is {kind}, not text "
            "(YAML reads unquoted numbers, yes/no, true/false, null and dates so); "
            "write it in quotes"
        )
    problem = names.problem(name)
    if problem:
        raise ConfigError(f"config: {_key(parts)}: the {what} {name!r} {problem}; {names.RULE}")


def _check_text(parts, text: str, what: str) -> None:
    problem = names.text_problem(text)
    if problem:
        raise ConfigError(f"config: {_key(parts)}: the {what} {text!r} {problem}")


def _check_path(parts, path: str) -> None:
    """A data file is an input of the training jobs: Snakemake would read {word} in its
    path as a wildcard (and offers no way to escape it)."""
    from snakemake.io import WILDCARD_REGEX

    _check_text(parts, path, "path")
    found = WILDCARD_REGEX.search(path)
    if found:
        raise ConfigError(
            f"config: {_key(parts)}: the path {path!r} holds {found.group()!r}, which "
            "Snakemake reads as a wildcard in file names; rename the file or folder"
        )


def _check_distinct(kind: str, entries: list[str]) -> None:
    """Names of files must stay apart, on case-insensitive file systems too."""
    looks: dict[str, str] = {}
    files: dict[str, str] = {}
    for name in entries:
        other = looks.setdefault(names.same_looking(name), name)
        if other != name:
            raise ConfigError(
                f"config: {kind}: the names {other!r} and {name!r} differ only in case or in "
                "the form of their characters: they would read alike in the paper, and share "
                "files on a case-insensitive file system; rename one"
            )
        other = files.setdefault(slug(name).casefold(), name)
        if other != name:
            raise ConfigError(
                f"config: {kind}: the names {other!r} and {name!r} would share the file name "
                f"{slug(name)!r} under results/; rename one"
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
            if contrast[role] not in study["main"]["methods"]:
                raise ConfigError(
                    f"config: study.main.primary.contrasts[{k}].{role} '{contrast[role]}' "
                    "is not one of study.main.methods"
                )
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
                    f"lower {_key(('methods', name, 'inner_folds'))}, or give that class more rows"
                )


def check_method(name: str, method: dict, n_hidden: int | None = None) -> None:
    params = dict(method["params"])
    if n_hidden is not None:
        params["n_hidden"] = n_hidden
    where = f"config: method '{name}'" + (f" with n_hidden={n_hidden}" if n_hidden else "")
    if exact_e_step(method) and params.get("n_hidden", 0) > MAX_EXACT_HIDDEN:
        hint = (
            f"; set {_key(('methods', name, 'params', 'e_step'))} to 'variational' or "
            "'monte-carlo' for more"
            if method["model"] == "em"
            else "; EM with e_step 'variational' or 'monte-carlo' (model: em) takes more"
        )
        raise ConfigError(
            f"{where}: the exact E-step takes at most {MAX_EXACT_HIDDEN} hidden units, got "
            f"{params['n_hidden']}: it enumerates all 2^n_hidden configurations for every "
            f"example and iteration{hint}"
        )
    for key, values in method.get("grid", {}).items():
        if key in ("random_state",) or (n_hidden is not None and key == "n_hidden"):
            raise ConfigError(f"{where}: '{key}' cannot be searched by the grid here")
        for value in values:
            _check_values(where, method["model"], {**params, key: value})
    _check_values(where, method["model"], params)


def exact_e_step(method: dict) -> bool:
    """Whether a method's training sums over all 2^m hidden configurations: EM and L-BFGS
    unless their params choose an approximate e_step."""
    return method["model"] in ("em", "lbfgs") and method["params"].get("e_step", "exact") == "exact"


def _check_values(where, model, params):
    try:
        methods.check_values(model, params)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None


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
        for name in main["methods"]:
            found.add((dataset, name, methods.hidden_units(config["methods"][name])))
    if "sweep" in study:
        sweep = study["sweep"]
        for dataset in sweep["datasets"]:
            for name in sweep["methods"]:
                found.update((dataset, name, m) for m in sweep["n_hidden"])
    return sorted(found | set(scaling_runs(config) if scaling else ()))


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


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def spec_hash(spec: dict) -> str:
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()
