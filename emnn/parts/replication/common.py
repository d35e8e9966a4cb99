"""What both rebuilds share: the originating settings and seeds, initial weights, the fit."""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.preprocessing import StandardScaler

from ...models import estep
from ...models.common import log_softmax, mean_field_proba, one_hot

N_HIDDEN = 7
LEARNING_RATE = 0.005
EM_ITERATIONS = 50
BACKPROP_EPOCHS = 30
# The originating legacy seeds: numpy.random.seed(s); numpy.random.randn(...).
EM_SEEDS = (1183, 202)  # W (p x m), V (m x g)
BACKPROP_SEEDS = (202, 1138)  # W1 (p x m), W2 (m x g)
ORIGINAL_SPLIT = {"test_size": 0.2, "random_state": 1017}
# The replication's common stopping rule: each rebuild trains until one iteration (EM) or epoch
# (back-propagation) lowers its training objective by less than CONVERGED_TOL nats per
# example, or CONVERGED_CAP of them have run. Not an originating setting: the notebooks
# had no stopping rule.
CONVERGED_TOL = 1e-5
CONVERGED_CAP = 5000


def legacy_randn(seed: int, *shape: int) -> np.ndarray:
    """numpy.random.seed(seed); numpy.random.randn(*shape), without touching global state."""
    return np.random.RandomState(seed).randn(*shape)


def original_init(model: str, n_features: int, n_classes: int, n_hidden: int = N_HIDDEN):
    """The originating notebook's initial weights: (W p x m, V m x g)."""
    seed_w, seed_v = {"em": EM_SEEDS, "backprop": BACKPROP_SEEDS}[model]
    return legacy_randn(seed_w, n_features, n_hidden), legacy_randn(seed_v, n_hidden, n_classes)


def random_init(seed, n_features: int, n_classes: int, n_hidden: int = N_HIDDEN):
    """Standard normal (W p x m, V m x g), as the originating randn, from a seed's own stream.

    The same seed gives both rebuilds the same weights, so EM and
    back-propagation rows are paired on a split.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    return rng.standard_normal((n_features, n_hidden)), rng.standard_normal((n_hidden, n_classes))


def training_order(seed, n: int) -> np.ndarray:
    """A fixed order of n training rows from a seed's second stream (used in every epoch)."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1]).permutation(n)


def check_defects(defects, allowed, model) -> frozenset:
    defects = frozenset(defects)
    unknown = sorted(defects - set(allowed))
    if unknown:
        raise ValueError(f"unknown {model} defect(s) {unknown}; choose from {list(allowed)}")
    return defects


def _initial(init, model, n_features, n_classes):
    if isinstance(init, str):
        if init != "original":
            raise ValueError(f"init must be 'original', a seed or (W, V), got {init!r}")
        return original_init(model, n_features, n_classes)
    if isinstance(init, tuple | list):
        W, V = (np.array(a, dtype=np.float64) for a in init)
        return W, V
    return random_init(init, n_features, n_classes)


class OriginatingNetwork:
    """A fitted rebuild: weights, the scaler (or None), the predictor and the loss trace.

    history_ holds one entry at the initial weights and one after each
    iteration (EM) or epoch (back-propagation): "cross_entropy" is the mean
    training cross-entropy of the mean-field network, and for EM
    "log_likelihood" is the exact observed-data log-likelihood sum_j log p(y_j | x_j).
    """

    def __init__(self, model, defects, classes, scaler, prediction):
        self.model = model
        self.defects = defects
        self.classes_ = classes
        self.scaler = scaler
        self.prediction = prediction  # "mean-field" or "exact"
        self.W = self.b = self.V = self.c = None  # W (p x m), b (m,), V (m x g), c (g,)
        self.history_ = {"cross_entropy": []}
        if model == "em":
            self.history_["log_likelihood"] = []

    def _inputs(self, X):
        X = np.asarray(X, dtype=np.float64)
        return X if self.scaler is None else self.scaler.transform(X)

    def predict_proba(self, X):
        X = self._inputs(X)
        if self.prediction == "exact":
            return estep.marginal_proba(X @ self.W + self.b, self.V, self.c)
        return mean_field_proba(X, [self.W, self.V], [self.b, self.c])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    @property
    def n_steps(self) -> int:
        """Iterations (EM) or epochs (back-propagation) run."""
        return len(self.history_["cross_entropy"]) - 1

    def n_correct(self, X, y) -> int:
        return int((self.predict(X) == np.asarray(y)).sum())

    def _record(self, X, Y, post=None):
        log_p = log_softmax(expit(X @ self.W + self.b) @ self.V + self.c)
        self.history_["cross_entropy"].append(-float((Y * log_p).sum()) / len(X))
        if post is not None:
            self.history_["log_likelihood"].append(post.log_likelihood)


def settled(trace, tol) -> bool:
    """Did the last step lower a training objective (per example) by less than tol?"""
    return tol is not None and len(trace) > 1 and trace[-2] - trace[-1] < tol


def prepare(X_train, y_train, defects, model, init):
    X = np.asarray(X_train, dtype=np.float64)
    classes, y_index = np.unique(np.asarray(y_train), return_inverse=True)
    scaler = None if "raw_features" in defects else StandardScaler().fit(X)
    if scaler is not None:
        X = scaler.transform(X)
    W, V = _initial(init, model, X.shape[1], classes.size)
    return X, one_hot(y_index, classes.size), classes, scaler, W, V
