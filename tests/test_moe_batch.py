"""Mixtures of experts trained together equal the same networks trained alone, and the
batched implementation equals the unbatched one it replaced (tests/reference_moe.py)."""

import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from emnn.models import moe_irls
from emnn.models.batch import fit_together
from emnn.models.moe import MoEClassifier
from tests import reference_moe

WEIGHTS = ("gate_coef_", "gate_intercept_", "expert_coefs_", "expert_intercepts_")


def load(name, standardize=True):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return (StandardScaler().fit_transform(X) if standardize else X), y


def fit_alone(estimator, X, y, monitor=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y, monitor=monitor)
    return [str(w.message) for w in caught]


def assert_same_network(together, alone, atol=1e-10, rtol=1e-12):
    """Weights within atol, plus rtol of their size: a run on raw features that IRLS at
    rate 1 throws out to weights of 1e11 (where floats are 3e-5 apart) differs there by
    6e-13 relative, rounding amplified by its wild steps."""
    for name in WEIGHTS:
        np.testing.assert_allclose(getattr(together, name), getattr(alone, name), rtol=rtol,
                                   atol=atol, err_msg=name)  # fmt: skip
    assert together.n_iter_ == alone.n_iter_
    assert together.converged_ == alone.converged_
    assert together.diverged_ == alone.diverged_
    assert getattr(together, "n_estep_", None) == getattr(alone, "n_estep_", None)
    np.testing.assert_allclose(together.history_["objective"], alone.history_["objective"],
                               rtol=rtol)  # fmt: skip


def stop_at(iteration):
    """A monitor that asks to stop after `iteration` and records the objective it sees."""
    seen = []

    def monitor(i, estimator):
        seen.append(estimator._penalty())
        return i >= iteration

    return monitor


def cases(base: dict, name="wine"):
    """Six networks of one stack: different rows (so different n), seeds and settings;
    one on raw features, one stopped by its cap, one by its monitor, and (SGD, IRLS)
    one whose step is far too large, which diverges."""
    X, y = load(name)
    raw, _ = load(name, standardize=False)
    rng = np.random.default_rng(1)
    rows = [np.sort(rng.permutation(len(y))[: len(y) - 2 - 3 * k]) for k in range(6)]
    big = "learning_rate" if base["algorithm"] == "sgd" else "irls_rate"
    changes = [
        {"random_state": 0},
        {"random_state": 1, "l2": 0.01, "tol": 1e-4},
        {"random_state": 2, "max_iter": 4, "tol": 0.0},  # stops at its cap
        {"random_state": 3, "l2": 0.3},
        {"random_state": 4, big: 1e300},  # diverges
        {"random_state": 0, "tol": 1e-4},  # raw features
    ]
    if base["algorithm"] == "sgd":
        changes[3]["momentum"] = 0.5
        changes[4][big] = 1e305
    if base["algorithm"] == "ecm":  # guarded: a rate cannot make it diverge
        changes[4] = {"random_state": 4, "tol": 1e-3}
    if base.get("acceleration") == "squarem":
        # SQUAREM's extrapolation (alpha^2 times the second difference) amplifies the
        # rounding that padding changes (sums over a network's rows): on the weakly
        # penalized and the raw network it grows from 1e-15 to 1e-12 (relative) in 10
        # cycles, and the paths part after about 20. Those two run 5 cycles.
        changes[1]["max_iter"] = changes[5]["max_iter"] = 5
    out = []
    for k, change in enumerate(changes):
        params = {"max_iter": 400, "tol": 1e-6, **base, **change}
        data = raw if k == 5 else X
        out.append((MoEClassifier(**params), (data[rows[k]], y[rows[k]])))
    return out


ALGORITHMS = {
    "irls-1": {"algorithm": "em-irls", "irls_rate": 1.0},
    "irls-0.5": {"algorithm": "em-irls", "irls_rate": 0.5},
    "ecm": {"algorithm": "ecm"},
    "squarem": {"algorithm": "ecm", "acceleration": "squarem"},
    "sgd": {"algorithm": "sgd", "tol": 1e-4, "n_iter_no_change": 5},
}


@pytest.mark.parametrize("which", list(ALGORITHMS))
def test_networks_trained_together_equal_each_trained_alone(which):
    stack = cases(ALGORITHMS[which])
    estimators = [est for est, _ in stack]
    monitors = [None] * len(stack)
    monitors[3] = stop_at(6)
    messages = fit_together(estimators, [data for _, data in stack], monitors)
    assert {len(data[0]) for _, data in stack} == {176, 173, 170, 167, 164, 161}
    assert estimators[2].n_iter_ == 4 and not estimators[2].converged_  # its cap
    assert estimators[3].n_iter_ == 6 and not estimators[3].converged_  # its monitor
    assert any(est.converged_ for est in estimators)
    if which != "ecm" and which != "squarem":
        assert estimators[4].diverged_ and "diverged in iteration 1" in messages[4][0]
    for k, (together, (_, (X, y)), found) in enumerate(zip(estimators, stack, messages,
                                                           strict=True)):  # fmt: skip
        alone = MoEClassifier(**together.get_params())
        monitor = stop_at(6) if k == 3 else None
        assert fit_alone(alone, X, y, monitor) == found
        assert_same_network(together, alone)
    if which == "squarem":
        assert all(est.n_estep_ > 3 * est.n_iter_ for est in estimators)


