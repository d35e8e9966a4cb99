"""The mixture of experts' model for a stack of networks: weights, the E-step, the
objective and its gradient, and one network's training state.

    p(y | x) = sum_k pi_k(x) p_k(y | x),
    pi(x) = softmax(G~^T x~),  p_k(y | x) = softmax(E~_k^T x~)_y

x~ = [x, 1]: G~ ((p+1) x K) and E~_k ((p+1) x g) carry their intercepts as the last
row. The objective is sum_j log p(y_j | x_j) - l2/2 * (||G||^2 + sum_k ||E_k||^2),
intercepts unpenalized (the MLP's convention). The E-step gives the posteriors
h_jk = pi_k(x_j) p_k(y_j | x_j) / p(y_j | x_j).

Every array carries the stack's leading axis: G~ (N, p+1, K), E~ (N, K, p+1, g), and
each network's training rows, padded with zero rows to the longest (`real` marks the
rows that are data; padded rows have h = 0 and add nothing to any sum). A single
network is a stack of one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .common import one_hot, with_ones

# NumPy reduces a short last axis slowly; below this length a loop over its columns
# adds in the same order as NumPy's own sum (which adds sequentially below 8 terms).
SHORT_AXIS = 8


def _sum_last(a: np.ndarray) -> np.ndarray:
    """a.sum(axis=-1), by columns when the axis is short (the same sum, faster)."""
    if a.shape[-1] >= SHORT_AXIS:
        return a.sum(axis=-1)
    total = a[..., 0].copy()
    for i in range(1, a.shape[-1]):
        total += a[..., i]
    return total


def _max_last(a: np.ndarray) -> np.ndarray:
    if a.shape[-1] >= SHORT_AXIS:
        return a.max(axis=-1)
    top = a[..., 0].copy()
    for i in range(1, a.shape[-1]):
        np.maximum(top, a[..., i], out=top)
    return top


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis (any number of leading axes)."""
    shifted = logits - _max_last(logits)[..., None]
    return shifted - np.log(_sum_last(np.exp(shifted)))[..., None]


def logsumexp(a: np.ndarray) -> np.ndarray:
    """log sum exp over the last axis, that axis removed (finite for inputs of any size)."""
    top = _max_last(a)
    return top + np.log(_sum_last(np.exp(a - top[..., None])))


def penalty_mask(p1: int) -> np.ndarray:
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


@dataclass
class StackData:
    """The training rows of N networks, padded with zero rows: X~ with its column of
    ones (N, n, p+1), one-hot Y (N, n, g), class indices (N, n) and `real` (N, n)."""

    Xt: np.ndarray
    Y: np.ndarray
    y_index: np.ndarray
    real: np.ndarray
    outer: np.ndarray | None = None  # the rows' outer products, where kept (moe_irls)

    @classmethod
    def pad(cls, Xts, y_indices, n_classes: int, extra: int = 0):
        """Stack each network's X~ and labels; `extra` more zero rows for every network."""
        n = max(len(X) for X in Xts) + extra
        N, p1 = len(Xts), Xts[0].shape[1]
        Xt, y_index = np.zeros((N, n, p1)), np.zeros((N, n), dtype=np.intp)
        real = np.zeros((N, n), dtype=bool)
        for k, (X, labels) in enumerate(zip(Xts, y_indices, strict=True)):
            Xt[k, : len(X)], y_index[k, : len(X)], real[k, : len(X)] = X, labels, True
        Y = one_hot(y_index, n_classes) * real[:, :, None]
        return cls(Xt, Y, y_index, real)

    @classmethod
    def single(cls, X, y_index, n_classes: int):
        return cls.pad([with_ones(X)], [y_index], n_classes)

    def take(self, idx) -> StackData:
        outer = None if self.outer is None else self.outer[idx]
        return StackData(self.Xt[idx], self.Y[idx], self.y_index[idx], self.real[idx], outer)


@dataclass
class EStep:
    """The E-step of each network of a stack (h is 0 on padded rows)."""

    log_likelihood: np.ndarray  # (N,): sum_j log p(y_j | x_j)
    h: np.ndarray  # (N, n, K): posterior of the experts given x and y
    log_gate: np.ndarray  # (N, n, K): log pi_k(x_j)
    log_experts: np.ndarray  # (N, K, n, g): log p_k(. | x_j)

    @property
    def gate(self) -> np.ndarray:
        return np.exp(self.log_gate)

    @property
    def experts(self) -> np.ndarray:
        return np.exp(self.log_experts)

    def take(self, idx) -> EStep:
        return EStep(self.log_likelihood[idx], self.h[idx], self.log_gate[idx],
                     self.log_experts[idx])  # fmt: skip

    def put(self, idx, other: EStep) -> None:
        self.log_likelihood[idx] = other.log_likelihood
        self.h[idx], self.log_gate[idx] = other.h, other.log_gate
        self.log_experts[idx] = other.log_experts


