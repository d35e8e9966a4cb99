"""L-BFGS on the exact likelihood: its gradient, its optimum against EM's, its bookkeeping."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from emnn import LBFGSMLPClassifier
from emnn.models import EMMLPClassifier, meanfield
from emnn.models.common import one_hot, with_ones


def standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fit_quietly(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs)


def penalized_log_likelihood(model, theta, X, y):
    model._set_flat(theta)
    return model.log_likelihood(X, y) - model._penalty()


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_gradient_matches_central_differences_of_the_penalized_log_likelihood(l2):
    X, y = standardized(load_wine)
    X, y = X[::4], y[::4]
    model = fit_quietly(LBFGSMLPClassifier(n_hidden=3, l2=l2, max_iter=3, random_state=5), X, y)
    theta = model._get_flat() + np.random.default_rng(0).normal(
        scale=0.5, size=model._get_flat().shape
    )
    _, objective, gradient = model._value_and_gradient(theta, with_ones(X), one_hot(y, 3))
    assert objective == pytest.approx(penalized_log_likelihood(model, theta, X, y), rel=1e-12)
    eps = 1e-5
    numeric = np.empty_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = eps
        numeric[k] = (
            penalized_log_likelihood(model, theta + step, X, y)
            - penalized_log_likelihood(model, theta - step, X, y)
        ) / (2 * eps)
    assert np.abs(gradient).max() > 1.0  # away from any optimum: the comparison means something
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-6)


def test_lbfgs_and_newton_em_from_the_same_start_find_the_same_optimum():
    X, y = standardized(load_iris)
    em = fit_quietly(
        EMMLPClassifier(n_hidden=3, newton_steps=None, tol=1e-11, max_iter=20_000, random_state=1),
        X,
        y,
    )
    lbfgs = LBFGSMLPClassifier(n_hidden=3, tol=1e-6, random_state=1).fit(X, y)
    assert em.converged_ and lbfgs.converged_
    assert lbfgs.history_["objective"][-1] == pytest.approx(em.history_["objective"][-1], rel=1e-8)
    np.testing.assert_allclose(lbfgs.predict_proba(X), em.predict_proba(X), atol=1e-4)
    np.testing.assert_array_equal(lbfgs.predict(X), em.predict(X))
    assert lbfgs.n_estep_ < em.n_estep_ / 5


def initial_weights_seen(model, X, y):
    seen = []

    def monitor(iteration, estimator):
        if iteration == 0:
            seen.extend(w.copy() for w in estimator.coefs_ + estimator.intercepts_)
        return True

    fit_quietly(model, X, y, monitor=monitor)
    return seen


def test_lbfgs_starts_where_em_starts():
    X, y = standardized(load_wine)
    lbfgs = initial_weights_seen(LBFGSMLPClassifier(n_hidden=5, random_state=9), X, y)
    em = initial_weights_seen(EMMLPClassifier(n_hidden=5, random_state=9), X, y)
    other = initial_weights_seen(LBFGSMLPClassifier(n_hidden=5, random_state=8), X, y)
    for a, b in zip(lbfgs, em, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(lbfgs[0], other[0])


def test_history_is_the_objective_after_each_iteration_and_never_decreases():
    X, y = standardized(load_iris)
    model = LBFGSMLPClassifier(n_hidden=4, random_state=0)
    seen = []

    def monitor(iteration, estimator):
        seen.append((estimator.log_likelihood(X, y), estimator._penalty()))

    fit_quietly(model, X, y, monitor=monitor)
    log_likelihood, penalty = np.array(seen[1:]).T
    objective = np.array(model.history_["objective"])
    assert len(objective) == len(model.history_["log_likelihood"]) == model.n_iter_ > 10
    np.testing.assert_allclose(model.history_["log_likelihood"], log_likelihood, rtol=1e-12)
    np.testing.assert_allclose(objective, log_likelihood - penalty, rtol=1e-12)
    assert np.all(np.diff(objective) > 0)  # the line search demands a decrease of -objective
    assert objective[-1] == pytest.approx(model.log_likelihood(X, y) - model._penalty(), rel=1e-12)


def test_monitor_stops_training_and_e_steps_are_counted(monkeypatch):
    X, y = standardized(load_iris)
    calls = []
    e_step = LBFGSMLPClassifier._e_step
    monkeypatch.setattr(
        LBFGSMLPClassifier,
        "_e_step",
        lambda self, *a, **k: calls.append(1) or e_step(self, *a, **k),
    )
    kept = {}

    def monitor(iteration, estimator):
        kept[iteration] = [w.copy() for w in estimator.coefs_]
        return iteration == 5

    model = fit_quietly(LBFGSMLPClassifier(n_hidden=3, random_state=0), X, y, monitor=monitor)
    assert sorted(kept) == [0, 1, 2, 3, 4, 5] and model.n_iter_ == 5
    assert len(model.history_["objective"]) == 5 and not model.converged_
    for ours, theirs in zip(model.coefs_, kept[5], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert model.n_estep_ == len(calls) >= 5


def test_stopping_short_warns_and_is_not_converged():
    X, y = standardized(load_iris)
    with pytest.warns(ConvergenceWarning, match="L-BFGS stopped after 3 iterations"):
        model = LBFGSMLPClassifier(n_hidden=3, max_iter=3, random_state=0).fit(X, y)
    assert model.n_iter_ == 3 and not model.converged_
    model = LBFGSMLPClassifier(n_hidden=3, tol=1e-4, random_state=0).fit(X, y)
    assert model.converged_ and "PROJECTED GRADIENT" in model.optimizer_message_.upper()


def test_exact_and_mean_field_predictions():
    X, y = standardized(load_wine)
    model = LBFGSMLPClassifier(n_hidden=4, random_state=0).fit(X, y)
    exact = model.predict_proba(X)
    mean_field = model.predict_proba(X, method="mean-field")
    for proba in (exact, mean_field):
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert not np.allclose(exact, mean_field)
    assert model.score(X, y) > 0.95
    np.testing.assert_array_equal(model.predict(X), model.classes_[exact.argmax(axis=1)])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_hidden": 25}, r"between 1 and 24.*2\^n_hidden"),
        ({"max_iter": 0}, "max_iter must be at least 1"),
        ({"tol": -1.0}, "tol must be non-negative"),
        ({"memory": 0}, "memory must be at least 1"),
        ({"random_state": 1.5}, "random_state must be an int or None"),
    ],
)
def test_bad_settings_raise_one_clear_error(params, message):
    X, y = standardized(load_iris)
    with pytest.raises(ValueError, match=message):
        LBFGSMLPClassifier(**params).fit(X, y)


def mean_field_bound(model, theta, X, y):
    """F(theta) = max over mu of the ELBO, minus the penalty: a cold, tight fixed point."""
    model._set_flat(theta)
    (W, V), (b, c) = model.coefs_, model.intercepts_
    post = meanfield.e_step(X @ W + b, one_hot(y, V.shape[1]), V, c, tol=1e-11, max_sweeps=300)
    return post.elbo - model._penalty()


def test_variational_gradient_is_the_envelope_gradient_of_the_mean_field_bound():
    X, y = standardized(load_wine)
    X, y = X[::6, :5], y[::6]
    model = fit_quietly(
        LBFGSMLPClassifier(n_hidden=3, e_step="variational", max_iter=2, random_state=5), X, y
    )
    theta = model._get_flat() + np.random.default_rng(1).normal(
        scale=0.5, size=model._get_flat().shape
    )
    model._mu = None
    _, objective, gradient = model._bound_and_gradient(theta, with_ones(X), one_hot(y, 3))
    assert objective == pytest.approx(mean_field_bound(model, theta, X, y), rel=1e-8)
    eps = 1e-5
    numeric = np.array(
        [
            (mean_field_bound(model, theta + eps * e, X, y)
             - mean_field_bound(model, theta - eps * e, X, y)) / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )  # fmt: skip
    assert np.abs(gradient).max() > 1.0
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-5)


def test_variational_lbfgs_reaches_at_least_variational_ems_bound_in_fewer_e_steps():
    X, y = standardized(load_iris)
    lbfgs = LBFGSMLPClassifier(n_hidden=5, e_step="variational", random_state=0).fit(X, y)
    em = EMMLPClassifier(
        n_hidden=5, e_step="variational", acceleration="squarem", tol=1e-10, max_iter=5000,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    assert lbfgs.converged_ and em.converged_
    assert lbfgs.history_["elbo"][-1] >= em.history_["elbo"][-1] - 1e-6 * abs(
        em.history_["elbo"][-1]
    )
    assert lbfgs.n_estep_ < em.n_estep_
    assert lbfgs.history_["elbo"][-1] <= lbfgs.log_likelihood(X, y) - lbfgs._penalty()  # a bound


def test_gradient_max_says_how_near_a_stationary_point_a_run_ended():
    """At L-BFGS's converged end it is within the rule's bound; EM stopped early by a loose
    relative-change rule ends farther away; approximate E-steps have none."""
    X, y = standardized(load_iris)
    lbfgs = fit_quietly(LBFGSMLPClassifier(n_hidden=3, tol=1e-5, random_state=1), X, y)
    assert lbfgs.converged_ and lbfgs.gradient_max(X, y) <= 1e-5
    _, _, gradient = lbfgs._value_and_gradient(lbfgs._get_flat(), with_ones(X), one_hot(y, 3))
    assert lbfgs.gradient_max(X, y) == pytest.approx(np.abs(gradient).max(), rel=1e-12)
    loose = fit_quietly(EMMLPClassifier(n_hidden=3, tol=1e-3, random_state=1), X, y)
    assert loose.gradient_max(X, y) > 1e-3
    labels = np.array(["a", "b", "c"])[y]  # the network's own labels, not their indices
    named = fit_quietly(LBFGSMLPClassifier(n_hidden=3, max_iter=5, random_state=1), X, labels)
    assert named.gradient_max(X, labels) > 0
    with pytest.raises(ValueError, match="unseen"):
        named.gradient_max(X, np.array(["a", "b", "d"])[y])
    variational = fit_quietly(
        EMMLPClassifier(n_hidden=3, e_step="variational", max_iter=5, random_state=1), X, y
    )
    assert variational.gradient_max(X, y) is None
