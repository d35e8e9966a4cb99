"""The vectorized, chunked E-step and the exact marginal against plain enumeration."""

import numpy as np
import pytest

from emnn.models import estep, naive


def random_problem(m, n=9, g=3, p=4, seed=0, scale=1.0):
    rng = np.random.default_rng([m, seed])
    X = rng.normal(size=(n, p))
    W, b = rng.normal(size=(p, m)) * scale, rng.normal(size=m)
    V, c = rng.normal(size=(m, g)) * scale, rng.normal(size=g)
    labels = rng.integers(0, g, n)
    return X @ W + b, labels, np.eye(g)[labels], V, c


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("chunk_size", [None, 1, 3, 16])
def test_e_step_equals_enumeration(m, chunk_size):
    A, labels, Y, V, c = random_problem(m)
    ll, means, counts = naive.e_step(A, labels, V, c)
    post = estep.e_step(A, Y, estep.output_log_table(V, c), chunk_size=chunk_size)
    np.testing.assert_allclose(post.row_log_likelihood, ll, rtol=0, atol=1e-10)
    np.testing.assert_allclose(post.hidden_means, means, rtol=0, atol=1e-10)
    np.testing.assert_allclose(post.class_counts, counts, rtol=0, atol=1e-10)


def test_chunked_equals_unchunked():
    A, _, Y, V, c = random_problem(10, n=40, g=4, seed=3)
    table = estep.output_log_table(V, c)
    whole = estep.e_step(A, Y, table, chunk_size=2**10)
    for chunk_size in (1, 7, 100, 1000):
        part = estep.e_step(A, Y, table, chunk_size=chunk_size)
        np.testing.assert_allclose(part.row_log_likelihood, whole.row_log_likelihood, atol=1e-10)
        np.testing.assert_allclose(part.hidden_means, whole.hidden_means, atol=1e-10)
        np.testing.assert_allclose(part.class_counts, whole.class_counts, atol=1e-10)


def test_extreme_weights_fall_back_to_exact_maxima(monkeypatch):
    # Output logits thousands apart make the cheap shift far too loose for some rows.
    A, labels, Y, V, c = random_problem(4, scale=1000.0, seed=1)
    ll, means, counts = naive.e_step(A, labels, V, c)
    recomputed = []
    exact_maxima = estep._row_maxima

    def spy(A_rows, *args):
        recomputed.append(len(A_rows))
        return exact_maxima(A_rows, *args)

    monkeypatch.setattr(estep, "_row_maxima", spy)
    post = estep.e_step(A, Y, estep.output_log_table(V, c), chunk_size=5)
    assert recomputed and recomputed[0] < len(A)
    assert np.all(np.isfinite(post.row_log_likelihood))
    np.testing.assert_allclose(post.row_log_likelihood, ll, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(post.hidden_means, means, atol=1e-10)
    np.testing.assert_allclose(post.class_counts, counts, atol=1e-10)


@pytest.mark.parametrize("m", [1, 3, 6])
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_marginal_proba_equals_enumeration(m, chunk_size):
    A, _, _, V, c = random_problem(m, g=4)
    proba = estep.marginal_proba(A, V, c, chunk_size=chunk_size)
    np.testing.assert_allclose(proba, naive.marginal_proba(A, V, c), atol=1e-10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_configuration_blocks_cover_every_configuration_once():
    rows = np.vstack([Z for _, _, Z in estep.chunks(5, 7)])
    assert rows.shape == (32, 5)
    assert len({tuple(r) for r in rows}) == 32
    np.testing.assert_array_equal(rows @ 2 ** np.arange(5), np.arange(32))
