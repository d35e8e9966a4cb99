"""SklearnMLP: the same penalty as the other models, checked parameters, fitted state."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler

from emnn.models.sgd import loss_and_gradients
from emnn.models.sklearn_mlp import SklearnMLP
from emnn.study.methods import check_values


def data(loader, rows):
    X, y = loader(return_X_y=True)
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(X), rows, replace=False)
    return StandardScaler().fit_transform(X[chosen]), y[chosen]


def quiet_fit(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs)


@pytest.mark.parametrize(("batch_size", "n", "expected_batch"), [(16, 100, 16), (500, 100, 100)])
def test_alpha_is_l2_times_batch_over_n(batch_size, n, expected_batch):
    X, y = data(load_iris, n)
    model = quiet_fit(
        SklearnMLP(solver="adam", batch_size=batch_size, l2=0.3, max_epochs=1, random_state=0),
        X,
        y,
    )
    assert model.mlp_.alpha == pytest.approx(0.3 * expected_batch / n)
    assert model.mlp_.batch_size == expected_batch


def random_weights(rng, p, m, g):
    coefs = [rng.normal(size=(p, m)), rng.normal(size=(m, g))]
    intercepts = [rng.normal(size=m), rng.normal(size=g)]
    return coefs, intercepts


def test_minibatch_loss_and_gradient_equal_the_sgd_models():
    """scikit-learn's own per-batch loss (its _backprop) with the alpha fit chose
    equals our minibatch loss, mean cross-entropy + l2/(2n) ||W, V||^2, and so do
    the gradients: the two penalize alike."""
    n, batch, l2, m = 120, 16, 0.7, 5
    X, y = data(load_iris, n)
    model = quiet_fit(
        SklearnMLP(
            n_hidden=m, solver="adam", batch_size=batch, l2=l2, max_epochs=1, random_state=0
        ),
        X,
        y,
    )
    mlp = model.mlp_
    coefs, intercepts = random_weights(np.random.default_rng(1), X.shape[1], m, 3)
    mlp.coefs_ = [w.copy() for w in coefs]
    mlp.intercepts_ = [b.copy() for b in intercepts]

    rows = np.arange(batch)
    Xb, Yb = X[rows], mlp._label_binarizer.transform(y[rows]).astype(float)
    activations = [Xb, None, None]
    deltas = [None, None]
    coef_grads = [np.empty_like(w) for w in coefs]
    intercept_grads = [np.empty_like(b) for b in intercepts]
    sk_loss, sk_gw, sk_gb = mlp._backprop(
        Xb, Yb, None, activations, deltas, coef_grads, intercept_grads
    )

    our_loss, our_gw, our_gb = loss_and_gradients(coefs, intercepts, Xb, Yb, l2 / n)
    assert sk_loss == pytest.approx(our_loss, rel=1e-12)
    for ours, theirs in zip(our_gw + our_gb, sk_gw + sk_gb, strict=True):
        np.testing.assert_allclose(theirs, ours, rtol=1e-10, atol=1e-14)

    # The same loss from its definition: the batch's mean cross-entropy (from our
    # penalized log-likelihood of the batch, penalty added back) + l2/(2n) ||W, V||^2.
    squares = sum(float((w**2).sum()) for w in coefs)
    mean_cross_entropy = -(model.objective(Xb, y[rows]) + 0.5 * l2 * squares) / batch
    assert sk_loss == pytest.approx(mean_cross_entropy + 0.5 * l2 / n * squares, rel=1e-12)


@pytest.mark.parametrize("loader", [load_iris, load_breast_cancer])
def test_full_batch_epoch_loss_is_minus_objective_over_n(loader):
    """With one batch per epoch, scikit-learn's loss of epoch k + 1 is computed at the
    weights after epoch k: -n * loss_curve_[k] (history_["objective"][k]) must equal our
    penalized log-likelihood of the model trained k epochs. It holds only if the
    penalties agree."""
    n = 90
    X, y = data(loader, n)
    params = dict(solver="adam", batch_size=1000, l2=2.0, learning_rate=0.05, tol=0.0,
                  n_iter_no_change=99)  # fmt: skip
    shorter = quiet_fit(SklearnMLP(max_epochs=5, random_state=3, **params), X, y)
    longer = quiet_fit(SklearnMLP(max_epochs=6, random_state=3, **params), X, y)
    assert longer.mlp_.alpha == pytest.approx(2.0)  # l2 * n / n
    assert len(longer.history_["objective"]) == longer.n_iter_ == 6
    np.testing.assert_allclose(
        -n * np.array(longer.mlp_.loss_curve_), longer.history_["objective"], rtol=1e-12
    )
    assert longer.history_["objective"][5] == pytest.approx(shorter.objective(X, y), rel=1e-10)


@pytest.mark.parametrize("loader", [load_iris, load_breast_cancer])
def test_the_monitor_sees_the_final_weights_once(loader):
    X, y = data(loader, 100)
    l2 = 0.3
    seen = []

    def monitor(epoch, estimator):
        proba = estimator.predict_proba(X)
        index = np.searchsorted(estimator.classes_, y)
        log_likelihood = np.log(proba[np.arange(len(y)), index]).sum()
        penalty = 0.5 * l2 * sum(float((w**2).sum()) for w in estimator.coefs_)
        seen.append((epoch, log_likelihood - penalty))

    model = quiet_fit(
        SklearnMLP(solver="adam", l2=l2, max_epochs=6, random_state=0), X, y, monitor=monitor
    )
    assert [epoch for epoch, _ in seen] == [model.n_iter_] == [6]
    assert seen[0][1] == pytest.approx(model.objective(X, y), rel=1e-10)


def test_objective_rejects_unknown_labels():
    X, y = data(load_iris, 60)
    model = quiet_fit(SklearnMLP(max_epochs=1, random_state=0), X, y)
    with pytest.raises(ValueError, match="outside the classes"):
        model.objective(X, y + 10)


def test_stops_after_n_iter_no_change_stale_epochs():
    X, y = data(load_iris, 60)
    model = SklearnMLP(
        solver="adam", tol=10.0, n_iter_no_change=3, max_epochs=50, random_state=0
    ).fit(X, y)
    assert model.converged_
    # The first epoch improves on no loss at all; no later one can by 10 nats per example,
    # and scikit-learn stops once more than n_iter_no_change epochs failed to improve.
    assert model.n_iter_ == 1 + 3 + 1


def test_warns_when_stopped_by_the_budget():
    X, y = data(load_iris, 60)
    with pytest.warns(ConvergenceWarning, match="still improving"):
        SklearnMLP(solver="adam", max_epochs=2, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="after 2 iterations: lbfgs failed"):
        model = SklearnMLP(max_epochs=2, random_state=0).fit(X, y)
    assert not model.converged_


@pytest.mark.parametrize("loader", [load_iris, load_breast_cancer])
def test_lbfgs_runs_to_scipys_tolerance(loader):
    X, y = data(loader, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SklearnMLP(max_epochs=2000, tol=1e-6, random_state=0).fit(X, y)
    assert model.converged_ and model.n_iter_ < 2000
    assert model.history_["objective"] == [pytest.approx(model.objective(X, y), rel=1e-10)]


def test_full_batch_loss_and_gradient_equal_the_penalized_log_likelihood():
    """With solver lbfgs the batch is the training set and alpha = l2: scikit-learn's
    loss and gradient (its _loss_grad_lbfgs) are -1/n times our penalized log-likelihood
    and its gradient, at any weights: the two objectives are one."""
    n, l2, m = 120, 0.7, 5
    X, y = data(load_iris, n)
    model = quiet_fit(SklearnMLP(n_hidden=m, l2=l2, max_epochs=1, random_state=0), X, y)
    mlp = model.mlp_
    assert mlp.alpha == l2
    coefs, intercepts = random_weights(np.random.default_rng(2), X.shape[1], m, 3)
    packed = np.concatenate([a.ravel() for a in coefs + intercepts])
    Y = mlp._label_binarizer.transform(y).astype(float)
    activations = [X, None, None]
    deltas = [None, None]
    coef_grads = [np.empty_like(w) for w in coefs]
    intercept_grads = [np.empty_like(b) for b in intercepts]
    sk_loss, sk_grad = mlp._loss_grad_lbfgs(
        packed, X, Y, None, activations, deltas, coef_grads, intercept_grads
    )
    mlp.coefs_, mlp.intercepts_ = coefs, intercepts
    assert -n * sk_loss == pytest.approx(model.objective(X, y), rel=1e-12)
    our_loss, our_gw, our_gb = loss_and_gradients(coefs, intercepts, X, Y, l2 / n)
    assert sk_loss == pytest.approx(our_loss, rel=1e-12)
    ours = np.concatenate([a.ravel() for a in our_gw + our_gb])
    np.testing.assert_allclose(sk_grad, ours, rtol=1e-10, atol=1e-14)


def test_same_random_state_same_model():
    X, y = data(load_iris, 60)
    a = quiet_fit(SklearnMLP(solver="adam", max_epochs=3, random_state=5), X, y)
    b = quiet_fit(SklearnMLP(solver="adam", max_epochs=3, random_state=5), X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(wa, wb)


BAD_PARAMS = [
    ("solver", "newton"),
    ("solver", None),
    ("solver", ["adam"]),
    ("learning_rate", -1),
    ("learning_rate", 0),
    ("learning_rate", np.inf),
    ("learning_rate", np.nan),
    ("learning_rate", "0.1"),
    ("batch_size", 0),
    ("batch_size", 1.5),
    ("batch_size", True),
    ("max_epochs", 0),
    ("max_epochs", 10.0),
    ("tol", -1e-4),
    ("tol", np.inf),
    ("n_iter_no_change", 0),
    ("n_iter_no_change", None),
    ("l2", -0.1),
    ("l2", np.nan),
    ("n_hidden", 0),
    ("n_hidden", 2.0),
    ("random_state", 1.5),
    ("random_state", "1"),
    ("random_state", -1),
    ("random_state", 2**32),
    ("random_state", np.random.RandomState(0)),
]


@pytest.mark.parametrize(("name", "value"), BAD_PARAMS)
def test_check_params_names_the_bad_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        SklearnMLP(**{name: value})._check_params()


@pytest.mark.parametrize(("name", "value"), BAD_PARAMS)
def test_fit_checks_parameters_before_the_data(name, value):
    with pytest.raises(ValueError, match=name):
        SklearnMLP(**{name: value}).fit(None, None)


@pytest.mark.parametrize(
    "params", [{"solver": "adamw"}, {"learning_rate": -1}, {"batch_size": 0}, {"l2": -1}]
)
def test_config_check_rejects_bad_values(params):
    with pytest.raises(ValueError, match=next(iter(params))):
        check_values("sklearn-mlp", params)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"solver": "sgd", "learning_rate": 0.01, "batch_size": 1, "tol": 0, "l2": 0},
        {"random_state": None},
        {"random_state": np.uint32(7)},
        {"n_hidden": np.int64(3)},
    ],
)
def test_good_values_pass(params):
    SklearnMLP(**params)._check_params()
    check_values("sklearn-mlp", {k: v for k, v in params.items() if k != "random_state"})


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_predicting_before_fit_raises_not_fitted(method):
    X, _ = data(load_iris, 10)
    with pytest.raises(NotFittedError):
        getattr(SklearnMLP(), method)(X)


def test_objective_before_fit_raises_not_fitted():
    X, y = data(load_iris, 10)
    with pytest.raises(NotFittedError):
        SklearnMLP().objective(X, y)


def test_needs_two_classes():
    X, _ = data(load_iris, 10)
    with pytest.raises(ValueError, match="at least 2 classes"):
        SklearnMLP().fit(X, np.zeros(10))
