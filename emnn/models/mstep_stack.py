"""The M-step of a stack of K networks at once (emnn.models.mstep, batched).

The same guarded Newton steps and gradient steps as mstep, on arrays with the
stack's leading axis: each network's Newton systems are solved together
(np.linalg.solve broadcasts), and each network (each hidden unit, for Q_W)
halves its own step and stops on its own Newton decrement. Padded rows (X~ = 0,
`real` False) add nothing. The output layer's exact Hessian comes, as in mstep,
from weighted moments over the configurations by halving, with the networks'
columns side by side. Where 2^m is too large for one block (m > 14), each
network takes mstep's own functions alone.
"""

from __future__ import annotations

import numpy as np

from . import mstep
from .common import softplus
from .estep_stack import configuration_logits, log_softmax
from .mstep import (
    GRADIENT_MAX_HALVINGS,
    MAX_HALVINGS,
    NEWTON_LAST_STEP,
    NEWTON_MAX_ITER,
    NEWTON_TOL,
    _jitter,
    _moments,
    _sums,
    free_rows,
    settle_softmax_shift,
)

BLOCK_HIDDEN = 14  # up to this m the output layer's moments are one block per network


def _sigmoid(a):
    return 0.5 + 0.5 * np.tanh(0.5 * a)


def _weight_mask(n_rows):
    """1 for the weight rows of a stacked matrix, 0 for its bias row (the last)."""
    mask = np.ones((n_rows, 1))
    mask[-1] = 0.0
    return mask


# ---------------------------------------------------------------- hidden layer


def hidden_objective(Xt, real, T, Wt, l2):
    """Q_W per network and unit: (K, m). l2 is (K,)."""
    A = Xt @ Wt
    rows = real[:, :, None]
    fit = ((T * A - softplus(A)) * rows).sum(axis=1)
    return fit - 0.5 * l2[:, None] * (_weight_mask(Wt.shape[1]) * Wt**2).sum(axis=1)


def hidden_gradient(Xt, real, T, Wt, l2):
    U = _sigmoid(Xt @ Wt) * real[:, :, None]
    return Xt.transpose(0, 2, 1) @ (T - U) - l2[:, None, None] * _weight_mask(Wt.shape[1]) * Wt


def newton_hidden(Xt, real, T, Wt, l2, max_steps=None):
    """Each network's m logistic regressions of T on X~ by guarded Newton (mstep.newton_hidden)."""
    K, _, p1 = Xt.shape
    Wt = Wt.copy()
    mask = _weight_mask(p1)
    q = hidden_objective(Xt, real, T, Wt, l2)
    active = np.arange(K)
    max_steps = NEWTON_MAX_ITER if max_steps is None else max_steps
    for _ in range(max_steps):
        if active.size == 0:
            break
        X, r, Ta, W, l2a = Xt[active], real[active, :, None], T[active], Wt[active], l2[active]
        U = _sigmoid(X @ W)
        grad = X.transpose(0, 2, 1) @ ((Ta - U) * r) - l2a[:, None, None] * mask * W
        S = U * (1.0 - U) * r  # (K', n, m)
        H = _hidden_hessians(X, S) + l2a[:, None, None, None] * np.diag(mask[:, 0])
        H += _jitter(H)[..., None] * np.eye(p1)
        step = np.linalg.solve(H, grad.transpose(0, 2, 1)[..., None])[..., 0].transpose(0, 2, 1)
        decrement = (grad * step).sum(axis=1)  # (K', m)
        solved = np.all(decrement <= NEWTON_TOL * (1.0 + np.abs(q[active])), axis=1)
        going = ~solved
        idx = active[going]
        if idx.size == 0:
            break
        W_new, q_new, moved = _halve_columns(
            lambda W, idx=idx: hidden_objective(Xt[idx], real[idx], T[idx], W, l2[idx]),
            W[going],
            step[going],
            q[idx],
            MAX_HALVINGS,
        )
        Wt[idx], q[idx] = W_new, q_new
        active = idx[moved]  # a network with no ascent left at working precision stops
    return Wt


