"""Bad configurations stop before anything runs, with one message naming the culprit."""

import datetime

import pytest
import yaml

from emnn.core.errors import ConfigError, StudyError
from emnn.plan import Plan
from emnn.study.config import load_config, validate
from emnn.study.jobs import job_spec, runs
from tests.conftest import REPO, small_config


def edited(**changes):
    config = small_config()
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        target = config
        for part in parents:
            target = target.setdefault(part, {})
        target[key] = value
    return config


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": 1}, "unknown key 'colour' at the top level"),
        ({"splits__n_split": 3}, "unknown key 'n_split' under splits; allowed keys: n_folds"),
        ({"splits__n_splits": "many"}, "splits.n_splits: 'many' is not of type 'integer'"),
        ({"splits__n_splits": 0}, "splits.n_splits: 0 is less than the minimum of 1"),
        ({"splits__n_splits": -2}, "splits.n_splits: -2 is less than the minimum of 1"),
        ({"datasets__iris__sauce": 1}, "unknown key 'sauce' under datasets.iris"),
        ({"methods__sgd__model": "adam"}, "methods.sgd.model: 'adam' is not one of"),
        ({"study__main__datasets": ["iris", "nope"]},
         "study.main.datasets names unknown dataset 'nope'; defined datasets: iris, wine"),
        ({"study__main__methods": ["sgd", "lbfgs"]}, "unknown method 'lbfgs'"),
        ({"methods__em-newton__params__n_hidden": 30},
         "method 'em-newton': the exact E-step takes at most 24 hidden units, got 30: it "
         "enumerates all 2\\^n_hidden configurations .*; set methods.em-newton.params.e_step "
         "to 'variational' or 'monte-carlo'"),
        ({"study__sweep": {"datasets": ["iris"], "methods": ["em-newton"], "n_hidden": [2, 25]}},
         "method 'em-newton' with n_hidden=25: the exact E-step takes at most 24"),
        ({"methods__sgd__params__momentom": 0.5}, "unknown hyperparameter\\(s\\) 'momentom'"),
        ({"methods__sgd__params__momentum": 1.5}, "method 'sgd': momentum must be below 1"),
        ({"datasets__wine__source": "csv"}, "a csv dataset needs both 'path' and 'target'"),
        ({"study__main__baseline": "em-gradient-x"}, "baseline 'em-gradient-x' is not one"),
        ({"study__main__primary": {"contrasts": [{"method": "sgd", "baseline": "lbfgs-x",
                                                  "question": "q"}],
                                   "margins": {"accuracy": 0.02, "log_loss": 0.05}}},
         "study.main.primary.contrasts\\[0\\].baseline names unknown method 'lbfgs-x'; "
         "defined methods: "),
        ({"study__main__primary": {"contrasts": [], "margins": {"accuracy": 0.02}}},
         "study.main.primary.contrasts"),
        ({"study__main__reference": "ref-x"},
         "study.main.reference 'ref-x' is not a defined method"),
        ({"study__main__reference": "em-newton"}, "a reference cannot grade itself"),
        ({"methods__ref": {"model": "sgd", "params": {"n_hidden": 3}},
          "study__main__reference": "ref"}, "must maximize the exact objective"),
        ({"methods__ref": {"model": "lbfgs", "params": {"n_hidden": 4}, "starts": 3},
          "study__main__reference": "ref"},
         "'ref' trains 4 hidden units, the main study's exact trainers 3"),
        ({"methods__sgd__starts": 0}, "methods.sgd.starts: 0 is less than the minimum of 1"),
        ({"methods__sgd__inner_params": {"tol": 1e-2}},
         "method 'sgd': inner_params set without a grid: there is no inner cross-validation"),
        ({"methods__sgd__grid": {"learning_rate": [0.1]},
          "methods__sgd__inner_params": {"tolerance": 1e-2}},
         "unknown hyperparameter\\(s\\) 'tolerance'"),
        ({"methods__sgd__grid": {"learning_rate": [0.1]},
          "methods__sgd__inner_params": {"learning_rate": 0.5}},
         "inner_params may not set random_state, n_hidden or a key the grid searches"),
    ],
)  # fmt: skip
def test_bad_config_stops_with_one_clear_message(write_config, changes, message):
    path = write_config(edited(**changes))
    with pytest.raises(StudyError, match=message):
        load_config([path])


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .*nowhere\.yaml not found"):
        load_config([tmp_path / "nowhere.yaml"])


