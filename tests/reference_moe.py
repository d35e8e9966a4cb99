"""FROZEN REFERENCE, not package code: the unbatched mixture-of-experts implementation
(emnn/models/moe.py) of commit f5a762b, kept verbatim below this note so that
tests/test_moe_batch.py can check the batched MoEClassifier against it. Do not edit;
only the module docstring was extended and relative imports made absolute.

Mixture of experts for multiclass classification (Jordan & Jacobs, 1994), trained by
EM with an IRLS or an ECM M-step (Ng & McLachlan, 2004), or by back-propagation.

    p(y | x) = sum_k pi_k(x) p_k(y | x),
    pi(x) = softmax(G~^T x~),  p_k(y | x) = softmax(E~_k^T x~)_y

x~ = [x, 1]: G~ ((p+1) x K) and E~_k ((p+1) x g) carry their intercepts as the
last row. The objective is sum_j log p(y_j | x_j) - l2/2 * (||G||^2 + sum_k ||E_k||^2),
intercepts unpenalized (the MLP's convention).

EM: the E-step gives the posteriors h_jk = pi_k(x_j) p_k(y_j | x_j) / p(y_j | x_j),
and Q(Psi | Psi_old), penalized the same way, separates into

    Q_G = sum_jk h_jk log pi_k(x_j)          a multinomial regression of the soft targets h
    Q_k = sum_j h_jk log p_k(y_j | x_j)      K multinomial regressions of y, weighted by h_.k

Every raise of Q raises the objective (the EM inequality), so an M-step that
never lowers Q makes the objective monotone; one that can lower Q (an
unguarded IRLS step) can make it fall.
"""

from __future__ import annotations

import numbers
import warnings
from typing import NamedTuple

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from emnn.models.common import (
    check_inputs,
    check_nonnegative,
    check_positive_int,
    label_indices,
    model_streams,
    one_hot,
    softplus,
    with_ones,
)

ALGORITHMS = ("em-irls", "ecm", "sgd")
__all__ = ["ALGORITHMS", "MoEClassifier"]

# A CM-step is solved when its Newton decrement is below CM_TOL * (1 + |Q_block|),
# or after CM_MAX_ITER guarded Newton steps.
CM_TOL = 1e-12
CM_MAX_ITER = 50
CM_LAST_STEP = 1e-8
# SQUAREM (acceleration="squarem", ECM only): halvings of alpha before a cycle falls back.
SQUAREM_MAX_HALVINGS = 10
ACCELERATIONS = ("none", "squarem")
# A Newton step on raw (unstandardized) features can overshoot by many orders of
# magnitude; 60 halvings shrink it by 1e-18, below rounding.
MAX_HALVINGS = 60


class EStep(NamedTuple):
    log_likelihood: float  # sum_j log p(y_j | x_j)
    h: np.ndarray  # n x K posterior of the experts given x and y
    gate: np.ndarray  # n x K gating probabilities pi_k(x_j)
    experts: np.ndarray  # K x n x g expert probabilities p_k(. | x_j)


