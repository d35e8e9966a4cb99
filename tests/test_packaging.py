"""The conda environment and pyproject.toml name the same dependencies and bounds."""

import re
import tomllib

import yaml

from tests.conftest import REPO


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
