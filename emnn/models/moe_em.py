"""EM for a stack of mixtures of experts: the EM map (IRLS or ECM M-step, then the
E-step), SQUAREM, and each network's own stopping rule and divergence.

Every network keeps its own data, initial weights, penalty, IRLS rate, tolerance
and cap. SQUAREM's step length, its halvings and its fallback are per network: a
retry evaluates only the networks still retrying. A network whose objective stops
being finite keeps its last finite weights and says so; one that meets its rule,
reaches its cap or whose monitor asks leaves the stack and no longer changes.
MoEClassifier.fit is a stack of one.
"""

from __future__ import annotations

import numpy as np

from .moe_ecm import OUTER_MAX_COLUMNS, ecm_m_step
from .moe_irls import irls_m_step, keep_outer_products
from .moe_model import Network, StackData, e_step, penalty
from .stopping import relative_change_below

# SQUAREM (acceleration="squarem", ECM only): halvings of alpha before a cycle falls back.
SQUAREM_MAX_HALVINGS = 10


class _Maps:
    """The EM map of a stack's algorithm, and its E-step count."""

    def __init__(self, estimator):
        self.ecm = estimator.algorithm == "ecm"
        self.steps = estimator.irls_steps

    def em_map(self, data, post, Gt, Et, l2, rate):
        """One EM iteration from (Gt, Et), whose E-step is post: M-step, then E-step.
        Returns weights, E-step, objective and which networks' E-steps count. A network
        whose M-step met a singular Newton system keeps its input and gets a NaN
        objective (a diverged step), its E-step uncounted."""
        if self.ecm:
            new_g, new_e, failed = ecm_m_step(data, post.h, Gt, Et, l2)
        else:
            new_g, new_e, failed = irls_m_step(data, post.h, Gt, Et, l2, rate, self.steps)
        new_post = e_step(data, new_g, new_e)
        objective = new_post.log_likelihood - penalty(new_g, new_e, l2)
        if failed.any():
            new_g[failed], new_e[failed] = Gt[failed], Et[failed]
            new_post.put(failed, post.take(failed))
            objective[failed] = np.nan
        return new_g, new_e, new_post, objective, ~failed


def train(nets: list[Network]) -> None:
    """EM (or SQUAREM-ECM) for a stack of networks of one shape and one algorithm."""
    est = nets[0].estimator
    maps = _Maps(est)
    data = StackData.pad([net.X for net in nets], [net.y_index for net in nets],
                         nets[0].n_classes)  # fmt: skip
    if not maps.ecm or data.Xt.shape[2] <= OUTER_MAX_COLUMNS:
        data = keep_outer_products(data)
    Gt, Et = np.array([net.Gt for net in nets]), np.array([net.Et for net in nets])
    setting = {
        name: np.array([getattr(net.estimator, name) for net in nets], dtype=float)
        for name in ("l2", "irls_rate", "tol", "max_iter")
    }
    for k, net in enumerate(nets):
        net.report(0, Gt[k], Et[k])
    post = e_step(data, Gt, Et)
    objective = post.log_likelihood - penalty(Gt, Et, setting["l2"])
    n_estep = np.ones(len(nets), dtype=int)
    keep = np.isfinite(objective)
    for k in np.flatnonzero(~keep):
        nets[k].error = FloatingPointError(f"objective is {objective[k]} at the initial weights")
    for net in nets:
        net.n_estep = 1
    alive = np.arange(len(nets))
    squarem = est.acceleration == "squarem"
    for iteration in range(1, int(setting["max_iter"].max()) + 1):
        if not keep.all():  # networks that stopped leave the stack
            alive, data, post = alive[keep], data.take(keep), post.take(keep)
            Gt, Et, objective, n_estep = Gt[keep], Et[keep], objective[keep], n_estep[keep]
        if alive.size == 0:
            break
        l2, rate = setting["l2"][alive], setting["irls_rate"][alive]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if squarem:
                new_g, new_e, new_post, new_objective = _squarem_cycle(
                    maps, data, post, Gt, Et, l2, rate, n_estep
                )
            else:
                new_g, new_e, new_post, new_objective, counted = maps.em_map(
                    data, post, Gt, Et, l2, rate
                )
                n_estep += counted
        finite = np.isfinite(new_objective)
        met = relative_change_below(objective, new_objective, setting["tol"][alive])
        keep = finite.copy()
        for i, k in enumerate(alive):
            net = nets[k]
            net.n_estep = int(n_estep[i])
            if not finite[i]:
                net.diverge(iteration, new_objective[i])
                net.Gt, net.Et = Gt[i].copy(), Et[i].copy()
                continue
            net.history.append(float(new_objective[i]))
            net.n_iter = iteration
            if net.report(iteration, new_g[i], new_e[i], n_estep[i]):
                keep[i] = False
            elif met[i]:
                net.converged, keep[i] = True, False
            elif iteration >= setting["max_iter"][k]:
                keep[i] = False
            if not keep[i]:
                net.Gt, net.Et = new_g[i].copy(), new_e[i].copy()
        Gt, Et, post, objective = new_g, new_e, new_post, new_objective


