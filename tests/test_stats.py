"""Corrected intervals and paired tests, the sign-test fallback, Holm's adjustment."""

import numpy as np
import pytest
from scipy import stats

from emnn.core.stats import (
    corrected_interval,
    corrected_paired_test,
    equivalence_test,
    holm,
    sign_test,
    win_tie_loss,
)

RATIO = 0.25  # n_test / n_train of a 20 % test split


def test_corrected_t_test_matches_a_hand_computation():
    d = np.array([0.02, -0.01, 0.03, 0.05, 0.0, 0.01, 0.04])
    k = d.size
    mean = d.sum() / k
    s2 = ((d - mean) ** 2).sum() / (k - 1)
    se = np.sqrt((1 / k + RATIO) * s2)
    t = mean / se
    p = 2 * (1 - stats.t.cdf(abs(t), df=k - 1))
    half = stats.t.ppf(0.975, df=k - 1) * se

    result = corrected_paired_test(d, RATIO)

    assert result["test"] == "corrected t"
    assert result["mean_difference"] == pytest.approx(mean)
    assert result["t"] == pytest.approx(t)
    assert result["p_value"] == pytest.approx(p)
    assert result["ci_low"] == pytest.approx(mean - half)
    assert result["ci_high"] == pytest.approx(mean + half)


def test_the_correction_widens_the_naive_interval_and_raises_p():
    d = np.array([0.02, -0.01, 0.03, 0.05, 0.0, 0.01, 0.04])
    naive = stats.ttest_1samp(d, 0.0)
    corrected = corrected_paired_test(d, RATIO)
    assert corrected["p_value"] > naive.pvalue
    assert corrected_paired_test(d, 0.0)["p_value"] == pytest.approx(naive.pvalue)


def test_interval_is_clipped_to_the_metric_range():
    mean, low, high = corrected_interval([0.9, 1.0, 1.0, 0.95], RATIO, bounds=(0.0, 1.0))
    assert mean == pytest.approx(0.9625)
    assert 0.0 <= low < mean < high == 1.0


@pytest.mark.parametrize("value", [0.0, 0.1, -1 / 30, 0.7])
def test_interval_is_undefined_without_variance(value):
    # Identical floats such as 0.1 have a sample variance of ~1e-34, not 0.
    mean, low, high = corrected_interval(np.full(20, value), RATIO, bounds=(-1.0, 1.0))
    assert mean == pytest.approx(value)
    assert np.isnan(low) and np.isnan(high)


def test_interval_is_undefined_with_one_value():
    mean, low, high = corrected_interval([0.8], RATIO)
    assert mean == 0.8 and np.isnan(low) and np.isnan(high)


def test_identical_nonzero_differences_use_the_sign_test():
    result = corrected_paired_test(np.full(20, 0.1), RATIO)
    assert result["test"] == "sign"
    assert result["mean_difference"] == pytest.approx(0.1)
    assert np.isnan(result["ci_low"]) and np.isnan(result["ci_high"])
    assert np.isnan(result["t"])
    assert result["p_value"] == pytest.approx(2 * 0.5**20)
    assert result["p_value"] == pytest.approx(stats.binomtest(20, 20).pvalue)


def test_identical_negative_differences_use_the_sign_test():
    result = corrected_paired_test(np.full(5, -0.02), RATIO)
    assert result["test"] == "sign"
    assert result["p_value"] == pytest.approx(2 * 0.5**5)


def test_all_zero_differences_give_p_one():
    result = corrected_paired_test(np.zeros(10), RATIO)
    assert result["test"] == "sign"
    assert result["p_value"] == 1.0
    assert result["mean_difference"] == 0.0
    assert np.isnan(result["ci_low"]) and np.isnan(result["ci_high"]) and np.isnan(result["t"])


def test_fewer_than_two_differences_give_no_test():
    result = corrected_paired_test([0.1], RATIO)
    assert result["test"] is None
    assert all(np.isnan(result[key]) for key in ("ci_low", "ci_high", "t", "p_value"))


def test_result_keeps_the_keys_aggregate_reads():
    result = corrected_paired_test([0.1, 0.2, 0.0], RATIO)
    assert {"mean_difference", "ci_low", "ci_high", "t", "p_value", "test"} == set(result)


