"""Back-propagation for a stack of mixtures of experts (algorithm="sgd"): minibatch SGD
with momentum on the same penalized likelihood, one loop over minibatches for all.

Each network keeps its own data, initial weights, minibatch order, learning rate,
momentum, penalty and plateau rule (scikit-learn's, emnn.models.stopping.Plateau).
A network's epoch has as many minibatches as its own rows need; in a step where it
has none it waits. Networks with one training set and one seed draw the same
minibatch orders, from one generator. MoEClassifier.fit is a stack of one.
"""

from __future__ import annotations

import numpy as np

from .moe_model import Network, StackData, data_gradient, e_step, penalty, penalty_mask
from .stopping import Plateau


def _order_keys(nets) -> list[int]:
    """For each network, the first network with its training set and seed: that one's
    generator draws the minibatch orders of all of them."""
    first: dict[tuple, int] = {}
    return [
        first.setdefault((id(net.X), seed if seed is not None else -1 - k), k)
        for k, (net, seed) in enumerate((net, net.estimator.random_state) for net in nets)
    ]


def train(nets: list[Network]) -> None:
    """Minibatch SGD with momentum for a stack of networks of one shape."""
    est = nets[0].estimator
    B = est.batch_size
    # One more zero row than the longest training set: the row that pads minibatches.
    data = StackData.pad([net.X for net in nets], [net.y_index for net in nets],
                         nets[0].n_classes, extra=1)  # fmt: skip
    pad = data.Xt.shape[1] - 1
    n = np.array([len(net.X) for net in nets])
    setting = {
        name: np.array([getattr(net.estimator, name) for net in nets], dtype=float)
        for name in ("learning_rate", "momentum", "l2", "tol")
    }
    patience = np.array([net.estimator.n_iter_no_change for net in nets])
    max_iter = np.array([net.estimator.max_iter for net in nets])
    order_key = _order_keys(nets)
    Gt, Et = np.array([net.Gt for net in nets]), np.array([net.Et for net in nets])
    for k, net in enumerate(nets):
        net.report(0, Gt[k], Et[k])
    mask = penalty_mask(Gt.shape[1])[:, None]
    v_g, v_e = np.zeros_like(Gt), np.zeros_like(Et)
    plateau = Plateau(len(nets))
    alive = np.arange(len(nets))
    for epoch in range(1, int(max_iter.max()) + 1):
        M = len(alive)
        n_steps = -(-int(n[alive].max()) // B)
        order = np.full((M, n_steps * B), pad)
        drawn = {}  # networks of one training set and seed draw the same orders: once
        for i, k in enumerate(alive):
            key = order_key[k]
            if key not in drawn:
                drawn[key] = nets[key].order_rng.permutation(n[k])
            order[i, : n[k]] = drawn[key]
        lr = setting["learning_rate"][alive][:, None, None]
        momentum = setting["momentum"][alive][:, None, None]
        decay = (setting["l2"][alive] / n[alive])[:, None, None] * mask  # l2 / n per example
        new_g, new_e = Gt.copy(), Et.copy()
        which = np.arange(M)[:, None]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for step in range(n_steps):
                rows = order[:, step * B : (step + 1) * B]
                real = rows != pad
                count = real.sum(axis=1)
                batch = StackData(
                    data.Xt[which, rows], data.Y[which, rows], data.y_index[which, rows], real
                )
                d_g, d_e = data_gradient(batch.Xt, batch.Y, e_step(batch, new_g, new_e))
                # Descent on the batch's mean loss plus l2/(2n) * ||weights||^2.
                size = np.maximum(count, 1)[:, None, None]
                step_g = momentum * v_g + lr * (d_g / size - decay * new_g)
                step_e = momentum[:, None] * v_e + lr[:, None] * (
                    d_e / size[:, None] - decay[:, None] * new_e
                )
                if count.all():
                    v_g, v_e = step_g, step_e
                else:  # a network whose epoch has no such minibatch waits
                    moving = count > 0
                    v_g = np.where(moving[:, None, None], step_g, v_g)
                    v_e = np.where(moving[:, None, None, None], step_e, v_e)
                    step_g = np.where(moving[:, None, None], step_g, 0.0)
                    step_e = np.where(moving[:, None, None, None], step_e, 0.0)
                new_g, new_e = new_g + step_g, new_e + step_e
            post = e_step(data, new_g, new_e)
            objective = post.log_likelihood - penalty(new_g, new_e, setting["l2"][alive])
        finite = np.isfinite(objective)
        ok = np.flatnonzero(finite)
        met = np.zeros(M, dtype=bool)
        met[ok] = plateau.update(
            alive[ok], objective[ok], n[alive[ok]], setting["tol"][alive[ok]], patience[alive[ok]]
        )
        keep = finite.copy()
        for i, k in enumerate(alive):
            net = nets[k]
            if not finite[i]:
                net.diverge(epoch, objective[i])
                net.Gt, net.Et = Gt[i].copy(), Et[i].copy()  # the last finite weights
                continue
            net.history.append(float(objective[i]))
            net.n_iter = epoch
            if net.report(epoch, new_g[i], new_e[i]):
                keep[i] = False  # the monitor asked: stopped, not converged
            elif met[i]:
                net.converged, keep[i] = True, False
            elif epoch >= max_iter[k]:
                keep[i] = False
            if not keep[i]:
                net.Gt, net.Et = new_g[i].copy(), new_e[i].copy()
        Gt, Et = new_g, new_e
        if not keep.all():
            alive, data = alive[keep], data.take(keep)
            Gt, Et, v_g, v_e = Gt[keep], Et[keep], v_g[keep], v_e[keep]
            if alive.size == 0:
                break
