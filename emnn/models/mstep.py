"""M-step: the two concave halves of Q, solved by Newton with step-halving.

Q(Psi | Psi_k) = Q_W + Q_V, both penalized by l2/2 * ||weights||^2 (biases free):

    Q_W = sum_jh [tau_hj a_hj - softplus(a_hj)],  a = X~ W~   (m logistic regressions)
    Q_V = sum_zi N_zi log softmax(z~ V~)_i                     (one weighted multinomial)

W~ and V~ carry their bias as the last row; X~ and z~ end with a constant 1.
Each Newton step is halved until its objective does not decrease, so Q never
does, and with it the observed-data objective never decreases across EM. The
solvers take at most `max_steps` Newton steps when asked (a generalized EM:
Q rises without being maximized), and the plain gradient steps of
`guarded_gradient_step` are halved in the same way.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ._common import softplus
from .estep import _BLOCK_ENTRIES, chunks

NEWTON_MAX_ITER = 50
NEWTON_TOL = 1e-12  # Newton decrement relative to 1 + |Q| at which a sub-problem is solved
# A full Newton step taken from a decrement this small leaves one of order its
# square (quadratic convergence), far below NEWTON_TOL: the output layer, whose
# Hessian costs as much as an E-step, skips the confirming evaluation.
NEWTON_LAST_STEP = 1e-8
MAX_HALVINGS = 30
# A fixed-rate gradient step can overshoot by many orders of magnitude on raw
# (unstandardized) features; 60 halvings shrink it by 1e-18, below rounding.
GRADIENT_MAX_HALVINGS = 60


def _penalty_mask(n_rows: int) -> np.ndarray:
    mask = np.ones((n_rows, 1))
    mask[-1] = 0.0
    return mask


def _jitter(H: np.ndarray) -> np.ndarray:
    """A tiny ridge that keeps the Newton systems solvable (flat softmax direction,
    l2 = 0); it changes the step, never the fixed point."""
    diag = np.diagonal(H, axis1=-2, axis2=-1)
    return 1e-12 * (1.0 + np.abs(diag).max(axis=-1, keepdims=True))


# ---------------------------------------------------------------- hidden layer


def hidden_objective(Xt, T, Wt, l2) -> np.ndarray:
    """Q_W split by hidden unit: a length-m vector."""
    A = Xt @ Wt
    return (T * A - softplus(A)).sum(axis=0) - 0.5 * l2 * (_penalty_mask(len(Wt)) * Wt**2).sum(0)


def hidden_gradient(Xt, T, Wt, l2) -> np.ndarray:
    return Xt.T @ (T - expit(Xt @ Wt)) - l2 * _penalty_mask(len(Wt)) * Wt


def newton_hidden(Xt, T, Wt, l2, max_steps=None) -> tuple[np.ndarray, int]:
    """Maximize Q_W: m independent logistic regressions on soft targets T, batched.

    With max_steps, stop after that many (guarded) Newton steps even if unsolved.
    Returns the weights and the number of steps taken.
    """
    n, p1 = Xt.shape
    m = Wt.shape[1]
    mask = _penalty_mask(p1)
    q = hidden_objective(Xt, T, Wt, l2)
    max_steps = NEWTON_MAX_ITER if max_steps is None else max_steps
    for iteration in range(1, max_steps + 1):
        U = expit(Xt @ Wt)
        grad = Xt.T @ (T - U) - l2 * mask * Wt
        S = U * (1.0 - U)
        # Negative Hessians, one (p+1) x (p+1) block per unit, from one product.
        H = (Xt.T @ (Xt[:, :, None] * S[:, None, :]).reshape(n, p1 * m)).reshape(p1, p1, m)
        H = H.transpose(2, 0, 1) + l2 * np.diag(mask[:, 0])
        H += _jitter(H)[:, :, None] * np.eye(p1)
        step = np.linalg.solve(H, grad.T[:, :, None])[:, :, 0].T
        decrement = (grad * step).sum(axis=0)
        if np.all(decrement <= NEWTON_TOL * (1.0 + np.abs(q))):
            return Wt, iteration - 1
        Wt, q, moved = _halve_columns(lambda W: hidden_objective(Xt, T, W, l2), Wt, step, q)
        if not moved:
            return Wt, iteration  # no ascent left at working precision
    return Wt, max_steps


def _halve_columns(objective, W, step, q, max_halvings=MAX_HALVINGS):
    """Per column, halve the step until the column's objective does not decrease.

    A column whose step never stops decreasing its objective keeps its weights.
    Returns the new weights and objectives, and whether any column moved.
    """
    scale = np.ones(W.shape[1])
    pending = np.ones(W.shape[1], dtype=bool)
    best_W, best_q = W.copy(), q.copy()
    for _ in range(max_halvings):
        trial = W + step * scale
        q_trial = objective(trial)
        better = pending & (q_trial >= q)
        best_W[:, better] = trial[:, better]
        best_q[better] = q_trial[better]
        pending &= ~better
        if not pending.any():
            break
        scale[pending] *= 0.5
    return best_W, best_q, not pending.all()


# ---------------------------------------------------------------- output layer


def _output_blocks(N, m):
    """Yield (ZtT, NT) per configuration block: [z, 1]^T as (m+1) x c, N^T as g x c."""
    chunk = max(1, _BLOCK_ENTRIES // ((m + 1) * N.shape[1]))
    for start, stop, Z in chunks(m, chunk):
        ZtT = np.vstack([Z.T, np.ones((1, stop - start))])
        yield ZtT, np.ascontiguousarray(N[start:stop].T)


def _log_softmax_columns(logits):
    """log softmax over axis 0 of a g x c array (columns are configurations)."""
    shifted = logits - logits.max(axis=0)
    return shifted - np.log(np.exp(shifted).sum(axis=0))


def output_objective(N, Vt, l2) -> float:
    total = 0.0
    for ZtT, NT in _output_blocks(N, Vt.shape[0] - 1):
        total += float((NT * _log_softmax_columns(Vt.T @ ZtT)).sum())
    return total - 0.5 * l2 * float((Vt[:-1] ** 2).sum())


def output_gradient(N, Vt, l2) -> np.ndarray:
    grad, _ = _output_derivatives(N, Vt, l2, hessian=False)
    return grad


def _output_derivatives(N, Vt, l2, hessian=True):
    """Gradient of Q_V and its negative Hessian, accumulated over configuration blocks.

    With o = softmax(z~ V~) and n_z = sum_i N_zi, the negative Hessian is
    sum_z n_z (diag(o) - o o^T) (x) z~ z~^T: a block-diagonal part, one
    z~-weighted Gram matrix per class, minus G^T G with G_z = sqrt(n_z) o (x) z~.
    Blocks are laid out with configurations along the last axis, where NumPy's
    elementwise work and BLAS are fastest.
    """
    m1, g = Vt.shape
    grad = np.zeros((m1, g))
    H = np.zeros((g, m1, g, m1)) if hessian else None  # parameter order (class, row)
    for ZtT, NT in _output_blocks(N, m1 - 1):
        P = np.exp(_log_softmax_columns(Vt.T @ ZtT))  # g x c
        n_z = NT.sum(axis=0)
        grad += ZtT @ (NT - n_z * P).T
        if hessian:
            c = ZtT.shape[1]
            weighted = np.multiply(ZtT[None], (n_z * P)[:, None], order="C").reshape(g * m1, c)
            diagonal = (weighted @ ZtT.T).reshape(g, m1, m1)
            for i in range(g):
                H[i, :, i, :] += diagonal[i]
            G = np.multiply(ZtT[None], (np.sqrt(n_z) * P)[:, None], order="C").reshape(g * m1, c)
            H -= (G @ G.T).reshape(g, m1, g, m1)
    grad -= l2 * _penalty_mask(m1) * Vt
    if hessian:
        H = H.transpose(1, 0, 3, 2).reshape(m1 * g, m1 * g)  # to Vt's row-major order
        H += l2 * np.diag(np.repeat(_penalty_mask(m1)[:, 0], g))
        H += _jitter(H) * np.eye(m1 * g)
    return grad, H


def newton_output(N, Vt, l2, max_steps=None) -> tuple[np.ndarray, int]:
    """Maximize Q_V: multinomial logistic regression of the expected counts on z.

    With max_steps, stop after that many (guarded) Newton steps even if unsolved.
    Returns the weights and the number of steps taken.
    """
    q = output_objective(N, Vt, l2)
    max_steps = NEWTON_MAX_ITER if max_steps is None else max_steps
    for iteration in range(1, max_steps + 1):
        grad, H = _output_derivatives(N, Vt, l2)
        step = np.linalg.solve(H, grad.ravel()).reshape(Vt.shape)
        decrement = float((grad * step).sum()) / (1.0 + abs(q))
        if decrement <= NEWTON_TOL:
            return Vt, iteration - 1
        scale = 1.0
        for _ in range(MAX_HALVINGS):
            trial = Vt + scale * step
            q_trial = output_objective(N, trial, l2)
            if q_trial >= q:
                Vt, q = trial, q_trial
                break
            scale *= 0.5
        else:
            return Vt, iteration  # no ascent left at working precision
        if scale == 1.0 and decrement <= NEWTON_LAST_STEP:
            return Vt, iteration
    return Vt, max_steps


# ---------------------------------------------------------------- gradient M-step


def guarded_gradient_step(Xt, T, N, Wt, Vt, l2, learning_rate):
    """One plain gradient-ascent step of size learning_rate on each half of Q.

    Unguarded, it is exactly one step of full-batch gradient ascent on the
    observed-data objective (Fisher's identity). A step that would lower its
    half of Q is halved until it does not: per hidden unit for Q_W (whose
    columns are independent problems) and as a whole for Q_V, so Q, and with
    it the observed-data objective, never decreases. A step that never stops
    decreasing Q (an optimum reached to working precision) is not taken.
    """
    q_w = hidden_objective(Xt, T, Wt, l2)
    Wt, _, _ = _halve_columns(
        lambda W: hidden_objective(Xt, T, W, l2),
        Wt,
        learning_rate * hidden_gradient(Xt, T, Wt, l2),
        q_w,
        GRADIENT_MAX_HALVINGS,
    )
    q_v = output_objective(N, Vt, l2)
    step = learning_rate * output_gradient(N, Vt, l2)
    for _ in range(GRADIENT_MAX_HALVINGS):
        trial = Vt + step
        if output_objective(N, trial, l2) >= q_v:
            Vt = trial
            break
        step = 0.5 * step
    return Wt, Vt