def _flat(Gt, Et):
    return np.concatenate([Gt.reshape(len(Gt), -1), Et.reshape(len(Et), -1)], axis=1)


def _unflat(theta, g_shape, e_shape):
    split = int(np.prod(g_shape[1:]))
    N = len(theta)
    return theta[:, :split].reshape(N, *g_shape[1:]), theta[:, split:].reshape(N, *e_shape[1:])


def _norms(a):
    """The Euclidean norm of each row, as np.linalg.norm of that row alone (BLAS's dot)."""
    return np.sqrt((a[:, None, :] @ a[:, :, None])[:, 0, 0])


def _squarem_cycle(maps, data, post, Gt, Et, l2, rate, n_estep):
    """One SQUAREM (S3) cycle of EM maps for every network, as EMMLPClassifier's: two
    maps, an extrapolation guarded by a stabilizing map that must not end below the
    second map's objective (alpha halved toward -1 up to SQUAREM_MAX_HALVINGS times),
    else the second map's point; each network with its own alpha, halvings and fallback.
    ECM never lowers the objective, so neither does this. Counts E-steps into n_estep."""
    g1, e1, post1, _, counted1 = maps.em_map(data, post, Gt, Et, l2, rate)
    g2, e2, post2, objective2, counted2 = maps.em_map(data, post1, g1, e1, l2, rate)
    n_estep += counted1
    n_estep += counted2
    theta0, theta1, theta2 = _flat(Gt, Et), _flat(g1, e1), _flat(g2, e2)
    r = theta1 - theta0
    v = theta2 - theta1 - r
    norm_r, norm_v = _norms(r), _norms(v)
    # The cycle's result is the second map's point unless an extrapolation succeeds.
    result_g, result_e, result_post, result_objective = g2, e2, post2, objective2.copy()
    pending = (norm_v > 0) & np.isfinite(objective2)  # else no curvature to extrapolate along
    alpha = np.where(pending, np.minimum(-norm_r / np.where(pending, norm_v, 1.0), -1.0), -1.0)
    for _ in range(SQUAREM_MAX_HALVINGS + 1):
        idx = np.flatnonzero(pending)
        if idx.size == 0:
            break
        a = alpha[idx, None]
        gx, ex = _unflat(theta0[idx] - 2.0 * a * r[idx] + a**2 * v[idx], Gt.shape, Et.shape)
        part = data.take(idx)
        post_x = e_step(part, gx, ex)
        n_estep[idx] += 1
        finite = np.isfinite(post_x.log_likelihood)
        if finite.any():
            chosen = idx[finite]
            gs, es, post_s, objective_s, counted = maps.em_map(
                part.take(finite), post_x.take(finite), gx[finite], ex[finite], l2[chosen],
                rate[chosen],
            )  # fmt: skip
            n_estep[chosen] += counted
            better = np.isfinite(objective_s) & (objective_s >= objective2[chosen])
            won = chosen[better]
            result_g[won], result_e[won] = gs[better], es[better]
            result_post.put(won, post_s.take(better))
            result_objective[won] = objective_s[better]
            pending[won] = False
        retry = idx[pending[idx]]
        pending[retry[alpha[retry] == -1.0]] = False  # alpha reached -1: keep theta2
        going = retry[alpha[retry] != -1.0]
        alpha[going] = (alpha[going] - 1.0) / 2.0
    return result_g, result_e, result_post, result_objective
