"""The study configuration: merged files, schema validation, checks, and what runs.

Config files are merged key by key, later files overriding earlier ones (as
Snakemake merges --configfile over the Snakefile's configfile), validated with
Snakemake's own JSON-schema validator against emnn/config.schema.yaml (which also
fills in defaults), then checked for what a schema cannot see: names that refer
to nothing, hyperparameters a model does not take, data that cannot be split.
"""

from __future__ import annotations

import copy
import hashlib
import json
from importlib import resources
from pathlib import Path

import yaml

from . import methods
from .datasets import load_dataset
from .errors import ConfigError
from .models.estep import MAX_EXACT_HIDDEN
from .splits import check_splittable

PACKAGE_FILES = ("config.schema.yaml",)
SCHEMA = resources.files("emnn").joinpath(PACKAGE_FILES[0])


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
    return f"config: {path or 'top level'}: {error.message}"


def check_study(config: dict) -> None:
    """Stop with one message when the study refers to something that cannot run."""
    study = config["study"]
    for part in ("main", "sweep", "replication"):
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
    for name, method in config["methods"].items():
        check_method(name, method)
    sweep = study.get("sweep")
    if sweep:
        for name in sweep["methods"]:
            for n_hidden in sweep["n_hidden"]:
                check_method(name, config["methods"][name], n_hidden)
    for name in used_datasets(config):
        dataset = load_dataset(name, config["datasets"][name])
        check_splittable(name, dataset.y, dataset.classes, split_spec(config, name))


def check_method(name: str, method: dict, n_hidden: int | None = None) -> None:
    params = dict(method["params"])
    if n_hidden is not None:
        params["n_hidden"] = n_hidden
    where = f"config: method '{name}'" + (f" with n_hidden={n_hidden}" if n_hidden else "")
    if method["model"] in ("em", "lbfgs") and params.get("n_hidden", 0) > MAX_EXACT_HIDDEN:
        raise ConfigError(
            f"{where}: exact EM takes at most {MAX_EXACT_HIDDEN} hidden units, got "
            f"{params['n_hidden']}: its E-step enumerates all 2^n_hidden configurations "
            "for every example and iteration"
        )
    for key, values in method.get("grid", {}).items():
        if key in ("random_state",) or (n_hidden is not None and key == "n_hidden"):
            raise ConfigError(f"{where}: '{key}' cannot be searched by the grid here")
        for value in values:
            _check_values(where, method["model"], {**params, key: value})
    _check_values(where, method["model"], params)


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


def runs(config: dict) -> list[tuple[str, str, int]]:
    """Every (dataset, method, n_hidden) the study trains, each once, sorted."""
    study = config["study"]
    found = set()
    for part in ("main", "replication"):
        if part in study:
            for dataset in study[part]["datasets"]:
                for name in study[part]["methods"]:
                    found.add((dataset, name, methods.hidden_units(config["methods"][name])))
    if "sweep" in study:
        sweep = study["sweep"]
        for dataset in sweep["datasets"]:
            for name in sweep["methods"]:
                found.update((dataset, name, m) for m in sweep["n_hidden"])
    return sorted(found)


def study_plan(config: dict) -> dict:
    """What aggregation needs to know of the study: its parts and each method's m."""
    plan = {part: config["study"][part] for part in ("main", "sweep", "replication")
            if part in config["study"]}  # fmt: skip
    plan["n_hidden"] = {name: methods.hidden_units(m) for name, m in config["methods"].items()}
    return plan


def figure_plan(config: dict) -> dict:
    """The study plan with what figures also show: labels, the root seed, timing parts."""
    labels = {name: m.get("label", name) for name, m in config["methods"].items()}
    extra = {"estep_cost": config["study"]["estep_cost"]} if "estep_cost" in config["study"] else {}
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
    return {
        "seed": config["seed"],
        "dataset": {"name": dataset, **data, "splits": split_spec(config, dataset)},
        "method": {"name": method, **spec},
    }


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def spec_hash(spec: dict) -> str:
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()
