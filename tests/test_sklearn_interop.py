"""scikit-learn conventions: check_estimator, clone, Pipeline, cross_val_score, clear errors."""

import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import emnn
from emnn import EMMLPClassifier, LBFGSMLPClassifier, MoEClassifier, SGDMLPClassifier
from emnn.models.deterministic_lbfgs import DeterministicLBFGSClassifier
from emnn.models.sklearn_mlp import SklearnMLP

X_GOOD, Y_GOOD = load_iris(return_X_y=True)

MODELS = [
    EMMLPClassifier(n_hidden=5, max_iter=100, random_state=0),
    SGDMLPClassifier(n_hidden=5, random_state=0),
    LBFGSMLPClassifier(n_hidden=5, random_state=0),
    DeterministicLBFGSClassifier(n_hidden=5, random_state=0),
]

# Small settings keep scikit-learn's whole battery of checks to a few seconds.
CHECKED = [
    EMMLPClassifier(n_hidden=3, max_iter=20, random_state=0),
    EMMLPClassifier(n_hidden=3, max_iter=8, acceleration="squarem", random_state=0),
    SGDMLPClassifier(n_hidden=3, max_epochs=20, random_state=0),
    LBFGSMLPClassifier(n_hidden=3, max_iter=50, random_state=0),
    DeterministicLBFGSClassifier(n_hidden=3, max_iter=50, random_state=0),
]


def expected_failed_checks(estimator):
    """None: every check applies to these classifiers and passes. (check_array_api_input
    is skipped by scikit-learn itself unless SCIPY_ARRAY_API is set; it does not fail.)"""
    return {}


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def emnn_estimators():
    """Every concrete estimator class defined anywhere in the emnn package."""
    found = {}
    for module in pkgutil.walk_packages(emnn.__path__, "emnn."):
        if module.name.endswith("__main__"):
            continue
        for name, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and cls.__module__.startswith("emnn")
                and not name.startswith("_")
                and callable(getattr(cls, "fit", None))
            ):
                found[f"{cls.__module__}.{name}"] = cls
    return found


ESTIMATORS = emnn_estimators()


def test_the_estimator_list_holds_every_known_estimator():
    for cls in (EMMLPClassifier, SGDMLPClassifier, LBFGSMLPClassifier, SklearnMLP,
                DeterministicLBFGSClassifier):  # fmt: skip
        assert cls in ESTIMATORS.values()


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_predicting_before_fit_raises_not_fitted_error(name, method):
    with pytest.raises(NotFittedError):
        getattr(ESTIMATORS[name](), method)(X_GOOD)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_cross_val_score_on_standardized_iris(model):
    X, y = load_iris(return_X_y=True)
    pipeline = make_pipeline(StandardScaler(), clone(model))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipeline, X, y, cv=folds)
    assert scores.mean() > 0.9


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_clone_keeps_parameters_unchanged(model):
    copy = clone(model)
    assert copy is not model
    assert copy.get_params() == model.get_params()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_fitted_attributes_follow_mlpclassifier_shapes(model):
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = clone(model).fit(X, labels)
    W, V = fitted.coefs_
    b, c = fitted.intercepts_
    assert (W.shape, V.shape, b.shape, c.shape) == ((4, 5), (5, 3), (5,), (3,))
    assert list(fitted.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(fitted.predict(X)) <= set(labels)
    lengths = {len(values) for values in fitted.history_.values()}
    assert lengths == {fitted.n_iter_}
    assert isinstance(fitted.converged_, bool)
    np.testing.assert_allclose(fitted.predict_proba(X).sum(axis=1), 1.0)


def with_value(value):
    X = X_GOOD.copy()
    X[3, 2] = value
    return X


BAD_DATA = {
    "nan": (with_value(np.nan), Y_GOOD, "NaN"),
    "infinity": (with_value(np.inf), Y_GOOD, "infinity"),
    "single class": (X_GOOD, np.zeros(len(Y_GOOD)), "at least 2 classes in y, got 1 class"),
    "mismatched lengths": (X_GOOD, Y_GOOD[:-1], "inconsistent numbers of samples"),
}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("case", BAD_DATA)
def test_bad_data_raises_one_clear_error(model, case):
    X, y, message = BAD_DATA[case]
    with pytest.raises(ValueError, match=message):
        clone(model).fit(X, y)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_hidden": 25}, r"between 1 and 24.*2\^n_hidden"),
        ({"n_hidden": 0}, "between 1 and 24"),
        ({"n_hidden": 2.5}, "n_hidden must be an integer"),
        ({"m_step": "adam"}, "unknown m_step 'adam'"),
        ({"max_iter": 0}, "max_iter must be at least 1"),
        ({"l2": -1.0}, "l2 must be non-negative"),
        ({"learning_rate": 0.0}, "learning_rate must be positive"),
        ({"chunk_size": 0}, "chunk_size must be at least 1"),
        ({"random_state": "seven"}, "random_state must be an int or None"),
    ],
)
def test_bad_em_settings_raise_one_clear_error(params, message):
    with pytest.raises(ValueError, match=message):
        EMMLPClassifier(**params).fit(X_GOOD, Y_GOOD)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"momentum": 1.0}, "momentum must be below 1"),
        ({"learning_rate": -0.1}, "learning_rate must be positive"),
    ],
)
def test_bad_sgd_settings_raise_one_clear_error(params, message):
    with pytest.raises(ValueError, match=message):
        SGDMLPClassifier(**params).fit(X_GOOD, Y_GOOD)


@pytest.mark.parametrize("Model", [EMMLPClassifier, LBFGSMLPClassifier])
def test_unknown_prediction_method_is_named(Model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Model(n_hidden=2, max_iter=2).fit(X_GOOD, Y_GOOD)
    with pytest.raises(ValueError, match="unknown method 'sampled'"):
        model.predict_proba(X_GOOD, method="sampled")
    with pytest.raises(ValueError, match="4 features"):
        model.predict(X_GOOD[:, :3])


@pytest.mark.parametrize(
    "estimator",
    [EMMLPClassifier, LBFGSMLPClassifier, SGDMLPClassifier, SklearnMLP, MoEClassifier],
    ids=lambda c: c.__name__,
)
def test_every_parameter_is_declared_with_its_rule(estimator):
    """Parameters are data, checked in one place (emnn.models.common.check_parameters);
    only n_hidden's bound, which depends on the E-step, is checked beside it."""
    undeclared = set(estimator().get_params()) - set(estimator._parameter_rules)
    assert undeclared <= {"n_hidden"}
