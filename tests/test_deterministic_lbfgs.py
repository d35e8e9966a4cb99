"""The deterministic network by the study's own L-BFGS: the model question's other side
changes the model only (same initial weights, objective's units and rule as L-BFGS on
the stochastic-unit network)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from emnn import LBFGSMLPClassifier, SGDMLPClassifier
from emnn.models.common import one_hot
from emnn.models.deterministic_lbfgs import DeterministicLBFGSClassifier
from emnn.models.sgd import loss_and_gradients


def standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def penalized_log_likelihood(model, X, y):
    """sum_j log p(y_j | x_j) - l2/2 ||W, V||^2 of the deterministic network."""
    P = model.predict_proba(X)
    return float(np.log(P[np.arange(len(y)), y]).sum()) - model._penalty()


def test_it_starts_from_the_stochastic_networks_initial_weights():
    X, y = standardized(load_iris)
    seen = {}

    def first(iteration, model):
        if iteration == 0:
            seen[type(model).__name__] = [w.copy() for w in (*model.coefs_, *model.intercepts_)]

    for Model in (DeterministicLBFGSClassifier, LBFGSMLPClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            Model(n_hidden=4, max_iter=1, random_state=11).fit(X, y, monitor=first)
    for a, b in zip(*seen.values(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_it_ends_at_a_stationary_point_of_the_penalized_likelihood_by_its_rule():
    X, y = standardized(load_wine)
    model = DeterministicLBFGSClassifier(n_hidden=3, l2=0.1, tol=1e-6, random_state=2).fit(X, y)
    assert model.converged_
    # the gradient of the summed objective (SGD's mean-loss gradient times n)
    sgd = SGDMLPClassifier(n_hidden=3, l2=0.1)
    sgd.coefs_, sgd.intercepts_, sgd.classes_ = model.coefs_, model.intercepts_, model.classes_
    n = len(X)
    _, gw, gb = loss_and_gradients(model.coefs_, model.intercepts_, X, one_hot(y, 3), 0.1 / n)
    largest = n * max(np.abs(g).max() for g in (*gw, *gb))
    assert largest <= 1e-6
    assert sgd.objective(X, one_hot(y, 3)) == pytest.approx(
        penalized_log_likelihood(model, X, y), rel=1e-12
    )


def test_its_objective_never_falls_and_a_tighter_rule_ends_no_lower():
    X, y = standardized(load_iris)
    loose = DeterministicLBFGSClassifier(n_hidden=4, tol=1e-2, random_state=3).fit(X, y)
    tight = DeterministicLBFGSClassifier(n_hidden=4, tol=1e-7, random_state=3).fit(X, y)
    trace = np.array(tight.history_["objective"])
    assert np.all(np.diff(trace) >= -1e-9 * np.abs(trace[1:]))
    assert trace[-1] == pytest.approx(penalized_log_likelihood(tight, X, y), rel=1e-10)
    assert penalized_log_likelihood(tight, X, y) >= penalized_log_likelihood(loose, X, y)


def test_a_capped_run_says_so():
    X, y = standardized(load_iris)
    with pytest.warns(ConvergenceWarning, match="stopped after 2 iterations"):
        model = DeterministicLBFGSClassifier(n_hidden=4, max_iter=2, random_state=0).fit(X, y)
    assert not model.converged_ and model.n_iter_ == 2
