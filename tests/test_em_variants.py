"""Every EM variant is monotone; GEM and SQUAREM reach EM's optimum; E-steps are counted."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from emnn.data.datasets import load_dataset
from emnn.models import EMMLPClassifier, em, em_stack, mstep, mstep_stack

TEACHER = {"source": "teacher", "n_samples": 1000, "n_features": 5, "n_hidden": 4,
           "n_classes": 3, "weight_scale": 3.0, "seed": 6}  # fmt: skip

# The objective is a sum over examples of log-sum-exps in float64, and EM's
# monotonicity is a statement about exact arithmetic: once the true increase of
# an iteration falls below the rounding error of that sum (a few ulps of |l| per
# example), two evaluations may come out in either order. A relative slack of
# 1e-12 (about 4,500 ulps) covers that rounding and nothing else: the decreases
# an unguarded step makes are of order 1e-2 and more (see the gradient tests).
SLACK = 1e-12

VARIANTS = {
    "newton": {"newton_steps": None},
    "newton_steps=1": {"newton_steps": 1},
    "gradient": {"m_step": "gradient"},
    "squarem": {"acceleration": "squarem"},
}


def dataset(name):
    if name == "teacher":
        data = load_dataset("teacher", TEACHER)
        return data.X, data.y
    base, _, kind = name.partition("-")
    loader = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}[base]
    X, y = loader(return_X_y=True)
    return (X, y) if kind == "raw" else (StandardScaler().fit_transform(X), y)


def fit_quietly(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs)


def objective_trace(model, X, y):
    """The objective at the initial weights, then after every iteration."""
    start = []

    def monitor(iteration, estimator):
        if iteration == 0:
            start.append(estimator.log_likelihood(X, y) - estimator._penalty())
        return False

    fit_quietly(model, X, y, monitor=monitor)
    return np.array(start + model.history_["objective"])


def assert_never_decreases(objective):
    assert np.all(np.isfinite(objective))
    drops = objective[:-1] - objective[1:]
    worst = np.max(drops / np.abs(objective[:-1]))
    assert worst <= SLACK, f"the objective fell by {worst:.2e} (relative) in one iteration"
    assert objective[-1] > objective[0]


NAMES = [f"{b}-{k}" for b in ("iris", "wine", "breast_cancer") for k in ("raw", "std")]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_em_variant_never_decreases_the_objective(variant, name):
    X, y = dataset(name)
    max_iter = 8 if variant == "squarem" else 25
    model = EMMLPClassifier(
        n_hidden=4, max_iter=max_iter, tol=0, random_state=1, **VARIANTS[variant]
    )
    objective = objective_trace(model, X, y)
    # tol=0 runs to max_iter unless an iteration leaves the weights exactly
    # unchanged: on raw wine, Newton-EM reaches such a point (three of its four
    # hidden units saturate, and what ascent is left is below rounding).
    assert len(objective) == model.n_iter_ + 1 >= min(max_iter, 15)
    assert_never_decreases(objective)


def unguarded_gradient_step(Xt, real, T, N, Wt, Vt, l2, rate):
    """The stacked M-step's gradient step without its guard."""
    rate = rate[:, None, None]
    return (Wt + rate * mstep_stack.hidden_gradient(Xt, real, T, Wt, l2),
            Vt + rate * mstep_stack.output_gradient(N, Vt, l2))  # fmt: skip


@pytest.mark.parametrize("name", ["breast_cancer-raw", "teacher"])
def test_gradient_m_step_is_guarded_where_a_plain_step_would_lower_the_objective(name, monkeypatch):
    X, y = dataset(name)
    model = EMMLPClassifier(n_hidden=7, m_step="gradient", max_iter=60, tol=0, random_state=0)
    assert_never_decreases(objective_trace(model, X, y))
    # The guard is what makes it so: the originating study's unguarded step of
    # the same size lowers the objective on these data.
    monkeypatch.setattr(mstep_stack, "guarded_gradient_step", unguarded_gradient_step)
    plain = objective_trace(model, X, y)
    assert np.max((plain[:-1] - plain[1:]) / np.abs(plain[:-1])) > 1e-3