def test_sign_test_drops_zero_differences():
    # 5 positive, 1 negative, 3 ties: binomial(6, 1/2) two-sided, P(X <= 1 or X >= 5).
    d = [1, 2, 3, 4, 5, -1, 0, 0, 0]
    assert sign_test(d) == pytest.approx(2 * (1 + 6) / 2**6)
    assert sign_test([0, 0]) == 1.0


def test_holm_hand_worked_example():
    # Sorted: 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04;
    # running maximum 0.02, 0.03, 0.06, 0.06; back in the given order:
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_skips_nan():
    # The NaN does not count: a family of two.
    np.testing.assert_allclose(holm([0.5, np.nan, 0.2]), [0.5, np.nan, 0.4])
    np.testing.assert_allclose(holm([0.6, 0.7]), [1.0, 1.0])
    assert holm([]).shape == (0,)
    assert np.isnan(holm([np.nan, np.nan])).all()
    np.testing.assert_allclose(holm([0.03]), [0.03])


def test_holm_ties_get_the_same_adjusted_value():
    np.testing.assert_allclose(holm([0.01, 0.01, 0.04]), [0.03, 0.03, 0.04])


def test_holm_rejects_bad_input():
    with pytest.raises(ValueError, match="1-d"):
        holm([[0.1, 0.2]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.1, 1.5])


def holm_sequential(p, alpha):
    """Holm (1979) as written: reject in ascending order while p_(k) <= alpha / (m - k + 1)."""
    rejected = np.zeros(len(p), dtype=bool)
    present = [i for i in np.argsort(p, kind="stable") if not np.isnan(p[i])]
    m = len(present)
    for k, i in enumerate(present):
        if p[i] > alpha / (m - k):
            break
        rejected[i] = True
    return rejected


def test_holm_adjusted_rejections_equal_the_sequential_procedure():
    rng = np.random.default_rng(0)
    for _ in range(500):
        m = int(rng.integers(1, 12))
        p = rng.uniform(0, 1, m) ** 3  # many small p-values
        p[rng.uniform(size=m) < 0.15] = np.nan
        if m > 1:
            p[1] = p[0]  # ties
        adjusted = holm(p)
        assert np.array_equal(np.isnan(adjusted), np.isnan(p))
        present = ~np.isnan(p)
        assert (adjusted[present] >= p[present]).all() and (adjusted[present] <= 1).all()
        order = np.argsort(p[present])
        assert (np.diff(adjusted[present][order]) >= 0).all()  # monotone in p
        for alpha in (0.01, 0.05, 0.1, 0.2):
            with np.errstate(invalid="ignore"):
                by_adjustment = adjusted <= alpha
            assert np.array_equal(by_adjustment, holm_sequential(p, alpha))


def test_win_tie_loss():
    assert win_tie_loss([0.9, 0.8, 0.7], [0.8, 0.8, 0.9]) == (1, 1, 1)
    assert win_tie_loss([0.1, 0.3], [0.2, 0.2], higher_is_better=False) == (1, 0, 1)


def test_equivalence_is_the_90_percent_corrected_interval_inside_the_margins():
    """TOST at level 0.05 rejects exactly when the corrected 90 % interval lies in
    (-margin, margin): checked against that interval computed by hand."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        d = rng.normal(rng.uniform(-0.03, 0.03), rng.uniform(0.001, 0.03), size=20)
        margin = rng.uniform(0.005, 0.05)
        se = np.sqrt((1 / d.size + RATIO) * d.var(ddof=1))
        half = stats.t.ppf(0.95, df=d.size - 1) * se
        inside = -margin < d.mean() - half and d.mean() + half < margin
        assert (equivalence_test(d, RATIO, margin) < 0.05) == inside


def test_equivalence_of_identical_differences_and_bad_margins():
    assert equivalence_test(np.full(5, 0.01), RATIO, 0.02) == 0.0
    assert equivalence_test(np.full(5, 0.03), RATIO, 0.02) == 1.0
    assert np.isnan(equivalence_test([0.01], RATIO, 0.02))
    with pytest.raises(ValueError, match="margin must be positive"):
        equivalence_test([0.0, 0.1], RATIO, 0.0)