# ---------------------------------------------------------------- model


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis (any number of leading axes)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log sum exp over one axis, that axis removed (finite for inputs of any size)."""
    top = a.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.exp(a - top).sum(axis=axis))


def _penalty_mask(p1: int) -> np.ndarray:
    """1 for the weight rows of a stacked matrix, 0 for its intercept row."""
    mask = np.ones(p1)
    mask[-1] = 0.0
    return mask


def initial_weights(n_features: int, n_experts: int, n_classes: int, rng: np.random.Generator):
    """Glorot-uniform weights, zero intercepts, stacked: G~ ((p+1) x K), E~ (K x (p+1) x g).

    The gate is drawn first, then the experts in order, from the init stream, so
    every algorithm starts from the same point for the same random_state.
    """
    bound_g = np.sqrt(6.0 / (n_features + n_experts))
    bound_e = np.sqrt(6.0 / (n_features + n_classes))
    G = rng.uniform(-bound_g, bound_g, (n_features, n_experts))
    E = rng.uniform(-bound_e, bound_e, (n_experts, n_features, n_classes))
    Gt = np.vstack([G, np.zeros((1, n_experts))])
    Et = np.concatenate([E, np.zeros((n_experts, 1, n_classes))], axis=1)
    return Gt, Et


def e_step(Xt, y_index, Gt, Et) -> EStep:
    """Log-likelihood and posteriors, all in log space (finite for logits of any size)."""
    log_gate = _log_softmax(Xt @ Gt)  # n x K
    log_experts = _log_softmax(Xt @ Et)  # K x n x g
    rows = np.arange(len(Xt))
    joint = log_gate + log_experts[:, rows, y_index].T  # n x K: log pi_k + log p_k(y_j)
    log_p = _logsumexp(joint, axis=1)
    return EStep(
        log_likelihood=float(log_p.sum()),
        h=np.exp(joint - log_p[:, None]),
        gate=np.exp(log_gate),
        experts=np.exp(log_experts),
    )


def penalty(Gt, Et, l2) -> float:
    return 0.5 * l2 * float((Gt[:-1] ** 2).sum() + (Et[:, :-1] ** 2).sum())


def data_gradient(Xt, Y, post: EStep):
    """Gradient of sum_j log p(y_j | x_j) by Fisher's identity (the gradient of Q at Psi):
    X~^T (h - pi) for the gate and X~^T (h_.k (Y - P_k)) for expert k."""
    grad_g = Xt.T @ (post.h - post.gate)
    grad_e = Xt.T @ (post.h.T[:, :, None] * (Y[None] - post.experts))
    return grad_g, grad_e


def gradient(Xt, Y, post: EStep, Gt, Et, l2):
    """Gradient of the penalized log-likelihood: (d G~, d E~), shaped like G~ and E~."""
    grad_g, grad_e = data_gradient(Xt, Y, post)
    mask = _penalty_mask(len(Gt))[:, None]
    return grad_g - l2 * mask * Gt, grad_e - l2 * mask * Et


def expected_objective(Xt, Y, h, Gt, Et, l2) -> float:
    """Q(Psi | Psi_old) given the old posteriors h, penalized like the objective."""
    log_gate = _log_softmax(Xt @ Gt)
    log_experts = _log_softmax(Xt @ Et)  # K x n x g
    q_experts = (h.T * (log_experts * Y[None]).sum(axis=2)).sum()
    return float((h * log_gate).sum() + q_experts) - penalty(Gt, Et, l2)


# ---------------------------------------------------------------- IRLS (em-irls)


def multinomial_hessian(Xt, w, P, l2):
    """Negative Hessian of sum_j w_j sum_c T_jc log P_jc - l2/2 ||B||^2, per problem.

    w: b x n case weights, P: b x n x c fitted probabilities. Parameters are in
    class-major order (c, row). The matrix is sum_j w_j (diag(P_j) - P_j P_j^T)
    (x) x~_j x~_j^T plus the ridge. Moving every class's column by the same
    vector leaves the softmax unchanged, so unpenalized rows (the intercepts;
    every row when l2 = 0) have a flat direction; a term along it is added,
    which leaves the Newton step unchanged (the gradient has no component
    there) but makes the system solvable.
    """
    b, n, c = P.shape
    p1 = Xt.shape[1]
    mask = _penalty_mask(p1)
    H = np.empty((b, c * p1, c * p1))
    for i in range(b):  # over the K experts (or the one gate), never over examples
        F = (np.sqrt(w[i])[:, None, None] * P[i][:, :, None] * Xt[:, None, :]).reshape(n, c * p1)
        Hi = -(F.T @ F)
        WP = w[i][:, None] * P[i]
        for k in range(c):
            block = slice(k * p1, (k + 1) * p1)
            Hi[block, block] += (Xt.T * WP[:, k]) @ Xt
        diag = np.diagonal(Hi).reshape(c, p1)
        free = (mask == 0) if l2 > 0 else np.ones(p1, dtype=bool)
        scale = np.where(free, 1.0 + np.abs(diag).max(axis=0), 0.0)
        Hi += np.kron(np.full((c, c), 1.0 / c), np.diag(scale))
        Hi += l2 * np.diag(np.tile(mask, c))
        Hi += 1e-12 * (1.0 + np.abs(np.diagonal(Hi)).max()) * np.eye(c * p1)
        H[i] = Hi
    return H


def newton_direction(Xt, w, T, B, l2):
    """The Newton step for b weighted multinomial regressions of targets T on x.

    B: b x (p+1) x c stacked weights, w: b x n, T: (b or 1) x n x c with rows
    summing to 1. Returns the step, shaped like B.
    """
    b, p1, c = B.shape
    P = np.exp(_log_softmax(Xt @ B))  # b x n x c
    grad = Xt.T @ (w[:, :, None] * (T - P)) - l2 * _penalty_mask(p1)[:, None] * B
    H = multinomial_hessian(Xt, w, P, l2)
    g_flat = grad.transpose(0, 2, 1).reshape(b, c * p1)
    step = np.linalg.solve(H, g_flat[:, :, None])[:, :, 0]
    return step.reshape(b, c, p1).transpose(0, 2, 1)


def irls_m_step(Xt, Y, h, Gt, Et, l2, rate, steps):
    """`steps` IRLS (Newton-Raphson, exact Hessian) iterations of size `rate` on the
    gate and, batched, on every expert; unguarded, so Q can fall when rate is too large."""
    ones = np.ones((1, len(Xt)))
    for _ in range(steps):
        Gt = Gt + rate * newton_direction(Xt, ones, h[None], Gt[None], l2)[0]
    for _ in range(steps):
        Et = Et + rate * newton_direction(Xt, h.T, Y[None], Et, l2)
    return Gt, Et


# ---------------------------------------------------------------- ECM


def _binary_objective(Xt, w, t, offset, beta, l2):
    """Per problem: sum_j w_j [t_j z_j - softplus(z_j)] - l2/2 ||beta||^2, z = x~ beta - offset."""
    z = beta @ Xt.T - offset
    data = (w * (t * z - softplus(z))).sum(axis=1)
    return data - 0.5 * l2 * (_penalty_mask(beta.shape[1]) * beta**2).sum(axis=1)


def solve_binary(Xt, w, t, offset, beta, l2):
    """Maximize b weighted logistic regressions with offsets, each to tolerance.

    Guarded Newton: each problem's step is halved until its objective does not
    decrease, so none ever decreases. w, t, offset: b x n; beta: b x (p+1).
    """
    b, p1 = beta.shape
    w, t, offset = (np.broadcast_to(a, (b, len(Xt))) for a in (w, t, offset))
    ridge = l2 * np.diag(_penalty_mask(p1))
    beta = beta.copy()
    q = _binary_objective(Xt, w, t, offset, beta, l2)
    active = np.ones(b, dtype=bool)
    for _ in range(CM_MAX_ITER):
        idx = np.flatnonzero(active)
        s = expit(beta[idx] @ Xt.T - offset[idx])
        grad = (w[idx] * (t[idx] - s)) @ Xt - l2 * _penalty_mask(p1) * beta[idx]
        root = np.sqrt(w[idx] * s * (1.0 - s))
        H = np.empty((idx.size, p1, p1))
        for i in range(idx.size):  # over the problems, never over examples
            Z = Xt * root[i][:, None]
            H[i] = Z.T @ Z + ridge  # a Gram matrix: BLAS's symmetric product
            H[i] += 1e-12 * (1.0 + np.abs(np.diagonal(H[i])).max()) * np.eye(p1)
        step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
        decrement = (grad * step).sum(axis=1)
        unsolved = decrement > CM_TOL * (1.0 + np.abs(q[idx]))
        active[idx[~unsolved]] = False
        idx, step, decrement = idx[unsolved], step[unsolved], decrement[unsolved]
        if idx.size == 0:
            break
        scale = np.ones(idx.size)
        pending = np.ones(idx.size, dtype=bool)
        for _ in range(MAX_HALVINGS):
            trial = beta[idx] + scale[:, None] * step
            q_trial = _binary_objective(Xt, w[idx], t[idx], offset[idx], trial, l2)
            better = pending & (q_trial >= q[idx])
            beta[idx[better]] = trial[better]
            q[idx[better]] = q_trial[better]
            pending &= ~better
            if not pending.any():
                break
            scale[pending] *= 0.5
        active[idx[pending]] = False  # no ascent left at working precision
        # A full step from a decrement this small leaves one of order its square,
        # far below CM_TOL: skip the confirming Hessian.
        last = (scale == 1.0) & (decrement <= CM_LAST_STEP * (1.0 + np.abs(q[idx])))
        active[idx[last]] = False
        if not active.any():
            break
    return beta


def _others(A, k):
    """log sum_{l != k} exp(A_l) over the last axis: the offset of column k's CM-step."""
    return _logsumexp(np.delete(A, k, axis=-1), axis=-1)


