"""What the EM- and SGD-trained classifiers share: input checks, initial weights, forms."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


def softplus(a: np.ndarray) -> np.ndarray:
    """log(1 + e^a) without overflow; equals -log(1 - sigmoid(a)). As max(a, 0) +
    log1p(e^-|a|): twice as fast as np.logaddexp(0, a), to the same rounding."""
    out = np.abs(a)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(a, 0.0)
    return out


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log softmax."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def model_streams(random_state) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent streams for the initial weights and for the minibatch order.

    Both models draw their initial weights from the first stream, so the same
    random_state gives the EM and the SGD model the same starting point.
    """
    if random_state is not None and not isinstance(random_state, numbers.Integral):
        raise ValueError(f"random_state must be an int or None, got {random_state!r}")
    init, order = np.random.SeedSequence(random_state).spawn(2)
    return np.random.default_rng(init), np.random.default_rng(order)


# Roles of the streams drawn from a model's seed: model_streams gives the first two.
SAMPLING_STREAM = 2  # the Monte-Carlo E-step's draws
PREDICTION_STREAM = 3  # the uniforms of Monte-Carlo prediction


def seed_entropy(random_state) -> int:
    """The integer all of a model's streams derive from: random_state, or fresh entropy."""
    if random_state is not None and not isinstance(random_state, numbers.Integral):
        raise ValueError(f"random_state must be an int or None, got {random_state!r}")
    return np.random.SeedSequence(random_state).entropy


def role_stream(entropy: int, role: int) -> np.random.Generator:
    """Stream `role` of a seed: the same as child `role` of SeedSequence(entropy).spawn."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(role,)))


def initial_weights(n_features: int, n_hidden: int, n_classes: int, rng: np.random.Generator):
    """Glorot-uniform weights, zero biases: [W (p x m), V (m x g)], [b (m,), c (g,)]."""
    bound_w = np.sqrt(6.0 / (n_features + n_hidden))
    bound_v = np.sqrt(6.0 / (n_hidden + n_classes))
    W = rng.uniform(-bound_w, bound_w, (n_features, n_hidden))
    V = rng.uniform(-bound_v, bound_v, (n_hidden, n_classes))
    return [W, V], [np.zeros(n_hidden), np.zeros(n_classes)]


def with_ones(X: np.ndarray) -> np.ndarray:
    """X with a trailing column of ones, so a bias is the last row of a weight matrix."""
    return np.hstack([X, np.ones((X.shape[0], 1))])


def one_hot(y_index: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes)[y_index]


def check_positive_int(name, value, low=1, high=None, why=""):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}, got {value}{why}")


def check_nonnegative(name, value, strict=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (strict and value == 0):
        raise ValueError(f"{name} must be {'positive' if strict else 'non-negative'}, got {value}")


@dataclass(frozen=True)
class Integer:
    """An integer from `low` to `high` (no upper bound when None); None too if optional."""

    low: int = 1
    high: int | None = None
    optional: bool = False
    why: str = ""

    def check(self, name, value):
        if value is None and self.optional:
            return
        check_positive_int(name, value, self.low, self.high, self.why)


@dataclass(frozen=True)
class Real:
    """A finite number, at least 0 (above 0 if positive), below `below` if given."""

    positive: bool = False
    below: float | None = None

    def check(self, name, value):
        check_nonnegative(name, value, strict=self.positive)
        if self.below is not None and value >= self.below:
            raise ValueError(f"{name} must be below {self.below:g}, got {value}")


@dataclass(frozen=True)
class OneOf:
    """One of a few named options."""

    options: tuple

    def check(self, name, value):
        if not isinstance(value, str) or value not in self.options:
            raise ValueError(f"unknown {name} {value!r}; choose one of {self.options}")


@dataclass(frozen=True)
class Seed:
    """An int or None (the seed of the estimator's own streams)."""

    def check(self, name, value):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, numbers.Integral)
        ):
            raise ValueError(f"{name} must be an int or None, got {value!r}")


def check_parameters(estimator) -> None:
    """Every parameter an estimator declares in its _parameter_rules (name -> rule), checked
    in one place, as scikit-learn's _parameter_constraints are; rules that tie two
    parameters together stay with the estimator."""
    for name, rule in type(estimator)._parameter_rules.items():
        rule.check(name, getattr(estimator, name))


def check_training_data(estimator, X, y):
    """X and y for fit, as validate_data checks them, with at least two classes; sets the
    estimator's classes_ and returns X and each label's index in it."""
    X, y = validate_data(estimator, X, y, dtype=np.float64)
    check_classification_targets(y)
    classes, y_index = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs at least 2 classes in y, got 1 class "
            f"({classes[0]!r})"
        )
    estimator.classes_ = classes
    return X, y_index


def check_inputs(estimator, X, fitted_attribute: str):
    """X for a fitted estimator: NotFittedError before fit, then validate_data's checks."""
    check_is_fitted(estimator, fitted_attribute)
    if (
        isinstance(X, np.ndarray)
        and X.ndim == 2
        and X.dtype == np.float64
        and not hasattr(estimator, "feature_names_in_")
    ):
        # The checks validate_data makes of a plain float array, without its
        # milliseconds of overhead per call (training monitors predict often).
        if X.shape[1] != estimator.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
                f"{estimator.n_features_in_} features as input."
            )
        if not np.isfinite(X).all():
            raise ValueError("Input X contains NaN or infinity.")
        return X
    return validate_data(estimator, X, dtype=np.float64, reset=False)


def label_indices(classes: np.ndarray, X: np.ndarray, y) -> np.ndarray:
    """Each label's index in classes_, refusing a length mismatch or an unseen label."""
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
    unknown = ~np.isin(y, classes)
    if unknown.any():
        raise ValueError(f"y holds labels unseen in training: {np.unique(y[unknown])}")
    return np.searchsorted(classes, y)


class MLPBase(ClassifierMixin, BaseEstimator):
    """The shared surface: fitted attributes as in scikit-learn's MLPClassifier."""

    def _check_training_data(self, X, y):
        return check_training_data(self, X, y)

    def _check_inputs(self, X):
        return check_inputs(self, X, "coefs_")

    def _set_weights(self, coefs, intercepts):
        self.coefs_ = [np.array(w, dtype=np.float64) for w in coefs]
        self.intercepts_ = [np.array(b, dtype=np.float64) for b in intercepts]

    def _penalty(self) -> float:
        W, V = self.coefs_
        return 0.5 * self.l2 * float((W**2).sum() + (V**2).sum())

    def predict(self, X):
        check_is_fitted(self, "coefs_")  # NotFittedError before classes_ is needed
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


def mean_field_proba(X, coefs, intercepts):
    """softmax(V sigmoid(W x + b) + c): the deterministic network's output."""
    W, V = coefs
    b, c = intercepts
    return np.exp(log_softmax(expit(X @ W + b) @ V + c))
