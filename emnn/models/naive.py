"""Plain-Python E-step and prediction that loop over examples and configurations.

The reference the vectorized code is tested against, and the naive baseline of
the benchmark: one enumeration per E-step, in pure Python, as the originating
implementation did (which re-enumerated m(g+1) times per iteration).
"""

import itertools
import math

import numpy as np


def log_sum_exp(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def log_softmax_row(logits):
    lse = log_sum_exp(logits)
    return [v - lse for v in logits]


def log_sigmoid(a):
    return -math.log1p(math.exp(-a)) if a > 0 else a - math.log1p(math.exp(a))


def joint_terms(a_row, V, c, label):
    """[(z, log p(z | x) + log p(y | z))] for every configuration z, in index order."""
    m, g = V.shape
    terms = []
    for k in range(2**m):
        z = [(k >> h) & 1 for h in range(m)]
        log_prior = sum(
            log_sigmoid(a) if bit else log_sigmoid(-a) for a, bit in zip(a_row, z, strict=True)
        )
        logits = [c[i] + sum(V[h, i] * z[h] for h in range(m)) for i in range(g)]
        terms.append((z, log_prior + log_softmax_row(logits)[label]))
    return terms


def e_step(A, labels, V, c):
    """log p(y_j | x_j), E[z | x_j, y_j] and N(z, i) by explicit enumeration."""
    n, m = A.shape
    g = V.shape[1]
    row_ll = np.empty(n)
    means = np.zeros((n, m))
    counts = np.zeros((2**m, g))
    for j in range(n):
        terms = joint_terms(A[j], V, c, labels[j])
        row_ll[j] = log_sum_exp([t for _, t in terms])
        for k, (z, t) in enumerate(terms):
            r = math.exp(t - row_ll[j])
            counts[k, labels[j]] += r
            for h in range(m):
                means[j, h] += r * z[h]
    return row_ll, means, counts


def marginal_proba(A, V, c):
    n, g = len(A), V.shape[1]
    proba = np.zeros((n, g))
    for j, i in itertools.product(range(n), range(g)):
        proba[j, i] = math.exp(log_sum_exp([t for _, t in joint_terms(A[j], V, c, i)]))
    return proba
