"""The exact likelihood, posterior and marginal stay accurate at huge hidden pre-activations.

The reference is brute-force enumeration of all 2^m configurations in extended
precision (np.longdouble: 64-bit significand on x86-64, against float64's 53),
each joint log-probability summed term by term,
log p(z, y | x) = sum_h log sigmoid(+-a_h) + log softmax(z V + c)_y,
with log sigmoid(s) = -log1p(e^-s) for s >= 0 and s - log1p(e^s) below: every
term is a small number or the huge one it should be, so nothing cancels.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from emnn.models import EMMLPClassifier, estep

LD = np.longdouble
# float64 carries about 16 digits; the sums over 2^m configurations and the
# log-sum-exp cost a few ulps more. Before the fix the error at |a| = 1e12 was
# about 1e-4 (absolute), at 1e8 about 1e-8.
RTOL = 1e-13


def _log_sigmoid(s):
    s = np.asarray(s, dtype=LD)
    return np.where(s >= 0, -np.log1p(np.exp(-np.abs(s))), s - np.log1p(np.exp(-np.abs(s))))


def _log_sum_exp(values, axis=0):
    top = values.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(values - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def brute_force(a_row, V, c):
    """Per class: log p(y | x), p(y | x) and E[z | x, y], by enumeration in long double."""
    m = V.shape[0]
    Z = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(LD)
    signed = (2 * Z - 1) * np.asarray(a_row, dtype=LD)  # +a_h where z_h = 1, -a_h where 0
    log_prior = _log_sigmoid(signed).sum(axis=1)
    logits = Z @ np.asarray(V, dtype=LD) + np.asarray(c, dtype=LD)
    log_out = logits - _log_sum_exp(logits, axis=1)[:, None]
    joint = log_prior[:, None] + log_out  # 2^m x g
    log_marginal = _log_sum_exp(joint, axis=0)
    posterior = np.exp(joint - log_marginal)  # columns sum to 1
    means = posterior.T @ Z  # g x m
    proba = np.exp(log_marginal - _log_sum_exp(log_marginal))
    return log_marginal.astype(float), proba.astype(float), means.astype(float)


def huge_problem(top_exponent, m=5, n=6, g=3, seed=0):
    """Pre-activations of magnitude 10^0..10^top_exponent, either sign, mixed with
    moderate ones so that the posterior is not a point mass."""
    rng = np.random.default_rng([top_exponent, seed])
    magnitude = 10.0 ** rng.uniform(0, top_exponent, size=(n, m))
    A = rng.choice([-1.0, 1.0], size=(n, m)) * magnitude
    A[:, 0] = rng.normal(size=n)  # one moderate unit in every row
    A[::2, 1] = rng.normal(size=len(A[::2]))
    V, c = rng.normal(size=(m, g)) * 2, rng.normal(size=g)
    labels = rng.integers(0, g, n)
    return A, labels, V, c


@pytest.mark.parametrize("top_exponent", [2, 6, 8, 10, 12])
def test_e_step_matches_extended_precision_brute_force(top_exponent):
    A, labels, V, c = huge_problem(top_exponent)
    Y = np.eye(V.shape[1])[labels]
    for chunk_size in (None, 3):
        post = estep.e_step(A, Y, estep.output_log_table(V, c), chunk_size=chunk_size)
        for j, row in enumerate(A):
            log_marginal, _, means = brute_force(row, V, c)
            expected = log_marginal[labels[j]]
            assert abs(post.row_log_likelihood[j] - expected) <= RTOL * max(1.0, abs(expected))
            np.testing.assert_allclose(post.hidden_means[j], means[labels[j]], rtol=0, atol=1e-13)


@pytest.mark.parametrize("top_exponent", [8, 12])
def test_exact_marginal_matches_extended_precision_brute_force(top_exponent):
    A, _, V, c = huge_problem(top_exponent, seed=1)
    proba = estep.marginal_proba(A, V, c)
    for j, row in enumerate(A):
        _, expected, _ = brute_force(row, V, c)
        np.testing.assert_allclose(proba[j], expected, rtol=1e-13, atol=1e-15)


def test_model_log_likelihood_is_accurate_when_pre_activations_are_huge():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 3)), np.arange(30) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = EMMLPClassifier(n_hidden=4, max_iter=2, random_state=0).fit(X, y)
    (W, V), (b, c) = model.coefs_, model.intercepts_
    W *= 10.0 ** np.array([0.0, 8.0, 10.0, 12.0])  # units of scale 1 to 1e12
    X_test, y_test = X[:8], y[:8]
    A = X_test @ W + b
    expected = sum(brute_force(A[j], V, c)[0][y_test[j]] for j in range(len(A)))
    ll = model.log_likelihood(X_test, y_test)
    assert abs(ll - expected) <= RTOL * max(1.0, abs(expected))


def test_both_forms_of_the_prior_term_agree_where_both_are_accurate():
    """Below the switch the plain and the cancellation-free forms give the same E-step."""
    A, labels, V, c = huge_problem(2, m=6, n=20, seed=2)
    Y = np.eye(V.shape[1])[labels]
    table = estep.output_log_table(V, c)
    assert not estep._needs_accurate_path(A).any()
    plain = estep._posterior(A, Y, table, 64, False, True)
    accurate = estep._posterior(A, Y, table, 64, True, True)
    for ours, theirs in zip(plain, accurate, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("chunk_size", [None, 4, 64])
def test_product_e_step_equals_the_log_domain_fallback(chunk_size):
    """e_step forms the prior by products; rows whose sums underflow go to the
    log-domain path, which must agree with it wherever both work."""
    A, labels, V, c = huge_problem(1, m=8, n=30, seed=4)
    Y = np.eye(V.shape[1])[labels]
    table = estep.output_log_table(V, c)
    ours = estep.e_step(A, Y, table, chunk_size=chunk_size)
    theirs = estep._exp_e_step(A, Y, table, 2**8, True)
    np.testing.assert_allclose(ours.row_log_likelihood, theirs.row_log_likelihood, rtol=1e-13)
    np.testing.assert_allclose(ours.hidden_means, theirs.hidden_means, atol=1e-13)
    np.testing.assert_allclose(ours.class_counts, theirs.class_counts, atol=1e-13)
