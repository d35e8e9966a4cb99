"""EMMLPClassifier with the variational and Monte-Carlo E-steps."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from emnn.models import EMMLPClassifier, em, estep

APPROXIMATE = ("variational", "monte-carlo")


def data(name):
    loader = {"iris": load_iris, "wine": load_wine}[name]
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fit_quietly(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs)


def test_variational_em_never_lowers_the_elbo_which_stays_below_the_exact_objective():
    X, y = data("wine")
    model = fit_quietly(
        EMMLPClassifier(n_hidden=6, e_step="variational", max_iter=40, tol=0, random_state=0),
        X,
        y,
    )
    elbo = np.array(model.history_["elbo"])
    exact = np.array(model.history_["objective"])  # n_hidden <= 12: recorded
    assert len(elbo) == len(exact) == model.n_iter_ == model.n_estep_ - 1
    assert np.all(np.diff(elbo) >= -1e-12 * np.abs(elbo[:-1]))
    assert elbo[-1] > elbo[0] + 10
    assert np.all(elbo <= exact)
    assert exact[-1] == pytest.approx(model.log_likelihood(X, y) - model._penalty())


def test_squarem_on_variational_em_keeps_the_elbo_monotone_and_gets_further():
    X, y = data("wine")
    common = {"n_hidden": 6, "e_step": "variational", "tol": 0, "random_state": 1}
    plain = fit_quietly(EMMLPClassifier(max_iter=60, **common), X, y)
    squarem = fit_quietly(EMMLPClassifier(max_iter=15, acceleration="squarem", **common), X, y)
    elbo = np.array(squarem.history_["elbo"])
    assert np.all(np.diff(elbo) >= -1e-12 * np.abs(elbo[:-1]))
    assert squarem.n_estep_ <= plain.n_estep_ + 1
    assert elbo[-1] > plain.history_["elbo"][-1]


@pytest.mark.parametrize("e_step", APPROXIMATE)
def test_history_names_the_training_objective_and_keeps_exact_values_while_cheap(e_step):
    X, y = data("iris")
    key = em.TRAINING_OBJECTIVE[e_step]
    common = {"e_step": e_step, "max_iter": 3, "tol": 0, "random_state": 0}
    small = fit_quietly(EMMLPClassifier(n_hidden=4, **common), X, y)
    assert len(small.history_[key]) == len(small.history_["objective"]) == 3
    big_m = em.EXACT_HISTORY_MAX_HIDDEN + 1
    big = fit_quietly(EMMLPClassifier(n_hidden=big_m, **common), X, y)
    assert len(big.history_[key]) == 3
    assert big.history_["objective"] == big.history_["log_likelihood"] == []


# The approximations' fitted models classify as exact EM's do: on each split below
# their test accuracy is within ACCURACY_TOL of exact EM's (about 2 of 45 test rows).
ACCURACY_TOL = 0.05


@pytest.mark.parametrize("name", ["iris", "wine"])
@pytest.mark.parametrize("e_step", APPROXIMATE)
def test_fitted_accuracy_matches_exact_em(name, e_step):
    X, y = data(name)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    common = {"n_hidden": 6, "max_iter": 150, "random_state": 0}
    exact = fit_quietly(EMMLPClassifier(**common), X_train, y_train)
    approx = fit_quietly(EMMLPClassifier(e_step=e_step, **common), X_train, y_train)
    exact_accuracy = exact.score(X_test, y_test)
    assert exact_accuracy > 0.85
    assert abs(approx.score(X_test, y_test) - exact_accuracy) <= ACCURACY_TOL
    # and the approximate fit is a good one by the exact likelihood
    ll_exact = exact.log_likelihood(X_train, y_train)
    assert approx.log_likelihood(X_train, y_train) >= ll_exact - 0.1 * abs(ll_exact) - 5


@pytest.mark.parametrize("e_step", APPROXIMATE)
def test_same_random_state_gives_byte_identical_weights(e_step):
    X, y = data("wine")
    params = {"n_hidden": 5, "e_step": e_step, "max_iter": 10, "random_state": 3}
    first = fit_quietly(EMMLPClassifier(**params), X, y)
    second = fit_quietly(EMMLPClassifier(**params), X, y)
    weights = [(m.coefs_ + m.intercepts_) for m in (first, second)]
    for a, b in zip(*weights, strict=True):
        assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(
        first.predict_proba(X, method="monte-carlo"), second.predict_proba(X, method="monte-carlo")
    )
    if e_step == "monte-carlo":  # another seed draws other samples from the same start
        other = fit_quietly(EMMLPClassifier(**{**params, "random_state": 4}), X, y)
        assert not np.array_equal(first.coefs_[1], other.coefs_[1])


def test_monte_carlo_em_draws_from_its_own_stream_not_the_initial_weights():
    """Same start as exact EM for the same seed, so runs stay paired."""
    X, y = data("iris")
    starts = {}
    for e_step in ("exact", "monte-carlo", "variational"):

        def monitor(iteration, estimator, e_step=e_step):
            if iteration == 0:
                starts[e_step] = [w.copy() for w in estimator.coefs_]
            return True

        model = EMMLPClassifier(n_hidden=4, e_step=e_step, random_state=2)
        fit_quietly(model, X, y, monitor=monitor)
    for e_step in ("monte-carlo", "variational"):
        for a, b in zip(starts[e_step], starts["exact"], strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("e_step", APPROXIMATE)
def test_approximate_e_steps_train_past_the_exact_limit(e_step):
    X, y = data("iris")
    m = estep.MAX_EXACT_HIDDEN + 6
    model = EMMLPClassifier(n_hidden=m, e_step=e_step, max_iter=15, random_state=0)
    model = fit_quietly(model, X, y)
    assert model.coefs_[0].shape == (4, m)
    proba = model.predict_proba(X)  # Monte Carlo past the exact limit
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba, model.predict_proba(X, method="monte-carlo"))
    assert model.score(X, y) > 0.8
    assert np.isfinite(model.log_likelihood(X, y))
    with pytest.raises(ValueError, match=r"exact prediction .* at most 24 hidden units"):
        model.predict_proba(X, method="exact")


def test_monte_carlo_prediction_is_per_row_and_close_to_the_exact_marginal():
    X, y = data("wine")
    model = fit_quietly(EMMLPClassifier(n_hidden=8, max_iter=30, random_state=0), X, y)
    exact = model.predict_proba(X)
    sampled = model.predict_proba(X, method="monte-carlo")
    np.testing.assert_array_equal(sampled[5:6], model.predict_proba(X[5:6], method="monte-carlo"))
    assert np.abs(sampled - exact).max() < 5 * 0.5 / np.sqrt(4096)
    coarse = model.predict_proba(X, method="monte-carlo", n_samples=64)
    assert np.abs(coarse - exact).mean() > np.abs(sampled - exact).mean()
    ll = model.log_likelihood(X, y, method="monte-carlo")
    assert ll == pytest.approx(model.log_likelihood(X, y), rel=0.05)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"e_step": "gibbs"}, "unknown e_step 'gibbs'"),
        ({"e_step": "variational", "m_step": "gradient"}, "takes m_step='newton', got"),
        ({"e_step": "monte-carlo", "acceleration": "squarem"}, "takes acceleration='none'"),
        ({"e_step": "monte-carlo", "n_samples": 0}, "n_samples must be at least 1"),
        ({"n_hidden": 25}, r"between 1 and 24.*2\^n_hidden"),
    ],
)
def test_bad_e_step_settings_raise_one_clear_error(params, message):
    X, y = data("iris")
    with pytest.raises(ValueError, match=message):
        EMMLPClassifier(**params).fit(X, y)
