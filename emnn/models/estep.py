"""Exact E-step over all 2^m hidden configurations, vectorized and chunked.

Configuration k has hidden unit h on when bit h of k is set. Every quantity is
computed block by block over configurations, so peak memory is
O(n * chunk_size) whatever m is; no Python loop runs over examples or over the
configurations inside a block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_EXACT_HIDDEN = 24
"""Largest m for exact EM: 2^24 configurations already cost about 16 million
exp() per example and iteration; past that an approximate E-step is needed."""

# Working blocks of this many float64 entries (64 MiB) bound the memory of one
# chunk when the caller does not choose a chunk size.
_BLOCK_ENTRIES = 8 * 1024 * 1024

# A row whose shifted sum falls below this has underflowed too far to be trusted
# and is recomputed with its exact maximum as the shift.
_UNDERFLOW = 1e-250


def configurations(n_hidden: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Rows start..stop-1 of the 2^m x m binary configuration matrix (float64)."""
    stop = 2**n_hidden if stop is None else stop
    index = np.arange(start, stop, dtype=np.int64)
    return ((index[:, None] >> np.arange(n_hidden)) & 1).astype(np.float64)


def auto_chunk_size(n_rows: int, n_hidden: int, chunk_size: int | None = None) -> int:
    """Configurations per block: the caller's choice, else what fits the block budget."""
    n_configs = 2**n_hidden
    if chunk_size is None:
        chunk_size = max(1, _BLOCK_ENTRIES // max(n_rows, 1))
    return int(min(n_configs, max(1, chunk_size)))


def chunks(n_hidden: int, chunk_size: int):
    """Yield (start, stop, Z) blocks that cover all 2^m configurations in order."""
    n_configs = 2**n_hidden
    for start in range(0, n_configs, chunk_size):
        stop = min(start + chunk_size, n_configs)
        yield start, stop, configurations(n_hidden, start, stop)


def softplus(a: np.ndarray) -> np.ndarray:
    """log(1 + e^a) without overflow; equals -log(1 - sigmoid(a))."""
    return np.logaddexp(0.0, a)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def output_log_table(V: np.ndarray, c: np.ndarray) -> np.ndarray:
    """log softmax(z V + c) for every configuration z: the 2^m x g output table."""
    n_hidden, n_classes = V.shape
    table = np.empty((2**n_hidden, n_classes))
    for start, stop, Z in chunks(n_hidden, auto_chunk_size(n_hidden + n_classes, n_hidden)):
        table[start:stop] = log_softmax(Z @ V + c)
    return table


@dataclass
class EStep:
    """Posterior summaries of one exact E-step."""

    row_log_likelihood: np.ndarray  # (n,)  log p(y_j | x_j)
    hidden_means: np.ndarray  # (n, m) E[z_hj | x_j, y_j]
    class_counts: np.ndarray | None  # (2^m, g) sum_j r_j(z) y_j, None if not asked

    @property
    def log_likelihood(self) -> float:
        return float(self.row_log_likelihood.sum())


def e_step(
    A: np.ndarray,
    Y: np.ndarray,
    log_table: np.ndarray,
    chunk_size: int | None = None,
    with_counts: bool = True,
) -> EStep:
    """Exact posterior over hidden configurations.

    A is the n x m matrix of hidden pre-activations W x + b, Y the n x g one-hot
    targets and log_table the 2^m x g output table. Each block computes
    exp(a_j.z + log o_{y_j}(z) - shift_j) with one matrix product (the shift and
    the gathered output column ride along as extra columns) and one exp. The
    shift is an upper bound of the row's maximum, so nothing overflows; rows
    where it is too loose and the sum underflows are recomputed with their exact
    maximum. The posterior means need the row sums only at the end; the class
    counts need them before summing over rows, hence a second sweep when the
    configurations do not fit in one block.
    """
    n, m = A.shape
    chunk_size = auto_chunk_size(n, m, chunk_size)
    y_index = Y.argmax(axis=1)
    # max_z a.z <= sum_h max(a_h, 0) and max_z log o_y(z) is read off the table.
    shift = np.maximum(A, 0.0).sum(axis=1) + log_table.max(axis=0)[y_index]
    sums, numerators = _sweep_sums(A, Y, log_table, shift, chunk_size)
    bad = sums < _UNDERFLOW
    if bad.any():
        exact = _row_maxima(A[bad], Y[bad], log_table, chunk_size)
        shift[bad] = exact
        sums[bad], numerators[bad] = _sweep_sums(A[bad], Y[bad], log_table, exact, chunk_size)
    hidden_means = numerators / sums[:, None]
    row_ll = shift + np.log(sums) - softplus(A).sum(axis=1)
    counts = None
    if with_counts:
        counts = _class_counts(A, Y, log_table, shift, Y / sums[:, None], chunk_size)
    return EStep(row_ll, hidden_means, counts)


def _augmented_rows(A, Y, shift):
    return np.hstack([A, Y, -shift[:, None]])


def _augmented_configs(Z, log_table_block):
    return np.hstack([Z, log_table_block, np.ones((Z.shape[0], 1))])


def _sweep_sums(A, Y, log_table, shift, chunk_size):
    """Row sums of exp(L - shift) and their products with Z, over all blocks."""
    n, m = A.shape
    rows = _augmented_rows(A, Y, shift)
    acc = np.zeros((n, m + 1))
    buf = np.empty((n, chunk_size))
    for start, stop, Z in chunks(m, chunk_size):
        block = buf[:, : stop - start]
        np.matmul(rows, _augmented_configs(Z, log_table[start:stop]).T, out=block)
        np.exp(block, out=block)
        acc += block @ np.hstack([Z, np.ones((stop - start, 1))])
    return acc[:, m].copy(), acc[:, :m].copy()


def _row_maxima(A, Y, log_table, chunk_size):
    m = A.shape[1]
    rows = _augmented_rows(A, Y, np.zeros(A.shape[0]))
    best = np.full(A.shape[0], -np.inf)
    for start, stop, Z in chunks(m, chunk_size):
        block = rows @ _augmented_configs(Z, log_table[start:stop]).T
        np.maximum(best, block.max(axis=1), out=best)
    return best


def _class_counts(A, Y, log_table, shift, weighted_Y, chunk_size):
    """N = R^T Y, where R_j(z) = exp(L_jz - shift_j) / sum_j."""
    n, m = A.shape
    rows = _augmented_rows(A, Y, shift)
    counts = np.empty((2**m, Y.shape[1]))
    buf = np.empty((n, chunk_size))
    for start, stop, Z in chunks(m, chunk_size):
        block = buf[:, : stop - start]
        np.matmul(rows, _augmented_configs(Z, log_table[start:stop]).T, out=block)
        np.exp(block, out=block)
        np.matmul(block.T, weighted_Y, out=counts[start:stop])
    return counts


def marginal_proba(A: np.ndarray, V: np.ndarray, c: np.ndarray, chunk_size=None) -> np.ndarray:
    """Exact p(y | x) = sum_z p(z | x) softmax(z V + c), an n x g matrix."""
    n, m = A.shape
    chunk_size = auto_chunk_size(n, m, chunk_size)
    rows = np.hstack([A, -softplus(A).sum(axis=1, keepdims=True)])
    proba = np.zeros((n, V.shape[1]))
    buf = np.empty((n, chunk_size))
    for start, stop, Z in chunks(m, chunk_size):
        block = buf[:, : stop - start]
        np.matmul(rows, np.hstack([Z, np.ones((stop - start, 1))]).T, out=block)
        np.exp(block, out=block)  # p(z | x) <= 1: no overflow
        proba += block @ np.exp(log_softmax(Z @ V + c))
    return proba / proba.sum(axis=1, keepdims=True)
