"""Monte-Carlo E-step and prediction: samples of z instead of all 2^m configurations.

E-step (self-normalized importance sampling). For each example draw S
configurations from the prior, z_s ~ p(z | x) = prod_h Bernoulli(sigmoid(a_h)),
and weight each by w_s = o_y(z_s) = p(y | z_s). Then

    p(y | x) ~ (1/S) sum_s w_s               (unbiased; its log is reported),
    tau = E[z | x, y] ~ sum_s w_s z_s / sum_s w_s,
    N(z, i) ~ sum_j sum_s [z_js = z] y_ji w_js / sum_s w_js,

the class counts living on the sampled configurations only (identical samples
aggregated). The weights lie in (0, 1], so the estimator's variance is finite
and its error shrinks like 1 / sqrt(S); it degrades when p(y | x) is small
(few prior samples explain the label). The M-step for V then runs on the K
distinct sampled configurations (K <= n S), never on 2^m.

Prediction: p(y | x) ~ (1/S) sum_s softmax(V^T z_s + c) with z_s ~ p(z | x),
one set of S uniform vectors shared by every row (so a row's estimate does not
depend on the rows beside it), drawn from the model's own stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .common import log_softmax

# Draws of z ~ p(z | x) per row of a Monte-Carlo prediction (emnn.models.scoring and the
# classifiers' predict_proba past the exact limit).
PREDICT_SAMPLES = 4096

# Entries (rows x samples x max(m, g)) of the working arrays, about 32 MiB.
_BLOCK_ENTRIES = 2**22


@dataclass
class SampledEStep:
    """Importance-sampling posterior summaries over the sampled configurations."""

    row_log_likelihood: np.ndarray  # (n,) log of the unbiased estimate of p(y_j | x_j)
    hidden_means: np.ndarray  # (n, m) estimate of E[z | x_j, y_j]
    configurations: np.ndarray  # (K, m) the distinct sampled configurations, 0./1.
    class_counts: np.ndarray  # (K, g) their expected class counts (summing to n)

    @property
    def log_likelihood(self) -> float:
        return float(self.row_log_likelihood.sum())


def _row_block(n_samples, width):
    return max(1, _BLOCK_ENTRIES // (n_samples * max(width, 1)))


def e_step(A, Y, V, c, n_samples: int, rng: np.random.Generator) -> SampledEStep:
    """Importance-sampling E-step with n_samples prior draws per example."""
    n, m = A.shape
    g = Y.shape[1]
    labels = Y.argmax(axis=1)
    row_ll = np.empty(n)
    means = np.empty((n, m))
    samples, weights = [], []
    block = _row_block(n_samples, max(m, g))
    for start in range(0, n, block):
        rows = slice(start, min(n, start + block))
        u = expit(A[rows])
        Zf = np.empty((len(u), n_samples, m))
        np.less(rng.random((len(u), n_samples, m)), u[:, None, :], out=Zf)  # 0./1.
        log_w = log_softmax(Zf.reshape(-1, m) @ V + c).reshape(len(u), n_samples, g)
        log_w = np.take_along_axis(log_w, labels[rows, None, None], axis=2)[:, :, 0]
        top = log_w.max(axis=1, keepdims=True)
        w = np.exp(log_w - top)
        total = w.sum(axis=1)
        row_ll[rows] = top[:, 0] + np.log(total / n_samples)
        w /= total[:, None]
        means[rows] = np.einsum("bs,bsh->bh", w, Zf)
        samples.append(Zf.reshape(-1, m) > 0.5)
        weights.append(w.ravel())
    configurations, counts = aggregate(
        np.vstack(samples), np.concatenate(weights), np.repeat(labels, n_samples), g
    )
    return SampledEStep(row_ll, means, configurations, counts)


def aggregate(Z, weights, labels, n_classes):
    """Distinct rows of the boolean matrix Z and their summed weights per class.

    Rows are packed into bytes and made unique; returns the distinct rows as
    0./1. floats (K x m) and the K x g class counts.
    """
    m = Z.shape[1]
    packed = np.ascontiguousarray(np.packbits(Z, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1])))[:, 0]
    distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    counts = np.bincount(
        inverse * n_classes + labels, weights=weights, minlength=len(distinct) * n_classes
    ).reshape(len(distinct), n_classes)
    return Z[first].astype(np.float64).reshape(-1, m), counts


def prediction_uniforms(n_hidden: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """The S x m uniforms that every row's prediction thresholds."""
    return rng.random((n_samples, n_hidden))


def _sampled_outputs(A, V, c, uniforms, log=False):
    """Yield (rows, outputs) per block of rows, outputs[b, s] = softmax(V^T z_bs + c) (or its log)
    with z_bs = [u_s < sigmoid(a_b)]."""
    n, m = A.shape
    n_samples, g = len(uniforms), V.shape[1]
    block = _row_block(n_samples, max(m, g))
    for start in range(0, n, block):
        u = expit(A[start : start + block])
        Z = np.empty((len(u), n_samples, m))
        np.less(uniforms[None], u[:, None, :], out=Z)
        logits = (Z.reshape(-1, m) @ V + c).reshape(len(u), n_samples, g)
        logits -= logits.max(axis=2, keepdims=True)
        if log:
            logits -= np.log(np.exp(logits).sum(axis=2, keepdims=True))
            yield slice(start, start + len(u)), logits
        else:
            np.exp(logits, out=logits)
            logits /= logits.sum(axis=2, keepdims=True)
            yield slice(start, start + len(u)), logits


def marginal_proba(A, V, c, uniforms) -> np.ndarray:
    """Monte-Carlo p(y | x): the mean of softmax(V^T z_s + c) over z_s = [u_s < sigmoid(a)]."""
    proba = np.empty((len(A), V.shape[1]))
    for rows, outputs in _sampled_outputs(A, V, c, uniforms):
        proba[rows] = outputs.mean(axis=1)
    return proba


def log_marginal_proba(A, V, c, uniforms) -> np.ndarray:
    """log of marginal_proba by log-sum-exp over the samples: no underflow."""
    log_proba = np.empty((len(A), V.shape[1]))
    for rows, log_o in _sampled_outputs(A, V, c, uniforms, log=True):
        top = log_o.max(axis=1)
        log_proba[rows] = top + np.log(np.exp(log_o - top[:, None, :]).mean(axis=1))
    return log_proba
