"""The ECM M-step of the mixture of experts (algorithm="ecm"), for a stack of networks.

One cycle of K + g conditional maximizations (Meng & Rubin, 1993), each solved to
tolerance by guarded Newton, so Q rises at every CM-step and the objective never
decreases. Every network's problems are solved together; each problem halves its
own step and stops on its own Newton decrement, and a singular system fails its
network's M-step only.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from .common import softplus
from .moe_irls import solve_stack, symmetric_index
from .moe_model import StackData, logsumexp, penalty_mask

# A CM-step is solved when its Newton decrement is below CM_TOL * (1 + |Q_block|),
# or after CM_MAX_ITER guarded Newton steps.
CM_TOL = 1e-12
CM_MAX_ITER = 50
CM_LAST_STEP = 1e-8
# With few features, a Hessian X~^T diag(c) X~ is fastest from the rows' outer products
# (moe_irls.keep_outer_products); with more, they outgrow the caches and BLAS's
# symmetric product of X~ diag(sqrt(c)) wins (measured: p = 13 and 30 with n = 142, 455).
OUTER_MAX_COLUMNS = 16
# A Newton step on raw (unstandardized) features can overshoot by many orders of
# magnitude; 60 halvings shrink it by 1e-18, below rounding.
MAX_HALVINGS = 60


def binary_objective(Xt, w, t, offset, beta, l2):
    """Per problem (N, b): sum_j w_j [t_j z_j - softplus(z_j)] - l2/2 ||beta||^2,
    z = x~ beta - offset. Xt (N, n, p+1); w, t, offset (N, b, n); beta (N, b, p+1)."""
    z = beta @ Xt.transpose(0, 2, 1) - offset
    data = (w * (t * z - softplus(z))).sum(axis=2)
    return data - 0.5 * l2[:, None] * (penalty_mask(beta.shape[2]) * beta**2).sum(axis=2)


def solve_binary(Xt, w, t, offset, beta, l2, outer=None):
    """Maximize N x b weighted logistic regressions with offsets, each to tolerance.

    Guarded Newton: each problem's step is halved until its objective does not
    decrease, so none ever decreases. Xt (N, n, p+1); w, t, offset broadcast to
    (N, b, n); beta (N, b, p+1); l2 (N,); outer: the rows' outer products, to make
    the Hessians from (else they come from X~). Returns the solutions and which
    networks met a singular system (their problems stop where they were).
    """
    N, b, p1 = beta.shape
    n = Xt.shape[1]
    w, t, offset = (np.broadcast_to(a, (N, b, n)) for a in (w, t, offset))
    mask = penalty_mask(p1)
    diagonal = np.arange(p1)
    beta = beta.copy()
    q = binary_objective(Xt, w, t, offset, beta, l2)
    active = np.ones((N, b), dtype=bool)
    failed = np.zeros(N, dtype=bool)
    for _ in range(CM_MAX_ITER):
        nets = _some(np.flatnonzero(active.any(axis=1)), N)  # with a problem unsolved
        X, W, T, off, l2n = Xt[nets], w[nets], t[nets], offset[nets], l2[nets]
        B, act, qn = beta[nets].copy(), active[nets].copy(), q[nets].copy()
        s = expit(B @ X.transpose(0, 2, 1) - off)
        grad = (W * (T - s)) @ X - l2n[:, None, None] * mask * B
        curvature = W * s * (1.0 - s)
        if outer is not None:
            H = (curvature @ outer[nets])[..., symmetric_index(p1)]
        else:
            Z = X[:, None] * np.sqrt(curvature)[:, :, :, None]  # (M, b, n, p+1)
            H = Z.transpose(0, 1, 3, 2) @ Z  # Gram matrices: BLAS's symmetric product
        H[:, :, diagonal, diagonal] += l2n[:, None, None] * mask
        jitter = 1e-12 * (1.0 + np.abs(H[:, :, diagonal, diagonal]).max(axis=2))
        H[:, :, diagonal, diagonal] += jitter[:, :, None]
        H[~act] = np.eye(p1)  # a solved problem's system is not needed
        step, singular = solve_stack(H, grad[..., None])
        step = step[..., 0]
        failed[nets] |= singular
        decrement = (grad * step).sum(axis=2)
        unsolved = act & ~singular[:, None] & (decrement > CM_TOL * (1.0 + np.abs(qn)))
        active[nets] = unsolved
        if not unsolved.any():
            break
        scale = np.ones((len(B), b))
        pending = unsolved.copy()
        for _ in range(MAX_HALVINGS):
            rows = _some(np.flatnonzero(pending.any(axis=1)), len(B))
            trial = B[rows] + scale[rows][:, :, None] * step[rows]
            q_trial = binary_objective(X[rows], W[rows], T[rows], off[rows], trial, l2n[rows])
            better = pending[rows] & (q_trial >= qn[rows])
            B[rows] = np.where(better[:, :, None], trial, B[rows])
            qn[rows] = np.where(better, q_trial, qn[rows])
            pending[rows] &= ~better
            if not pending.any():
                break
            scale[pending] *= 0.5
        beta[nets], q[nets] = B, qn
        # No ascent left at working precision; or a full step from a decrement this
        # small leaves one of order its square, far below CM_TOL: no confirming Hessian.
        last = (scale == 1.0) & (decrement <= CM_LAST_STEP * (1.0 + np.abs(qn)))
        active[nets] = unsolved & ~pending & ~last
        if not active.any():
            break
    return beta, failed


def _some(idx, size):
    """idx, or every index as a slice (a view, not a copy) when idx holds them all."""
    return slice(None) if idx.size == size else idx


def _others(A, k):
    """log sum_{l != k} exp(A_l) over the last axis: the offset of column k's CM-step."""
    return logsumexp(np.delete(A, k, axis=-1))


