"""The package on its own: dependencies, a non-editable install, and the code each stage runs."""

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml

from emnn.core import provenance
from emnn.study import methods
from tests.conftest import REPO, copy_checkout, small_config


def requirement(text: str) -> tuple[str, str]:
    name, bounds = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(.*)", text).groups()
    return name.lower().replace("_", "-"), bounds.replace(" ", "")


def test_environment_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = dict(
        map(requirement, project["dependencies"] + project["optional-dependencies"]["test"])
    )
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    listed = dict(requirement(d) for d in environment["dependencies"] if isinstance(d, str))
    python = listed.pop("python")
    assert python == project["requires-python"]
    assert listed == wanted


# ------------------------------------------------------------------ a package of its own


def installed_copy(tmp_path: Path) -> Path:
    """A non-editable install of a clean copy of this checkout into tmp_path/site."""
    site, source = tmp_path / "site", copy_checkout(tmp_path / "source")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site)]
    subprocess.run([*pip, str(source)], check=True, capture_output=True)
    return site


@pytest.mark.slow
def test_a_non_editable_install_checks_and_runs_from_any_directory(tmp_path):
    site = installed_copy(tmp_path)
    assert not (site / "emnn/study/config.schema.yaml").is_symlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}

    def emnn(*args):
        return subprocess.run(
            [sys.executable, "-m", "emnn", *args], cwd=elsewhere, env=env,
            capture_output=True, text=True,
        )  # fmt: skip

    smoke = str(REPO / "config/smoke.yaml")
    checked = emnn("check", "--config", smoke)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("config OK")
    done = emnn("run", "--config", smoke, "--dataset", "iris", "--method", "sgd",
                "--split", "0", "--out", "run.json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads((elsewhere / "run.json").read_text())
    assert record["provenance"]["code"]["files"] == provenance.train_sources("emnn.models.sgd")


# ------------------------------------------------------------------ code-aware reruns


def imported_package_files(code: str) -> set[str]:
    """The emnn files a fresh interpreter has imported after running `code`."""
    probe = (
        f"{code}\nimport sys\n"
        "print('\\n'.join(m.__file__ for n, m in sys.modules.items() "
        "if n.split('.')[0] == 'emnn' and getattr(m, '__file__', None)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    return {Path(line).relative_to(REPO).as_posix() for line in done.stdout.split()}


@pytest.mark.parametrize("model", ["em", "sgd", "sklearn-mlp"])
def test_a_training_job_imports_only_the_files_its_rule_declares(model, tmp_path, write_config):
    config = small_config(
        methods={"m": {"model": model, "params": {"n_hidden": 2, "max_iter" if model == "em"
                                                   else "max_epochs": 2}}},
        study={"main": {"datasets": ["iris"], "methods": ["m"]}},
    )  # fmt: skip
    path = write_config(config)
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from emnn.cli import main\n"
        f"main(['run', '--config', {str(path)!r}, '--dataset', 'iris', '--method', 'm', "
        f"'--split', '0', '--out', {str(tmp_path / 'run.json')!r}])"
    )
    declared = set(provenance.train_sources(methods.model_module(model)))
    imported = imported_package_files(code)
    assert f"emnn/{methods.model_module(model).split('.', 1)[1].replace('.', '/')}.py" in imported
    assert imported <= declared, imported - declared
    others = {"em": "emnn/models/em.py", "sgd": "emnn/models/sgd.py"}
    assert all(f not in declared for m, f in others.items() if m != model)


@pytest.mark.parametrize("stage", sorted(set(provenance.STAGE_COMMANDS) - {"train"}))
def test_each_stage_declares_every_module_its_command_imports(stage):
    """Importing what the stage's `emnn` command runs loads no undeclared file."""
    modules = provenance._imports("emnn.cli", provenance.STAGE_COMMANDS[stage])
    imported = imported_package_files(
        "\n".join(f"import {m}" for m in modules) + "\nimport emnn.cli"
    )
    assert imported <= set(provenance.stage_sources(stage)), imported


def test_the_estep_cost_stage_depends_on_the_code_it_times():
    sources = provenance.stage_sources("estep_cost")
    assert {"emnn/models/em.py", "emnn/models/mstep.py", "emnn/models/estep.py"} <= set(sources)
    report = provenance.stage_sources("report")
    assert {"emnn/paper/figures.py", "emnn/parts/main/aggregate.py", "emnn/core/layout.py"} <= set(
        report
    )
    assert "emnn/templates/report.tex.j2" in report


def test_package_files_exist_and_are_declared_by_their_readers():
    train = provenance.train_sources("emnn.models.em")
    assert "emnn/data/iris_seed_split.json" in train and "emnn/study/config.schema.yaml" in train
    for files in [train, *(provenance.stage_sources(s) for s in provenance.STAGE_COMMANDS
                           if s != "train")]:  # fmt: skip
        assert all((REPO / f).is_file() for f in files)


def test_a_paper_built_from_a_git_archive_names_its_commit(tmp_path):
    """`git archive` substitutes the commit (.gitattributes: export-subst), so a report
    rendered outside a git checkout still names the commit it came from."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD", "emnn/core/archive-commit.txt"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp_path, filter="data")
    archived = tmp_path / "emnn/core/archive-commit.txt"
    assert provenance.archive_commit(archived) == f"{head.stdout.strip()} (from a git archive)"
    assert provenance.archive_commit(REPO / "emnn/core/archive-commit.txt") is None
    assert "emnn/core/archive-commit.txt" in provenance.stage_sources("report")