def test_guarded_gradient_step_is_plain_gradient_ascent_when_that_ascends():
    X, y = dataset("iris-std")
    model = fit_quietly(EMMLPClassifier(n_hidden=3, max_iter=3, random_state=2), X, y)
    Xt = np.hstack([X, np.ones((len(X), 1))])
    post = model._e_step(Xt, np.eye(3)[y])
    Wt, Vt = model._stacked()
    T, N = post.hidden_means, post.class_counts
    W_new, V_new = mstep.guarded_gradient_step(Xt, T, N, Wt, Vt, 0.1, 1e-4)
    np.testing.assert_array_equal(W_new, Wt + 1e-4 * mstep.hidden_gradient(Xt, T, Wt, 0.1))
    np.testing.assert_array_equal(V_new, Vt + 1e-4 * mstep.output_gradient(N, Vt, 0.1))


@pytest.mark.parametrize("steps", [1, 2])
def test_gem_takes_at_most_k_newton_steps_and_each_raises_q(steps):
    rng = np.random.default_rng(3)
    Xt = np.hstack([rng.normal(size=(40, 4)), np.ones((40, 1))])
    T, N = rng.uniform(size=(40, 3)), rng.uniform(0, 3, size=(8, 3))
    Wt, Vt = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    W_new, taken_w = mstep.newton_hidden(Xt, T, Wt, 0.1, max_steps=steps)
    V_new, taken_v = mstep.newton_output(N, Vt, 0.1, max_steps=steps)
    assert taken_w == taken_v == steps  # far from solved after one or two steps
    assert np.all(
        mstep.hidden_objective(Xt, T, W_new, 0.1) > mstep.hidden_objective(Xt, T, Wt, 0.1)
    )
    assert mstep.output_objective(N, V_new, 0.1) > mstep.output_objective(N, Vt, 0.1)
    W_solved, _ = mstep.newton_hidden(Xt, T, Wt, 0.1)
    assert not np.allclose(W_new, W_solved)


def converged(model, X, y):
    model = fit_quietly(model, X, y)
    assert model.converged_
    return model


def test_gem_and_squarem_reach_the_optimum_of_plain_em():
    X, y = dataset("iris-std")
    common = {"n_hidden": 3, "tol": 1e-11, "max_iter": 20_000, "random_state": 1}
    plain = converged(EMMLPClassifier(newton_steps=None, **common), X, y)
    gem = converged(EMMLPClassifier(newton_steps=1, **common), X, y)
    squarem = converged(EMMLPClassifier(newton_steps=None, acceleration="squarem", **common), X, y)
    best = plain.history_["objective"][-1]
    for model in (gem, squarem):
        assert model.history_["objective"][-1] == pytest.approx(best, rel=1e-7)
        np.testing.assert_allclose(model.predict_proba(X), plain.predict_proba(X), atol=1e-3)
    assert plain.n_estep_ > 500
    assert squarem.n_estep_ < plain.n_estep_ / 2
    assert_never_decreases(np.array(squarem.history_["objective"]))


def count_e_steps(monkeypatch):
    """Every exact E-step the training loop evaluates, one entry per network."""
    calls = []
    e_step = em_stack._Stack.e_step

    def counted(self, data, *args, **kwargs):
        calls.extend([1] * len(data.Xt))
        return e_step(self, data, *args, **kwargs)

    monkeypatch.setattr(em_stack._Stack, "e_step", counted)
    return calls


@pytest.mark.parametrize("variant", ["newton", "newton_steps=1", "gradient"])
def test_plain_em_counts_one_e_step_per_iteration_plus_the_first(variant, monkeypatch):
    X, y = dataset("wine-std")
    calls = count_e_steps(monkeypatch)
    model = fit_quietly(EMMLPClassifier(n_hidden=3, max_iter=17, tol=0, **VARIANTS[variant]), X, y)
    assert model.n_estep_ == model.n_iter_ + 1 == 18 == len(calls)