def ecm_m_step(data: StackData, h, Gt, Et, l2, on_cm_step=None):
    """One cycle of K + g conditional maximizations for every network, each solved to
    tolerance. Returns the new weights and which networks' M-steps failed.

    CM-steps 1..K: column k of the gate (g~_k), the others fixed. Q_G as a
    function of g~_k is a logistic regression of h_.k on x with offset
    log sum_{l != k} exp(g~_l . x~).
    CM-steps K+1..K+g: column i of every expert (e~_ki for all k at once; the
    experts' terms of Q are separate, so this is K independent problems). Q_k
    as a function of e~_ki is a logistic regression of [y = i] on x, weighted
    by h_.k, with offset log sum_{c != i} exp(e~_kc . x~).
    Why these blocks: each is a strictly concave (p+1)-parameter problem, whose
    (p+1) x (p+1) Newton system is cheap and, for l2 > 0, never singular (the softmax's flat
    direction needs all columns to move), where IRLS solves systems of K(p+1)
    and g(p+1). With one expert the gate is constant and its CM-step is exact:
    weights 0. `on_cm_step(Gt, Et)` is called after each CM-step (for tests).
    """
    Gt, Et = Gt.copy(), Et.copy()
    Xt = data.Xt
    failed = np.zeros(len(Gt), dtype=bool)
    K = Gt.shape[2]
    if K == 1:  # one expert: log pi = 0, so Q_G is the penalty alone
        Gt[:, :-1] = 0.0
    real = data.real[:, None, :].astype(float)  # the gate's case weights: 1, 0 on padding
    outer = data.outer if Xt.shape[2] <= OUTER_MAX_COLUMNS else None
    for k in range(K if K > 1 else 0):
        offset = _others(Xt @ Gt, k)[:, None]
        column, singular = solve_binary(
            Xt, real, h[:, None, :, k], offset, Gt[:, None, :, k], l2, outer
        )
        Gt[:, :, k] = column[:, 0]
        failed |= singular
        if on_cm_step is not None:
            on_cm_step(Gt, Et)
    weights = h.transpose(0, 2, 1)  # (N, K, n)
    for i in range(Et.shape[3]):
        offset = _others(Xt[:, None] @ Et, i)  # (N, K, n)
        column, singular = solve_binary(
            Xt, weights, data.Y[:, None, :, i], offset, Et[:, :, :, i], l2, outer
        )
        Et[:, :, :, i] = column
        failed |= singular
        if on_cm_step is not None:
            on_cm_step(Gt, Et)
    return Gt, Et, failed
