"""Statistics over resampled splits, corrected for their overlapping training sets.

Splits drawn from one dataset share most of their training rows, so the
per-split results are correlated and the naive standard error is too small.
Nadeau & Bengio (2003) inflate the variance of the mean of K resampled results
from s^2 / K to (1/K + n_test/n_train) s^2; both the confidence intervals and
the paired t-test below use that corrected variance.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

LEVEL = 0.95


def corrected_interval(
    values, test_train_ratio: float, bounds=(-np.inf, np.inf)
) -> tuple[float, float, float]:
    """Mean and corrected 95 % confidence interval, clipped to the metric's range
    (accuracy lies in [0, 1]); NaN bounds with fewer than 2 values."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan"), float("nan")
    half = _t_quantile(values.size) * np.sqrt(_corrected_variance(values, test_train_ratio))
    return mean, float(max(mean - half, bounds[0])), float(min(mean + half, bounds[1]))


def corrected_paired_test(differences, test_train_ratio: float) -> dict:
    """Nadeau-Bengio corrected resampled t-test of paired differences (two-sided).

    With no spread at all the statistic is undefined: the p-value is 1 when
    every difference is zero and NaN otherwise.
    """
    d = np.asarray(differences, dtype=float)
    mean, low, high = corrected_interval(d, test_train_ratio)
    result = {
        "mean_difference": mean,
        "ci_low": low,
        "ci_high": high,
        "t": np.nan,
        "p_value": np.nan,
    }
    if d.size < 2:
        return result
    variance = _corrected_variance(d, test_train_ratio)
    if variance == 0:
        result["p_value"] = 1.0 if mean == 0 else np.nan
        return result
    t = mean / np.sqrt(variance)
    result.update(t=float(t), p_value=float(2 * stats.t.sf(abs(t), df=d.size - 1)))
    return result


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
