"""scikit-learn's MLPClassifier with logistic units: the reference practitioners reach for."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.utils.validation import check_is_fitted


class SklearnMLP(ClassifierMixin, BaseEstimator):
    """MLPClassifier(hidden_layer_sizes=(n_hidden,), activation="logistic"), epoch by epoch.

    It trains with partial_fit, one epoch per call, so the study can follow it
    like the other methods, and stops with MLPClassifier's own rule: after
    n_iter_no_change epochs whose training loss did not improve by tol.
    `l2` is MLPClassifier's alpha, which penalizes the summed loss exactly as
    the other models' l2 does. It draws its own initial weights from
    random_state (its binary output is a single logistic unit, so they cannot
    be shared with the softmax models), and its first weights are only seen
    after the first epoch, so `monitor(epoch, estimator)` starts at epoch 1.
    history_["objective"] is -n times MLPClassifier's epoch loss.
    """

    def __init__(
        self,
        n_hidden=7,
        solver="adam",
        learning_rate=0.001,
        batch_size=16,
        max_epochs=200,
        tol=1e-4,
        n_iter_no_change=10,
        l2=0.1,
        random_state=None,
    ):
        self.n_hidden = n_hidden
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.l2 = l2
        self.random_state = random_state

    def fit(self, X, y, monitor=None):
        if self.solver not in ("adam", "sgd"):
            raise ValueError(
                f"solver must be 'adam' or 'sgd' (trained epoch by epoch), got {self.solver!r}"
            )
        self.mlp_ = MLPClassifier(
            hidden_layer_sizes=(self.n_hidden,),
            activation="logistic",
            solver=self.solver,
            alpha=self.l2,
            batch_size=self.batch_size,
            learning_rate_init=self.learning_rate,
            random_state=self.random_state,
            shuffle=True,
        )
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(
                f"SklearnMLP needs at least 2 classes in y, got only {self.classes_[0]!r}"
            )
        self.history_ = {"objective": []}
        self.converged_ = False
        self.n_iter_ = 0
        best, stale = np.inf, 0
        for epoch in range(1, self.max_epochs + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.mlp_.partial_fit(X, y, classes=self.classes_)
            self.n_features_in_ = self.mlp_.n_features_in_
            loss = self.mlp_.loss_curve_[-1]
            self.history_["objective"].append(-len(X) * loss)
            self.n_iter_ = epoch
            if monitor is not None and monitor(epoch, self):
                break
            if loss > best - self.tol:
                stale += 1
            else:
                stale = 0
            best = min(best, loss)
            if stale >= self.n_iter_no_change:
                self.converged_ = True
                break
        if not self.converged_:
            warnings.warn(
                f"SklearnMLP stopped after {self.n_iter_} epochs, the loss still improving",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    @property
    def coefs_(self):
        return self.mlp_.coefs_

    @property
    def intercepts_(self):
        return self.mlp_.intercepts_

    def predict_proba(self, X):
        check_is_fitted(self, "mlp_")
        return self.mlp_.predict_proba(X)

    def predict(self, X):
        check_is_fitted(self, "mlp_")
        return self.mlp_.predict(X)
