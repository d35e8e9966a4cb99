"""Bug-compatible rebuilds of the originating notebooks, and their ablation rows."""

# The originating notebooks seed NumPy's legacy global generator; these tests check
# the rebuilds give the same numbers without touching it.
# ruff: noqa: NPY002

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from emnn.data.splits import original_split
from emnn.models import estep, mstep
from emnn.parts import replication as ablations
from emnn.parts.replication import (
    ABLATION_ROWS,
    BACKPROP_DEFECTS,
    CONVERGED_TOL,
    EM_DEFECTS,
    backprop_gradients,
    originating_backprop,
    originating_em,
)

SHARED_SPLIT = Path(__file__).resolve().parents[2] / "shared" / "data" / "iris_seed_split.json"


@pytest.fixture(scope="module")
def original():
    """(X_train, y_train, X_test, y_test) in the notebooks' order: train_test_split's."""
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.2, random_state=1017)


def test_original_split_is_train_test_split_1017():
    X, y = load_iris(return_X_y=True)
    rows = np.arange(len(y))
    X_train, X_test, rows_train, rows_test = train_test_split(
        X, rows, test_size=0.2, random_state=1017
    )
    train, test = original_split()
    assert np.array_equal(np.sort(rows_train), train)
    assert np.array_equal(np.sort(rows_test), test)
    assert (len(train), len(test)) == (120, 30)
    if SHARED_SPLIT.is_file():  # the packaged copy is the shared one
        shared = json.loads(SHARED_SPLIT.read_text())
        assert shared["train"] == train.tolist() and shared["test"] == test.tolist()
    ordered_train, ordered_test = ablations.original_split_order()
    assert np.array_equal(X[ordered_train], X_train)  # the order SGD visits the rows in
    assert np.array_equal(X[ordered_test], X_test)


@pytest.mark.parametrize("seed", [202, 1138, 1183])
def test_legacy_seeding_without_global_state(seed):
    saved = np.random.get_state()
    try:
        np.random.seed(seed)
        expected = np.random.randn(4, 7)
        state = np.random.get_state()
        got = ablations.legacy_randn(seed, 4, 7)
        after = np.random.get_state()
    finally:
        np.random.set_state(saved)
    assert np.array_equal(got, expected)
    assert after[1].tolist() == state[1].tolist() and after[2] == state[2]


def test_rebuilds_leave_global_random_state_alone():
    before = np.random.get_state()[1].copy()
    ablations.run_original("em-bug-compatible")
    ablations.run_original("backprop-bug-compatible")
    assert np.array_equal(np.random.get_state()[1], before)


def test_bug_compatible_em_regenerates_28_of_30(original):
    X_train, X_test, y_train, y_test = original
    net = originating_em(X_train, y_train)
    assert net.n_correct(X_test, y_test) == 28
    assert ablations.run_original("em-bug-compatible").n_correct == 28
    assert len(net.history_["log_likelihood"]) == len(net.history_["cross_entropy"]) == 51


def test_bug_compatible_backprop_regenerates_29_of_30(original):
    X_train, X_test, y_train, y_test = original
    net = originating_backprop(X_train, y_train)
    assert net.n_correct(X_test, y_test) == 29
    result = ablations.run_original("backprop-bug-compatible")
    assert (result.n_correct, result.n_test) == (29, 30)
    assert len(net.history_["cross_entropy"]) == 31


def dense_originating_em(X, y, n_iter=50, lr=0.005):
    """DESIGN §3 written out independently: the full n x 2^m posterior and the
    notebook's shadowed update loop; returns W, V and log p(y | X) per iteration."""
    p, m, g = X.shape[1], 7, 3
    W = np.random.RandomState(1183).randn(p, m)
    V = np.random.RandomState(202).randn(m, g)
    Y = np.eye(g)[y]
    Z = np.array([[(k >> h) & 1 for h in range(m)] for k in range(2**m)], dtype=float)
    trace = []
    for iteration in range(n_iter + 1):
        U = expit(X @ W)  # n x m
        prior = np.exp(np.log(U) @ Z.T + np.log1p(-U) @ (1 - Z).T)  # n x 2^m
        out = softmax(Z @ V, axis=1)  # 2^m x g
        joint = prior * (Y @ out.T)
        trace.append(np.log(joint.sum(axis=1)).sum())
        if iteration == n_iter:
            break
        R = joint / joint.sum(axis=1, keepdims=True)
        W_new = W + lr * X.T @ (R @ Z - U)
        gradV = np.zeros((m, g))
        for i in range(g):
            for h in range(m):
                gradV[h, i] = (R * Z[:, h] * (Y[:, [i]] - out[:, i])).sum()
        for h in range(m):
            for k in range(g):
                V[h, k] += lr * gradV[h, i]  # i is the last class here: the shadowing
        W = W_new
    return W, V, np.array(trace)


