"""Statistics over resampled splits, corrected for their overlapping training sets.

Splits drawn from one dataset share most of their training rows, so the
per-split results are correlated and the naive standard error is too small.
Nadeau & Bengio (2003) inflate the variance of the mean of K resampled results
from s^2 / K to (1/K + n_test/n_train) s^2; both the confidence intervals and
the paired t-test below use that corrected variance.

When every value (or every paired difference) is the same, the sample variance
is zero and the t statistic and its interval are undefined: the interval is
then NaN, and a paired comparison falls back to the exact two-sided sign test.
Many comparisons at once are adjusted with Holm's step-down procedure (`holm`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

LEVEL = 0.95
CORRECTED_T = "corrected t"
SIGN = "sign"

ALPHA = 0.05  # the family-wise level of every Holm-adjusted family of tests


def corrected_interval(
    values, test_train_ratio: float, bounds=(-np.inf, np.inf)
) -> tuple[float, float, float]:
    """Mean and corrected 95 % confidence interval, clipped to the metric's range
    (accuracy lies in [0, 1]).

    The bounds are NaN with fewer than 2 values, and when all values are equal
    (zero variance: no interval can be estimated from the splits).
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size < 2 or _all_equal(values):
        return mean, float("nan"), float("nan")
    half = _t_quantile(values.size) * np.sqrt(_corrected_variance(values, test_train_ratio))
    return mean, float(max(mean - half, bounds[0])), float(min(mean + half, bounds[1]))


def corrected_paired_test(differences, test_train_ratio: float) -> dict:
    """Nadeau-Bengio corrected resampled t-test of paired differences (two-sided).

    Returns mean_difference, ci_low, ci_high, t, p_value and `test`, the test
    that produced the p-value: "corrected t"; or "sign" when every difference
    is the same (zero variance), where t and the interval are undefined (NaN)
    and p_value is the exact two-sided sign test of the non-zero differences
    (1 when all are zero); or None with fewer than 2 differences (all NaN).
    """
    d = np.asarray(differences, dtype=float)
    mean, low, high = corrected_interval(d, test_train_ratio)
    result = {
        "mean_difference": mean,
        "ci_low": low,
        "ci_high": high,
        "t": np.nan,
        "p_value": np.nan,
        "test": None,
    }
    if d.size < 2:
        return result
    if _all_equal(d):
        result.update(p_value=sign_test(d), test=SIGN)
        return result
    t = mean / np.sqrt(_corrected_variance(d, test_train_ratio))
    p = 2 * stats.t.sf(abs(t), df=d.size - 1)
    result.update(t=float(t), p_value=float(p), test=CORRECTED_T)
    return result


def equivalence_test(differences, test_train_ratio: float, margin: float) -> float:
    """Two one-sided tests (TOST) that the mean paired difference lies within ±margin,
    with the corrected variance of `corrected_paired_test`: the larger one-sided p-value.

    Rejecting at level alpha is the same as the corrected (1 − 2 alpha) interval lying
    inside (−margin, margin). With identical differences there is no variance to test
    with: 0 when their common value lies inside the margins, 1 otherwise; NaN with fewer
    than 2 differences.
    """
    if margin <= 0:
        raise ValueError(f"an equivalence margin must be positive, got {margin}")
    d = np.asarray(differences, dtype=float)
    if d.size < 2:
        return float("nan")
    mean = float(d.mean())
    if _all_equal(d):
        return 0.0 if abs(mean) < margin else 1.0
    se = np.sqrt(_corrected_variance(d, test_train_ratio))
    below = stats.t.sf((mean + margin) / se, df=d.size - 1)  # H0: mean <= -margin
    above = stats.t.cdf((mean - margin) / se, df=d.size - 1)  # H0: mean >= margin
    return float(max(below, above))


def sign_test(differences) -> float:
    """Exact two-sided sign test: zero differences dropped, 1 if none is left."""
    d = np.asarray(differences, dtype=float)
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 1.0
    return float(stats.binomtest(int((nonzero > 0).sum()), nonzero.size, 0.5).pvalue)


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values of one family, in the given order.

    The i-th smallest of m p-values becomes max_{k <= i} (m - k + 1) p_(k),
    capped at 1, so rejecting where the adjusted p-value is at most alpha is
    Holm's sequential procedure at family-wise level alpha. NaN entries stay
    NaN and do not count in m. (SciPy offers only false_discovery_control,
    the Benjamini-Hochberg/Yekutieli adjustments.)
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"holm takes one family of p-values (1-d), got shape {p.shape}")
    if ((p < 0) | (p > 1)).any():
        raise ValueError(f"p-values must lie in [0, 1], got {p[(p < 0) | (p > 1)]}")
    adjusted = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    order = present[np.argsort(p[present], kind="stable")]
    m = order.size
    steps = p[order] * (m - np.arange(m))
    adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return adjusted


def _all_equal(values):
    # Not var == 0: the variance of identical floats such as 0.1 comes out ~1e-34.
    return bool(values.size and np.all(values == values[0]))


def _corrected_variance(values, ratio):
    return (1.0 / values.size + ratio) * float(values.var(ddof=1))


def _t_quantile(k):
    return float(stats.t.ppf(0.5 + LEVEL / 2, df=k - 1))


def win_tie_loss(method, baseline, higher_is_better=True) -> tuple[int, int, int]:
    """Splits on which the method beats, ties with and loses to the baseline."""
    d = np.asarray(method, dtype=float) - np.asarray(baseline, dtype=float)
    if not higher_is_better:
        d = -d
    return int((d > 0).sum()), int((d == 0).sum()), int((d < 0).sum())
