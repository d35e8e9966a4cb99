"""EM and SGD classifiers: monotone EM, derivatives, exact prediction, determinism."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from emnn import EMMLPClassifier, LBFGSMLPClassifier, SGDMLPClassifier
from emnn.models import mstep, naive
from emnn.models.common import with_ones
from emnn.models.sgd import StackedWeights, loss_and_gradients


def dataset(name):
    if name == "iris-raw":  # unstandardized, setosa linearly separable
        return load_iris(return_X_y=True)
    loader = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}[name]
    X, y = loader(return_X_y=True)
    if name == "breast_cancer":
        X, y = X[::3], y[::3]
    return StandardScaler().fit_transform(X), y


def fit_quietly(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs)


def numeric_gradient(f, x, eps=1e-6):
    """Central differences of f (scalar or array valued) along each entry of x."""
    columns = []
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps))
    return np.moveaxis(np.array(columns), 0, -1).reshape(np.shape(f(x)) + x.shape)


@pytest.mark.parametrize("name", ["iris-raw", "iris", "wine", "breast_cancer"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_newton_em_objective_never_decreases(name, seed):
    X, y = dataset(name)
    model = fit_quietly(EMMLPClassifier(n_hidden=4, max_iter=60, tol=0, random_state=seed), X, y)
    objective = np.array(model.history_["objective"])
    assert len(objective) == model.n_iter_ == 60
    assert np.all(np.isfinite(objective))
    # Non-decreasing up to rounding in the last digits of a sum over examples.
    assert np.all(np.diff(objective) >= -1e-10 * np.abs(objective[:-1]))
    assert objective[-1] > objective[0]


def test_objective_is_penalized_log_likelihood():
    X, y = dataset("wine")
    model = fit_quietly(EMMLPClassifier(n_hidden=3, max_iter=5, l2=0.3, random_state=0), X, y)
    W, V = model.coefs_
    penalty = 0.15 * ((W**2).sum() + (V**2).sum())
    assert model.history_["objective"][-1] == pytest.approx(model.log_likelihood(X, y) - penalty)
    assert model.history_["log_likelihood"][-1] == pytest.approx(model.log_likelihood(X, y))


def random_m_step_problem(m=3, n=25, p=4, g=3, seed=0):
    rng = np.random.default_rng(seed)
    Xt = with_ones(rng.normal(size=(n, p)))
    T = rng.uniform(size=(n, m))
    N = rng.uniform(0, 3, size=(2**m, g))
    return Xt, T, N, rng.normal(size=(p + 1, m)), rng.normal(size=(m + 1, g))


def test_hidden_gradient_matches_finite_differences():
    Xt, T, _, Wt, _ = random_m_step_problem()
    numeric = numeric_gradient(lambda W: mstep.hidden_objective(Xt, T, W, 0.7).sum(), Wt)
    np.testing.assert_allclose(mstep.hidden_gradient(Xt, T, Wt, 0.7), numeric, atol=1e-6)


def test_output_gradient_matches_finite_differences():
    _, _, N, _, Vt = random_m_step_problem()
    numeric = numeric_gradient(lambda V: mstep.output_objective(N, V, 0.7), Vt)
    np.testing.assert_allclose(mstep.output_gradient(N, Vt, 0.7), numeric, atol=1e-6)


def test_output_hessian_matches_finite_differences():
    _, _, N, _, Vt = random_m_step_problem()
    _, H = mstep._output_derivatives(N, Vt, 0.7)
    numeric = numeric_gradient(
        lambda v: mstep.output_gradient(N, v.reshape(Vt.shape), 0.7).ravel(), Vt.ravel()
    )
    # H is the negative Hessian (plus a 1e-12 jitter on the diagonal) wherever the
    # objective curves; along the one flat direction (every class's bias moved alike)
    # the Hessian is zero, the gradient has no component, and H is pinned positive.
    m1, g = Vt.shape
    flat = np.zeros(m1 * g)
    flat[(m1 - 1) * g :] = 1.0 / np.sqrt(g)
    away = np.eye(m1 * g) - np.outer(flat, flat)
    np.testing.assert_allclose(away @ -H @ away, numeric, atol=1e-6)
    np.testing.assert_allclose(numeric @ flat, 0.0, atol=1e-6)
    assert flat @ H @ flat > 1.0
    assert abs(mstep.output_gradient(N, Vt, 0.7).ravel() @ flat) < 1e-9


def test_newton_m_step_solves_both_sub_problems():
    Xt, T, N, Wt, Vt = random_m_step_problem(seed=4)
    W_new, _ = mstep.newton_hidden(Xt, T, Wt, 0.1)
    V_new, _ = mstep.newton_output(N, Vt, 0.1)
    assert np.abs(mstep.hidden_gradient(Xt, T, W_new, 0.1)).max() < 1e-6
    assert np.abs(mstep.output_gradient(N, V_new, 0.1)).max() < 1e-6
    assert (
        mstep.hidden_objective(Xt, T, W_new, 0.1).sum()
        > mstep.hidden_objective(Xt, T, Wt, 0.1).sum()
    )


def test_sgd_gradients_match_finite_differences():
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(12, 4)), np.eye(3)[rng.integers(0, 3, 12)]
    coefs = [rng.normal(size=(4, 5)), rng.normal(size=(5, 3))]
    intercepts = [rng.normal(size=5), rng.normal(size=3)]
    _, grads_w, grads_b = loss_and_gradients(coefs, intercepts, X, Y, 0.3)
    for k in range(2):

        def loss_w(w, k=k):
            return loss_and_gradients(
                [w if i == k else c for i, c in enumerate(coefs)], intercepts, X, Y, 0.3
            )[0]

        def loss_b(b, k=k):
            return loss_and_gradients(
                coefs, [b if i == k else c for i, c in enumerate(intercepts)], X, Y, 0.3
            )[0]

        np.testing.assert_allclose(grads_w[k], numeric_gradient(loss_w, coefs[k]), atol=1e-7)
        np.testing.assert_allclose(grads_b[k], numeric_gradient(loss_b, intercepts[k]), atol=1e-7)


def test_sgd_training_step_uses_the_checked_gradient():
    """The stacked training step's minibatch gradient equals loss_and_gradients' (checked
    above against finite differences) for every network of a stack, also on logits large
    enough to overflow a naive softmax and on a short minibatch padded with junk rows."""
    rng = np.random.default_rng(6)
    p, m, g, B = 4, 5, 3, 16
    nets = []
    for size in (16, 16, 9):
        X, Y = 40 * rng.normal(size=(size, p)), np.eye(g)[rng.integers(0, g, size)]
        coefs = [rng.normal(size=(p, m)), 300 * rng.normal(size=(m, g))]
        intercepts = [rng.normal(size=m), rng.normal(size=g)]
        nets.append((X, Y, coefs, intercepts))
    theta = np.array([StackedWeights.pack(c, i) for _, _, c, i in nets])
    weights = StackedWeights(theta, p, m, g)
    X = np.stack([np.vstack([x, rng.normal(size=(B - len(x), p))]) for x, _, _, _ in nets])
    X = np.concatenate([X, np.ones((len(nets), B, 1))], axis=2)  # X~ = [X, 1]
    Y = np.stack([np.vstack([y, np.eye(g)[np.zeros(B - len(y), int)]]) for _, y, _, _ in nets])
    real = np.array([np.arange(B) < len(x) for x, _, _, _ in nets])[:, :, None]
    scale = np.array([1.0 / len(x) for x, _, _, _ in nets])[:, None, None]
    weights.gradient(X, Y, real * scale, weights.penalty_rates(np.full((3, 1), 0.3)))
    for k, (Xk, Yk, coefs, intercepts) in enumerate(nets):
        _, grads_w, grads_b = loss_and_gradients(coefs, intercepts, Xk, Yk, 0.3)
        stacked = (weights.dW[k], weights.dV[k], weights.db[k], weights.dc[k])
        for lean, checked in zip(stacked, grads_w + grads_b, strict=True):
            np.testing.assert_allclose(lean, checked, rtol=1e-12, atol=1e-14)
        for view, weight in zip((weights.W, weights.V, weights.b, weights.c),
                                (*coefs, *intercepts), strict=True):  # fmt: skip
            np.testing.assert_array_equal(view[k], weight)  # views of one array


def initial_state(model, X, y):
    seen = {}

    def monitor(iteration, est):
        if iteration == 0:
            seen["coefs"] = [w.copy() for w in est.coefs_]
            seen["intercepts"] = [b.copy() for b in est.intercepts_]
        return True

    fit_quietly(model, X, y, monitor=monitor)
    return seen


def test_one_gradient_m_step_is_gradient_ascent_on_the_log_likelihood():
    """Fisher's identity: grad Q(Psi | Psi_k) at Psi_k equals grad of l(Psi_k)."""
    X, y = dataset("iris")
    X, y = X[::5], y[::5]
    rate, l2 = 1e-3, 0.2
    model = EMMLPClassifier(
        n_hidden=3, m_step="gradient", learning_rate=rate, l2=l2, max_iter=1, random_state=7
    )
    start = initial_state(model, X, y)
    fit_quietly(model, X, y)
    probe = EMMLPClassifier(n_hidden=3, l2=l2).fit(X, y, monitor=lambda i, e: True)

    def penalized(params, which, kind):
        coefs = [c.copy() for c in start["coefs"]]
        intercepts = [b.copy() for b in start["intercepts"]]
        (coefs if kind == "coefs" else intercepts)[which] = params
        probe.coefs_, probe.intercepts_ = coefs, intercepts
        return probe.log_likelihood(X, y) - probe._penalty()

    for kind in ("coefs", "intercepts"):
        for which in range(2):
            before = start[kind][which]
            after = getattr(model, f"{kind}_")[which]
            numeric = numeric_gradient(lambda w, k=kind, i=which: penalized(w, i, k), before)
            np.testing.assert_allclose((after - before) / rate, numeric, rtol=1e-5, atol=1e-6)


