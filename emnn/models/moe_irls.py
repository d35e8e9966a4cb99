"""The IRLS M-step of the mixture of experts (algorithm="em-irls"), for a stack of networks.

Q(Psi | Psi_old), penalized like the objective, separates into

    Q_G = sum_jk h_jk log pi_k(x_j)          a multinomial regression of the soft targets h
    Q_k = sum_j h_jk log p_k(y_j | x_j)      K multinomial regressions of y, weighted by h_.k

and the M-step takes `irls_steps` Newton-Raphson iterations (exact Hessian) of size
`irls_rate` on the gate and on every expert, unguarded: Q, and with it the
objective, can fall when the rate is too large. Every network's systems are solved
together (np.linalg.solve broadcasts); a singular system fails its network's M-step
only (solve_stack).
"""

from __future__ import annotations

import numpy as np

from .moe_model import StackData, log_softmax, penalty_mask

# The Hessians come from the products x~_r x~_s (r <= s) of every row, kept for the
# whole stack when they hold at most OUTER_ENTRIES entries (128 MiB), else made again
# for each group of networks at each use: the same numbers either way.
OUTER_ENTRIES = 2**24


def solve_stack(H, b):
    """np.linalg.solve(H, b) for a stack whose leading axis is networks: (x, failed).

    When a batched solve finds a singular system, the networks are solved one by one
    to find which; a failed network's x is 0."""
    try:
        return np.linalg.solve(H, b), np.zeros(len(H), dtype=bool)
    except np.linalg.LinAlgError:
        x = np.zeros(np.broadcast_shapes(H.shape[:-2], b.shape[:-2]) + b.shape[-2:])
        failed = np.zeros(len(H), dtype=bool)
        for k in range(len(H)):
            try:
                x[k] = np.linalg.solve(H[k], b[k])
            except np.linalg.LinAlgError:
                failed[k] = True
        return x, failed


def outer_products(Xt):
    """x~_r x~_s for r <= s of every row: (N, n, (p+1)(p+2)/2)."""
    upper, lower = np.triu_indices(Xt.shape[2])
    return Xt[:, :, upper] * Xt[:, :, lower]


def symmetric_index(p1: int) -> np.ndarray:
    """(p+1, p+1): where entry (r, s) of a symmetric matrix sits among the r <= s."""
    upper, lower = np.triu_indices(p1)
    full = np.empty((p1, p1), dtype=np.intp)
    full[upper, lower] = full[lower, upper] = np.arange(upper.size)
    return full


def keep_outer_products(data: StackData) -> StackData:
    """data with its rows' outer products kept, if they fit in OUTER_ENTRIES."""
    N, n, p1 = data.Xt.shape
    if N * n * p1 * (p1 + 1) // 2 <= OUTER_ENTRIES:
        data.outer = outer_products(data.Xt)
    return data


