"""Exact E-step over all 2^m hidden configurations, vectorized and chunked.

Configuration k has hidden unit h on when bit h of k is set. Every quantity is
computed block by block over configurations, so peak memory is
O(n * chunk_size) whatever m is; no Python loop runs over examples or over the
configurations inside a block (only over its bits). The prior of a block comes
by products (doubling over the bits), the sums over it by halving; the
log-domain path (one exp per example and configuration) remains for rows whose
sums underflow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .common import log_softmax, softplus

MAX_EXACT_HIDDEN = 24
"""Largest m for exact EM: 2^24 configurations already cost about 16 million
exp() per example and iteration; past that an approximate E-step is needed."""

# When the caller does not choose a chunk size: the E-step keeps all
# configurations in one block (one sweep) while that block stays under 16 MiB;
# past that it takes blocks of about 1 MiB, which stay in a core's L2 cache
# between the matrix product, the exp and the products that consume them.
_ONE_SWEEP_ENTRIES = 2**21
_CACHE_ENTRIES = 2**17
_MIN_CHUNK = 256
# Working arrays of the M-step are bounded by this many float64 entries (64 MiB).
_BLOCK_ENTRIES = 2**23

# A row whose shifted sum falls below this has underflowed too far to be trusted
# and is recomputed with its exact maximum as the shift.
_UNDERFLOW = 1e-250

# Rows whose pre-activations sum (in absolute value) past this form their prior
# term without cancellation (see e_step); below it the plain form loses at most
# a few ulps of 2^10, about 1e-13.
_ACCURATE_SCALE = 2.0**10

# Configuration matrices up to this m (8 MiB at m = 16) are built once and kept.
_CACHED_HIDDEN = 16


def configurations(n_hidden: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Rows start..stop-1 of the 2^m x m binary configuration matrix (float64, read-only)."""
    stop = 2**n_hidden if stop is None else stop
    if n_hidden <= _CACHED_HIDDEN:
        return _all_configurations(n_hidden)[start:stop]
    return _binary_rows(n_hidden, start, stop)


def _binary_rows(n_hidden, start, stop):
    index = np.arange(start, stop, dtype=np.int64)
    return ((index[:, None] >> np.arange(n_hidden)) & 1).astype(np.float64)


@functools.lru_cache(maxsize=_CACHED_HIDDEN + 1)
def _all_configurations(n_hidden):
    Z = _binary_rows(n_hidden, 0, 2**n_hidden)
    Z.flags.writeable = False
    return Z