def test_schema_defaults_are_filled_in(write_config):
    config = load_config([write_config(small_config())])
    assert config["splits"]["scheme"] == "shuffle"
    assert config["splits"]["standardize"] is True
    assert config["report"]["pdf"] == "auto"
    assert config["study"]["estep_cost"]["n_hidden"][-1] == 16
    config["methods"]["sgd"]["params"]["l2"] = 5.0  # each entry owns its defaults
    assert "l2" not in config["methods"]["em-newton"]["params"]


def test_required_pdf_without_tex_stops_early(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    plan = Plan(validate(edited(report={"pdf": "required"})))
    with pytest.raises(ConfigError, match=r"report\.pdf is 'required'.*apt-get install .*lmodern"):
        plan.targets()
    auto = Plan(validate(edited(report={"pdf": "auto"})))
    assert auto.pdf_wanted() is False
    assert "no TeX engine" in auto.pdf_unavailable()
    assert auto.pdf_status() not in auto.targets()


def test_the_smoke_config_alone_is_the_smoke_study_of_the_workflow():
    """`emnn check --config config/smoke.yaml` checks what the workflow runs with
    `--configfile config/smoke.yaml` layered over config/config.yaml."""
    from snakemake.utils import update_config

    alone = load_config([REPO / "config/smoke.yaml"])
    layered = yaml.safe_load((REPO / "config/config.yaml").read_text())
    update_config(layered, yaml.safe_load((REPO / "config/smoke.yaml").read_text()))
    layered = validate(layered)
    assert runs(alone) == runs(layered)
    for job in runs(alone):
        assert job_spec(alone, *job) == job_spec(layered, *job)


def test_an_unquoted_yaml_date_is_the_same_date(tmp_path):
    path = tmp_path / "dated.yaml"
    path.write_text(yaml.safe_dump(small_config()) + "report:\n  date: 2026-11-21\n")
    assert isinstance(yaml.safe_load(path.read_text())["report"]["date"], datetime.date)
    assert load_config([path])["report"]["date"] == "2026-11-21"


def test_an_unquoted_impossible_date_names_the_file(tmp_path):
    path = tmp_path / "dated.yaml"
    path.write_text(yaml.safe_dump(small_config()) + "report:\n  date: 2026-13-01\n")
    with pytest.raises(ConfigError, match=r"dated\.yaml: month must be in 1\.\.12: .*YYYY-MM-DD"):
        load_config([path])


@pytest.mark.parametrize("date", ['"2026-13-01"', "21 November 2026", "2026-11-21 10:00:00"])
def test_a_date_that_is_not_yyyy_mm_dd_is_named(tmp_path, date):
    path = tmp_path / "dated.yaml"
    path.write_text(yaml.safe_dump(small_config()) + f"report:\n  date: {date}\n")
    with pytest.raises(ConfigError, match=r"report\.date: .* is not a date written as YYYY-MM-DD"):
        load_config([path])


def test_config_readme_describes_every_part_of_the_config():
    """config/README.md (the workflow catalog's place for it) names every top-level key
    and every part of `study` the schema defines, so it cannot fall behind."""
    schema = yaml.safe_load((REPO / "emnn/study/config.schema.yaml").read_text())
    readme = (REPO / "config/README.md").read_text()
    parts = [
        *schema["properties"],
        *(f"study.{p}" for p in schema["properties"]["study"]["properties"]),
    ]
    missing = [key for key in parts if f"| `{key}` |" not in readme and key != "study"]
    assert not missing, missing


def test_the_workflow_catalog_file_gives_the_standardized_usage():
    usage = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert "--cores" in usage["mandatory-flags"]["flags"]
    assert usage["software-stack-deployment"]["conda"] is True and usage["report"] is True
