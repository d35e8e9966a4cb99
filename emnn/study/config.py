"""The study configuration: merged files, schema validation, and the rule for names.

Config files are merged key by key, later files overriding earlier ones (as
Snakemake merges --configfile over the Snakefile's configfile), validated with
Snakemake's own JSON-schema validator against emnn/study/config.schema.yaml (which also
fills in defaults), then checked for what a schema cannot see (emnn.study.checks):
names that refer to nothing, hyperparameters a model does not take, data that cannot
be split. What the config asks to run is emnn.study.jobs.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
from importlib import resources
from pathlib import Path

import yaml

from ..core import names
from ..core.errors import ConfigError
from ..core.layout import slug
from ..core.names import config_key
from .checks import check_study

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


def _check_name(parts, name, what: str) -> None:
    if not isinstance(name, str):
        kind = _YAML_TYPES.get(type(name), f"a {type(name).__name__}")
        raise ConfigError(
            f"config: {config_key(parts)}: the {what} {name!r} is {kind}, not text "
            "(YAML reads unquoted numbers, yes/no, true/false, null and dates so); "
            "write it in quotes"
        )
    problem = names.problem(name)
    if problem:
        raise ConfigError(
            f"config: {config_key(parts)}: the {what} {name!r} {problem}; {names.RULE}"
        )


def _check_text(parts, text: str, what: str) -> None:
    problem = names.text_problem(text)
    if problem:
        raise ConfigError(f"config: {config_key(parts)}: the {what} {text!r} {problem}")


def _check_path(parts, path: str) -> None:
    """A data file is an input of the training jobs: Snakemake would read {word} in its
    path as a wildcard (and offers no way to escape it)."""
    from snakemake.io import WILDCARD_REGEX

    _check_text(parts, path, "path")
    found = WILDCARD_REGEX.search(path)
    if found:
        raise ConfigError(
            f"config: {config_key(parts)}: the path {path!r} holds {found.group()!r}, which "
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


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def spec_hash(spec: dict) -> str:
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()
