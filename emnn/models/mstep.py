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

from .common import softplus
from .estep import _BLOCK_ENTRIES, configuration_logits

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


def settle_softmax_shift(H, free_rows, g):
    """Pin the softmax's flat directions in a Newton matrix (..., (m+1) g, (m+1) g).

    Adding one constant to every class's entry of a row of V~ leaves the softmax
    unchanged: the bias row always, every row when l2 = 0 (free_rows, a bool per
    row). The objective's Hessian is singular there and the gradient has no
    component there, so the Newton step along it is rounding noise divided by
    the jitter: a drift of the biases' common level by up to 1e-4 per step,
    harmless to the model but amplified by SQUAREM's extrapolation. A term of the
    size of the row's curvature along each flat direction (as in
    emnn.models.moe.multinomial_hessian) leaves the step unchanged and the drift
    at rounding.
    """
    for r in np.flatnonzero(free_rows):
        block = (..., slice(r * g, (r + 1) * g), slice(r * g, (r + 1) * g))
        scale = 1.0 + np.abs(np.diagonal(H[block], axis1=-2, axis2=-1)).max(axis=-1)
        H[block] += np.asarray(scale)[..., None, None] * np.full((g, g), 1.0 / g)
    return H


def free_rows(m1: int, l2) -> np.ndarray:
    """Rows of V~ whose shift across classes is unpenalized: the bias row, all if l2 = 0."""
    return np.ones(m1, dtype=bool) if np.all(np.asarray(l2) == 0) else np.arange(m1) == m1 - 1


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
#
# Q_V is a multinomial logistic regression of the counts N on the configurations.
# Over all 2^m configurations (the exact E-step) their binary structure makes it
# cheap: the logits come by doubling (estep.configuration_logits) and every
# weighted moment sum_z w_z z~ z~^T by halving (_moments), both O(2^m) per
# weight column instead of O(2^m m) and O(2^m m^2); so the exact Newton
# Hessian, sum_z n_z (diag(o) - o o^T) (x) z~ z~^T, costs O(2^m g^2) where the
# matrix products cost O(2^m m^2 g^2). Over an explicit set of configurations
# (the Monte-Carlo E-step's samples, aggregated by their counts) the products
# are formed directly and the Newton matrix is Boehning's bound (see
# _output_derivatives).