def test_log_likelihood_and_exact_proba_equal_enumeration():
    X, y = dataset("wine")
    model = fit_quietly(EMMLPClassifier(n_hidden=4, max_iter=3, random_state=0), X, y)
    (W, V), (b, c) = model.coefs_, model.intercepts_
    A = X[:20] @ W + b
    ll, _, _ = naive.e_step(A, np.searchsorted(model.classes_, y[:20]), V, c)
    assert model.log_likelihood(X[:20], y[:20]) == pytest.approx(ll.sum(), abs=1e-10)
    proba = model.predict_proba(X[:20])
    np.testing.assert_allclose(proba, naive.marginal_proba(A, V, c), atol=1e-10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    mean_field = model.predict_proba(X[:20], method="mean-field")
    np.testing.assert_allclose(mean_field.sum(axis=1), 1.0, atol=1e-12)
    assert not np.allclose(mean_field, proba)


@pytest.mark.parametrize(
    "model",
    [
        EMMLPClassifier(n_hidden=5, max_iter=20, random_state=11),
        EMMLPClassifier(n_hidden=5, max_iter=20, m_step="gradient", random_state=11),
        EMMLPClassifier(n_hidden=5, max_iter=8, acceleration="squarem", random_state=11),
        LBFGSMLPClassifier(n_hidden=5, max_iter=40, random_state=11),
        SGDMLPClassifier(n_hidden=5, max_epochs=20, random_state=11),
    ],
    ids=lambda m: repr(m),
)
def test_same_random_state_gives_byte_identical_weights(model):
    X, y = dataset("wine")
    first = fit_quietly(model, X, y)
    first = [w.tobytes() for w in first.coefs_ + first.intercepts_]
    second = fit_quietly(model.__class__(**model.get_params()), X, y)
    assert first == [w.tobytes() for w in second.coefs_ + second.intercepts_]


def test_em_and_sgd_start_from_the_same_weights():
    X, y = dataset("wine")
    em = initial_state(EMMLPClassifier(n_hidden=6, random_state=3), X, y)
    sgd = initial_state(SGDMLPClassifier(n_hidden=6, random_state=3), X, y)
    other = initial_state(SGDMLPClassifier(n_hidden=6, random_state=4), X, y)
    for a, b, c in zip(em["coefs"], sgd["coefs"], other["coefs"], strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_sgd_with_batch_size_one_trains_per_sample():
    X, y = dataset("iris")
    model = fit_quietly(
        SGDMLPClassifier(
            batch_size=1, momentum=0, learning_rate=0.005, max_epochs=30, random_state=0
        ),
        X,
        y,
    )
    assert model.n_iter_ == 30
    assert model.history_["objective"][-1] > model.history_["objective"][0]
    assert model.score(X, y) > 0.8


def test_sgd_stops_on_scikit_learns_plateau_of_the_loss_per_example():
    """tol is on the penalized training loss per example, as in MLPClassifier: no epoch
    after the first can improve it by 10 nats, so training stops n_iter_no_change
    epochs later; with tol = 0 any improvement counts and the budget runs out."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    flat = SGDMLPClassifier(n_hidden=3, tol=10.0, n_iter_no_change=4, random_state=0).fit(X, y)
    assert flat.converged_ and flat.n_iter_ == 1 + 4
    with pytest.warns(ConvergenceWarning, match="still improving"):
        busy = SGDMLPClassifier(
            n_hidden=3, tol=0.0, n_iter_no_change=50, max_epochs=20, random_state=0
        ).fit(X, y)
    assert not busy.converged_ and busy.n_iter_ == 20
