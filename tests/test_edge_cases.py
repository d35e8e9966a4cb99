"""Numerical edge cases: no NaN, no crash, and a warning where a user should know."""

import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from emnn import EMMLPClassifier, LBFGSMLPClassifier, SGDMLPClassifier, cli
from tests.conftest import small_config


def fit(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    return model, [str(w.message) for w in caught]


def assert_finite(model, X):
    for w in model.coefs_ + model.intercepts_:
        assert np.all(np.isfinite(w))
    assert np.all(np.isfinite(model.history_["objective"]))
    proba = model.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def separable(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(-4, 1, (n // 2, 2)), rng.normal(4, 1, (n // 2, 2))])
    return X, np.repeat([0, 1], n // 2)


@pytest.mark.parametrize(
    "params",
    [{"m_step": "newton"}, {"m_step": "gradient"}, {"acceleration": "squarem"}],
    ids=lambda p: "-".join(p.values()),
)
def test_em_on_separable_classes_without_penalty_stays_finite(params):
    X, y = separable()
    model, _ = fit(EMMLPClassifier(n_hidden=3, l2=0, max_iter=100, random_state=0, **params), X, y)
    assert_finite(model, X)
    objective = np.array(model.history_["objective"])
    assert np.all(np.diff(objective) >= -1e-12 * np.abs(objective[:-1]))
    assert model.score(X, y) == 1.0


def test_lbfgs_on_separable_classes_without_penalty_stays_finite():
    # Without a penalty the optimum is at infinity: L-BFGS runs to its cap with
    # ever larger, but finite, weights.
    X, y = separable()
    model, _ = fit(LBFGSMLPClassifier(n_hidden=3, l2=0, max_iter=100, random_state=0), X, y)
    assert_finite(model, X)
    assert model.score(X, y) == 1.0


def test_sgd_on_separable_classes_without_penalty_stays_finite():
    X, y = separable()
    model, _ = fit(SGDMLPClassifier(n_hidden=3, l2=0, max_epochs=100, random_state=0), X, y)
    assert_finite(model, X)
    assert model.score(X, y) == 1.0


@pytest.mark.parametrize("Model", [EMMLPClassifier, SGDMLPClassifier, LBFGSMLPClassifier])
def test_a_constant_feature_is_harmless(Model):
    X, y = separable()
    X = np.hstack([X, np.full((len(X), 1), 3.0)])  # collinear with the bias
    model, _ = fit(Model(n_hidden=2, l2=0, random_state=1), X, y)
    assert_finite(model, X)


@pytest.mark.parametrize("Model", [EMMLPClassifier, LBFGSMLPClassifier])
def test_exact_likelihood_trainers_handle_very_large_feature_scales(Model):
    X, y = separable()
    X = X * 1e6
    model, _ = fit(Model(n_hidden=3, max_iter=30, random_state=0), X, y)
    assert_finite(model, X)


def test_sgd_that_diverges_keeps_finite_weights_and_says_so():
    # The sigmoid network saturates rather than overflow; only an absurd step size
    # drives its output weights to infinity.
    X, y = separable()
    model, messages = fit(SGDMLPClassifier(n_hidden=3, learning_rate=1e300, random_state=0), X, y)
    assert model.diverged_
    assert any("SGD diverged in epoch" in m and "lower learning_rate" in m for m in messages)
    assert_finite(model, X)
    assert len(model.history_["objective"]) == model.n_iter_


def test_a_study_of_awkward_data_runs_and_notes_what_matters(tmp_path, write_config):
    """Raw features of wildly different scales, a constant column, a class too
    small to reach every test part: the job runs, its numbers are finite, and
    the record says what a reader should know."""
    rng = np.random.default_rng(2)
    rows = 44
    y = np.array(["a"] * 21 + ["b"] * 21 + ["c"] * 2)
    X = np.column_stack([rng.normal(0, 1e5, rows), rng.normal(0, 1e-3, rows), np.full(rows, 7.0)])
    X[y == "b", 0] += 3e5
    lines = ["big,small,flat,label"] + [
        f"{a!r},{b!r},{c!r},{label}" for (a, b, c), label in zip(X.tolist(), y, strict=True)
    ]
    (tmp_path / "awkward.csv").write_text("\n".join(lines) + "\n")
    datasets = {"awkward": {"source": "csv", "path": str(tmp_path / "awkward.csv"),
                            "target": "label",
                            "splits": {"standardize": False, "test_size": 0.1}}}  # fmt: skip
    config = write_config(
        small_config(
            datasets=datasets, study={"main": {"datasets": ["awkward"], "methods": ["sgd"]}}
        )
    )
    notes = []
    for method in ("em-newton", "sgd"):
        for split in range(3):
            out = tmp_path / f"{method}-{split}.json"
            args = ["run", "--config", str(config), "--dataset", "awkward", "--method", method,
                    "--split", str(split), "--out", str(out)]  # fmt: skip
            assert cli.main(args) == 0
            record = json.loads(out.read_text())
            # E-step counts and the exact objective's gradient exist only for the
            # exact-likelihood trainers.
            not_applicable = {"n_estep", "gradient_max"} if method == "sgd" else set()
            for key, value in record["metrics"].items():
                assert key in not_applicable or value is not None, key
            for key, series in record["history"].items():
                if key not in not_applicable:
                    assert all(v is not None and np.isfinite(v) for v in series), key
            notes += record["notes"]
    assert any("class(es) 'c' absent from the test part" in n for n in notes)
    assert any("feature(s) 'flat' constant" in n for n in notes)
    assert any("not standardized and their scales differ widely" in n for n in notes)


def test_convergence_warning_is_a_convergence_warning():
    X, y = separable()
    with pytest.warns(ConvergenceWarning):
        EMMLPClassifier(n_hidden=2, max_iter=2, tol=0).fit(X, y)
