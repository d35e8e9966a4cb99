"""The variational and Monte-Carlo E-steps against the exact one, where 2^m is small."""

import numpy as np
import pytest

from emnn.models import estep, meanfield, montecarlo


def random_problem(m, n=40, g=3, p=4, seed=0, scale=1.0):
    """Pre-activations A, one-hot targets Y and output weights scaled by `scale`."""
    rng = np.random.default_rng([m, seed, 7])
    X = rng.normal(size=(n, p))
    W, b = rng.normal(size=(p, m)), rng.normal(size=m)
    V, c = rng.normal(size=(m, g)) * scale, rng.normal(size=g)
    labels = rng.integers(0, g, n)
    return X @ W + b, np.eye(g)[labels], V, c


def exact(A, Y, V, c):
    return estep.e_step(A, Y, estep.output_log_table(V, c))


def index_of(Z):
    """Configuration index sum_h z_h 2^h of each row of Z."""
    return (np.asarray(Z) @ (2 ** np.arange(Z.shape[1]))).astype(int)


def mean_field_counts(mu, Y):
    """sum_j q_j(z) y_j over all 2^m configurations: the class counts under q."""
    Z = estep.configurations(mu.shape[1])
    log_q = np.log(mu) @ Z.T + np.log1p(-mu) @ (1 - Z).T  # n x 2^m
    return np.exp(log_q).T @ Y


# ---------------------------------------------------------------- variational


@pytest.mark.parametrize("m", [1, 3, 6, 10, 12])
@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
def test_elbo_never_exceeds_the_exact_log_likelihood(m, scale):
    A, Y, V, c = random_problem(m, scale=scale)
    exact_rows = exact(A, Y, V, c).row_log_likelihood
    post = meanfield.e_step(A, Y, V, c)
    assert np.all(post.row_elbo <= exact_rows + 1e-12 * np.abs(exact_rows))
    # ... at any q, not just at the fixed point
    rng = np.random.default_rng(m)
    for mu in (rng.uniform(size=A.shape), np.full(A.shape, 0.5), (A > 0) * 1.0):
        rows = meanfield.elbo(A, Y, V, c, mu)
        assert np.all(rows <= exact_rows + 1e-12 * np.abs(exact_rows))


def test_elbo_is_exact_where_the_output_ignores_z():
    """V = 0: the posterior is the prior, a product of Bernoullis; the bound is tight."""
    A, Y, V, c = random_problem(6)
    V = np.zeros_like(V)
    post = meanfield.e_step(A, Y, V, c, mu=np.full(A.shape, 0.5))
    ex = exact(A, Y, V, c)
    # mu stops within meanfield.TOL of sigmoid(a); the ELBO is stationary there
    np.testing.assert_allclose(post.row_elbo, ex.row_log_likelihood, rtol=0, atol=1e-8)
    np.testing.assert_allclose(post.hidden_means, ex.hidden_means, atol=1e-5)


def test_fixed_point_sweeps_never_lower_any_rows_elbo():
    A, Y, V, c = random_problem(8, scale=2.0)
    start = np.random.default_rng(0).uniform(size=A.shape)
    before = meanfield.elbo(A, Y, V, c, start)
    previous = before
    for sweeps in (1, 2, 5, 50):
        post = meanfield.e_step(A, Y, V, c, mu=start, max_sweeps=sweeps)
        assert np.all(post.row_elbo >= previous)
        previous = post.row_elbo
    assert np.mean(previous - before) > 0.1
    # the reported ELBO is the ELBO at the reported mu
    np.testing.assert_allclose(meanfield.elbo(A, Y, V, c, post.hidden_means), post.row_elbo)


# Mean field is a close approximation where hidden units are weakly coupled
# through the output (small V) and a looser one as the coupling grows.
WEAK, STRONG = 0.3, 3.0
MF_TAU_TOL = 0.02  # largest |mu - tau| at weak coupling
MF_COUNT_TOL = 0.03  # total variation between the q and exact class counts, per example
MF_GAP_TOL = 0.005  # mean (exact l - ELBO) per example and hidden unit, nats


