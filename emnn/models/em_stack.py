"""Exact EM for a stack of networks at once: the EM map, SQUAREM, and each network's
own stopping rule (EMMLPClassifier's training loop, batched).

Every array carries the stack's leading axis; the E-step and the M-step are
emnn.models.estep_stack and mstep_stack. Each network keeps its own data, initial
weights, penalty, learning rate, tolerance and cap. SQUAREM's step length, its
halvings and its fallback are per network: a retry evaluates only the networks
still retrying. A network that meets its rule (or whose monitor asks) leaves the
stack and no longer changes. EMMLPClassifier.fit with the exact E-step is a stack
of one.
"""

from __future__ import annotations

import numpy as np

from . import estep_stack, mstep_stack
from .estep_stack import StackData
from .stopping import relative_change_below

# SQUAREM: at most this many halvings of the step length alpha toward -1 before a
# cycle falls back to its second plain EM map (alpha + 1 shrinks by 2^-10).
SQUAREM_MAX_HALVINGS = 10


class Network:
    """One network of a stack: its data, settings, and where training left it."""

    def __init__(self, estimator, Xt, Y, Wt, Vt, monitor):
        self.estimator, self.Xt, self.Y, self.monitor = estimator, Xt, Y, monitor
        self.Wt, self.Vt = Wt, Vt
        self.history = {"objective": [], "log_likelihood": []}
        self.n_iter = self.n_estep = 0
        self.converged = False
        self.error: Exception | None = None
        self.messages: list[str] = []

    def report(self, iteration, Wt, Vt, n_estep) -> bool:
        """Show the monitor the weights after `iteration`; True asks training to stop."""
        if self.monitor is None:
            return False
        est = self.estimator
        est._set_stacked(Wt, Vt)
        est.n_iter_, est.n_estep_, est.history_ = iteration, n_estep, self.history
        return bool(self.monitor(iteration, est))


class _Stack:
    """The settings the networks of a stack share, and the maps they apply."""

    def __init__(self, estimator):
        self.m_step = estimator.m_step
        self.newton_steps = estimator.newton_steps
        self.inner_steps = estimator.inner_steps
        self.chunk_size = estimator.chunk_size

    def e_step(self, data, Wt, Vt):
        return estep_stack.e_step(data, Wt, Vt, chunk_size=self.chunk_size)

    def objective(self, post, Wt, Vt, l2):
        penalty = (Wt[:, :-1] ** 2).sum(axis=(1, 2)) + (Vt[:, :-1] ** 2).sum(axis=(1, 2))
        return post.log_likelihood - 0.5 * l2 * penalty

    def em_map(self, data, post, Wt, Vt, l2, rate):
        """M-step then E-step: the new posteriors, objectives and weights."""
        T = post.hidden_means
        if self.m_step == "newton":
            Wt = mstep_stack.newton_hidden(data.Xt, data.real, T, Wt, l2, self.newton_steps)
            Vt = mstep_stack.newton_output(post.class_counts, Vt, l2, self.newton_steps)
        else:
            for _ in range(self.inner_steps):
                Wt, Vt = mstep_stack.guarded_gradient_step(
                    data.Xt, data.real, T, post.class_counts, Wt, Vt, l2, rate
                )
        post = self.e_step(data, Wt, Vt)
        return post, self.objective(post, Wt, Vt, l2), Wt, Vt


def _flat(Wt, Vt):
    return np.concatenate([Wt.reshape(len(Wt), -1), Vt.reshape(len(Vt), -1)], axis=1)


def _unflat(theta, Wt_shape, Vt_shape):
    split = Wt_shape[1] * Wt_shape[2]
    K = len(theta)
    return theta[:, :split].reshape(K, *Wt_shape[1:]), theta[:, split:].reshape(K, *Vt_shape[1:])