def test_vectorized_em_matches_independent_reference(original):
    X_train, X_test, y_train, _ = original
    net = originating_em(X_train, y_train)
    W, V, trace = dense_originating_em(X_train, y_train)
    np.testing.assert_allclose(net.history_["log_likelihood"], trace, rtol=1e-12, atol=0)
    np.testing.assert_allclose(net.W, W, rtol=0, atol=1e-12 * np.abs(W).max())
    np.testing.assert_allclose(net.V, V, rtol=0, atol=1e-12 * np.abs(V).max())
    assert not net.b.any() and not net.c.any()
    proba = softmax(expit(X_test @ W) @ V, axis=1)
    np.testing.assert_allclose(net.predict_proba(X_test), proba, atol=1e-12)
    # EM's gradient steps raise the log-likelihood here, from about -126 to -81.
    assert trace[-1] > trace[0] + 40


def output_table(net):
    return estep.output_log_table(net.V, net.c)


def test_frozen_output_layer_never_changes_its_predictions(original):
    X_train, X_test, y_train, _ = original
    initial = originating_em(X_train, y_train, n_iter=0)
    frozen = originating_em(X_train, y_train)
    trained = originating_em(X_train, y_train, defects=set(EM_DEFECTS) - {"frozen_output"})
    # The shadowed update moves V, but adds the same vector to every column ...
    assert np.abs(frozen.V - initial.V).max() > 1e-3
    drift = (frozen.V - initial.V) - (frozen.V - initial.V)[:, :1]
    assert np.abs(drift).max() < 1e-12
    # ... so softmax(V^T z) is the initial one for every configuration z.
    np.testing.assert_allclose(output_table(frozen), output_table(initial), atol=1e-12)
    # Training the output layer changes that table and the network's predictions.
    assert np.abs(output_table(trained) - output_table(initial)).max() > 1e-2
    assert np.abs(trained.predict_proba(X_test) - frozen.predict_proba(X_test)).max() > 1e-3


def loss(params, x, y_onehot):
    W1, b1, W2, b2 = params
    return -float(np.log(softmax(expit(x @ W1 + b1) @ W2 + b2)) @ y_onehot)


def finite_differences(params, x, y_onehot, eps=1e-6):
    grads = []
    for k, param in enumerate(params):
        grad = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            shifted = [p.copy() for p in params]
            shifted[k][index] += eps
            up = loss(shifted, x, y_onehot)
            shifted[k][index] -= 2 * eps
            grad[index] = (up - loss(shifted, x, y_onehot)) / (2 * eps)
        grads.append(grad)
    return grads


@pytest.fixture
def one_sample():
    rng = np.random.default_rng(3)
    params = [
        rng.normal(size=(4, 7)),
        rng.normal(size=7),
        rng.normal(size=(7, 3)),
        rng.normal(size=3),
    ]
    return params, rng.normal(size=4), np.eye(3)[1]


