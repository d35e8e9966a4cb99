"""The exact E-step of a stack of K networks at once (emnn.models.estep, batched).

Each network has its own training rows: X~ (K, n, p+1) and one-hot Y (K, n, g)
are padded with zero rows, marked by `real` (K, n). As in estep.e_step, the
unnormalized posterior of configuration z for row j is built by products,
E_jz = p(z | x_j) / p(z* | x_j) * o_y(z) / max_z o_y(z) (every factor at most 1),
by doubling over the bits; its sums give log p(y | x), and its sums over each bit
(by halving) the posterior means. Here every array carries the stack's leading
axis, and the output factor of each row, o_{y_j}(z), comes as one product of the
output table with Y^T. Networks whose 2^m x n block is not small (SMALL_ENTRIES),
and any network one of whose rows underflows (the output table strongly favours
configurations of negligible prior), go to estep.e_step one at a time, which
chunks and has a log-domain path; so the results are estep.e_step's, network by
network, to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import estep
from .common import softplus

# Stacking pays where each network's 2^m x n block is small and the interpreter's
# overhead is most of estep.e_step's time: measured with 20 networks (m = 7, one
# thread), the stack costs half as much at n = 120, as much at n = 455 and more
# beyond, where estep.e_step's contiguous, class-sorted blocks win. Networks with
# more entries than this go alone; a stack holds at most STACK_ENTRIES at once.
SMALL_ENTRIES = 2**15
STACK_ENTRIES = 2**22


@dataclass
class StackData:
    """Training rows of K networks, padded: X~ with its column of ones, one-hot Y."""

    Xt: np.ndarray  # (K, n, p + 1)
    Y: np.ndarray  # (K, n, g)
    real: np.ndarray  # (K, n) bool

    @classmethod
    def pad(cls, Xts, Ys):
        n = max(len(X) for X in Xts)
        K, p1, g = len(Xts), Xts[0].shape[1], Ys[0].shape[1]
        Xt, Y, real = np.zeros((K, n, p1)), np.zeros((K, n, g)), np.zeros((K, n), dtype=bool)
        for k, (X, Yk) in enumerate(zip(Xts, Ys, strict=True)):
            Xt[k, : len(X)], Y[k, : len(X)], real[k, : len(X)] = X, Yk, True
        return cls(Xt, Y, real)

    def take(self, idx):
        return StackData(self.Xt[idx], self.Y[idx], self.real[idx])


@dataclass
class StackEStep:
    """Posterior summaries of K exact E-steps (zeros on padded rows)."""

    row_log_likelihood: np.ndarray  # (K, n)
    hidden_means: np.ndarray  # (K, n, m)
    class_counts: np.ndarray | None  # (K, 2^m, g)

    @property
    def log_likelihood(self) -> np.ndarray:
        return self.row_log_likelihood.sum(axis=1)

    def take(self, idx):
        counts = None if self.class_counts is None else self.class_counts[idx]
        return StackEStep(self.row_log_likelihood[idx], self.hidden_means[idx], counts)

    def put(self, idx, other):
        self.row_log_likelihood[idx] = other.row_log_likelihood
        self.hidden_means[idx] = other.hidden_means
        if self.class_counts is not None:
            self.class_counts[idx] = other.class_counts


def configuration_logits(Vt):
    """z V + c for all 2^m configurations of every network: (K, 2^m, g), by doubling."""
    K, m1, g = Vt.shape
    m = m1 - 1
    logits = np.empty((K, 2**m, g))
    logits[:, 0] = Vt[:, m]
    for h in range(m):
        np.add(logits[:, : 2**h], Vt[:, h, None, :], out=logits[:, 2**h : 2 ** (h + 1)])
    return logits


def log_softmax(logits):
    """log softmax over the last (short) axis, a column at a time (NumPy reduces short
    rows slowly)."""
    top = logits[..., 0].copy()
    for i in range(1, logits.shape[-1]):
        np.maximum(top, logits[..., i], out=top)
    shifted = logits - top[..., None]
    total = np.exp(shifted[..., 0])
    for i in range(1, logits.shape[-1]):
        total += np.exp(shifted[..., i])
    return shifted - np.log(total)[..., None]


def e_step(data: StackData, Wt, Vt, with_counts=True, chunk_size=None) -> StackEStep:
    """The exact E-step of every network of the stack at its weights Wt (K, p+1, m),
    Vt (K, m+1, g); chunk_size is estep.e_step's, for a network that goes alone."""
    K, n, _ = data.Xt.shape
    m, g = Wt.shape[2], Vt.shape[2]
    out = StackEStep(
        np.zeros((K, n)),
        np.zeros((K, n, m)),
        np.zeros((K, 2**m, g)) if with_counts else None,
    )
    per_network = 2**m * n
    if per_network > SMALL_ENTRIES:
        for k in range(K):
            out.put([k], _alone(data.take([k]), Wt[[k]], Vt[[k]], with_counts, chunk_size))
        return out
    size = max(1, STACK_ENTRIES // per_network)
    for start in range(0, K, size):
        idx = np.arange(start, min(K, start + size))
        part, underflowed = _products(data.take(idx), Wt[idx], Vt[idx], with_counts)
        for k in np.flatnonzero(underflowed):
            one = idx[[k]]
            part.put([k], _alone(data.take(one), Wt[one], Vt[one], with_counts, chunk_size))
        out.put(idx, part)
    return out


def _products(data, Wt, Vt, with_counts):
    """The stacked E-step by products; also which networks had a row underflow.

    E is laid out (2^m, K, n): configurations first, so that each doubling and
    halving step is one contiguous operation over all networks and rows."""
    Xt, Y, real = data.Xt, data.Y, data.real
    K, n, _ = Xt.shape
    m = Wt.shape[2]
    A = Xt @ Wt  # (K, n, m)
    At = A.transpose(2, 0, 1)  # (m, K, n)
    on = np.exp(np.minimum(At, 0.0))  # p(z_h = 1) / p(z*_h), at most 1
    off = np.exp(-np.maximum(At, 0.0))
    E = np.empty((2**m, K, n))
    E[0] = 1.0
    for h in range(m):
        half = 2**h
        np.multiply(E[:half], on[h], out=E[half : 2 * half])
        E[:half] *= off[h]
    log_table = log_softmax(configuration_logits(Vt))  # (K, 2^m, g)
    shift = log_table.max(axis=1)  # (K, g): max_z log o_i(z)
    outputs = np.exp(log_table - shift[:, None, :]) @ Y.transpose(0, 2, 1)  # (K, 2^m, n)
    E *= outputs.transpose(1, 0, 2)  # o_{y_j}(z) / max_z o_{y_j}(z)
    sums = E.sum(axis=0)  # (K, n)
    underflowed = (real & (sums < estep._UNDERFLOW)).any(axis=1)
    safe = np.where(real & (sums >= estep._UNDERFLOW), sums, 1.0)
    counts = None
    if with_counts:
        counts = E.transpose(1, 0, 2) @ (Y / safe[:, :, None])  # (K, 2^m, g)
    numerators = np.empty((m, K, n))
    for h in range(m - 1, -1, -1):  # halving: the sum over configurations with bit h set
        half = 2**h
        upper = E[half : 2 * half]
        upper.sum(axis=0, out=numerators[h])
        E[:half] += upper
    prior = softplus(-np.abs(A)).sum(axis=2)
    row_ll = np.where(real, np.log(safe) + (Y @ shift[:, :, None])[..., 0] - prior, 0.0)
    means = numerators.transpose(1, 2, 0) / safe[:, :, None]
    return StackEStep(row_ll, means, counts), underflowed


def _alone(data, Wt, Vt, with_counts, chunk_size):
    """One network (a stack of one) by estep.e_step, on its real rows."""
    rows = data.real[0]
    A = data.Xt[0, rows] @ Wt[0]
    table = estep.output_log_table(Vt[0, :-1], Vt[0, -1])
    post = estep.e_step(A, data.Y[0, rows], table, chunk_size, with_counts)
    n, m = data.real.shape[1], Wt.shape[2]
    row_ll, means = np.zeros((1, n)), np.zeros((1, n, m))
    row_ll[0, rows], means[0, rows] = post.row_log_likelihood, post.hidden_means
    counts = post.class_counts[None] if with_counts else None
    return StackEStep(row_ll, means, counts)