@pytest.mark.parametrize("m", [4, 8, 12])
def test_mean_field_statistics_match_the_exact_ones_at_weak_coupling(m):
    A, Y, V, c = random_problem(m, scale=WEAK)
    ex = exact(A, Y, V, c)
    post = meanfield.e_step(A, Y, V, c)
    assert np.abs(post.hidden_means - ex.hidden_means).max() <= MF_TAU_TOL
    counts = mean_field_counts(post.hidden_means, Y)
    np.testing.assert_allclose(counts.sum(axis=0), Y.sum(axis=0))
    assert 0.5 * np.abs(counts - ex.class_counts).sum() / len(A) <= MF_COUNT_TOL
    gap = ex.row_log_likelihood - post.row_elbo
    assert 0 <= gap.mean() <= MF_GAP_TOL * m


@pytest.mark.parametrize("m", [4, 8])
def test_mean_field_is_looser_where_units_are_strongly_coupled(m):
    gaps, errors = [], []
    for scale in (WEAK, STRONG):
        A, Y, V, c = random_problem(m, scale=scale)
        ex = exact(A, Y, V, c)
        post = meanfield.e_step(A, Y, V, c)
        gaps.append(np.mean(ex.row_log_likelihood - post.row_elbo))
        errors.append(np.abs(post.hidden_means - ex.hidden_means).mean())
    assert gaps[1] > 5 * gaps[0] and errors[1] > errors[0]


def test_elbo_handles_huge_pre_activations_and_weights():
    A, Y, V, c = random_problem(5, scale=1.0)
    A = A * 1e10
    V = V * 30  # e^v near the limits of float64
    post = meanfield.e_step(A, Y, V, c)
    assert np.all(np.isfinite(post.row_elbo))
    ex = exact(A, Y, V, c).row_log_likelihood
    assert np.all(post.row_elbo <= ex + 1e-9 * (1 + np.abs(ex)))  # point masses: equal


def numeric_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        grad[index] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def test_output_bound_derivatives_match_finite_differences():
    A, Y, V, c = random_problem(4, n=15, scale=1.5)
    mu = np.random.default_rng(1).uniform(0.05, 0.95, size=A.shape)
    Vt = np.vstack([V, c])

    def objective(v):
        return meanfield.output_objective(mu, Y, v, 0.7)

    grad, H = meanfield._output_derivatives(mu, Y, Vt, 0.7)
    np.testing.assert_allclose(grad, numeric_gradient(objective, Vt), atol=1e-6)
    hessian = np.array(
        [
            numeric_gradient(
                lambda v, k=k: meanfield._output_derivatives(mu, Y, v, 0.7, hessian=False)[
                    0
                ].ravel()[k],
                Vt,
            ).ravel()
            for k in range(Vt.size)
        ]
    )
    m1, g = Vt.shape
    flat = np.zeros(m1 * g)
    flat[(m1 - 1) * g :] = 1.0 / np.sqrt(g)  # every class's bias moved alike: flat
    away = np.eye(m1 * g) - np.outer(flat, flat)
    np.testing.assert_allclose(away @ -H @ away, hessian, atol=1e-5)
    np.testing.assert_allclose(hessian @ flat, 0.0, atol=1e-5)
    assert flat @ H @ flat > 1.0  # pinned (mstep.settle_softmax_shift)


def test_output_bound_is_the_output_part_of_the_elbo():
    A, Y, V, c = random_problem(5)
    mu = meanfield.e_step(A, Y, V, c).hidden_means
    rest = meanfield.elbo(A, Y, np.zeros_like(V), np.zeros_like(c), mu) + np.log(3)
    total = meanfield.output_objective(mu, Y, np.vstack([V, c]), 0.0) + rest.sum()
    np.testing.assert_allclose(total, meanfield.elbo(A, Y, V, c, mu).sum(), rtol=1e-12)


# ---------------------------------------------------------------- Monte Carlo

SAMPLE_SIZES = (64, 256, 1024, 4096)
REPEATS = 12


