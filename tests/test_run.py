"""`emnn run`: reproducible, paired, self-describing jobs."""

import json

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from emnn import cli
from emnn.data.splits import original_split, prepare
from emnn.study.config import load_config
from emnn.study.jobs import job_spec
from emnn.study.training import run_splits
from tests.conftest import REPO, small_config


def run(config_path, dataset, method, split, out, *extra):
    args = ["run", "--config", str(config_path), "--dataset", dataset, "--method", method,
            "--split", str(split), "--out", str(out), *extra]  # fmt: skip
    return cli.main(args)


def test_same_job_twice_gives_identical_bytes(tmp_path, write_config):
    config = write_config(small_config())
    assert run(config, "iris", "em-newton", 1, tmp_path / "a.json") == 0
    assert run(config, "wine", "sgd", 0, tmp_path / "other.json") == 0  # something in between
    assert run(config, "iris", "em-newton", 1, tmp_path / "b.json") == 0
    first = (tmp_path / "a.json").read_bytes()
    assert first == (tmp_path / "b.json").read_bytes()
    record = json.loads(first)
    assert record["metrics"]["iterations"] == 8
    assert (tmp_path / "a.timing.json").exists()
    assert "fit_seconds" not in first.decode()  # wall-clock times live in the timing file only


def test_a_record_does_not_depend_on_the_other_splits_of_its_batch(tmp_path, write_config):
    config = write_config(small_config())
    assert run(config, "wine", "em-gradient", "all", tmp_path / "batch") == 0
    assert sorted(p.name for p in (tmp_path / "batch").iterdir()) == [
        "0.json", "0.timing.json", "1.json", "1.timing.json", "2.json", "2.timing.json",
    ]  # fmt: skip
    assert run(config, "wine", "em-gradient", 2, tmp_path / "alone.json") == 0
    assert (tmp_path / "batch" / "2.json").read_bytes() == (tmp_path / "alone.json").read_bytes()


def test_methods_are_paired_on_each_split():
    config = load_config_dict(small_config())
    records = {
        method: [r for r, _ in run_splits(job_spec(config, "iris", method))]
        for method in ("em-newton", "sgd", "sgd-wide")
    }
    for k in range(3):
        em, sgd = records["em-newton"][k], records["sgd"][k]
        assert em["split"]["test_indices"] == sgd["split"]["test_indices"]
        assert em["split"]["train_indices"] == sgd["split"]["train_indices"]
        # Same split and n_hidden: the same initial weights (the models draw them
        # from random_state; test_models checks that EM and SGD agree on them).
        assert em["method"]["params"]["random_state"] == sgd["method"]["params"]["random_state"]
        assert records["sgd-wide"][k]["split"]["test_indices"] == sgd["split"]["test_indices"]
    tests = [tuple(r["split"]["test_indices"]) for r in records["sgd"]]
    assert len(set(tests)) == 3
    seeds = [r["method"]["params"]["random_state"] for r in records["sgd"]]
    assert len(set(seeds)) == 3


def load_config_dict(config: dict) -> dict:
    from emnn.study.checks import check_study
    from emnn.study.config import validate

    config = validate(config)
    check_study(config)
    return config


def test_standardization_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 2.0, size=(40, 3))
    train, test = np.arange(30), np.arange(30, 40)
    X_train, X_test = prepare(X, train, test, standardize=True)
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0), 1, atol=1e-12)
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    np.testing.assert_allclose(X_test, (X[test] - mean) / std)
    raw_train, _ = prepare(X, train, test, standardize=False)
    np.testing.assert_array_equal(raw_train, X[train])


