"""Variational (mean-field) EM: a lower bound of the likelihood, tractable at any m.

For each example, q(z) = prod_h Bernoulli(mu_h) stands in for the posterior
p(z | x, y). The bound (evidence lower bound, ELBO) per example is

    F(mu) = E_q[log p(z | x)] + H(q) + B(mu),   B(mu) <= E_q[log o_y(z)],

with E_q[log p(z | x)] = sum_h mu_h log s(a_h) + (1 - mu_h) log s(-a_h) (s the
sigmoid) and B Jensen's bound on the output term, E_q[log sum_i e^{eta_i}] <=
log sum_i E_q[e^{eta_i}] (eta = V^T z + c), exact under a product of Bernoullis:

    B(mu) = c_y + mu.V_y - log sum_i exp(c_i + sum_h psi(mu_h, V_hi)),
    psi(mu, v) = log(1 - mu + mu e^v).

F <= E_q[log p(z, y | x)] + H(q) <= log p(y | x), so the ELBO never exceeds the
exact log-likelihood; it equals it when V = 0 and mu = sigmoid(a). Everything
costs O(n m g), whatever m.

E-step: damped fixed-point updates mu <- mu + d (mu* - mu) for all units of a
row at once, mu_h* = sigmoid(a_h + V_hy - sum_i pi_i dpsi_hi/dmu_h) (where
dF/dmu_h = 0 but for the dependence of the last term on mu_h) with
pi = softmax(c + sum_h psi_h). A row whose update would lower its F has its
damping d halved (at most MAX_HALVINGS times, else the row keeps its mu), so F
never decreases; a row stops once its proposed change is at most TOL, and
every row after MAX_SWEEPS. Started from the previous iteration's mu, a few
sweeps suffice.

M-step: for W, the same logistic regressions as exact EM with mu for tau; for
V~, B summed over examples is concave in V~ (psi is convex in v, log-sum-exp
convex and increasing) and is raised by guarded Newton steps on its exact
Hessian. Both never lower F, so the ELBO never decreases across iterations.

psi and its derivatives are formed without overflow at any V: psi =
max(v, 0) + log(D), D = 1 - mu + mu e^v where v <= 0 and mu + (1 - mu) e^-v
where v > 0 (see _Psi).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, xlogy

from .common import log_softmax, softplus
from .mstep import _jitter, _penalty_mask, guarded_newton, settle_softmax_shift

DAMPING = 1.0  # the largest step; a row's step halves while it would lower its ELBO
MAX_SWEEPS = 100
TOL = 1e-6  # largest change of any mu_h at which the fixed point counts as reached
MAX_HALVINGS = 20
_FLOOR = np.finfo(np.float64).tiny


@dataclass
class MeanFieldEStep:
    """Variational posteriors q(z | x_j, y_j) = prod_h Bernoulli(mu_jh) and their bound."""

    row_elbo: np.ndarray  # (n,) F_j(mu_j) <= log p(y_j | x_j)
    hidden_means: np.ndarray  # (n, m) mu
    targets: np.ndarray  # (n, g) the one-hot labels, for the M-step
    sweeps: int  # fixed-point sweeps this E-step took

    @property
    def elbo(self) -> float:
        return float(self.row_elbo.sum())


class _Psi:
    """psi(mu, V) for every example, unit and class, as max(V, 0) + log(D).

    D = 1 - mu + mu e^v where v <= 0 and mu + (1 - mu) e^-v where v > 0, both
    base + mu slope with e^-|v| and expm1(-|v|) formed once per V; D is kept
    from underflowing to 0 (which could only raise psi, so the bound stays a bound).
    """

    def __init__(self, V):
        positive = V > 0
        E = np.expm1(-np.abs(V))  # e^-|v| - 1, in (-1, 0]
        self.base = np.where(positive, np.exp(-np.abs(V)), 1.0)
        self.slope = np.where(positive, -E, E)
        self.V_plus = np.maximum(V, 0.0)
        self.grow = np.where(positive, 1.0, 1.0 + E)  # e^v where v <= 0, else 1

    def D(self, mu):
        """(n, m, g)"""
        return np.maximum(mu[:, :, None] * self.slope + self.base, _FLOOR)

    def total(self, D):
        """sum_h psi_hi: n x g."""
        return np.log(D).sum(axis=1) + self.V_plus.sum(axis=0)


def _log_sum_exp(s):
    top = s.max(axis=1)
    return top + np.log(np.exp(s - top[:, None]).sum(axis=1))


def _prior_terms(A):
    """log sigmoid(a) and log sigmoid(-a), each accurate at any |a|."""
    return -softplus(-A), -softplus(A)


def _row_elbo(mu, log_on, log_off, YV, Y, c, psi_sums):
    """F_j(mu_j) for every row, given psi_sums = sum_h psi_h (n x g) at mu."""
    prior = (mu * log_on + (1.0 - mu) * log_off).sum(axis=1)
    entropy = -(xlogy(mu, mu) + xlogy(1.0 - mu, 1.0 - mu)).sum(axis=1)
    lse = _log_sum_exp(psi_sums + c)
    return prior + entropy + Y @ c + (mu * YV).sum(axis=1) - lse


def elbo(A, Y, V, c, mu) -> np.ndarray:
    """Per-row ELBO F_j(mu_j) at the weights (A = X W + b)."""
    log_on, log_off = _prior_terms(A)
    psi = _Psi(V)
    return _row_elbo(mu, log_on, log_off, Y @ V.T, Y, c, psi.total(psi.D(mu)))


def e_step(A, Y, V, c, mu=None, max_sweeps=MAX_SWEEPS, tol=TOL) -> MeanFieldEStep:
    """Guarded, damped mean-field fixed point, started from mu (default sigmoid(a)).

    Rows are updated until their proposed change is at most tol; a row's
    damping halves when its update would lower its ELBO and doubles (up to
    DAMPING) after an accepted one. A row that finds no ascent in MAX_HALVINGS
    halvings is at its fixed point to working precision and stops.
    """
    log_on, log_off = _prior_terms(A)
    YV = Y @ V.T  # V_{h, y_j}: n x m
    psi = _Psi(V)
    mu = expit(A) if mu is None else mu.copy()
    D = psi.D(mu)
    sums = psi.total(D)
    F = _row_elbo(mu, log_on, log_off, YV, Y, c, sums)
    damping = np.full(len(mu), DAMPING)
    active = np.arange(len(mu))
    sweeps = 0
    while active.size and sweeps < max_sweeps:
        sweeps += 1
        pi = np.exp(log_softmax(sums[active] + c))
        dpsi = psi.slope / D[active]  # d psi_hi / d mu_h
        target = expit(A[active] + YV[active] - np.einsum("jhi,ji->jh", dpsi, pi))
        change = target - mu[active]
        moving = np.abs(change).max(axis=1) > tol
        active, change = active[moving], change[moving]
        pending = np.ones(active.size, dtype=bool)
        for _ in range(MAX_HALVINGS):
            rows = active[pending]
            trial = mu[rows] + damping[rows, None] * change[pending]
            D_trial = psi.D(trial)
            sums_trial = psi.total(D_trial)
            F_trial = _row_elbo(
                trial, log_on[rows], log_off[rows], YV[rows], Y[rows], c, sums_trial
            )
            better = F_trial >= F[rows]
            accepted = rows[better]
            mu[accepted], D[accepted] = trial[better], D_trial[better]
            sums[accepted], F[accepted] = sums_trial[better], F_trial[better]
            damping[accepted] = np.minimum(2.0 * damping[accepted], DAMPING)
            pending[np.flatnonzero(pending)[better]] = False
            if not pending.any():
                break
            damping[active[pending]] *= 0.5
        active = active[~pending]  # rows that found no ascent are done
    return MeanFieldEStep(F, mu, Y, sweeps)


# ---------------------------------------------------------------- output layer


def _output_terms(mu, Y, Vt):
    V, c = Vt[:-1], Vt[-1]
    psi = _Psi(V)
    D = psi.D(mu)
    log_pi = log_softmax(psi.total(D) + c)
    return psi, D, log_pi


def output_objective(mu, Y, Vt, l2) -> float:
    """sum_j B_j(V~) - l2/2 ||V||^2, B the output part of the bound."""
    V, c = Vt[:-1], Vt[-1]
    psi = _Psi(V)
    lse = _log_sum_exp(psi.total(psi.D(mu)) + c)
    value = float((Y @ c).sum() + (mu * (Y @ V.T)).sum() - lse.sum())
    return value - 0.5 * l2 * float((V**2).sum())


def _output_derivatives(mu, Y, Vt, l2, hessian=True):
    """Gradient of the output bound and its negative Hessian (row-major in Vt).

    With rho_hi = d psi_hi / d v_hi = mu_h e^v / (1 - mu_h + mu_h e^v) and
    rho~_i = [rho_.i, 1]: gradient sum_j mu~_j y_j^T - rho~_ji pi_ji; negative
    Hessian sum_j blockdiag_i pi_ji (rho~ rho~^T + diag(rho (1 - rho), 0)) - q_j q_j^T
    with q_j = vec(pi_j rho~_j).
    """
    m1, g = Vt.shape
    n = len(mu)
    psi, D, log_pi = _output_terms(mu, Y, Vt)
    pi = np.exp(log_pi)
    rho = np.empty((n, m1, g))
    rho[:, :-1] = mu[:, :, None] * psi.grow / D
    rho[:, -1] = 1.0
    mu_t = np.hstack([mu, np.ones((n, 1))])
    weighted = rho * pi[:, None, :]  # q_j as (m1, g)
    grad = mu_t.T @ Y - weighted.sum(axis=0) - l2 * _penalty_mask(m1) * Vt
    if not hessian:
        return grad, None
    Q = weighted.reshape(n, m1 * g)
    H = -(Q.T @ Q)
    curvature = (weighted[:, :-1] * (1.0 - rho[:, :-1])).sum(axis=0)
    H4 = H.reshape(m1, g, m1, g)
    units = np.arange(m1 - 1)
    for i in range(g):
        H4[:, i, :, i] += weighted[:, :, i].T @ rho[:, :, i]  # sum_j pi_ji rho~ rho~^T
        H4[units, i, units, i] += curvature[:, i]
    H += l2 * np.diag(np.repeat(_penalty_mask(m1)[:, 0], g))
    settle_softmax_shift(H, np.arange(m1) == m1 - 1, g)  # only the bias row is flat here
    H += _jitter(H) * np.eye(m1 * g)
    return grad, H


def newton_output(mu, Y, Vt, l2, max_steps=None) -> tuple[np.ndarray, int]:
    """Raise the output bound sum_j B_j by guarded Newton steps (see mstep.guarded_newton)."""
    return guarded_newton(
        lambda V: output_objective(mu, Y, V, l2),
        lambda V: _output_derivatives(mu, Y, V, l2),
        Vt,
        max_steps,
    )