def test_squarem_counts_every_e_step_it_evaluates(monkeypatch):
    X, y = dataset("wine-raw")
    calls = count_e_steps(monkeypatch)
    per_cycle = []
    cycle = em_stack._squarem_cycle

    def watched(*args):
        n_estep = args[-1]
        before = n_estep.copy()
        result = cycle(*args)
        per_cycle.append(int((n_estep - before).sum()))
        return result

    monkeypatch.setattr(em_stack, "_squarem_cycle", watched)
    model = EMMLPClassifier(n_hidden=4, acceleration="squarem", max_iter=10, tol=0, random_state=0)
    fit_quietly(model, X, y)
    assert model.n_estep_ == len(calls) == 1 + sum(per_cycle)
    # Two EM maps, then (unless they did not move) two E-steps per trial of the
    # extrapolated point; on raw wine some trials fail and alpha is halved.
    assert min(per_cycle) >= 2
    assert max(per_cycle) > 4


def test_squarem_falls_back_to_the_second_em_map_when_no_step_length_helps(monkeypatch):
    X, y = dataset("iris-std")
    common = {"n_hidden": 3, "tol": 0, "random_state": 0}
    plain = fit_quietly(EMMLPClassifier(max_iter=6, **common), X, y)
    # Make every stabilizing map (the third and later EM maps of a cycle) look
    # worse than the second map's result: each cycle must then end at theta2.
    cycle, em_map = em_stack._squarem_cycle, em_stack._Stack.em_map
    maps, trials = [], []

    def counted_cycle(*args):
        maps.clear()
        result = cycle(*args)
        trials.append(len(maps) - 2)
        return result

    def sabotaged(self, *args):
        maps.append(1)
        new_post, objective, Wt, Vt = em_map(self, *args)
        return new_post, (objective if len(maps) <= 2 else np.full_like(objective, -np.inf)), Wt, Vt

    monkeypatch.setattr(em_stack, "_squarem_cycle", counted_cycle)
    monkeypatch.setattr(em_stack._Stack, "em_map", sabotaged)
    model = fit_quietly(EMMLPClassifier(acceleration="squarem", max_iter=3, **common), X, y)
    np.testing.assert_array_equal(model.history_["objective"], plain.history_["objective"][1::2])
    for ours, theirs in zip(model.coefs_, plain.coefs_, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert all(1 <= t <= 1 + em.SQUAREM_MAX_HALVINGS for t in trials) and max(trials) > 1
    assert model.n_estep_ == 1 + sum(2 + 2 * t for t in trials)


def test_monitor_sees_squarem_cycles_and_can_stop_them():
    X, y = dataset("wine-std")
    seen = []

    def monitor(iteration, estimator):
        seen.append((iteration, estimator.n_estep_, len(estimator.history_["objective"])))
        return iteration == 4

    model = fit_quietly(
        EMMLPClassifier(n_hidden=3, acceleration="squarem", tol=0), X, y, monitor=monitor
    )
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4] and model.n_iter_ == 4
    assert [s[2] for s in seen] == [0, 1, 2, 3, 4]
    e_steps = [s[1] for s in seen]
    assert e_steps[0] == 1 and np.diff(e_steps).min() >= 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"acceleration": "aitken"}, "unknown acceleration 'aitken'"),
        ({"newton_steps": 0}, "newton_steps must be at least 1"),
        ({"newton_steps": 1.5}, "newton_steps must be an integer"),
    ],
)
def test_bad_acceleration_settings_raise_one_clear_error(params, message):
    X, y = dataset("iris-std")
    with pytest.raises(ValueError, match=message):
        EMMLPClassifier(**params).fit(X, y)