def relative_error(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def test_backprop_gradients_are_exact_without_defects(one_sample):
    params, x, t = one_sample
    got = backprop_gradients(*params, x, t, defects=())
    for a, b in zip(got, finite_differences(params, x, t), strict=True):
        assert relative_error(a, b) < 1e-6


def test_doubled_derivative_is_present_as_the_flag_says(one_sample):
    params, x, t = one_sample
    dW1, db1, dW2, db2 = backprop_gradients(*params, x, t, defects={"doubled_derivative"})
    fd = finite_differences(params, x, t)
    assert relative_error(dW2, fd[2]) < 1e-6 and relative_error(db2, fd[3]) < 1e-6
    assert relative_error(dW1, fd[0]) > 0.05 and relative_error(db1, fd[1]) > 0.05
    s = expit(x @ params[0] + params[1])
    doubled = (params[2] @ (softmax(s @ params[2] + params[3]) - t)) * expit(s) * (1 - expit(s))
    np.testing.assert_allclose(db1, doubled, rtol=1e-12)


def test_b1_gradient_is_p_times_too_large_as_the_flag_says(one_sample):
    params, x, t = one_sample
    got = backprop_gradients(*params, x, t, defects={"b1_gradient_times_p"})
    fd = finite_differences(params, x, t)
    assert relative_error(got[1], 4 * fd[1]) < 1e-6
    for k in (0, 2, 3):
        assert relative_error(got[k], fd[k]) < 1e-6


def independent_backprop(X, y, epochs):
    W1 = np.random.RandomState(202).randn(4, 7)
    W2 = np.random.RandomState(1138).randn(7, 3)
    b1, b2 = np.zeros(7), np.zeros(3)
    for _ in range(epochs):
        for x, label in zip(X, y, strict=True):
            s = expit(W1.T @ x + b1)
            delta = softmax(W2.T @ s + b2)
            delta[label] -= 1.0
            sig_s = 1.0 / (1.0 + np.exp(-s))
            hidden = (W2 @ delta) * sig_s * (1.0 - sig_s)
            W2 = W2 - 0.005 * np.outer(s, delta)
            b2 = b2 - 0.005 * delta
            W1 = W1 - 0.005 * np.outer(x, hidden)
            for _feature in range(len(x)):  # the b1 update sits inside the loop over inputs
                b1 = b1 - 0.005 * hidden
    return W1, b1, W2, b2


def test_backprop_matches_independent_loop(original):
    X_train, _, y_train, _ = original
    net = originating_backprop(X_train, y_train, n_epochs=3)
    for a, b in zip(
        (net.W, net.b, net.V, net.c), independent_backprop(X_train, y_train, 3), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())


def test_rows_remove_one_defect_each_and_name_it():
    keys = [row.key for row in ABLATION_ROWS]
    assert len(set(keys)) == len(keys) and len({row.name for row in ABLATION_ROWS}) == len(keys)
    for model, all_defects in (("em", EM_DEFECTS), ("backprop", BACKPROP_DEFECTS)):
        rows = [row for row in ABLATION_ROWS if row.model == model]
        assert rows[0].defects == set(all_defects) and rows[0].removed is None
        assert "bug-compatible" in rows[0].name
        corrected, converged = rows[-2:]
        assert corrected.defects == frozenset() and corrected.removed == "all"
        assert "all defects removed" in corrected.name
        assert corrected.budget == "originating" and converged.budget == "converged"
        assert converged.defects == frozenset() and converged.removed == "all"
        assert corrected.cap < converged.cap
        singles = rows[1:-2]
        assert sorted(row.removed for row in singles) == sorted(all_defects)
        for row in singles:
            assert row.defects == set(all_defects) - {row.removed}
            assert row.name.startswith(rows[0].name + ", ")
            assert row.budget == "originating"


@pytest.mark.parametrize("model", ["em", "backprop"])
def test_converged_rows_stop_when_the_training_loss_settles(model, original):
    """One stopping rule for both: each rebuild stops once a step lowers its own training loss by
    less than the tolerance, well before the cap, and not before the loss has settled."""
    X_train, _, y_train, _ = original
    net = ablations.fit_row(f"{model}-converged", X_train, y_train)
    row = ablations.ablation_row(f"{model}-converged")
    if model == "em":
        loss = -np.array(net.history_["log_likelihood"]) / len(X_train)
    else:
        loss = np.array(net.history_["cross_entropy"])
    steps = -np.diff(loss)
    assert net.n_steps == len(steps) < row.cap
    assert steps[-1] < CONVERGED_TOL and np.all(steps[:-1] >= CONVERGED_TOL)
    assert net.n_steps > ablations.ablation_row(f"{model}-corrected").cap


@pytest.mark.parametrize(
    "row", [row for row in ABLATION_ROWS if row.removed], ids=lambda row: row.key
)
def test_every_removed_defect_changes_the_fitted_network(row, original):
    X_train, X_test, y_train, _ = original
    bug_compatible = ablations.fit_row(f"{row.model}-bug-compatible", X_train, y_train)
    ablated = ablations.fit_row(row, X_train, y_train)
    difference = np.abs(ablated.predict_proba(X_test) - bug_compatible.predict_proba(X_test))
    assert difference.max() > 1e-5  # the smallest, biases under a frozen output: 6e-4


def test_em_flags_act_as_named(original):
    X_train, X_test, y_train, _ = original
    bug = originating_em(X_train, y_train, n_iter=3)
    assert bug.scaler is None and not bug.b.any() and bug.prediction == "mean-field"
    biased = originating_em(X_train, y_train, set(EM_DEFECTS) - {"no_biases"}, n_iter=3)
    assert np.abs(biased.b).max() > 1e-4
    scaled = originating_em(X_train, y_train, set(EM_DEFECTS) - {"raw_features"}, n_iter=0)
    np.testing.assert_allclose(scaled.scaler.transform(X_train).mean(axis=0), 0, atol=1e-12)
    exact = originating_em(X_train, y_train, set(EM_DEFECTS) - {"mean_field_prediction"})
    np.testing.assert_allclose(
        exact.predict_proba(X_test),
        estep.marginal_proba(X_test @ exact.W, exact.V, exact.c),
        atol=1e-14,
    )


def test_newton_mstep_solves_the_hidden_half_of_q(original):
    X_train, _, y_train, _ = original
    start = originating_em(X_train, y_train, n_iter=0)
    post = estep.e_step(
        X_train @ start.W, np.eye(3)[y_train], estep.output_log_table(start.V, start.c)
    )
    newton = originating_em(X_train, y_train, set(EM_DEFECTS) - {"gradient_mstep"}, n_iter=1)
    gradient = originating_em(X_train, y_train, n_iter=1)
    residual = mstep.hidden_gradient(X_train, post.hidden_means, newton.W, 0.0)
    first = mstep.hidden_gradient(X_train, post.hidden_means, start.W, 0.0)
    assert np.abs(residual).max() < 1e-6 * np.abs(first).max()
    assert np.abs(mstep.hidden_gradient(X_train, post.hidden_means, gradient.W, 0.0)).max() > 1e-2
    np.testing.assert_array_equal(newton.V - start.V, 0.0)  # the frozen layer is held


def test_corrected_em_trains_every_part(original):
    X_train, _, y_train, _ = original
    net = originating_em(X_train, y_train, defects=(), n_iter=5)
    assert net.scaler is not None and net.prediction == "exact"
    assert np.abs(net.b).max() > 0 and np.abs(net.c).max() > 0
    assert np.all(np.diff(net.history_["log_likelihood"]) >= -1e-9)  # EM is monotone


def test_unknown_defects_and_unsupported_combinations_are_refused(original):
    X_train, _, y_train, _ = original
    with pytest.raises(ValueError, match="frozen_outptu"):
        originating_em(X_train, y_train, defects={"frozen_outptu"})
    with pytest.raises(ValueError, match="doubled"):
        originating_backprop(X_train, y_train, defects={"doubled"})
    with pytest.raises(ValueError, match="biases"):
        originating_em(X_train, y_train, defects={"no_biases"})
    with pytest.raises(ValueError, match="unknown ablation row"):
        ablations.ablation_row("em-everything")


def test_paired_runs_are_deterministic_and_share_the_init():
    X, y = ablations.iris()
    train, test = original_split()
    first = ablations.run_paired("em-bug-compatible", X, y, train, test, seed=5)
    again = ablations.run_paired("em-bug-compatible", X, y, train, test, seed=5)
    assert first == again and first.n_test == 30
    W, V = ablations.random_init(5, 4, 3)
    em = originating_em(X[train], y[train], init=5, n_iter=0)
    backprop = originating_backprop(X[train], y[train], init=5, n_epochs=0)
    for net in (em, backprop):  # paired: the same starting weights for both rebuilds
        np.testing.assert_array_equal(net.W, W)
        np.testing.assert_array_equal(net.V, V)
    assert not np.array_equal(W, ablations.random_init(6, 4, 3)[0])
    order = ablations.training_order(5, len(train))
    assert sorted(order) == list(range(len(train))) and not np.array_equal(order, np.sort(order))


def test_init_distribution_is_computed_over_draws():
    counts = ablations.init_distribution(n_draws=6, root=0)
    assert counts.shape == (6,) and np.all((counts >= 0) & (counts <= 30))
    assert len(set(counts.tolist())) > 1  # the draws differ: the frozen output is a lottery
    np.testing.assert_array_equal(counts, ablations.init_distribution(n_draws=6, root=0))
    summary = ablations.summarize_distribution([28, 19, 30, 11], reported=28)
    assert summary["share_reaching_reported"] == 0.5 and summary["median"] == pytest.approx(
        23.5 / 30
    )