def _exact_blocks(m, n_columns):
    """Aligned blocks of all 2^m configurations: (start, b, E) per block of 2^b.

    Within a block the low b bits run through all values and the high bits are
    fixed, so z~ = E [z_low, 1] with the (m+1) x (b+1) matrix E.
    """
    b = min(m, max(1, _BLOCK_ENTRIES // max(n_columns, 1)).bit_length() - 1)
    for start in range(0, 2**m, 2**b):
        E = np.zeros((m + 1, b + 1))
        E[:b, :b] = np.eye(b)
        E[b:m, b] = (start >> np.arange(b, m)) & 1
        E[m, b] = 1.0
        yield start, b, E


def _sums(W, b):
    """[sum_z w_z z_h for h < b; sum_z w_z] per column of W (2^b x K, configurations
    in index order), by halving: (b + 1) x K."""
    out = np.empty((b + 1, W.shape[1]))
    T = W
    for k in range(b - 1, -1, -1):
        half = 2**k
        out[k] = T[half:].sum(axis=0)
        T = T[:half] + T[half:]
    out[b] = T[0]
    return out


def _moments(W, b):
    """sum_z w_z z~ z~^T, z~ = [z, 1], per column of W (2^b x K): K x (b+1) x (b+1).

    The entries for bit k and the bits below it are the first moments of the
    half of the (higher-bits-summed) weights that has bit k set; O(2^b) each k.
    """
    M = np.empty((W.shape[1], b + 1, b + 1))
    T = W
    for k in range(b - 1, -1, -1):
        half = 2**k
        with_k = _sums(T[half:], k)  # bits below k, then the total, where bit k is set
        M[:, :k, k] = M[:, k, :k] = with_k[:k].T
        M[:, k, k] = M[:, k, b] = M[:, b, k] = with_k[k]
        T = T[:half] + T[half:]
    M[:, b, b] = T[0]
    return M


def _row_sums(M):
    """M.sum(axis=1) for a tall, narrow M (configurations x classes), a column at a
    time: NumPy reduces short rows one by one, which is several times slower."""
    total = M[:, 0].copy()
    for i in range(1, M.shape[1]):
        total += M[:, i]
    return total


def _log_softmax(logits):
    """Row-wise log softmax of a tall, narrow matrix, a column at a time."""
    top = logits[:, 0].copy()
    for i in range(1, logits.shape[1]):
        np.maximum(top, logits[:, i], out=top)
    shifted = logits - top[:, None]
    return shifted - np.log(_row_sums(np.exp(shifted)))[:, None]


def _config_logits(Vt, configurations, start=0, b=None):
    if configurations is None:
        return configuration_logits(Vt[:-1], Vt[-1], start, b)
    return configurations @ Vt[:-1] + Vt[-1]


def _output_parts(N, Vt, configurations):
    """Yield (N_block, log softmax(z~ V~) of the block, E or the block's Z).

    Over all configurations (configurations None) the blocks are _exact_blocks;
    otherwise row blocks of the explicit configurations.
    """
    m1, g = Vt.shape
    if configurations is None:
        for start, b, E in _exact_blocks(m1 - 1, 2 * g + g * (g + 1) // 2):
            block = slice(start, start + 2**b)
            yield N[block], _log_softmax(_config_logits(Vt, None, start, b)), (b, E)
    else:
        rows = max(1, _BLOCK_ENTRIES // (m1 + 2 * g))
        for start in range(0, len(N), rows):
            Z = configurations[start : start + rows]
            yield N[start : start + rows], _log_softmax(_config_logits(Vt, Z)), Z


def output_objective(N, Vt, l2, configurations=None) -> float:
    """Q_V at Vt: sum_zi N_zi log softmax(z~ V~)_i - l2/2 ||V||^2.

    N holds the counts of all 2^m configurations in index order, or, with
    configurations (K x m), of those K configurations.
    """
    total = 0.0
    for N_block, log_o, _ in _output_parts(N, Vt, configurations):
        total += float((N_block * log_o).sum())
    return total - 0.5 * l2 * float((Vt[:-1] ** 2).sum())


def output_gradient(N, Vt, l2, configurations=None) -> np.ndarray:
    grad, _ = _output_derivatives(N, Vt, l2, hessian=False, configurations=configurations)
    return grad


def _output_derivatives(N, Vt, l2, hessian=True, configurations=None):
    """Gradient of Q_V and the matrix of its Newton system (row-major in Vt).

    Over all configurations the matrix is the exact negative Hessian
    sum_z n_z (diag(o) - o o^T) (x) z~ z~^T, n_z = sum_i N_zi: for each pair of
    classes i <= l one weighted moment matrix with weights n_z (d_il o_i - o_i o_l).
    Over explicit configurations it is Boehning's (1992) bound
    (1/2)(I - 1 1^T / g) (x) sum_z n_z z~ z~^T, which dominates the negative
    Hessian everywhere: O(K m^2) to form instead of O(K m^2 g^2), and a full
    step never lowers Q_V (an MM step).
    """
    m1, g = Vt.shape
    grad = np.zeros((m1, g))
    pairs = [(i, j) for i in range(g) for j in range(i, g)]
    first, second = np.array(pairs).T
    moments = np.zeros((len(pairs), m1, m1)) if configurations is None else np.zeros((m1, m1))
    for N_block, log_o, where in _output_parts(N, Vt, configurations):
        P = np.exp(log_o)
        n_z = _row_sums(N_block)
        residual = N_block - n_z[:, None] * P
        if configurations is None:
            b, E = where
            grad += E @ _sums(residual, b)
            if hessian:
                nP = n_z[:, None] * P
                weights = -nP[:, first] * P[:, second]
                weights[:, first == second] += nP
                moments += np.einsum("ab,kbc,dc->kad", E, _moments(weights, b), E)
        else:
            Zt = np.hstack([where, np.ones((len(where), 1))])
            grad += Zt.T @ residual
            if hessian:
                moments += Zt.T @ (n_z[:, None] * Zt)
    grad -= l2 * _penalty_mask(m1) * Vt
    if not hessian:
        return grad, None
    if configurations is None:
        H = np.empty((m1, g, m1, g))
        for k, (i, j) in enumerate(pairs):
            H[:, i, :, j] = moments[k]
            H[:, j, :, i] = moments[k].T
        H = H.reshape(m1 * g, m1 * g)
    else:
        H = np.kron(moments, 0.5 * (np.eye(g) - 1.0 / g))
    H += l2 * np.diag(np.repeat(_penalty_mask(m1)[:, 0], g))
    settle_softmax_shift(H, free_rows(m1, l2), g)
    H += _jitter(H) * np.eye(m1 * g)
    return grad, H


def newton_output(N, Vt, l2, max_steps=None, configurations=None) -> tuple[np.ndarray, int]:
    """Maximize Q_V: multinomial logistic regression of the expected counts on z.

    With max_steps, stop after that many (guarded) Newton steps even if unsolved.
    Over explicit configurations the steps solve Boehning's bound instead of
    the Hessian (see _output_derivatives). Returns the weights and the number
    of steps taken.
    """
    return guarded_newton(
        lambda V: output_objective(N, V, l2, configurations),
        lambda V: _output_derivatives(N, V, l2, configurations=configurations),
        Vt,
        max_steps,
        exact_hessian=configurations is None,
    )


def guarded_newton(objective, derivatives, x, max_steps=None, exact_hessian=True):
    """Raise a concave objective(x) by Newton steps, each halved until it does not decrease.

    derivatives(x) gives the gradient and a positive definite matrix (the
    negative Hessian, or a bound of it) in x's row-major order. Stops when the
    Newton decrement falls to NEWTON_TOL (relative to 1 + |objective|), after
    max_steps steps (NEWTON_MAX_ITER when None), or when no halving ascends.
    With the exact Hessian a full step from a decrement below NEWTON_LAST_STEP
    ends it without the confirming evaluation (quadratic convergence).
    Returns x and the number of steps taken.
    """
    q = objective(x)
    max_steps = NEWTON_MAX_ITER if max_steps is None else max_steps
    for iteration in range(1, max_steps + 1):
        grad, H = derivatives(x)
        step = np.linalg.solve(H, grad.ravel()).reshape(x.shape)
        decrement = float((grad * step).sum()) / (1.0 + abs(q))
        if decrement <= NEWTON_TOL:
            return x, iteration - 1
        scale = 1.0
        for _ in range(MAX_HALVINGS):
            trial = x + scale * step
            q_trial = objective(trial)
            if q_trial >= q:
                x, q = trial, q_trial
                break
            scale *= 0.5
        else:
            return x, iteration  # no ascent left at working precision
        if exact_hessian and scale == 1.0 and decrement <= NEWTON_LAST_STEP:
            return x, iteration
    return x, max_steps


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