def auto_chunk_size(n_rows: int, n_hidden: int, chunk_size: int | None = None) -> int:
    """Configurations per block: the caller's choice, else one block or cache-sized ones."""
    n_configs = 2**n_hidden
    if chunk_size is None:
        if n_rows * n_configs <= _ONE_SWEEP_ENTRIES:
            return n_configs
        chunk_size = max(_MIN_CHUNK, _CACHE_ENTRIES // max(n_rows, 1))
    return int(min(n_configs, chunk_size))


def chunks(n_hidden: int, chunk_size: int):
    """Yield (start, stop, Z) blocks that cover all 2^m configurations in order."""
    n_configs = 2**n_hidden
    for start in range(0, n_configs, chunk_size):
        stop = min(start + chunk_size, n_configs)
        yield start, stop, configurations(n_hidden, start, stop)


def configuration_logits(V: np.ndarray, c: np.ndarray, start: int = 0, n_low=None) -> np.ndarray:
    """z V + c for the 2^n_low configurations from `start` (a multiple of 2^n_low) on.

    Built by doubling (the block with bit h set is the block below it plus row h
    of V), so it costs one addition per entry instead of m multiply-adds.
    """
    n_hidden, n_classes = V.shape
    n_low = n_hidden if n_low is None else n_low
    high = (start >> np.arange(n_low, n_hidden)) & 1
    logits = np.empty((2**n_low, n_classes))
    logits[0] = c + high @ V[n_low:]
    for h in range(n_low):
        np.add(logits[: 2**h], V[h], out=logits[2**h : 2 ** (h + 1)])
    return logits


def output_log_table(V: np.ndarray, c: np.ndarray) -> np.ndarray:
    """log softmax(z V + c) for every configuration z: the 2^m x g output table."""
    return log_softmax(configuration_logits(V, c))


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
    """Exact posterior over hidden configurations, by products instead of exponentials.

    A is the n x m matrix of hidden pre-activations W x + b, Y the n x g one-hot
    targets and log_table the 2^m x g output table. Relative to each row's
    most probable configuration z* (z*_h = [a_h > 0]), the prior is a product,
    p(z | x) / p(z* | x) = prod_{h: z_h != z*_h} e^-|a_h|, so a block of 2^b
    configurations (low bits running, high bits fixed) is built by doubling:
    the half with bit h set is the other half times one factor per row, all
    factors at most 1. Times o_y(z) / max_z o_y(z) (one exp per configuration
    and class, shared by the rows of a class) it gives E, the unnormalized
    posterior; its row sums and, by halving, its sums over each bit give
    log p(y | x) = log(sums) + max_z log o_y(z) - sum_h softplus(-|a_h|) and the
    posterior means. No exp over n x 2^m, no product with the configuration
    matrix, and no difference of large numbers: accurate at any |a|. Blocks
    whose prior factor underflows to 0 for every row are skipped.

    Rows whose sum underflows (the output table strongly favours configurations
    of negligible prior) are recomputed by the log-domain path with their exact
    maxima (_exp_e_step). The class counts E^T (Y / sums) need the final row
    sums, so when the configurations span several blocks they take a second sweep.
    """
    n, m = A.shape
    bits = int(auto_chunk_size(n, m, chunk_size)).bit_length() - 1
    order = np.argsort(Y.argmax(axis=1), kind="stable")  # rows of a class together
    A, Y = A[order], Y[order]
    shift = log_table.max(axis=0)  # per class
    blocks = _ProductBlocks(A, bits, Y, log_table, shift)
    one_block = bits == m
    sums, numerators = np.zeros(n), np.zeros((n, m))
    counts = np.zeros((2**m, Y.shape[1])) if with_counts else None
    for start, E in blocks:
        if one_block and with_counts:  # the counts need E itself, which the bit sums consume
            sums = E.sum(axis=0)
            counts = E @ _weighted_targets(Y, sums)
        low, total = _bit_sums(E, bits)
        sums = total if one_block else sums + total
        numerators[:, :bits] += low.T
        numerators[:, bits:] += total[:, None] * _high_bits(start, bits, m)
    good = sums >= _UNDERFLOW
    safe_sums = np.where(good, sums, 1.0)
    row_ll = np.log(safe_sums) + Y @ shift - softplus(-np.abs(A)).sum(axis=1)
    means = numerators / safe_sums[:, None]
    if with_counts and not one_block:
        weighted_Y = _weighted_targets(Y, sums)
        for start, E in blocks:
            np.matmul(E, weighted_Y, out=counts[start : start + 2**bits])
    if not good.all():
        bad = ~good
        fallback = _exp_e_step(A[bad], Y[bad], log_table, 2**bits, with_counts)
        row_ll[bad], means[bad] = fallback.row_log_likelihood, fallback.hidden_means
        if with_counts:
            counts += fallback.class_counts
    restore = np.empty_like(order)
    restore[order] = np.arange(n)
    return EStep(row_ll[restore], means[restore], counts)


def _weighted_targets(Y, sums):
    """Y / sums, zero for the rows whose sum underflowed (the fallback counts them)."""
    good = sums >= _UNDERFLOW
    return np.where(good[:, None], Y, 0.0) / np.where(good, sums, 1.0)[:, None]


class _ProductBlocks:
    """Iterable over (start, E) for the aligned blocks of 2^bits configurations.

    E (2^bits x n, one reused buffer, configurations along the first axis) =
    p(z | x) / p(z* | x) * o_y(z) / max_z o_y(z) for the configurations
    start..start + 2^bits - 1 and every row (rows sorted by class).
    """

    def __init__(self, A, bits, Y=None, log_table=None, shift=None):
        """Without Y, E is the prior ratio alone (no output factor)."""
        self.log_on = np.minimum(A, 0.0).T  # log of p(z_h = 1) / p(z*_h), at most 0
        self.log_off = -np.maximum(A, 0.0).T  # log of p(z_h = 0) / p(z*_h), at most 0
        self.on, self.off = np.exp(self.log_on[:bits]), np.exp(self.log_off[:bits])
        self.classes = []
        if Y is not None:
            bounds = np.searchsorted(Y.argmax(axis=1), np.arange(Y.shape[1] + 1))
            self.classes = [
                (i, slice(bounds[i], bounds[i + 1]))
                for i in range(Y.shape[1])
                if bounds[i + 1] > bounds[i]
            ]
        self.log_table, self.shift, self.bits = log_table, shift, bits
        self.buffer = np.empty((2**bits, len(A)))

    def __iter__(self):
        m = self.log_on.shape[0]
        bits, size = self.bits, 2**self.bits
        for start in range(0, 2**m, size):
            high = _high_bits(start, bits, m)
            E = self.buffer
            # the high bits' factor: a sum of non-positive terms, so no cancellation
            E[0] = np.exp(high @ self.log_on[bits:] + (1.0 - high) @ self.log_off[bits:])
            if not E[0].any():
                continue  # the prior of the whole block underflows for every row
            for h in range(bits):
                half = 2**h
                np.multiply(E[:half], self.on[h], out=E[half : 2 * half])
                E[:half] *= self.off[h]
            if self.classes:
                outputs = np.exp(self.log_table[start : start + size] - self.shift)  # 2^bits x g
                for i, rows in self.classes:
                    E[:, rows] *= outputs[:, i : i + 1]
            yield start, E


def _high_bits(start, bits, m):
    return ((start >> np.arange(bits, m)) & 1).astype(np.float64)


def _bit_sums(E, bits):
    """sum_z E_z z_h for the low `bits` bits (bits x n), and sum_z E_z, by halving.

    E (2^bits x n) is overwritten.
    """
    low = np.empty((bits, E.shape[1]))
    for k in range(bits - 1, -1, -1):
        half = 2**k
        upper = E[half : 2 * half]
        upper.sum(axis=0, out=low[k])
        E[:half] += upper
    return low, E[0].copy()


def _exp_e_step(A, Y, log_table, chunk_size, with_counts) -> EStep:
    """The E-step in the log domain: one exp per example and configuration.

    Each block computes E = exp(a_j.z - sum_h max(a_hj, 0) + log o_{y_j}(z) - shift_j)
    with one matrix product and one exp; E [Z, 1] gives the unnormalized
    posterior means and the row sums. The shift starts at max_z log o_{y_j}(z)
    and, for rows whose sum underflows, is the row's exact maximum. Rows whose
    sum of |a_h| exceeds _ACCURATE_SCALE form their prior term as
    a-.z + a+.(z - 1) (non-positive terms) instead of a.z - sum(a+), which would
    cancel.
    """
    n, m = A.shape
    accurate = _needs_accurate_path(A)
    if not accurate.any() or accurate.all():
        return EStep(*_posterior(A, Y, log_table, chunk_size, accurate.all(), with_counts))
    row_ll, means, counts = np.empty(n), np.empty((n, m)), 0.0
    for rows, flag in ((~accurate, False), (accurate, True)):
        row_ll[rows], means[rows], part = _posterior(
            A[rows], Y[rows], log_table, chunk_size, flag, with_counts
        )
        if with_counts:
            counts = counts + part
    return EStep(row_ll, means, counts if with_counts else None)


def _needs_accurate_path(A):
    return np.abs(A).sum(axis=1) > _ACCURATE_SCALE


def _prior_factors(A, accurate):
    """Row factors P, a row offset and the configuration columns cols(Z) with
    P @ cols(Z).T + offset = a.z - sum_h max(a_h, 0) <= 0, for every row and z.

    The plain form is one column per unit, its error a few ulps of sum |a|; the
    accurate one (two columns per unit) sums non-positive terms only.
    """
    if accurate:
        return np.hstack([np.minimum(A, 0.0), np.maximum(A, 0.0)]), 0.0, lambda Z: [Z, Z - 1.0]
    return A, -np.maximum(A, 0.0).sum(axis=1), lambda Z: [Z]


def _posterior(A, Y, log_table, chunk_size, accurate, with_counts):
    """e_step for rows that all take the plain, or all the accurate, prior term."""
    m = A.shape[1]
    one_block = chunk_size >= 2**m
    shift = log_table.max(axis=0)[Y.argmax(axis=1)]  # max_z log o_y(z), off the table
    sums, numerators, block = _accumulate(A, Y, log_table, shift, chunk_size, accurate)
    bad = sums < _UNDERFLOW
    if bad.any():
        shift[bad] = _row_maxima(A[bad], Y[bad], log_table, chunk_size, accurate)
        sums[bad], numerators[bad], redone = _accumulate(
            A[bad], Y[bad], log_table, shift[bad], chunk_size, accurate
        )
        if one_block:
            block[bad] = redone
    # sum_h max(a_h, 0) - softplus(a_h) = -sum_h softplus(-|a_h|): no cancellation.
    row_ll = shift + np.log(sums) - softplus(-np.abs(A)).sum(axis=1)
    counts = None
    if with_counts:
        weighted_Y = Y / sums[:, None]
        # Built as g x 2^m (the fast product); the M-step reads it by configuration blocks.
        if one_block:
            counts = (weighted_Y.T @ block).T
        else:
            counts = np.empty((Y.shape[1], 2**m))
            for start, stop, _, E in _exp_blocks(A, Y, log_table, shift, chunk_size, accurate):
                np.matmul(weighted_Y.T, E, out=counts[:, start:stop])
            counts = counts.T
    return row_ll, numerators / sums[:, None], counts


def _exp_blocks(A, Y, log_table, shift, chunk_size, accurate=False, exp=True):
    """Yield (start, stop, Z, E) with E = exp(L - shift) (or L - shift itself) per block.

    L_jz = a_j.z - sum_h max(a_hj, 0) + log o_{y_j}(z); every block reuses one buffer.
    """
    P, offset, columns = _prior_factors(A, accurate)
    rows = np.hstack([P, Y, (offset - shift)[:, None]])
    buf = np.empty((len(A), chunk_size))
    for start, stop, Z in chunks(A.shape[1], chunk_size):
        configs = np.hstack([*columns(Z), log_table[start:stop], np.ones((stop - start, 1))])
        E = buf[:, : stop - start]
        np.matmul(rows, configs.T, out=E)
        if exp:
            np.exp(E, out=E)
        yield start, stop, Z, E


def _accumulate(A, Y, log_table, shift, chunk_size, accurate=False):
    """Row sums of E and E Z over all blocks, and the last block E itself."""
    m = A.shape[1]
    acc = np.zeros((len(A), m + 1))
    for _, _, Z, E in _exp_blocks(A, Y, log_table, shift, chunk_size, accurate):
        acc += E @ np.hstack([Z, np.ones((len(Z), 1))])
    return acc[:, m].copy(), acc[:, :m].copy(), E


def _row_maxima(A, Y, log_table, chunk_size, accurate=False):
    best = np.full(len(A), -np.inf)
    zero = np.zeros(len(A))
    for _, _, _, L in _exp_blocks(A, Y, log_table, zero, chunk_size, accurate, exp=False):
        np.maximum(best, L.max(axis=1), out=best)
    return best


def marginal_proba(A: np.ndarray, V: np.ndarray, c: np.ndarray, chunk_size=None) -> np.ndarray:
    """Exact p(y | x) = sum_z p(z | x) softmax(z V + c), an n x g matrix.

    p(z | x) / p(z* | x) comes by doubling as in e_step (factors at most 1, the
    mode's ratio 1, so nothing overflows or underflows as a whole), times the
    block's output probabilities in one matrix product; rows are normalized
    at the end.
    """
    n, m = A.shape
    bits = int(auto_chunk_size(n, m, chunk_size)).bit_length() - 1
    proba = np.zeros((n, V.shape[1]))
    for start, prior in _ProductBlocks(A, bits):
        outputs = np.exp(log_softmax(configuration_logits(V, c, start, bits)))
        proba += prior.T @ outputs
    return proba / proba.sum(axis=1, keepdims=True)