def _hidden_hessians(X, S):
    """Negative Hessians of Q_W without the ridge, one (p+1) x (p+1) block per network
    and unit, (K, m, p+1, p+1): X~^T diag(S_h) X~, from one product per group of
    networks (groups small enough that the n x (p+1) m products stay under 64 MiB)."""
    K, n, p1 = X.shape
    m = S.shape[2]
    H = np.empty((K, m, p1, p1))
    size = max(1, mstep._BLOCK_ENTRIES // (n * p1 * m))
    for start in range(0, K, size):
        part = slice(start, start + size)
        Xk = X[part]
        weighted = (Xk[:, :, :, None] * S[part, :, None, :]).reshape(len(Xk), n, p1 * m)
        H[part] = (
            (Xk.transpose(0, 2, 1) @ weighted).reshape(len(Xk), p1, p1, m).transpose(0, 3, 1, 2)
        )
    return H


def _halve_columns(objective, W, step, q, max_halvings):
    """Per network and column, halve the step until the column's objective does not
    decrease (mstep._halve_columns). Returns weights, objectives and, per network,
    whether any of its columns moved."""
    K, _, m = W.shape
    scale = np.ones((K, m))
    pending = np.ones((K, m), dtype=bool)
    best_W, best_q = W.copy(), q.copy()
    for _ in range(max_halvings):
        trial = W + step * scale[:, None, :]
        q_trial = objective(trial)
        better = pending & (q_trial >= q)
        best_W = np.where(better[:, None, :], trial, best_W)
        best_q = np.where(better, q_trial, best_q)
        pending &= ~better
        if not pending.any():
            break
        scale[pending] *= 0.5
    return best_W, best_q, ~pending.all(axis=1)


# ---------------------------------------------------------------- output layer


def output_objective(N, Vt, l2):
    """Q_V per network: sum_zi N_zi log softmax(z~ V~)_i - l2/2 ||V||^2 (K,)."""
    log_o = log_softmax(configuration_logits(Vt))
    return (N * log_o).sum(axis=(1, 2)) - 0.5 * l2 * (Vt[:, :-1] ** 2).sum(axis=(1, 2))


def _output_derivatives(N, Vt, l2, hessian=True):
    """mstep._output_derivatives for every network (all 2^m configurations, one block)."""
    K, m1, g = Vt.shape
    m = m1 - 1
    P = np.exp(log_softmax(configuration_logits(Vt)))  # (K, 2^m, g)
    n_z = N.sum(axis=2)
    residual = N - n_z[:, :, None] * P
    columns = residual.transpose(1, 0, 2).reshape(2**m, K * g)
    grad = _sums(columns, m).reshape(m1, K, g).transpose(1, 0, 2)
    grad = grad - l2[:, None, None] * _weight_mask(m1) * Vt
    if not hessian:
        return grad, None
    pairs = [(i, j) for i in range(g) for j in range(i, g)]
    first, second = np.array(pairs).T
    nP = n_z[:, :, None] * P
    weights = -nP[:, :, first] * P[:, :, second]
    weights[:, :, first == second] += nP
    columns = weights.transpose(1, 0, 2).reshape(2**m, K * len(pairs))
    moments = _moments(columns, m).reshape(K, len(pairs), m1, m1)
    H = np.empty((K, m1, g, m1, g))
    for k, (i, j) in enumerate(pairs):
        H[:, :, i, :, j] = moments[:, k]
        H[:, :, j, :, i] = moments[:, k].transpose(0, 2, 1)
    H = H.reshape(K, m1 * g, m1 * g)
    H += l2[:, None, None] * np.diag(np.repeat(_weight_mask(m1)[:, 0], g))
    for k in range(K):  # l2 may be 0 for some networks of the stack only
        settle_softmax_shift(H[k], free_rows(m1, l2[k]), g)
    H += _jitter(H)[..., None] * np.eye(m1 * g)
    return grad, H


def output_gradient(N, Vt, l2):
    return _output_derivatives(N, Vt, l2, hessian=False)[0]


def newton_output(N, Vt, l2, max_steps=None):
    """Each network's Q_V raised by guarded Newton steps (mstep.newton_output)."""
    K = len(Vt)
    if Vt.shape[1] - 1 > BLOCK_HIDDEN:
        out = Vt.copy()
        for k in range(K):
            out[k], _ = mstep.newton_output(N[k], Vt[k], l2[k], max_steps)
        return out
    Vt = Vt.copy()
    q = output_objective(N, Vt, l2)
    active = np.arange(K)
    max_steps = NEWTON_MAX_ITER if max_steps is None else max_steps
    for _ in range(max_steps):
        if active.size == 0:
            break
        grad, H = _output_derivatives(N[active], Vt[active], l2[active])
        step = np.linalg.solve(H, grad.reshape(len(active), -1, 1)).reshape(grad.shape)
        decrement = (grad * step).sum(axis=(1, 2)) / (1.0 + np.abs(q[active]))
        going = decrement > NEWTON_TOL
        idx, step, decrement = active[going], step[going], decrement[going]
        if idx.size == 0:
            break
        scale = np.ones(idx.size)
        pending = np.ones(idx.size, dtype=bool)
        for _ in range(MAX_HALVINGS):
            trial = Vt[idx] + scale[:, None, None] * step
            q_trial = output_objective(N[idx], trial, l2[idx])
            better = pending & (q_trial >= q[idx])
            Vt[idx[better]], q[idx[better]] = trial[better], q_trial[better]
            pending &= ~better
            if not pending.any():
                break
            scale[pending] *= 0.5
        # Stopped: no ascent left at working precision, or a full step from a decrement
        # so small that quadratic convergence leaves nothing (mstep.guarded_newton).
        finished = pending | ((scale == 1.0) & (decrement <= NEWTON_LAST_STEP))
        active = idx[~finished]
    return Vt


# ---------------------------------------------------------------- gradient M-step


def guarded_gradient_step(Xt, real, T, N, Wt, Vt, l2, learning_rate):
    """mstep.guarded_gradient_step for every network: one gradient-ascent step of size
    learning_rate (K,) on each half of Q, halved while it would lower that half."""
    q_w = hidden_objective(Xt, real, T, Wt, l2)
    step = learning_rate[:, None, None] * hidden_gradient(Xt, real, T, Wt, l2)
    Wt, _, _ = _halve_columns(
        lambda W: hidden_objective(Xt, real, T, W, l2), Wt, step, q_w, GRADIENT_MAX_HALVINGS
    )
    q_v = output_objective(N, Vt, l2)
    step = learning_rate[:, None, None] * output_gradient(N, Vt, l2)
    Vt = Vt.copy()
    pending = np.ones(len(Vt), dtype=bool)
    for _ in range(GRADIENT_MAX_HALVINGS):
        idx = np.flatnonzero(pending)
        trial = Vt[idx] + step[idx]
        taken = output_objective(N[idx], trial, l2[idx]) >= q_v[idx]
        Vt[idx[taken]] = trial[taken]
        pending[idx[taken]] = False
        if not pending.any():
            break
        step[pending] *= 0.5
    return Wt, Vt
