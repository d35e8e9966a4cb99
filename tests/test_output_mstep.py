"""The output layer's M-step: the O(2^m) moment sums against plain matrix products,
over all configurations and over an explicit (sampled) set."""

import numpy as np
import pytest

from emnn.models import estep, mstep


def problem(m, g=4, seed=0, K=None):
    rng = np.random.default_rng([m, g, seed])
    rows = 2**m if K is None else K
    N = rng.uniform(0, 3, size=(rows, g)) * (rng.uniform(size=(rows, 1)) < 0.7)
    return N, rng.normal(size=(m + 1, g))


def direct_derivatives(Z, N, Vt, l2):
    """Objective, gradient and negative Hessian of Q_V by plain products over Z."""
    m1, g = Vt.shape
    Zt = np.hstack([Z, np.ones((len(Z), 1))])
    logits = Zt @ Vt
    log_o = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True))
    log_o -= logits.max(1, keepdims=True)
    P = np.exp(log_o)
    n_z = N.sum(axis=1)
    mask = np.ones((m1, 1))
    mask[-1] = 0
    value = (N * log_o).sum() - 0.5 * l2 * (Vt[:-1] ** 2).sum()
    grad = Zt.T @ (N - n_z[:, None] * P) - l2 * mask * Vt
    H = np.zeros((m1, g, m1, g))
    for i in range(g):
        for j in range(g):
            w = n_z * (P[:, i] * (i == j) - P[:, i] * P[:, j])
            H[:, i, :, j] = Zt.T @ (w[:, None] * Zt)
    H = H.reshape(m1 * g, m1 * g) + l2 * np.diag(np.repeat(mask[:, 0], g))
    return value, grad, H


@pytest.mark.parametrize("m", [1, 2, 5, 9])
@pytest.mark.parametrize("block_entries", [None, 64, 1000])
def test_exact_output_derivatives_equal_plain_products(m, block_entries, monkeypatch):
    if block_entries is not None:  # several aligned blocks of configurations
        monkeypatch.setattr(mstep, "_BLOCK_ENTRIES", block_entries)
    N, Vt = problem(m)
    value, grad, H = direct_derivatives(estep.configurations(m), N, Vt, 0.3)
    assert mstep.output_objective(N, Vt, 0.3) == pytest.approx(value, rel=1e-12)
    ours_grad, ours_H = mstep._output_derivatives(N, Vt, 0.3)
    np.testing.assert_allclose(ours_grad, grad, rtol=1e-10, atol=1e-10)
    # Equal but for the pin along the softmax's flat direction (mstep.settle_softmax_shift).
    away = away_from_flat(*Vt.shape)
    np.testing.assert_allclose(away @ ours_H @ away, away @ H @ away, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(ours_H - away @ ours_H @ away, pin(H, *Vt.shape), atol=1e-8)


def away_from_flat(m1, g):
    """The projector away from the flat direction: every class's bias moved alike."""
    flat = np.zeros(m1 * g)
    flat[(m1 - 1) * g :] = 1.0 / np.sqrt(g)
    return np.eye(m1 * g) - np.outer(flat, flat)


def pin(H, m1, g):
    """The term settle_softmax_shift adds: the bias row's curvature scale along the flat
    direction (plus the 1e-12 jitter, below the tolerance)."""
    block = H[(m1 - 1) * g :, (m1 - 1) * g :]
    out = np.zeros_like(H)
    out[(m1 - 1) * g :, (m1 - 1) * g :] = (1.0 + np.abs(np.diagonal(block)).max()) / g
    return out


def test_explicit_configurations_give_the_same_objective_and_gradient():
    m = 6
    N, Vt = problem(m, g=3)
    Z = estep.configurations(m)
    order = np.random.default_rng(0).permutation(2**m)
    for configurations, counts in ((Z, N), (Z[order], N[order])):
        assert mstep.output_objective(counts, Vt, 0.2, configurations) == pytest.approx(
            mstep.output_objective(N, Vt, 0.2), rel=1e-12
        )
        np.testing.assert_allclose(
            mstep.output_gradient(counts, Vt, 0.2, configurations),
            mstep.output_gradient(N, Vt, 0.2),
            rtol=1e-10,
            atol=1e-10,
        )


def test_boehning_matrix_bounds_the_negative_hessian():
    """B - H is positive semi-definite, so a full step never lowers Q_V."""
    rng = np.random.default_rng(4)
    Z = (rng.uniform(size=(300, 7)) < 0.4).astype(float)
    N, Vt = problem(7, g=5, K=300)
    _, _, H = direct_derivatives(Z, N, Vt, 0.0)
    _, B = mstep._output_derivatives(N, Vt, 0.0, configurations=Z)
    assert np.linalg.eigvalsh(B - H).min() >= -1e-8 * np.abs(B).max()
    # and it is not the Hessian itself
    assert np.linalg.eigvalsh(B - H).max() > 1e-3


@pytest.mark.parametrize("explicit", [False, True])
def test_output_newton_steps_ascend_and_solve(explicit):
    m = 5
    N, Vt = problem(m, g=3, seed=2)
    configurations = estep.configurations(m) if explicit else None
    before = mstep.output_objective(N, Vt, 0.1, configurations)
    one, taken = mstep.newton_output(N, Vt, 0.1, max_steps=1, configurations=configurations)
    assert taken == 1 and mstep.output_objective(N, one, 0.1, configurations) > before
    solved, _ = mstep.newton_output(N, Vt, 0.1, configurations=configurations)
    gradient = mstep.output_gradient(N, solved, 0.1, configurations)
    # Boehning's steps converge linearly: 50 of them get within 1e-4, Newton's to 1e-8
    assert np.abs(gradient).max() < (1e-4 if explicit else 1e-8)