def multinomial_hessian(data: StackData, w, P, l2):
    """Negative Hessian of sum_j w_j sum_c T_jc log P_jc - l2/2 ||B||^2, per problem.

    w (N, b, n) case weights; P (N, b, n, c) fitted probabilities; l2 (N,).
    Parameters are in class-major order (c, row). Block (i, k) of the matrix is
    sum_j w_j P_ji ([i = k] - P_jk) x~_j x~_j^T (symmetric, so made once per pair
    i <= k, from the rows' outer products), plus the ridge. Moving every class's
    column by the same vector leaves the softmax unchanged, so unpenalized rows (the
    intercepts; every row when l2 = 0) have a flat direction; a term along it is
    added, which leaves the Newton step unchanged (the gradient has no component
    there) but makes the system solvable. Returns (N, b, c(p+1), c(p+1)).
    """
    N, b, n, c = P.shape
    p1 = data.Xt.shape[2]
    pairs = [(i, k) for i in range(c) for k in range(i, c)]
    D = np.empty((N, b, len(pairs), n))
    for q, (i, k) in enumerate(pairs):
        np.multiply(w * P[..., i], (1.0 if i == k else 0.0) - P[..., k], out=D[:, :, q])
    D = D.reshape(N, b * len(pairs), n)
    full = symmetric_index(p1)
    H = np.empty((N, b, c, p1, c, p1))
    size = N if data.outer is not None else max(1, OUTER_ENTRIES // (n * p1 * (p1 + 1) // 2))
    for start in range(0, N, size):  # over groups of networks, never over examples
        part = slice(start, start + size)
        outer = data.outer[part] if data.outer is not None else outer_products(data.Xt[part])
        sums = (D[part] @ outer)[..., full].reshape(-1, b, len(pairs), p1, p1)
        for q, (i, k) in enumerate(pairs):
            H[part, :, i, :, k, :] = sums[:, :, q]
            if i != k:
                H[part, :, k, :, i, :] = sums[:, :, q]
    cp = c * p1
    H = H.reshape(N, b, cp, cp)
    mask = penalty_mask(p1)
    every = np.arange(cp)
    diag = H[:, :, every, every].reshape(N, b, c, p1)
    free = np.where((l2 > 0)[:, None], mask == 0, True)  # (N, p+1)
    scale = np.where(free[:, None, :], 1.0 + np.abs(diag).max(axis=2), 0.0)  # (N, b, p+1)
    rows = np.arange(p1)
    # kron(full((c, c), 1/c), diag(scale)): 1/c * scale_r at ((i, r), (k, r)) for all i, k
    H6 = H.reshape(N, b, c, p1, c, p1)
    H6[:, :, :, rows, :, rows] += ((1.0 / c) * scale).transpose(2, 0, 1)[:, :, :, None, None]
    H[:, :, every, every] += l2[:, None, None] * np.tile(mask, c)
    jitter = 1e-12 * (1.0 + np.abs(H[:, :, every, every]).max(axis=2))
    H[:, :, every, every] += jitter[:, :, None]
    return H


def newton_direction(data: StackData, w, T, B, l2):
    """The Newton step for N x b weighted multinomial regressions of targets T on x.

    B (N, b, p+1, c) stacked weights, w (N, b, n), T (N, b or 1, n, c) with rows
    summing to 1 (or 0 on padded rows), l2 (N,). Returns the step, shaped like B, and
    which networks' systems were singular (their steps are 0).
    """
    N, b, p1, c = B.shape
    X = data.Xt[:, None]
    P = np.exp(log_softmax(X @ B))  # (N, b, n, c)
    rate = l2[:, None, None, None] * penalty_mask(p1)[:, None]
    grad = X.transpose(0, 1, 3, 2) @ (w[:, :, :, None] * (T - P)) - rate * B
    H = multinomial_hessian(data, w, P, l2)
    g_flat = grad.transpose(0, 1, 3, 2).reshape(N, b, c * p1)
    step, failed = solve_stack(H, g_flat[..., None])
    return step[..., 0].reshape(N, b, c, p1).transpose(0, 1, 3, 2), failed


def irls_m_step(data: StackData, h, Gt, Et, l2, rate, steps):
    """`steps` IRLS iterations of size `rate` (N,) on the gate and on every expert of
    every network; unguarded, so Q can fall when rate is too large. Returns the new
    weights and which networks' M-steps failed on a singular system."""
    failed = np.zeros(len(Gt), dtype=bool)
    real = data.real[:, None, :].astype(float)  # the gate's case weights: 1, 0 on padding
    for _ in range(steps):
        step, singular = newton_direction(data, real, h[:, None], Gt[:, None], l2)
        Gt = Gt + rate[:, None, None] * step[:, 0]
        failed |= singular
    for _ in range(steps):
        step, singular = newton_direction(data, h.transpose(0, 2, 1), data.Y[:, None], Et, l2)
        Et = Et + rate[:, None, None, None] * step
        failed |= singular
    return Gt, Et, failed