def test_changing_test_rows_does_not_change_training(tmp_path, write_config):
    """Leakage check end to end: wildly different test features, identical training."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(60, 3)), np.repeat([0, 1, 2], 20)
    datasets = {"table": {"source": "csv", "path": str(tmp_path / "data.csv"), "target": "y"}}
    config = write_config(
        small_config(datasets=datasets, study={"main": {"datasets": ["table"], "methods": ["sgd"]}})
    )

    def fit(features):
        rows = [
            ",".join(map(repr, row.tolist())) + f",{c}" for row, c in zip(features, y, strict=True)
        ]
        lines = ["a,b,c,y", *rows]
        (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
        assert run(config, "table", "sgd", 0, tmp_path / "r.json") == 0
        return json.loads((tmp_path / "r.json").read_text())

    before = fit(X)
    test = before["split"]["test_indices"]
    shifted = X.copy()
    shifted[test] = shifted[test] * 1000.0 + 50.0
    after = fit(shifted)
    assert after["history"]["train_objective"] == before["history"]["train_objective"]
    assert after["history"]["test_log_loss"] != before["history"]["test_log_loss"]


def test_the_original_split_scheme_reproduces_its_split(tmp_path):
    config = load_config([REPO / "config" / "config.yaml"])
    spec = job_spec(config, "iris", "sgd")
    spec["dataset"]["splits"] = {"scheme": "original", "standardize": False}
    spec["method"]["params"]["max_epochs"] = 1
    del spec["method"]["grid"]
    ((record, _),) = run_splits(spec)
    train, test = original_split()
    assert (len(record["split"]["train_indices"]), len(record["split"]["test_indices"])) == (
        120,
        30,
    )
    assert record["split"]["train_indices"] == train.tolist()
    assert record["split"]["test_indices"] == test.tolist()
    expected_train, expected_test = train_test_split(
        np.arange(150), test_size=0.2, random_state=1017
    )
    assert sorted(expected_test) == test.tolist()
    assert sorted(expected_train) == train.tolist()
    assert record["split"]["standardize"] is False


def test_grid_search_chooses_on_the_training_part(tmp_path, write_config):
    methods = {
        "sgd": {
            "model": "sgd",
            "params": {"n_hidden": 3, "max_epochs": 5},
            "grid": {"l2": [0.01, 1.0], "learning_rate": [0.05, 0.1]},
            "inner_folds": 2,
        }
    }
    config = write_config(
        small_config(methods=methods, study={"main": {"datasets": ["iris"], "methods": ["sgd"]}})
    )
    assert run(config, "iris", "sgd", 0, tmp_path / "r.json") == 0
    record = json.loads((tmp_path / "r.json").read_text())
    selection = record["method"]["selection"]
    assert len(selection["candidates"]) == 4
    best = min(selection["candidates"], key=lambda c: c["mean_log_loss"])
    assert selection["chosen"] == best["params"]
    for key, value in selection["chosen"].items():
        assert record["method"]["params"][key] == value


def test_unknown_split_and_names_stop_with_a_message(tmp_path, write_config, capsys):
    config = write_config(small_config())
    assert run(config, "iris", "sgd", 3, tmp_path / "r.json") == 2
    assert "split 3 does not exist" in capsys.readouterr().err
    assert run(config, "iris", "adam", 0, tmp_path / "r.json") == 2
    assert "unknown method 'adam'" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_progress_is_logged(tmp_path, write_config, caplog, monkeypatch):
    from emnn.study import training as experiment

    monkeypatch.setattr(experiment, "PROGRESS_SECONDS", 0.0)
    config = write_config(small_config())
    with caplog.at_level("INFO", logger="emnn.run"):
        assert run(config, "iris", "em-newton", 0, tmp_path / "r.json") == 0
    progress = [r.getMessage() for r in caplog.records if "objective" in r.getMessage()]
    assert any("iteration 8" in line for line in progress)


def test_a_method_with_starts_keeps_its_best_start_none_from_the_main_initial_weights():
    methods = {
        "lbfgs": {"model": "lbfgs", "params": {"n_hidden": 3, "max_iter": 200}},
        "ref": {"model": "lbfgs", "params": {"n_hidden": 3, "max_iter": 200}, "starts": 3},
    }
    config = load_config_dict(small_config(methods=methods, study={"main": {
        "datasets": ["wine"], "methods": ["lbfgs"], "reference": "ref"}}))  # fmt: skip
    (main, _), (second, _) = run_splits(job_spec(config, "wine", "lbfgs"))[:2]
    records = [r for r, _ in run_splits(job_spec(config, "wine", "ref"))]
    assert len(records) == 3
    for k, record in enumerate(records):
        starts = record["method"]["starts"]
        assert len(starts) == 3 and len({s["seed"] for s in starts}) == 3
        assert [s["spawn_key"][1:] for s in starts] == [[k, 3, 0], [k, 3, 1], [k, 3, 2]]
        assert "init" not in record["seeds"]  # no start uses the main study's stream
        assert record["metrics"]["train_objective"] == max(s["train_objective"] for s in starts)
        kept = [s for s in starts if s["train_objective"] == record["metrics"]["train_objective"]]
        assert record["method"]["params"]["random_state"] == kept[0]["seed"]
    main_seeds = {main["seeds"]["init"]["seed"], second["seeds"]["init"]["seed"]}
    assert not main_seeds & {s["seed"] for r in records for s in r["method"]["starts"]}


def test_inner_cross_validation_logs_its_progress(tmp_path, write_config, caplog, monkeypatch):
    from emnn.study import selection

    monkeypatch.setattr(selection, "PROGRESS_SECONDS", 0.0)
    methods = {"sgd": {"model": "sgd", "params": {"n_hidden": 3, "max_epochs": 4},
                       "grid": {"learning_rate": [0.05, 0.1]}, "inner_folds": 2}}  # fmt: skip
    config = write_config(
        small_config(methods=methods, study={"main": {"datasets": ["iris"], "methods": ["sgd"]}})
    )
    with caplog.at_level("INFO", logger="emnn.run"):
        assert run(config, "iris", "sgd", "all", tmp_path / "runs") == 0
    lines = [r.getMessage() for r in caplog.records if "inner cross-validation" in r.getMessage()]
    assert "training 12 networks together (3 splits x 2 candidates x 2 folds)" in lines[0]
    assert any("iteration 4, " in line and "of 12 networks still training" in line
               for line in lines)  # fmt: skip
    assert "done in" in lines[-1]


@pytest.mark.parametrize("layers", [1, 2])
def test_later_config_files_override_earlier_ones_key_by_key(tmp_path, write_config, layers):
    base = write_config(small_config(), "base.yaml")
    extra = write_config({"methods": {"sgd": {"params": {"max_epochs": 4}}}}, "extra.yaml")
    files = [base, extra][:layers]
    config = load_config(files)
    expected = 4 if layers == 2 else 8
    assert config["methods"]["sgd"]["params"] == {"n_hidden": 3, "max_epochs": expected}


def test_every_command_runs_on_one_blas_thread():
    """`emnn`'s one-thread limit must reach NumPy's BLAS: set before NumPy is loaded it
    reaches nothing, and a job then uses every core (and its bits can depend on how many)."""
    import os
    import subprocess
    import sys

    probe = (
        "import emnn.cli as cli, threadpoolctl\n"
        "cli.COMMANDS['check'] = lambda args, parser: print(sorted({"
        "p['num_threads'] for p in threadpoolctl.threadpool_info() "
        "if p['user_api'] == 'blas'})) or 0\n"
        "raise SystemExit(cli.main(['check', '--config', 'unused.yaml']))\n"
    )
    limits = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env = {k: v for k, v in os.environ.items() if k not in limits}  # no limit but emnn's
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "[1]", done.stdout + done.stderr