def ecm_m_step(Xt, Y, h, Gt, Et, l2, on_cm_step=None):
    """One cycle of K + g conditional maximizations, each solved to tolerance.

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
    n = len(Xt)
    if Gt.shape[1] == 1:  # one expert: log pi = 0, so Q_G is the penalty alone
        Gt[:-1] = 0.0
    for k in range(Gt.shape[1] if Gt.shape[1] > 1 else 0):
        offset = _others(Xt @ Gt, k)[None]
        Gt[:, k] = solve_binary(Xt, np.ones((1, n)), h[None, :, k], offset, Gt[None, :, k], l2)[0]
        if on_cm_step is not None:
            on_cm_step(Gt, Et)
    for i in range(Et.shape[2]):
        offset = _others(Xt @ Et, i)  # K x n
        Et[:, :, i] = solve_binary(Xt, h.T, Y[None, :, i], offset, Et[:, :, i], l2)
        if on_cm_step is not None:
            on_cm_step(Gt, Et)
    return Gt, Et


# ---------------------------------------------------------------- estimator


class MoEClassifier(ClassifierMixin, BaseEstimator):
    """Mixture of K experts (multinomial logistic regressions) with a softmax gate.

    All three algorithms maximize the same penalized log-likelihood (module
    docstring) from the same initial weights for a given random_state:

    * algorithm="em-irls": EM whose M-step takes `irls_steps` IRLS iterations
      (Newton-Raphson with the exact Hessian of each multinomial sub-problem,
      scaled by `irls_rate`, unguarded) on the gate and on each expert. The
      default, one iteration per M-step, is the classical generalized EM of
      Jordan & Jacobs: an IRLS iteration costs as much as several E-steps, and
      an M-step needs not be solved for EM to make progress. With irls_rate
      = 1 a step can overshoot and lower Q, and with it the objective; the
      claim of Ng & McLachlan (2004) is that a rate below 1 keeps it monotone.
      Here it does at rate 0.5 on standardized iris, wine and breast_cancer,
      but not on raw features (a saturated softmax has a nearly flat Hessian,
      so the Newton step is huge) nor on standardized digits; the cases are
      recorded in tests/test_moe.py. Diverging steps stay finite.
    * algorithm="ecm": EM whose M-step is one cycle of K + g conditional
      maximizations (Meng & Rubin, 1993), each solved to tolerance by guarded
      Newton (see `ecm_m_step` for the blocks): Q rises at every CM-step, so
      the objective never decreases.
    * algorithm="sgd": back-propagation of the same likelihood by minibatch SGD
      with momentum (mean loss of the batch plus l2/(2n) * ||weights||^2).

    acceleration="squarem" (ECM only) wraps the ECM map in SQUAREM (Varadhan &
    Roland, 2008, scheme S3), guarded as in EMMLPClassifier, so it stays
    monotone; an iteration is then one cycle (three or more ECM maps).
    n_estep_ counts the E-steps of the EM algorithms (one per map, plus the
    initial one and each extrapolated point).

    Stopping: EM stops when the objective changes by at most tol (relative)
    between iterations. SGD uses scikit-learn's plateau rule, like
    SGDMLPClassifier: when the full-data penalized loss per example has not
    fallen below its best by more than tol for n_iter_no_change epochs. Either
    stops after max_iter iterations (epochs) with a ConvergenceWarning. If the
    objective stops being finite (a step far too large for the data's scale),
    training stops with the last finite weights, `diverged_` set and a warning.

    history_["objective"] holds the penalized log-likelihood after each
    iteration (epoch). fit(X, y, monitor=None): `monitor(iteration, estimator)`
    is called with the initial weights (iteration 0) and after each
    iteration; returning True stops training.
    """

    def __init__(
        self,
        n_experts=3,
        algorithm="em-irls",
        irls_rate=1.0,
        irls_steps=1,
        max_iter=200,
        tol=1e-6,
        l2=0.1,
        learning_rate=0.05,
        batch_size=16,
        momentum=0.9,
        n_iter_no_change=10,
        acceleration="none",
        random_state=None,
    ):
        self.n_experts = n_experts
        self.algorithm = algorithm
        self.acceleration = acceleration
        self.irls_rate = irls_rate
        self.irls_steps = irls_steps
        self.max_iter = max_iter
        self.tol = tol
        self.l2 = l2
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.momentum = momentum
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    def _check_params(self):
        check_positive_int("n_experts", self.n_experts)
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r}; choose one of {ALGORITHMS}")
        check_nonnegative("irls_rate", self.irls_rate, strict=True)
        check_positive_int("irls_steps", self.irls_steps)
        check_positive_int("max_iter", self.max_iter)
        check_nonnegative("tol", self.tol)
        check_nonnegative("l2", self.l2)
        check_nonnegative("learning_rate", self.learning_rate, strict=True)
        check_positive_int("batch_size", self.batch_size)
        check_nonnegative("momentum", self.momentum)
        if self.momentum >= 1:
            raise ValueError(f"momentum must be below 1, got {self.momentum}")
        check_positive_int("n_iter_no_change", self.n_iter_no_change)
        if self.acceleration not in ACCELERATIONS:
            raise ValueError(
                f"unknown acceleration {self.acceleration!r}; choose one of {ACCELERATIONS}"
            )
        if self.acceleration == "squarem" and self.algorithm != "ecm":
            raise ValueError(
                "acceleration='squarem' takes algorithm='ecm': SQUAREM's guard keeps a "
                "monotone map monotone, and IRLS-EM's falls are what the study measures"
            )
        if self.random_state is not None and not isinstance(self.random_state, numbers.Integral):
            raise ValueError(f"random_state must be an int or None, got {self.random_state!r}")

    # ------------------------------------------------------------------ training

    def fit(self, X, y, monitor=None):
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y, got 1 class ({classes[0]!r})"
            )
        self.classes_ = classes
        init_rng, order_rng = model_streams(self.random_state)
        Gt, Et = initial_weights(X.shape[1], self.n_experts, classes.size, init_rng)
        Xt, Y = with_ones(X), one_hot(y_index, classes.size)
        self._set_stacked(Gt, Et)
        self.history_ = {"objective": []}
        self.converged_ = self.diverged_ = False
        self.n_iter_ = 0
        if monitor is not None:
            monitor(0, self)
        if self.algorithm == "sgd":
            self._fit_sgd(Xt, y_index, Y, order_rng, monitor)
        else:
            self._fit_em(Xt, y_index, Y, monitor)
        if not (self.converged_ or self.diverged_):
            warnings.warn(
                f"{self.algorithm} stopped after {self.n_iter_} iterations before meeting its "
                f"stopping rule (tol={self.tol})",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _diverge(self, iteration, objective):
        self.diverged_ = True
        warnings.warn(
            f"{self.algorithm} diverged in iteration {iteration} (the objective became "
            f"{objective}) and kept the weights of iteration {iteration - 1}; lower "
            f"{'learning_rate' if self.algorithm == 'sgd' else 'irls_rate'} or standardize "
            f"the features",
            ConvergenceWarning,
            stacklevel=3,
        )

    def _fit_em(self, Xt, y_index, Y, monitor):
        Gt, Et = self._stacked()
        post = e_step(Xt, y_index, Gt, Et)
        objective = post.log_likelihood - penalty(Gt, Et, self.l2)
        self.n_estep_ = 1
        if not np.isfinite(objective):
            raise FloatingPointError(f"objective is {objective} at the initial weights")
        step = self._squarem_cycle if self.acceleration == "squarem" else self._em_map
        for iteration in range(1, self.max_iter + 1):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                new_g, new_e, new_post, new_objective = step(Xt, y_index, Y, Gt, Et, post)
            if not np.isfinite(new_objective):
                self._diverge(iteration, new_objective)
                break
            previous = objective
            Gt, Et, post, objective = new_g, new_e, new_post, new_objective
            self._set_stacked(Gt, Et)
            self.history_["objective"].append(objective)
            self.n_iter_ = iteration
            if monitor is not None and monitor(iteration, self):
                break
            if abs(objective - previous) <= self.tol * max(abs(previous), 1e-300):
                self.converged_ = True
                break

    def _em_map(self, Xt, y_index, Y, Gt, Et, post):
        """One EM iteration from (Gt, Et), whose E-step is post: M-step, then E-step. A
        singular Newton system gives a NaN objective (a diverged step)."""
        try:
            if self.algorithm == "ecm":
                new_g, new_e = ecm_m_step(Xt, Y, post.h, Gt, Et, self.l2)
            else:
                new_g, new_e = irls_m_step(
                    Xt, Y, post.h, Gt, Et, self.l2, self.irls_rate, self.irls_steps
                )
        except np.linalg.LinAlgError:
            return Gt, Et, post, np.nan
        new_post = e_step(Xt, y_index, new_g, new_e)
        self.n_estep_ += 1
        return new_g, new_e, new_post, new_post.log_likelihood - penalty(new_g, new_e, self.l2)

    def _squarem_cycle(self, Xt, y_index, Y, Gt, Et, post):
        """One SQUAREM (S3) cycle of ECM maps, as EMMLPClassifier's: two maps, an
        extrapolation guarded by a stabilizing map that must not end below the second
        map's objective (alpha halved toward -1 up to SQUAREM_MAX_HALVINGS times), else
        the second map's point. ECM never lowers the objective, so neither does this."""
        g1, e1, post1, _ = self._em_map(Xt, y_index, Y, Gt, Et, post)
        g2, e2, post2, objective2 = self._em_map(Xt, y_index, Y, g1, e1, post1)
        theta0, theta1, theta2 = (np.concatenate([g.ravel(), e.ravel()])
                                  for g, e in ((Gt, Et), (g1, e1), (g2, e2)))  # fmt: skip
        r = theta1 - theta0
        v = theta2 - theta1 - r
        norm_r, norm_v = np.linalg.norm(r), np.linalg.norm(v)
        if not (norm_v > 0 and np.isfinite(objective2)):
            return g2, e2, post2, objective2
        alpha = min(-norm_r / norm_v, -1.0)
        for _ in range(SQUAREM_MAX_HALVINGS + 1):
            theta = theta0 - 2.0 * alpha * r + alpha**2 * v
            gx, ex = theta[: Gt.size].reshape(Gt.shape), theta[Gt.size :].reshape(Et.shape)
            post_x = e_step(Xt, y_index, gx, ex)
            self.n_estep_ += 1
            if np.isfinite(post_x.log_likelihood):
                gs, es, post_s, objective_s = self._em_map(Xt, y_index, Y, gx, ex, post_x)
                if np.isfinite(objective_s) and objective_s >= objective2:
                    return gs, es, post_s, objective_s
            if alpha == -1.0:
                break
            alpha = (alpha - 1.0) / 2.0
        return g2, e2, post2, objective2

    def _fit_sgd(self, Xt, y_index, Y, order_rng, monitor):
        Gt, Et = self._stacked()
        n = len(Xt)
        mask = _penalty_mask(Xt.shape[1])[:, None]
        l2_per_example = self.l2 / n
        v_g, v_e = np.zeros_like(Gt), np.zeros_like(Et)
        best, stale = -np.inf, 0
        for epoch in range(1, self.max_iter + 1):
            order = order_rng.permutation(n)
            new_g, new_e = Gt.copy(), Et.copy()
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for start in range(0, n, self.batch_size):
                    rows = order[start : start + self.batch_size]
                    post = e_step(Xt[rows], y_index[rows], new_g, new_e)
                    d_g, d_e = data_gradient(Xt[rows], Y[rows], post)
                    # Descent on the batch's mean loss plus l2/(2n) * ||weights||^2.
                    v_g = self.momentum * v_g + self.learning_rate * (
                        d_g / len(rows) - l2_per_example * mask * new_g
                    )
                    v_e = self.momentum * v_e + self.learning_rate * (
                        d_e / len(rows) - l2_per_example * mask * new_e
                    )
                    new_g, new_e = new_g + v_g, new_e + v_e
                post = e_step(Xt, y_index, new_g, new_e)
                objective = post.log_likelihood - penalty(new_g, new_e, self.l2)
            if not np.isfinite(objective):
                self._diverge(epoch, objective)
                break
            Gt, Et = new_g, new_e
            self._set_stacked(Gt, Et)
            self.history_["objective"].append(objective)
            self.n_iter_ = epoch
            if monitor is not None and monitor(epoch, self):
                break
            if epoch == 1 or (objective - best) / n > self.tol:
                stale = 0
            else:
                stale += 1
            best = objective if epoch == 1 else max(best, objective)
            if stale >= self.n_iter_no_change:
                self.converged_ = True
                break

    # ------------------------------------------------------------------ weights

    def _stacked(self):
        """G~ ((p+1) x K) and E~ (K x (p+1) x g): intercepts as the last row."""
        Gt = np.vstack([self.gate_coef_, self.gate_intercept_])
        Et = np.concatenate([self.expert_coefs_, self.expert_intercepts_[:, None, :]], axis=1)
        return Gt, Et

    def _set_stacked(self, Gt, Et):
        self.gate_coef_ = np.array(Gt[:-1])
        self.gate_intercept_ = np.array(Gt[-1])
        self.expert_coefs_ = np.array(Et[:, :-1])
        self.expert_intercepts_ = np.array(Et[:, -1])

    def _penalty(self) -> float:
        return penalty(*self._stacked(), self.l2)

    # ------------------------------------------------------------------ prediction

    def _check_inputs(self, X):
        return check_inputs(self, X, "gate_coef_")

    def predict_proba(self, X):
        """p(y | x) = sum_k pi_k(x) p_k(y | x), combined in log space."""
        Xt = with_ones(self._check_inputs(X))
        Gt, Et = self._stacked()
        joint = _log_softmax(Xt @ Gt).T[:, :, None] + _log_softmax(Xt @ Et)  # K x n x g
        return np.exp(_log_softmax(_logsumexp(joint, axis=0)))

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        check_is_fitted(self, "gate_coef_")
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def log_likelihood(self, X, y) -> float:
        """Observed-data log-likelihood sum_j log p(y_j | x_j), unpenalized."""
        X = self._check_inputs(X)
        post = e_step(with_ones(X), label_indices(self.classes_, X, y), *self._stacked())
        return post.log_likelihood