def test_networks_of_one_training_set_and_seed_draw_the_same_minibatches():
    X, y = load("iris")
    nets = [MoEClassifier(algorithm="sgd", learning_rate=rate, max_iter=30, tol=0.0,
                          random_state=7) for rate in (0.01, 0.05, 0.02)]  # fmt: skip
    nets[2].set_params(max_iter=10)  # leaves first: the others draw on from one stream
    fit_together(nets, [(X, y)] * 3)
    for together in nets:
        alone = MoEClassifier(**together.get_params())
        fit_alone(alone, X, y)
        assert_same_network(together, alone)


def test_stacks_of_different_kinds_are_fitted_apart():
    X, y = load("iris")
    Xw, yw = load("wine")
    kinds = [
        MoEClassifier(algorithm="ecm", max_iter=5, random_state=0),
        MoEClassifier(algorithm="sgd", max_iter=5, random_state=0),
        MoEClassifier(algorithm="ecm", max_iter=5, n_experts=2, random_state=0),
        MoEClassifier(algorithm="ecm", max_iter=5, random_state=1),
    ]
    data = [(X, y), (X, y), (X, y), (Xw, yw)]
    fit_together(kinds, data)
    for together, (Xk, yk) in zip(kinds, data, strict=True):
        alone = MoEClassifier(**together.get_params())
        fit_alone(alone, Xk, yk)
        assert_same_network(together, alone)


def test_a_singular_system_fails_its_own_network_only(monkeypatch):
    """A Newton system that LAPACK refuses fails that network's M-step (a diverged step,
    the weights before it kept) and no other's; the batched solve is redone network by
    network to find which. Here the refusal is simulated for systems whose right-hand
    side (the gradient) is beyond 1e100, as only the network on features scaled by
    1e110 has."""
    solve = np.linalg.solve

    def refusing(H, b):
        if np.any(np.abs(b) > 1e100):
            raise np.linalg.LinAlgError("Singular matrix")
        return solve(H, b)

    monkeypatch.setattr(np.linalg, "solve", refusing)
    X, y = load("iris")
    for algorithm in ("em-irls", "ecm"):
        nets = [MoEClassifier(algorithm=algorithm, max_iter=8, random_state=k) for k in range(3)]
        data = [(X, y), (X * 1e110, y), (X[:140], y[:140])]
        messages = fit_together(nets, data)
        assert nets[1].diverged_ and nets[1].n_iter_ == 0
        assert messages[1] == [
            f"{algorithm} diverged in iteration 1 (the objective became nan) and kept the "
            "weights of iteration 0; lower irls_rate or standardize the features"
        ]
        assert nets[1].n_estep_ == 1  # the failed map's E-step is not counted
        for together, (Xk, yk), found in zip(nets, data, messages, strict=True):
            alone = MoEClassifier(**together.get_params())
            assert fit_alone(alone, Xk, yk) == found
            assert_same_network(together, alone)


def test_solve_stack_finds_the_singular_systems():
    H = np.array([np.eye(2), np.zeros((2, 2)), 2 * np.eye(2)])
    b = np.ones((3, 2, 1))
    x, failed = moe_irls.solve_stack(H, b)
    assert failed.tolist() == [False, True, False]
    np.testing.assert_array_equal(x[:, :, 0], [[1, 1], [0, 0], [0.5, 0.5]])


# ---------------------------------------------------------------- against the unbatched code

# Iterations compared, as far as rounding lets a path be followed (measured: largest
# weight difference on iris and wine, seeds 0 and 1). The Hessians are summed in
# another order than the unbatched code's (from the rows' outer products), and
# rounding grows where a direction is nearly flat: IRLS at rate 1 on iris moved the
# weights by 1e-12 in 30 iterations and 2e-8 in 40 (the objective agreeing to 5e-14);
# SQUAREM's extrapolation amplifies it by up to alpha^2 a cycle: 2e-9 in 10 cycles,
# 5e-8 in 20. The others agree to 1e-13 after 40.
REFERENCE_ITERATIONS = {"irls-1": 30, "irls-0.5": 40, "ecm": 40, "squarem": 10, "sgd": 40}


@pytest.mark.parametrize("name", ["iris", "wine"])
@pytest.mark.parametrize("which", list(ALGORITHMS))
def test_a_fit_equals_the_unbatched_implementation(which, name):
    X, y = load(name)
    params = {**ALGORITHMS[which], "max_iter": REFERENCE_ITERATIONS[which], "tol": 0.0}
    for seed in (0, 1):
        new = MoEClassifier(**params, random_state=seed)
        old = reference_moe.MoEClassifier(**params, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            new.fit(X, y)
            old.fit(X, y)
        for attribute in WEIGHTS:
            np.testing.assert_allclose(getattr(new, attribute), getattr(old, attribute), rtol=0,
                                       atol=1e-8, err_msg=attribute)  # fmt: skip
        np.testing.assert_allclose(new.history_["objective"], old.history_["objective"],
                                   rtol=1e-10)  # fmt: skip
        assert new.n_iter_ == old.n_iter_ == params["max_iter"]
        assert getattr(new, "n_estep_", None) == getattr(old, "n_estep_", None)
        np.testing.assert_allclose(new.predict_proba(X), old.predict_proba(X), atol=1e-10)
        assert new.log_likelihood(X, y) == pytest.approx(old.log_likelihood(X, y), rel=1e-12)
