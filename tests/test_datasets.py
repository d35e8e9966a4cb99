"""Datasets: a user's CSV is checked with clear messages; the teacher is reproducible."""

import json
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from emnn import EMMLPClassifier, cli
from emnn.data.datasets import BUNDLED, load_dataset
from tests.conftest import small_config

GOOD = "a,b,label\n" + "".join(f"{i * 0.5},{(i * 7) % 5},{'xyz'[i % 3]}\n" for i in range(30))


def user_datasets(path, **entry):
    return {"datasets": {"mine": {"source": "csv", "path": str(path), "target": "label", **entry}}}


def run_mine(tmp_path, write_config, csv_text, splits=None, **entry):
    """Layer a user's datasets file over a study config and run one job on it."""
    csv = tmp_path / "mine.csv"
    if csv_text is not None:
        csv.write_text(csv_text)
    study = small_config(study={"main": {"datasets": ["mine"], "methods": ["sgd"]}})
    if splits:
        study["splits"].update(splits)
    base = write_config(study, "study.yaml")
    mine = write_config(user_datasets(csv, **entry), "mine.yaml")
    out = tmp_path / "out" / "0.json"
    args = ["run", "--config", str(base), "--config", str(mine), "--dataset", "mine",
            "--method", "sgd", "--split", "0", "--out", str(out)]  # fmt: skip
    return cli.main(args), out


def test_a_good_csv_runs(tmp_path, write_config):
    code, out = run_mine(tmp_path, write_config, GOOD)
    assert code == 0
    record = json.loads(out.read_text())
    assert record["dataset"]["classes"] == ["x", "y", "z"]
    assert record["dataset"]["p"] == 2


def test_selected_features_only(tmp_path, write_config):
    code, out = run_mine(tmp_path, write_config, GOOD, features=["b"])
    assert code == 0
    assert json.loads(out.read_text())["dataset"]["p"] == 1


BAD = {
    "missing file": (None, {}, None, r"mine\.csv\): file not found"),
    "missing target": (GOOD.replace("label", "class"), {}, None,
                       "no target column 'label'; columns are a, b, class"),
    "missing feature": (GOOD, {"features": ["a", "c"]}, None, "no feature column 'c'"),
    "non-numeric": (GOOD.replace("\n1.5,", "\none and a half,", 1), {}, None,
                    "column 'a', line 5: 'one and a half' is not a number"),
    "non-finite": (GOOD.replace("\n1.5,", "\ninf,", 1), {}, None,
                   "column 'a', line 5: value inf is not finite"),
    "missing value": (GOOD.replace("\n1.5,", "\n,", 1), {}, None,
                      "column 'a', line 5: missing value"),
    "one class": ("a,label\n1,x\n2,x\n3,x\n", {}, None, r"holds a single class \('x'\)"),
    "class too small": (GOOD + "9,9,w\n", {}, None,
                        "class 'w' has 1 row\\(s\\); stratified shuffle splits need at least 2"),
    "class too small for k-fold": (GOOD + "9,9,w\n9,8,w\n", {},
                                   {"scheme": "kfold", "n_folds": 3, "n_splits": 3},
                                   r"class 'w' has 2 row\(s\); stratified 3-fold splits "
                                   "need at least 3"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD)
def test_csv_problems_stop_with_one_message_and_write_nothing(tmp_path, write_config, capsys, case):
    text, entry, splits, message = BAD[case]
    code, out = run_mine(tmp_path, write_config, text, splits, **entry)
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("emnn: error:") == 1
    assert "dataset 'mine'" in err
    assert re.search(message, err), err
    assert not out.parent.exists()


def test_teacher_is_reproducible_from_its_seed():
    spec = {"source": "teacher", "n_samples": 200, "n_features": 3, "n_hidden": 2,
            "n_classes": 3, "weight_scale": 3.0, "seed": 5}  # fmt: skip
    first, second = load_dataset("t", spec), load_dataset("t", spec)
    np.testing.assert_array_equal(first.X, second.X)
    np.testing.assert_array_equal(first.y, second.y)
    other = load_dataset("t", {**spec, "seed": 6})
    assert not np.array_equal(first.X, other.X)
    rows = np.arange(50)
    assert first.teacher_log_loss(rows) == second.teacher_log_loss(rows)


def test_em_on_enough_teacher_data_nears_the_teachers_log_loss():
    spec = {"source": "teacher", "n_samples": 6000, "n_features": 3, "n_hidden": 3,
            "n_classes": 3, "weight_scale": 5.0, "seed": 2}  # fmt: skip
    data = load_dataset("t", spec)
    train, test = np.arange(5000), np.arange(5000, 6000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = EMMLPClassifier(n_hidden=3, max_iter=150, l2=0.01, random_state=0)
        model.fit(data.X[train], data.y[train])
    proba = model.predict_proba(data.X[test])
    model_loss = -np.log(proba[np.arange(len(test)), data.y[test]]).mean()
    teacher_loss = data.teacher_log_loss(test)
    chance = np.log(3)
    assert teacher_loss < 0.8 * chance  # the teacher is informative
    assert model_loss < teacher_loss + 0.03


def test_bundled_datasets_load_without_network():
    for name in BUNDLED:
        data = load_dataset(name, {})
        assert data.X.shape[0] == data.y.shape[0] and data.n_classes >= 2
