"""Every trained network judged under both predictors of the same architecture.

The weights (W, b, V, c) of any method define two classifiers: the exact
marginal of the stochastic-binary-unit network, p(y | x) = sum_z p(z | x)
softmax(V z + c), and the deterministic mean-field network softmax(V
sigmoid(W x + b) + c). Scoring each method's weights under both shows whether
SGD's weights are good stochastic-unit models and whether EM's weights are
good deterministic networks.

The marginal sums over 2^m configurations per row, and the study scores every
recorded iteration: past m = EXACT_MAX_HIDDEN the stochastic-unit network is
scored by its documented Monte-Carlo predictor instead (predict_proba's
"monte-carlo", PREDICT_SAMPLES draws per row from the model's seed), and the
record names the predictor it used.
"""

from __future__ import annotations

import numpy as np

from . import estep, montecarlo
from .common import PREDICTION_STREAM, log_softmax, one_hot, role_stream, seed_entropy
from .montecarlo import PREDICT_SAMPLES

PREDICTORS = ("exact", "mean-field")
# Up to this m the marginal is summed exactly: 2^12 configurations cost about as much as
# the EM iteration that produced the weights; at m = 16 on digits, about 1 s a call.
EXACT_MAX_HIDDEN = 12
# A hidden unit counts as used when switching it on moves some class's log-odds
# against another by at least this many nats: the mean-field bound prunes units by
# driving their output weights to zero, and this counts what is left.
USED_UNIT_NATS = 0.1


def stochastic_predictor(n_hidden: int) -> str:
    """How the stochastic-unit network's p(y | x) is scored at m hidden units."""
    return "exact" if n_hidden <= EXACT_MAX_HIDDEN else "monte-carlo"


def prediction_uniforms(estimator) -> np.ndarray:
    """The uniforms of the Monte-Carlo predictor: the same draws as the fitted EM model's
    predict_proba, from any estimator's random_state (its role PREDICTION_STREAM)."""
    rng = role_stream(seed_entropy(estimator.get_params()["random_state"]), PREDICTION_STREAM)
    n_hidden = estimator.coefs_[0].shape[1]
    return montecarlo.prediction_uniforms(n_hidden, PREDICT_SAMPLES, rng)


def hidden_units_used(estimator) -> int:
    """How many hidden units move some pair of classes' log-odds by USED_UNIT_NATS or more.

    Switching unit h on changes the log-odds of class i against class l by
    V_hi - V_hl, so the unit's reach is the spread of its row of V (a single
    logistic output is the softmax over [0, v]).
    """
    V = estimator.coefs_[1]
    if V.shape[1] == 1:
        V = np.hstack([np.zeros_like(V), V])
    return int((np.ptp(V, axis=1) >= USED_UNIT_NATS).sum())


def softmax_weights(estimator, n_classes: int):
    """(W, b, V, c) with a softmax output over all the dataset's classes.

    scikit-learn's binary MLP has one logistic output unit: sigmoid(h.v + c)
    is softmax over [0, h.v + c], the same function. Classes the model did not
    see get a logit of -inf.
    """
    (W, V), (b, c) = estimator.coefs_, estimator.intercepts_
    seen = np.asarray(estimator.classes_)
    if V.shape[1] == 1 and seen.size == 2:
        V = np.hstack([np.zeros_like(V), V])
        c = np.concatenate([[0.0], c])
    full_V = np.zeros((V.shape[0], n_classes))
    full_c = np.full(n_classes, -np.inf)
    full_V[:, seen], full_c[seen] = V, c
    return W, b, full_V, full_c


def log_proba(weights, X, predictor: str, uniforms=None) -> np.ndarray:
    """log p(y | x) for every class under one predictor: an n x g matrix."""
    W, b, V, c = weights
    A = X @ W + b
    if predictor == "mean-field":
        return log_softmax(_sigmoid(A) @ V + c)
    if predictor == "exact":
        with np.errstate(divide="ignore"):
            return np.log(estep.marginal_proba(A, V, c))
    if predictor == "monte-carlo":
        with np.errstate(invalid="ignore"):
            return montecarlo.log_marginal_proba(A, V, c, uniforms)
    raise ValueError(f"unknown predictor {predictor!r}; choose one of {PREDICTORS}")


def _sigmoid(a):
    return np.exp(-np.logaddexp(0.0, -a))


def train_log_likelihood(weights, X, y_index, predictor: str, uniforms=None) -> float:
    """Sum of log p(y_j | x_j) over the training rows (unpenalized).

    Under the exact predictor it comes from the E-step's log-sum-exp, accurate
    where the marginal probability itself would underflow.
    """
    W, b, V, c = weights
    if predictor == "monte-carlo":
        rows = np.arange(len(y_index))
        return float(log_proba(weights, X, predictor, uniforms)[rows, y_index].sum())
    if predictor == "exact":
        Y = one_hot(y_index, V.shape[1])
        with np.errstate(invalid="ignore"):
            table = estep.output_log_table(V, np.where(np.isfinite(c), c, -1e300))
        return estep.e_step(X @ W + b, Y, table, with_counts=False).log_likelihood
    return float(log_proba(weights, X, predictor)[np.arange(len(y_index)), y_index].sum())


def cross_scores(estimator, n_classes, X_train, y_train, X_test, y_test) -> dict:
    """Test accuracy, test log-loss and training log-likelihood under each predictor:
    keys "exact" (or "monte-carlo" past EXACT_MAX_HIDDEN) and "mean-field"."""
    weights = softmax_weights(estimator, n_classes)
    stochastic = stochastic_predictor(weights[0].shape[1])
    uniforms = prediction_uniforms(estimator) if stochastic == "monte-carlo" else None
    tiny = np.log(np.finfo(np.float64).eps)  # log-loss clipped as scikit-learn clips
    scores = {}
    for predictor in (stochastic, "mean-field"):
        logp = log_proba(weights, X_test, predictor, uniforms)
        chosen = np.maximum(logp[np.arange(len(y_test)), y_test], tiny)
        scores[predictor] = {
            "test_accuracy": float((logp.argmax(axis=1) == y_test).mean()),
            "test_log_loss": float(-chosen.mean()),
            "train_log_likelihood": train_log_likelihood(
                weights, X_train, y_train, predictor, uniforms
            ),
        }
    return scores
