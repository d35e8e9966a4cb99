"""The mixture-of-experts stage (emnn.parts.moe.runs): paired with the main study, reproducible,
configured and planned like the other stages, and its statistics."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from threadpoolctl import threadpool_limits

from emnn import cli
from emnn.core import provenance
from emnn.core.errors import StudyError
from emnn.core.seeds import job_seeds
from emnn.core.tidy import csv_text
from emnn.data.datasets import load_dataset
from emnn.data.splits import prepare
from emnn.models import moe_model
from emnn.models.common import model_streams
from emnn.parts.moe import comparisons as moe_comparisons
from emnn.parts.moe import contract, section
from emnn.parts.moe import runs as moe_study
from emnn.plan import Plan
from emnn.study.config import load_config, validate
from emnn.study.jobs import job_spec
from emnn.study.training import run_splits
from tests.conftest import copy_checkout, small_config

MOE = {"datasets": ["iris", "wine"], "max_iter": 4, "limits": {"wine": {"n_splits": 2}}}


def moe_config(**moe):
    return small_config(
        study={
            "main": {"datasets": ["iris", "wine"], "methods": ["sgd", "em-newton"]},
            "moe": {**MOE, **moe},
        }
    )


@pytest.fixture(scope="module")
def spec():
    return json.loads(Plan(validate(moe_config())).moe_json())


def test_the_spec_resolves_methods_caps_and_splits(spec):
    assert list(spec["methods"]) == sorted(contract.METHODS)
    assert spec["methods"]["moe-irls-1"]["irls_rate"] == 1.0
    assert spec["methods"]["moe-irls"]["irls_rate"] == 0.5
    assert spec["methods"]["moe-sgd"]["tol"] == 1e-4  # the main SGD's plateau rule
    assert {m["n_experts"] for m in spec["methods"].values()} == {3}
    counts = {d["dataset"]["name"]: (d["max_iter"], d["n_splits"]) for d in spec["datasets"]}
    every = dict.fromkeys(contract.METHODS, 4)
    assert counts == {"iris": (every, 3), "wine": (every, 2)}
    assert spec["methods"]["moe-ecm"]["acceleration"] == "squarem"


def test_a_dataset_can_cap_some_methods_lower():
    limits = {"wine": {"n_splits": 2, "max_iter": {"moe-irls": 2, "moe-irls-1": 3}}}
    plan = Plan(validate(moe_config(limits=limits)))
    caps = {e["dataset"]["name"]: e["max_iter"] for e in json.loads(plan.moe_json())["datasets"]}
    assert caps["wine"] == {"moe-irls-1": 3, "moe-irls": 2, "moe-ecm": 4, "moe-sgd": 4}
    assert caps["iris"] == dict.fromkeys(contract.METHODS, 4)
    part = json.loads(plan.moe_part_json("wine", "moe-irls"))
    assert (part["method"], part["max_iter"], part["n_splits"]) == ("moe-irls", 2, 2)
    assert part["params"] == json.loads(plan.moe_json())["methods"]["moe-irls"]


def test_the_sgd_rate_is_chosen_by_inner_cv_on_the_training_part_only():
    """With learning_rates, moe-sgd's part carries the grid; each split's rate is the one
    of least inner-CV log-loss on its training rows, whatever its test rows hold."""
    sgd = {"learning_rates": [0.01, 0.3], "inner_folds": 2}
    plan = Plan(validate(moe_config(sgd=sgd)))
    part = json.loads(plan.moe_part_json("wine", "moe-sgd"))
    assert part["search"] == {"grid": {"learning_rate": [0.01, 0.3]}, "inner_folds": 2}
    assert "search" not in json.loads(plan.moe_part_json("wine", "moe-ecm"))
    assert "search" not in json.loads(Plan(validate(moe_config())).moe_json())
    assert "learning_rates" not in part["params"]
    dataset = load_dataset("wine", part["dataset"])
    splits = []
    for train, test in moe_study.dataset_splits(part["dataset"], part["seed"]):
        X_train, X_test = prepare(dataset.X, train, test, standardize=True)
        splits.append((X_train, dataset.y[train], X_test, dataset.y[test]))
    splits = splits[: part["n_splits"]]
    chosen = moe_study.chosen_params(part, "wine", splits)
    garbled = [(X, y, X_test * 0 + 7, y_test[::-1]) for X, y, X_test, y_test in splits]
    assert chosen == moe_study.chosen_params(part, "wine", garbled)
    assert {c["learning_rate"] for c in chosen} <= {0.01, 0.3}
    for found in chosen:
        assert {k: v for k, v in found.items() if k != "learning_rate"} == {
            k: v for k, v in part["params"].items() if k != "learning_rate"
        }
    rows, _, _ = moe_study.part_tables(part)
    assert rows["learning_rate"].tolist() == [c["learning_rate"] for c in chosen]


def test_one_job_per_dataset_and_method():
    plan = Plan(validate(moe_config()))
    assert plan.moe_parts() == [(d, m) for d in ("iris", "wine") for m in contract.METHODS]
    assert plan.moe_part_dirs()[0] == "results/moe/iris/moe-irls-1"


def test_the_stage_runs_on_the_main_studys_splits_from_its_seeds(spec):
    """Split k's rows and initial-weight seed are those of the main study's job on split k."""
    config = validate(moe_config())
    with threadpool_limits(limits=1):
        results, _ = moe_study.stage_tables(spec)
        runs = results["moe_runs"]
        for entry in spec["datasets"]:
            name = entry["dataset"]["name"]
            main = run_splits(job_spec(config, name, "sgd"))
            assert len(main) == 3
            stage = moe_study.dataset_splits(entry["dataset"], spec["seed"])
            for (record, _), (train, test) in zip(main, stage, strict=True):
                assert record["split"]["train_indices"] == train.tolist()
                assert record["split"]["test_indices"] == test.tolist()
            record = main[1][0]  # refit split 1 from the record's rows and seed
            dataset = load_dataset(name, entry["dataset"])
            train, test = (np.array(record["split"][f"{p}_indices"]) for p in ("train", "test"))
            X_train, X_test = prepare(dataset.X, train, test, standardize=True)
            row, _, _ = moe_study.fit_one(
                spec["methods"]["moe-ecm"], entry["max_iter"]["moe-ecm"],
                record["seeds"]["init"]["seed"],
                X_train, dataset.y[train], X_test, dataset.y[test], dataset.n_classes,
            )  # fmt: skip
            line = runs[(runs["dataset"] == name) & (runs["method"] == "moe-ecm")]
            line = line[line["split"] == 1].iloc[0]
            for key, value in row.items():
                assert line[key] == value, key
    assert sorted(runs.groupby("dataset")["split"].nunique().items()) == [("iris", 3), ("wine", 2)]


def test_a_stacks_time_is_shared_by_iterations_and_traces_start_at_the_initial_weights(spec):
    """The runs of a method on a dataset train as one stack; each gets the share of its
    wall time that its iterations are, so all of them show one time per iteration."""
    results, timings = moe_study.stage_tables(spec)
    times = timings["moe_fit_times"]
    assert (times["fit_seconds"] > 0).all()
    for _, group in times.groupby(["dataset", "method"]):
        per_iteration = group["seconds_per_iteration"].to_numpy()
        np.testing.assert_allclose(per_iteration, per_iteration[0], rtol=1e-12)
    entry = spec["datasets"][0]
    dataset = load_dataset(entry["dataset"]["name"], entry["dataset"])
    train, test = moe_study.dataset_splits(entry["dataset"], spec["seed"])[0]
    X, _ = prepare(dataset.X, train, test, standardize=True)
    seed = job_seeds(spec["seed"], dataset.name, 0)["init"]["seed"]
    Gt, Et = moe_model.initial_weights(X.shape[1], 3, dataset.n_classes, model_streams(seed)[0])
    data = moe_model.StackData.single(X, dataset.y[train], dataset.n_classes)
    l2 = np.array([spec["methods"]["moe-sgd"]["l2"]])
    initial = moe_model.e_step(data, Gt[None], Et[None]).log_likelihood - moe_model.penalty(
        Gt[None], Et[None], l2
    )
    traces = results["moe_traces"]
    first = traces[(traces["dataset"] == dataset.name) & (traces["iteration"] == 0)]
    assert len(first) == len(spec["methods"])
    np.testing.assert_allclose(first["objective"], initial[0], rtol=1e-12)


def test_a_rerun_writes_byte_identical_tables(spec, tmp_path):
    """Each part (one method on one dataset) is a job of its own; the tables gathered from
    the parts are those of the whole stage in one process, and a rerun gives the same
    bytes."""
    plan = Plan(validate(moe_config()))
    outputs = []
    for name in ("first", "second"):
        parts = []
        for dataset, method in plan.moe_parts():
            part = tmp_path / name / "parts" / dataset / method
            assert cli.main(["moe", "--spec", plan.moe_part_json(dataset, method),
                             "--out", str(part)]) == 0  # fmt: skip
            assert {p.name for p in part.iterdir()} == {"runs.csv", "traces.csv", "timing.csv"}
            parts.append(str(part))
        out, timing = tmp_path / name, tmp_path / name / "timing"
        args = ["moe-tables", "--parts", *parts, "--out", str(out), "--timing-out", str(timing)]
        assert cli.main(args) == 0
        outputs.append({t: (out / f"{t}.csv").read_bytes() for t in contract.TABLE_NAMES})
        assert all((timing / f"{t}.csv").is_file() for t in contract.TIMING_NAMES)
    assert outputs[0] == outputs[1]
    whole, _ = moe_study.stage_tables(spec)
    for name, frame in whole.items():
        assert outputs[0][name] == csv_text(frame).encode(), name
    runs = pd.read_csv(tmp_path / "first/moe_runs.csv")
    assert list(runs[["dataset", "method", "split"]].itertuples(index=False)) == sorted(
        runs[["dataset", "method", "split"]].itertuples(index=False)
    )
    assert (runs["test_accuracy"] == runs["n_correct"] / runs["n_test"]).all()
    traces = pd.read_csv(tmp_path / "first/moe_traces.csv")
    assert set(traces["split"]) == {0}
    last = traces.groupby(["dataset", "method"]).last()
    final = runs[runs["split"] == 0].set_index(["dataset", "method"])
    assert np.array_equal(last["objective"], final.loc[last.index, "train_objective"])
    assert np.array_equal(last["iteration"], final.loc[last.index, "iterations"])


def test_ever_decreased_counts_a_fall_beyond_rounding():
    # Falls to iterations 2 and 4; the first at 2 (iteration 0 is the initial weights).
    assert moe_study.decreases([-10.0, -5.0, -6.5, -4.0, -4.2, -3.0]) == (True, 2, 1.5, 2)
    assert moe_study.decreases([-10.0, -5.0, -5.0, -4.0, -3.0]) == (False, 0, 0.0, 0)
    assert moe_study.decreases([-1e3, -1e3 * (1 + 1e-13), -999.0]) == (False, 0, 0.0, 0)
    assert moe_study.decreases([-7.0]) == (False, 0, 0.0, 0)


def test_an_irls_step_at_rate_one_is_caught_falling():
    """The recorded case of tests/test_moe.py: IRLS at rate 1 on iris, K = 3, seed 2."""
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = {"algorithm": "em-irls", "irls_rate": 1.0, "n_experts": 3, "l2": 0.1, "tol": 0.0}
    row, trace, _ = moe_study.fit_one(params, 10, 2, X, y, X, y, 3)
    assert row["ever_decreased"] and row["largest_decrease"] == -np.diff(trace).min() > 0
    assert trace.size == 11 and row["train_objective"] == trace[-1]
    # The first fall lands where the trace first goes down.
    assert row["first_decrease"] == int(np.flatnonzero(np.diff(trace) < 0)[0]) + 1
    row, _, _ = moe_study.fit_one({**params, "irls_rate": 0.5}, 100, 2, X, y, X, y, 3)
    assert not row["ever_decreased"] and row["largest_decrease"] == 0.0


@pytest.mark.parametrize(
    ("moe", "message"),
    [
        ({"datasets": ["iris", "digits"]}, "study.moe.datasets names 'digits', which is not one"),
        ({"methods": ["moe-irls", "moe-newton"]}, "study.moe.methods.1: 'moe-newton' is not one"),
        ({"baseline": "lbfgs"}, "study.moe.baseline 'lbfgs' is not one of study.main.methods"),
        ({"limits": {"digits": {"max_iter": 3}}}, "study.moe.limits names unknown dataset"),
        ({"irls_rate": 1.0}, "study.moe.irls_rate: 1.0 is greater than or equal to the maximum"),
        ({"n_expert": 3}, "unknown key 'n_expert' under study.moe"),
    ],
)
def test_a_bad_moe_section_stops_with_one_clear_message(write_config, moe, message):
    with pytest.raises(StudyError, match=re.escape(message)):
        load_config([write_config(moe_config(**moe))])


def test_the_stage_depends_on_the_moe_model_and_no_mlp_training_code():
    files = provenance.stage_sources("moe")
    assert {"emnn/models/moe.py", "emnn/parts/moe/runs.py", "emnn/core/stats.py"} <= set(files)
    assert not {"emnn/models/em.py", "emnn/study/training.py", "emnn/models/scoring.py"} & set(
        files
    )


def test_no_moe_section_no_moe_outputs():
    plan = Plan(validate(small_config()))
    assert not plan.moe and plan.moe_outputs() == plan.moe_timing_outputs() == []
    assert "moe-objective" not in plan.figures
    with_moe = Plan(validate(moe_config()))
    assert "results/tables/moe_runs.csv" in with_moe.moe_outputs()
    assert "moe-objective" in with_moe.figures  # drawn, and read by the report
    assert with_moe.figure_inputs("moe-objective") == [
        "results/tables/moe_traces.csv",
        "results/tables/moe_runs.csv",  # which traced runs stopped at their cap
    ]


# ------------------------------------------------------------------ statistics


def fake_moe_runs(n_splits=6):
    rng = np.random.default_rng(0)
    lines = []
    for dataset in ("iris", "wine"):
        for shift, method in enumerate(contract.METHODS):
            for k in range(n_splits):
                lines.append({"dataset": dataset, "method": method, "split": k,
                              "n_train": 120, "n_test": 30,
                              "test_accuracy": 0.8 + 0.02 * shift + 0.01 * rng.random(),
                              "test_log_loss": 0.5 - 0.01 * shift + 0.01 * rng.random(),
                              "train_objective": -20.0 + shift + rng.random()})  # fmt: skip
    return pd.DataFrame(lines)


def fake_mlp_runs():
    lines = [{"dataset": d, "method": m, "n_hidden": 7, "split": k,
              "test_accuracy": acc + 0.001 * k, "test_log_loss": 0.4}
             for d in ("iris", "wine") for m, acc in (("sgd", 0.85), ("lbfgs", 0.9))
             for k in range(20)]  # fmt: skip
    return pd.DataFrame(lines)


def test_the_best_mlp_is_chosen_among_trainers_that_converged():
    mlp = fake_mlp_runs().assign(converged="True")  # as a CSV reader may leave it
    assert moe_comparisons.best_mlp(mlp, "iris") == "lbfgs"
    mlp.loc[(mlp["method"] == "lbfgs") & (mlp["split"] == 3), "converged"] = "False"
    assert moe_comparisons.best_mlp(mlp, "iris") == "sgd"  # lbfgs stopped at its cap once
    mlp["converged"] = False  # none finished: the best of all
    assert moe_comparisons.best_mlp(mlp, "iris") == "lbfgs"


def test_comparisons_pair_every_method_and_the_best_mlp_under_one_holm_family():
    moe, mlp = fake_moe_runs(), fake_mlp_runs()
    table = moe_comparisons.comparisons(moe, mlp)
    per_dataset = table[table["dataset"] == "iris"]
    pairs = set(zip(per_dataset["method"], per_dataset["other"], strict=True))
    assert ("moe-ecm", "moe-irls") in pairs and ("moe-irls", "moe-irls-1") in pairs
    assert {o for m, o in pairs if o not in contract.METHODS} == {"lbfgs"}  # the best
    # 6 MoE pairs x 3 metrics + 4 MLP pairs x 2 metrics, per dataset.
    assert len(per_dataset) == 6 * 3 + 4 * 2 and len(table) == 2 * 26
    assert set(table.loc[table["other_kind"] == "mlp", "metric"]) == {"accuracy", "log_loss"}
    assert (table["n_splits"] == 6).all()  # the splits both sides ran
    assert (table["p_holm"] >= table["p_value"]).all() and (table["family_size"] == 52).all()
    ecm = table.set_index(["dataset", "method", "other", "metric"]).loc[
        ("iris", "moe-ecm", "moe-irls-1", "accuracy")
    ]
    assert ecm["mean_difference"] > 0 and ecm["wins"] == 6
    fixed = moe_comparisons.comparisons(moe, mlp, baseline="sgd")
    assert set(fixed.loc[fixed["other_kind"] == "mlp", "other"]) == {"sgd"}
    alone = moe_comparisons.comparisons(moe)
    assert set(alone["other_kind"]) == {"moe"} and len(alone) == 2 * 18


def test_objectives_are_compared_by_the_sign_test_and_one_divergence_does_not_hide_it():
    moe = fake_moe_runs()
    irls = (moe["dataset"] == "iris") & (moe["method"] == "moe-irls-1")
    ecm = (moe["dataset"] == "iris") & (moe["method"] == "moe-ecm")
    moe.loc[irls, "train_objective"] = -20.0
    moe.loc[ecm, "train_objective"] = -10.0  # ECM higher on all six splits
    table = moe_comparisons.comparisons(moe).set_index(["dataset", "method", "other", "metric"])
    row = table.loc[("iris", "moe-ecm", "moe-irls-1", "objective")]
    assert row["test"] == "sign" and row["p_value"] == pytest.approx(2 * 0.5**6)
    assert np.isnan(row["t"]) and np.isnan(row["ci_low"])
    # One diverged IRLS run makes the mean huge and a t-test blind; the sign test is not.
    moe.loc[irls & (moe["split"] == 0), "train_objective"] = -1.2e16
    table = moe_comparisons.comparisons(moe).set_index(["dataset", "method", "other", "metric"])
    row = table.loc[("iris", "moe-ecm", "moe-irls-1", "objective")]
    assert row["p_value"] == pytest.approx(2 * 0.5**6) and row["wins"] == 6
    assert row["median_difference"] == pytest.approx(10.0 / 120)
    assert row["mean_difference"] > 1e13
    accuracy = table.loc[("iris", "moe-ecm", "moe-irls-1", "accuracy")]
    assert accuracy["test"] == "corrected t"


def test_an_objective_taken_where_a_cap_stopped_a_run_is_counted():
    moe = fake_moe_runs().assign(converged=True)
    capped = (moe["dataset"] == "iris") & (moe["method"] == "moe-irls-1") & (moe["split"] < 2)
    moe.loc[capped, "converged"] = False
    table = moe_comparisons.comparisons(moe, converged_only=True)
    rows = table.set_index(["dataset", "method", "other", "metric"])
    # The objective pairs every split, the two capped ones included, and counts them.
    objective = rows.loc[("iris", "moe-ecm", "moe-irls-1", "objective")]
    assert objective["n_splits"] == 6 and objective["n_capped"] == 2
    # Test metrics pair the converged splits only: none of them capped.
    accuracy = rows.loc[("iris", "moe-ecm", "moe-irls-1", "accuracy")]
    assert accuracy["n_splits"] == 4 and accuracy["n_capped"] == 0
    assert (table.loc[table["dataset"] == "wine", "n_capped"] == 0).all()
    assert moe_comparisons.comparisons(fake_moe_runs())["n_capped"].isna().all()  # unknown
    names = {m: m for m in contract.METHODS}
    shown = section.comparison_table(table, ["iris"], names, {})
    cells = [row for group in shown["groups"] for row in group]
    assert any(row[4] == "2/6" for row in cells) and any(row[4] == "0/6" for row in cells)


def test_main_mlp_runs_keeps_each_main_method_at_its_own_width():
    runs = pd.concat([fake_mlp_runs(), fake_mlp_runs().assign(n_hidden=3)])
    study = {"main": {"datasets": ["iris"], "methods": ["sgd", "lbfgs"]},
             "n_hidden": {"sgd": 7, "lbfgs": 7}}  # fmt: skip
    chosen = moe_comparisons.main_mlp_runs(runs, study)
    assert set(chosen["dataset"]) == {"iris"} and set(chosen["n_hidden"]) == {7}
    assert len(chosen) == 2 * 20


# ------------------------------------------------------------------ workflow


@pytest.mark.slow
def test_the_dry_run_plans_the_moe_rule_only_when_configured(tmp_path):
    root = copy_checkout(tmp_path / "repo")
    run = [sys.executable, "-m", "snakemake", "-n", "--configfile", "config/smoke.yaml"]

    def planned():
        done = subprocess.run(run, cwd=root, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    out = planned()
    assert len(re.findall(r"^rule moe:", out, re.M)) == 8  # 2 datasets x 4 methods
    assert re.search(r"^rule moe_tables:", out, re.M)
    assert "results/tables/moe_runs.csv" in out
    for name in ("config/config.yaml", "config/smoke.yaml"):
        config = yaml.safe_load((root / name).read_text())
        del config["study"]["moe"]
        (root / name).write_text(yaml.safe_dump(config))
    out = planned()
    assert "rule moe:" not in out and "moe_runs" not in out