def train(nets: list[Network]) -> None:
    """EM (or SQUAREM-EM) for a stack of networks of one shape and one kind of M-step."""
    est = nets[0].estimator
    maps = _Stack(est)
    data = StackData.pad([net.Xt for net in nets], [net.Y for net in nets])
    Wt, Vt = np.array([net.Wt for net in nets]), np.array([net.Vt for net in nets])
    setting = {
        name: np.array([getattr(net.estimator, name) for net in nets], dtype=float)
        for name in ("l2", "learning_rate", "tol", "max_iter")
    }
    n_estep = np.ones(len(nets), dtype=int)
    alive = np.arange(len(nets))
    post = maps.e_step(data, Wt, Vt)
    objective = maps.objective(post, Wt, Vt, setting["l2"])
    keep = np.isfinite(objective)
    for k in np.flatnonzero(~keep):
        nets[k].error = FloatingPointError(f"EM objective is {objective[k]} at the initial weights")
        nets[k].Wt, nets[k].Vt, nets[k].n_estep = Wt[k], Vt[k], 1
    for k in np.flatnonzero(keep):
        nets[k].report(0, Wt[k], Vt[k], 1)
    squarem = est.acceleration == "squarem"
    for iteration in range(1, int(setting["max_iter"].max()) + 1):
        if not keep.all():  # networks that stopped leave the stack
            alive, data, post = alive[keep], data.take(keep), post.take(keep)
            Wt, Vt, objective, n_estep = Wt[keep], Vt[keep], objective[keep], n_estep[keep]
        if alive.size == 0:
            break
        l2, rate = setting["l2"][alive], setting["learning_rate"][alive]
        previous = objective
        if squarem:
            post, objective, Wt, Vt = _squarem_cycle(
                maps, data, post, Wt, Vt, objective, l2, rate, n_estep
            )
        else:
            post, objective, Wt, Vt = maps.em_map(data, post, Wt, Vt, l2, rate)
            n_estep += 1
        keep = np.ones(alive.size, dtype=bool)
        log_likelihood = post.log_likelihood
        met = relative_change_below(previous, objective, setting["tol"][alive])
        for i, k in enumerate(alive):
            net = nets[k]
            net.history["objective"].append(float(objective[i]))
            net.history["log_likelihood"].append(float(log_likelihood[i]))
            net.n_iter, net.n_estep = iteration, int(n_estep[i])
            if not np.isfinite(objective[i]):
                net.error = FloatingPointError(
                    f"EM objective became {objective[i]} at iteration {iteration}"
                )
                keep[i] = False
            elif net.report(iteration, Wt[i], Vt[i], int(n_estep[i])):
                keep[i] = False
            elif met[i]:
                net.converged, keep[i] = True, False
            elif iteration >= setting["max_iter"][k]:
                keep[i] = False
            if not keep[i]:
                net.Wt, net.Vt = Wt[i].copy(), Vt[i].copy()


def _squarem_cycle(maps, data, post, Wt, Vt, objective, l2, rate, n_estep):
    """One SQUAREM (S3) cycle for every network (EMMLPClassifier's docstring), each with
    its own step length, halvings and fallback to its second EM map."""
    theta0 = _flat(Wt, Vt)
    post1, _, W1, V1 = maps.em_map(data, post, Wt, Vt, l2, rate)
    post2, objective2, W2, V2 = maps.em_map(data, post1, W1, V1, l2, rate)
    n_estep += 2
    theta1, theta2 = _flat(W1, V1), _flat(W2, V2)
    r = theta1 - theta0
    v = theta2 - theta1 - r
    norm_r, norm_v = np.linalg.norm(r, axis=1), np.linalg.norm(v, axis=1)
    # The cycle's result is theta2 unless an extrapolation succeeds.
    result_post, result_objective = post2, objective2.copy()
    result_W, result_V = W2.copy(), V2.copy()
    pending = (norm_v > 0) & np.isfinite(objective2)  # else no curvature to extrapolate along
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(pending, np.minimum(-norm_r / norm_v, -1.0), -1.0)
    for _ in range(SQUAREM_MAX_HALVINGS + 1):
        idx = np.flatnonzero(pending)
        if idx.size == 0:
            break
        a = alpha[idx, None]
        Wx, Vx = _unflat(theta0[idx] - 2.0 * a * r[idx] + a**2 * v[idx], Wt.shape, Vt.shape)
        part = data.take(idx)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            post_x = maps.e_step(part, Wx, Vx)
            n_estep[idx] += 1
            finite = np.isfinite(maps.objective(post_x, Wx, Vx, l2[idx]))
            if finite.any():
                done = _stabilize(maps, part, post_x, Wx, Vx, l2[idx], rate[idx], finite)
                for j, (post_s, objective_s, W_s, V_s) in done.items():
                    n_estep[idx[j]] += 1
                    if np.isfinite(objective_s) and objective_s >= objective2[idx[j]]:
                        result_post.put([idx[j]], post_s)
                        result_objective[idx[j]] = objective_s
                        result_W[idx[j]], result_V[idx[j]] = W_s, V_s
                        pending[idx[j]] = False
        for j in np.flatnonzero(pending[idx]):
            k = idx[j]
            if alpha[k] == -1.0:
                pending[k] = False  # keep theta2
            else:
                alpha[k] = (alpha[k] - 1.0) / 2.0
    return result_post, result_objective, result_W, result_V


def _stabilize(maps, data, post_x, Wx, Vx, l2, rate, finite):
    """The stabilizing EM map from each extrapolated point whose objective is finite:
    {position: (posterior, objective, W, V)}. A singular Newton system far out fails
    that network's map only."""
    chosen = np.flatnonzero(finite)
    try:
        post_s, objective_s, W_s, V_s = maps.em_map(
            data.take(chosen), post_x.take(chosen), Wx[chosen], Vx[chosen], l2[chosen],
            rate[chosen],
        )  # fmt: skip
        return {
            int(j): (post_s.take([i]), objective_s[i], W_s[i], V_s[i]) for i, j in enumerate(chosen)
        }
    except np.linalg.LinAlgError:
        if len(chosen) == 1:
            return {}
    found = {}
    for j in chosen:  # one by one, to find which network's system is singular
        found.update(
            {int(j): value for value in _stabilize(
                maps, data.take([j]), post_x.take([j]), Wx[[j]], Vx[[j]], l2[[j]], rate[[j]],
                np.array([True]),
            ).values()}
        )  # fmt: skip
    return found
