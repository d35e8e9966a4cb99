"""Networks trained together equal the same networks trained alone (emnn.models.batch)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from emnn.models.batch import fit_together
from emnn.models.common import initial_weights, model_streams
from emnn.models.em import EMMLPClassifier
from emnn.models.sgd import SGDMLPClassifier, loss_and_gradients
from emnn.study.selection import log_loss, select_params


def standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fit_alone(estimator, X, y, monitor=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y, monitor=monitor)
    return [str(w.message) for w in caught]


def assert_same_network(together, alone):
    for a, b in zip(together.coefs_ + together.intercepts_, alone.coefs_ + alone.intercepts_,
                    strict=True):  # fmt: skip
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert together.n_iter_ == alone.n_iter_
    assert together.converged_ == alone.converged_
    assert getattr(together, "diverged_", None) == getattr(alone, "diverged_", None)
    np.testing.assert_allclose(together.history_["objective"], alone.history_["objective"],
                               rtol=1e-12)  # fmt: skip


def sgd_cases():
    """Networks that differ in every way a job's networks differ: data (splits and inner
    folds of different sizes, shared or not), seed, learning rate, penalty, tolerance,
    patience and budget; one diverges, one runs out of epochs."""
    X, y = standardized(load_iris)
    rng = np.random.default_rng(0)
    cases = []
    for k in range(6):
        rows = np.sort(rng.permutation(len(y))[: 90 + 5 * k])
        data = (X[rows], y[rows])
        for rate, l2 in ((0.01, 0.1), (0.3, 0.01)):
            params = dict(learning_rate=rate, l2=l2, max_epochs=150 + 20 * k, random_state=k)
            cases.append((SGDMLPClassifier(**params), data))
    cases.append((SGDMLPClassifier(learning_rate=1e6, random_state=9, max_epochs=50), data))
    cases.append((SGDMLPClassifier(tol=0.0, max_epochs=7, random_state=3), data))
    cases.append((SGDMLPClassifier(tol=1e-2, n_iter_no_change=3, random_state=4), data))
    return cases


def test_sgd_networks_trained_together_equal_each_trained_alone():
    cases = sgd_cases()
    estimators = [est for est, _ in cases]
    messages = fit_together(estimators, [data for _, data in cases])
    assert any(est.diverged_ for est in estimators)
    assert any(est.converged_ for est in estimators)
    assert any(not (est.converged_ or est.diverged_) for est in estimators)
    for together, (_, (X, y)), found in zip(estimators, cases, messages, strict=True):
        alone = SGDMLPClassifier(**together.get_params())
        assert fit_alone(alone, X, y) == found
        assert_same_network(together, alone)


def reference_sgd(X, y, n_hidden, learning_rate, momentum, batch_size, l2, tol, patience,
                  max_epochs, seed):  # fmt: skip
    """Minibatch SGD with momentum written plainly, one network, one minibatch at a time,
    with the gradient tested against finite differences (tests/test_models.py)."""
    classes, index = np.unique(y, return_inverse=True)
    Y = np.eye(classes.size)[index]
    init, order = model_streams(seed)
    coefs, intercepts = initial_weights(X.shape[1], n_hidden, classes.size, init)
    params = coefs + intercepts
    velocity = [np.zeros_like(w) for w in params]
    n, best, stale = len(X), -np.inf, 0
    for epoch in range(1, max_epochs + 1):
        rows = order.permutation(n)
        for start in range(0, n, batch_size):
            batch = rows[start : start + batch_size]
            _, grads_w, grads_b = loss_and_gradients(params[:2], params[2:], X[batch],
                                                     Y[batch], l2 / n)  # fmt: skip
            for v, w, d in zip(velocity, params, grads_w + grads_b, strict=True):
                v *= momentum
                v -= learning_rate * d
                w += v
        objective = -n * loss_and_gradients(params[:2], params[2:], X, Y, l2 / n)[0]
        stale = 0 if epoch == 1 or (objective - best) / n > tol else stale + 1
        best = max(best, objective)
        if stale >= patience:
            return params, epoch, True
    return params, max_epochs, False


@pytest.mark.parametrize("rows", [150, 131])  # a short last minibatch, and none
def test_sgd_equals_plain_minibatch_sgd(rows):
    X, y = standardized(load_iris)
    X, y = X[:rows], y[:rows]
    settings = dict(n_hidden=4, learning_rate=0.05, momentum=0.9, batch_size=16, l2=0.1,
                    tol=1e-4, max_epochs=300)  # fmt: skip
    model = SGDMLPClassifier(**settings, n_iter_no_change=10, random_state=5).fit(X, y)
    params, epochs, converged = reference_sgd(X, y, **settings, patience=10, seed=5)
    assert (model.n_iter_, model.converged_) == (epochs, converged)
    for a, b in zip(model.coefs_ + model.intercepts_, params, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_a_monitor_sees_and_stops_its_own_network_only():
    X, y = standardized(load_wine)
    seen = {0: [], 1: []}

    def watcher(k, stop_at=None):
        def monitor(epoch, estimator):
            seen[k].append((epoch, estimator.coefs_[0].copy()))
            return epoch == stop_at

        return monitor

    together = [SGDMLPClassifier(random_state=k, learning_rate=0.05) for k in range(3)]
    fit_together(together, [(X, y)] * 3, [watcher(0), watcher(1, stop_at=4), None])
    assert together[1].n_iter_ == 4 and not together[1].converged_
    assert together[0].n_iter_ > 4
    together_seen = dict(seen)
    for k, stop_at in ((0, None), (1, 4)):
        seen[k] = []
        alone = SGDMLPClassifier(**together[k].get_params())
        fit_alone(alone, X, y, monitor=watcher(k, stop_at))
        assert [e for e, _ in seen[k]] == [e for e, _ in together_seen[k]]
        for (_, a), (_, b) in zip(seen[k], together_seen[k], strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert_same_network(together[2], SGDMLPClassifier(**together[2].get_params()).fit(X, y))


def test_inner_cross_validation_chooses_as_grid_search_does():
    X, y = standardized(load_iris)
    method = {
        "model": "sgd",
        "params": {"n_hidden": 3, "max_epochs": 40, "l2": 0.1},
        "grid": {"learning_rate": [0.01, 0.3], "l2": [0.01, 1.0]},
        "inner_folds": 3,
    }
    splits = []
    for k in range(2):
        rows = np.random.default_rng(k).permutation(len(y))[:100]
        seeds = {"init": {"seed": 10 + k}, "inner_cv": {"seed": 20 + k}}
        splits.append((X[rows], y[rows], seeds))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen = select_params(method, splits)
        for (X_k, y_k, seeds), (params, selection) in zip(splits, chosen, strict=True):
            search = GridSearchCV(
                SGDMLPClassifier(**method["params"], random_state=seeds["init"]["seed"]),
                method["grid"],
                scoring="neg_log_loss",
                cv=StratifiedKFold(3, shuffle=True, random_state=seeds["inner_cv"]["seed"]),
                refit=False,
            ).fit(X_k, y_k)
            assert selection["chosen"] == search.best_params_
            assert params == {**method["params"], **search.best_params_}
            np.testing.assert_allclose(
                [c["mean_log_loss"] for c in selection["candidates"]],
                -search.cv_results_["mean_test_score"],
                rtol=1e-9,
            )


def test_inner_params_change_the_inner_fits_only():
    X, y = standardized(load_iris)
    method = {
        "model": "sgd",
        "params": {"n_hidden": 3, "max_epochs": 40, "l2": 0.1},
        "grid": {"learning_rate": [0.01, 0.3]},
        "inner_folds": 3,
        "inner_params": {"max_epochs": 2},
    }
    seeds = {"init": {"seed": 3}, "inner_cv": {"seed": 4}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ((params, selection),) = select_params(method, [(X, y, seeds)])
        # Scored as GridSearchCV scores an estimator with the inner settings...
        search = GridSearchCV(
            SGDMLPClassifier(**{**method["params"], "max_epochs": 2}, random_state=3),
            method["grid"],
            scoring="neg_log_loss",
            cv=StratifiedKFold(3, shuffle=True, random_state=4),
            refit=False,
        ).fit(X, y)
    np.testing.assert_allclose(
        [c["mean_log_loss"] for c in selection["candidates"]],
        -search.cv_results_["mean_test_score"],
        rtol=1e-9,
    )
    # ...while the final fit keeps the configured ones, and the record says which applied.
    assert params["max_epochs"] == 40
    assert selection["inner_params"] == {"max_epochs": 2}


def test_log_loss_is_scikit_learns():
    from sklearn.metrics import log_loss as sklearn_log_loss

    X, y = standardized(load_wine)
    model = SGDMLPClassifier(learning_rate=0.5, max_epochs=200, random_state=0).fit(X, y)
    expected = sklearn_log_loss(y, model.predict_proba(X), labels=model.classes_)
    assert log_loss(model, X, y) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="not trained on"):
        log_loss(model, X[:3], np.array([0, 1, 7]))


def test_fit_together_refuses_mismatched_lists():
    with pytest.raises(ValueError, match="one"):
        fit_together([SGDMLPClassifier()], [])


def em_cases():
    """Exact EM networks as a job trains them (splits of different sizes, penalties,
    tolerances and caps), for every kind of M-step and with SQUAREM."""
    X, y = standardized(load_wine)
    rng = np.random.default_rng(1)
    cases = []
    for k in range(5):
        rows = np.sort(rng.permutation(len(y))[: 120 + 7 * k])
        for variant in ({}, {"acceleration": "squarem"}, {"m_step": "gradient"},
                        {"newton_steps": None}):  # fmt: skip
            params = dict(n_hidden=4, l2=(0.1, 0.0, 1.0, 0.1, 0.3)[k], tol=(1e-6, 1e-4)[k % 2],
                          max_iter=(40, 15)[k % 2], random_state=k, **variant)  # fmt: skip
            cases.append((EMMLPClassifier(**params), (X[rows], y[rows])))
    return cases


def test_em_networks_trained_together_equal_each_trained_alone():
    cases = em_cases()
    estimators = [est for est, _ in cases]
    messages = fit_together(estimators, [data for _, data in cases])
    assert any(est.converged_ for est in estimators)
    assert any(not est.converged_ for est in estimators)
    for together, (_, (X, y)), found in zip(estimators, cases, messages, strict=True):
        alone = EMMLPClassifier(**together.get_params())
        assert fit_alone(alone, X, y) == found
        assert_same_network(together, alone)
        assert together.n_estep_ == alone.n_estep_


def test_squarem_does_not_depend_on_the_order_of_the_rows():
    """The softmax's flat direction is pinned (mstep.settle_softmax_shift): without it,
    rounding in the biases' common level, amplified by SQUAREM's extrapolation, moved
    the weights by 1e-4 after one cycle when the rows came in another order."""
    X, y = standardized(load_wine)
    order = np.random.default_rng(0).permutation(len(y))
    params = dict(n_hidden=7, tol=0, l2=0.1, random_state=3, acceleration="squarem", max_iter=10)
    a = EMMLPClassifier(**params).fit(X, y)
    b = EMMLPClassifier(**params).fit(X[order], y[order])
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_allclose(u, v, rtol=0, atol=1e-9)
    assert a.n_estep_ == b.n_estep_