def e_step(data: StackData, Gt, Et) -> EStep:
    """Log-likelihoods and posteriors, all in log space (finite for logits of any size)."""
    log_gate = log_softmax(data.Xt @ Gt)  # (N, n, K)
    log_experts = log_softmax(data.Xt[:, None] @ Et)  # (N, K, n, g)
    chosen = np.take_along_axis(log_experts, data.y_index[:, None, :, None], axis=3)[..., 0]
    joint = log_gate + chosen.transpose(0, 2, 1)  # (N, n, K): log pi_k + log p_k(y_j)
    log_p = np.where(data.real, logsumexp(joint), 0.0)
    h = np.exp(joint - log_p[:, :, None])
    h *= data.real[:, :, None]
    return EStep(log_p.sum(axis=1), h, log_gate, log_experts)


def penalty(Gt, Et, l2) -> np.ndarray:
    """l2/2 * (||G||^2 + sum_k ||E_k||^2) per network; l2 (N,)."""
    N = len(Gt)
    gate = (Gt[:, :-1] ** 2).reshape(N, -1).sum(axis=1)
    experts = (Et[:, :, :-1] ** 2).reshape(N, -1).sum(axis=1)
    return 0.5 * l2 * (gate + experts)


def data_gradient(Xt, Y, post: EStep):
    """Gradient of sum_j log p(y_j | x_j) by Fisher's identity (the gradient of Q at Psi):
    X~^T (h - pi) for the gate and X~^T (h_.k (Y - P_k)) for expert k."""
    XtT = Xt.transpose(0, 2, 1)
    grad_g = XtT @ (post.h - post.gate)
    weighted = post.h.transpose(0, 2, 1)[:, :, :, None] * (Y[:, None] - post.experts)
    return grad_g, XtT[:, None] @ weighted


def gradient(Xt, Y, post: EStep, Gt, Et, l2):
    """Gradient of the penalized log-likelihood: (d G~, d E~), shaped like G~ and E~."""
    grad_g, grad_e = data_gradient(Xt, Y, post)
    rate = l2[:, None, None] * penalty_mask(Gt.shape[1])[:, None]
    return grad_g - rate * Gt, grad_e - rate[:, None] * Et


def expected_objective(data: StackData, h, Gt, Et, l2) -> np.ndarray:
    """Q(Psi | Psi_old) per network given the old posteriors h, penalized like the objective."""
    log_gate = log_softmax(data.Xt @ Gt)
    log_experts = log_softmax(data.Xt[:, None] @ Et)  # (N, K, n, g)
    chosen = (log_experts * data.Y[:, None]).sum(axis=3)  # (N, K, n)
    q_experts = (h.transpose(0, 2, 1) * chosen).sum(axis=(1, 2))
    return (h * log_gate).sum(axis=(1, 2)) + q_experts - penalty(Gt, Et, l2)


class Network:
    """One network of a stack: its estimator, data, streams, monitor, and where training
    left it (weights, history, counts, flags and warning messages)."""

    def __init__(self, estimator, X, y_index, n_classes, Gt, Et, order_rng, monitor):
        self.estimator, self.X, self.y_index, self.n_classes = estimator, X, y_index, n_classes
        self.Gt, self.Et, self.order_rng, self.monitor = Gt, Et, order_rng, monitor
        self.history: list[float] = []
        self.n_iter = 0
        self.n_estep: int | None = None  # EM only
        self.converged = self.diverged = False
        self.error: Exception | None = None
        self.messages: list[str] = []

    def report(self, iteration: int, Gt, Et, n_estep=None) -> bool:
        """Show the monitor the weights after `iteration`; True asks training to stop."""
        if self.monitor is None:
            return False
        est = self.estimator
        est._set_stacked(Gt, Et)
        est.n_iter_, est.history_ = iteration, {"objective": self.history}
        if n_estep is not None:
            est.n_estep_ = int(n_estep)
        return bool(self.monitor(iteration, est))

    def diverge(self, iteration: int, objective) -> None:
        """Stop on a non-finite objective, keeping the weights it has (the last finite)."""
        self.diverged = True
        algorithm = self.estimator.algorithm
        rate = "learning_rate" if algorithm == "sgd" else "irls_rate"
        self.messages.append(
            f"{algorithm} diverged in iteration {iteration} (the objective became "
            f"{float(objective)}) and kept the weights of iteration {iteration - 1}; lower "
            f"{rate} or standardize the features"
        )
