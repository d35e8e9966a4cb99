"""The deterministic network, its penalized likelihood maximized by the same L-BFGS.

The model question compares the stochastic-unit network with the deterministic one.
Trained by scikit-learn, the deterministic side also changed the optimizer's code, its
initial weights and its stopping rule's units; this class changes only the model.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .common import (
    Integer,
    MLPBase,
    Real,
    Seed,
    check_parameters,
    initial_weights,
    mean_field_proba,
    model_streams,
    one_hot,
)
from .lbfgs import run_lbfgs
from .sgd import loss_and_gradients


class DeterministicLBFGSClassifier(MLPBase):
    """softmax(V sigmoid(W x + b) + c), as SGDMLPClassifier's network, trained as
    LBFGSMLPClassifier trains the stochastic-unit network.

    Everything but the model is LBFGSMLPClassifier's: the penalty l2/2 * (||W||^2 +
    ||V||^2) (biases free) on the summed log-likelihood, the initial weights for a
    given random_state and n_hidden (EMMLPClassifier's), SciPy's L-BFGS-B with `memory`
    correction pairs, and the rule: the largest entry of the gradient of the penalized
    log-likelihood (a sum over the examples) at most tol, relative reduction switched
    off, max_iter iterations. converged_ is True when SciPy reports success and the
    rule holds at the returned weights.

    fit(X, y, monitor=None): `monitor(iteration, estimator)` is called with the initial
    weights (iteration 0) and after each iteration; returning True stops training.
    """

    def __init__(self, n_hidden=7, max_iter=1000, tol=1e-5, l2=0.1, memory=50,
                 random_state=None):  # fmt: skip
        self.n_hidden = n_hidden
        self.max_iter = max_iter
        self.tol = tol
        self.l2 = l2
        self.memory = memory
        self.random_state = random_state

    _parameter_rules: ClassVar[dict] = {
        "n_hidden": Integer(),
        "max_iter": Integer(),
        "tol": Real(),
        "l2": Real(),
        "memory": Integer(),
        "random_state": Seed(),
    }

    def _check_params(self):
        check_parameters(self)

    def fit(self, X, y, monitor=None):
        self._check_params()
        X, y_index = self._check_training_data(X, y)
        Y = one_hot(y_index, self.classes_.size)
        init_rng, _ = model_streams(self.random_state)
        self._set_weights(*initial_weights(X.shape[1], self.n_hidden, Y.shape[1], init_rng))
        self.history_ = {"objective": []}
        self.converged_, self.n_iter_ = False, 0

        def negative_objective(theta):
            self._set_flat(theta)
            n = len(X)
            with np.errstate(over="ignore"):
                loss, grads_w, grads_b = loss_and_gradients(
                    self.coefs_, self.intercepts_, X, Y, self.l2 / n
                )
            gradient = np.concatenate([g.ravel() for g in (*grads_w, *grads_b)])
            return n * loss, n * gradient

        def callback(intermediate_result):
            self._set_flat(intermediate_result.x)
            self.history_["objective"].append(-float(intermediate_result.fun))
            self.n_iter_ += 1
            if monitor is not None and monitor(self.n_iter_, self):
                raise StopIteration

        if monitor is not None:
            monitor(0, self)
        run_lbfgs(self, negative_objective, self._get_flat(), callback)
        return self

    def _get_flat(self) -> np.ndarray:
        return np.concatenate([a.ravel() for a in (*self.coefs_, *self.intercepts_)])

    def _set_flat(self, theta):
        p, m, g = self.n_features_in_, self.n_hidden, self.classes_.size
        sizes = np.cumsum([p * m, m * g, m])
        W, V, b, c = np.split(theta, sizes)
        self._set_weights([W.reshape(p, m), V.reshape(m, g)], [b, c])

    def predict_proba(self, X):
        return mean_field_proba(self._check_inputs(X), self.coefs_, self.intercepts_)