def monte_carlo_errors(A, Y, V, c, ex):
    """RMS error (over REPEATS independent runs) of tau, the counts and p(y | x), per S."""
    m = A.shape[1]
    rng = np.random.default_rng(2024)
    errors = {"tau": [], "counts": [], "likelihood": []}
    exact_p = np.exp(ex.row_log_likelihood)
    for S in SAMPLE_SIZES:
        tau, counts, p = [], [], []
        for _ in range(REPEATS):
            post = montecarlo.e_step(A, Y, V, c, S, rng)
            table = np.zeros((2**m, Y.shape[1]))
            table[index_of(post.configurations)] = post.class_counts
            tau.append(np.mean((post.hidden_means - ex.hidden_means) ** 2))
            counts.append(np.mean((table - ex.class_counts) ** 2))
            p.append(np.mean((np.exp(post.row_log_likelihood) - exact_p) ** 2))
        errors["tau"].append(np.sqrt(np.mean(tau)))
        errors["counts"].append(np.sqrt(np.mean(counts)))
        errors["likelihood"].append(np.sqrt(np.mean(p)))
    return {key: np.array(value) for key, value in errors.items()}


def test_monte_carlo_error_shrinks_like_one_over_root_s():
    """log RMS error against log S has slope -1/2 (bounds -0.62 and -0.38); a biased
    estimator would flatten out, an error that is not Monte Carlo's would not move."""
    A, Y, V, c = random_problem(8, n=30)
    ex = exact(A, Y, V, c)
    errors = monte_carlo_errors(A, Y, V, c, ex)
    log_s = np.log(SAMPLE_SIZES)
    for key, rms in errors.items():
        slope = np.polyfit(log_s, np.log(rms), 1)[0]
        assert -0.62 <= slope <= -0.38, f"{key}: slope {slope:.3f}"
        # and the error at S = 4096 is small in absolute terms
    assert errors["tau"][-1] < 0.02
    assert errors["likelihood"][-1] < 0.005


def test_monte_carlo_likelihood_estimate_is_unbiased_for_p():
    A, Y, V, c = random_problem(6, n=20)
    exact_p = np.exp(exact(A, Y, V, c).row_log_likelihood)
    rng = np.random.default_rng(5)
    runs = np.array(
        [np.exp(montecarlo.e_step(A, Y, V, c, 32, rng).row_log_likelihood) for _ in range(400)]
    )
    standard_error = runs.std(axis=0) / np.sqrt(len(runs))
    assert np.all(np.abs(runs.mean(axis=0) - exact_p) <= 4 * standard_error + 1e-12)


def test_sampled_counts_live_on_distinct_configurations_and_sum_to_the_labels():
    A, Y, V, c = random_problem(10, n=50)
    post = montecarlo.e_step(A, Y, V, c, 100, np.random.default_rng(0))
    keys = index_of(post.configurations)
    assert len(np.unique(keys)) == len(keys) <= 50 * 100
    np.testing.assert_allclose(post.class_counts.sum(axis=0), Y.sum(axis=0))
    assert np.all((post.hidden_means >= 0) & (post.hidden_means <= 1 + 1e-12))


def test_configuration_aggregation_past_64_units():
    rng = np.random.default_rng(1)
    Z = rng.random((300, 70)) < 0.5
    Z[150:] = Z[:150]  # every row twice
    configs, counts = montecarlo.aggregate(Z, np.ones(300), np.repeat([0, 1], 150), 2)
    assert configs.shape == (150, 70)
    np.testing.assert_array_equal(counts, np.ones((150, 2)))
    assert {tuple(r) for r in configs} == {tuple(r) for r in Z[:150].astype(float)}


def test_monte_carlo_marginal_converges_to_the_exact_one():
    A, _, V, c = random_problem(8, n=25)
    exact_p = estep.marginal_proba(A, V, c)
    rng = np.random.default_rng(3)
    errors = []
    for S in SAMPLE_SIZES:
        P = montecarlo.marginal_proba(A, V, c, montecarlo.prediction_uniforms(8, S, rng))
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
        errors.append(np.sqrt(np.mean((P - exact_p) ** 2)))
    slope = np.polyfit(np.log(SAMPLE_SIZES), np.log(errors), 1)[0]
    assert -0.75 <= slope <= -0.3
    assert errors[-1] < 0.01
