"""scikit-learn's MLPClassifier with logistic units: the reference practitioners reach for."""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from .common import (
    Integer,
    OneOf,
    Real,
    check_parameters,
    log_softmax,
)

SOLVERS = ("lbfgs", "adam", "sgd")  # full-batch L-BFGS, and the minibatch solvers
STOCHASTIC = ("adam", "sgd")
# L-BFGS's evaluations allowed per iteration, on average (scikit-learn's max_fun), as
# for emnn's own L-BFGS: generous, since an iteration rarely needs more than two.
EVALUATIONS_PER_ITERATION = 20


class SklearnMLP(ClassifierMixin, BaseEstimator):
    """MLPClassifier(hidden_layer_sizes=(n_hidden,), activation="logistic"), run as is.

    It trains with one call of MLPClassifier.fit (calling partial_fit once per
    epoch costs scikit-learn tens of milliseconds of input checks per call,
    more than the epoch itself), so `monitor(epoch, estimator)` is called once,
    with the final weights. It draws its own initial weights from random_state
    (on two classes its output is a single logistic unit, so they cannot be
    shared with the softmax models).

    The penalty is the other models': they maximize
    sum_j log p(y_j | x_j) - l2/2 * (||W||^2 + ||V||^2) (biases free).
    MLPClassifier minimizes the mean cross-entropy of a batch of b rows plus
    alpha/(2b) * ||W, V||^2.

    * solver="lbfgs" (the default; scikit-learn's advice for small datasets):
      the batch is the whole training set, so alpha = l2 gives exactly the
      objective above divided by -n (tests/test_sklearn_mlp.py checks it).
      Training stops by SciPy's L-BFGS-B rules: the largest entry of the mean
      loss's projected gradient at most tol, or its relative reduction below
      SciPy's default factr; converged_ is False when SciPy reports otherwise
      (max_epochs iterations, or its evaluation budget) and scikit-learn warns.
    * solver="adam" or "sgd": minibatches of B = min(batch_size, n) rows, so fit
      sets alpha = l2 * B / n (alpha is not l2). Every full minibatch then has
      the loss and gradient of SGDMLPClassifier's; when B does not divide n the
      last, smaller minibatch of an epoch (r rows) is penalized B/r times as
      strongly. Training stops by MLPClassifier's own rule: after
      n_iter_no_change consecutive epochs whose training loss (loss_curve_, per
      example) did not fall below the best so far by tol (converged_), or after
      max_epochs.

    On two classes the single logistic output unit's weights u are penalized as
    ||u||^2, where two softmax units reach the same function with v1 = -v0 = u/2
    at half that penalty: there the objectives differ.

    history_["objective"][k] is -n * loss_curve_[k] for the minibatch solvers:
    the penalized log-likelihood above, averaged over the weights epoch k + 1
    passed through (with a single batch, batch_size >= n, it is exactly
    `objective` at the weights before that epoch); for lbfgs it holds the final
    value only. `objective(X, y)` computes it exactly at the current weights.
    """

    def __init__(
        self,
        n_hidden=7,
        solver="lbfgs",
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

    _parameter_rules: ClassVar[dict] = {
        "solver": OneOf(SOLVERS),
        "n_hidden": Integer(),
        "batch_size": Integer(),
        "max_epochs": Integer(),
        "n_iter_no_change": Integer(),
        "learning_rate": Real(positive=True),
        "tol": Real(),
        "l2": Real(),
        "random_state": Integer(
            low=0, high=2**32 - 1, optional=True,
            why=" (or None): it seeds MLPClassifier's RandomState",
        ),
    }  # fmt: skip

    def _check_params(self):
        check_parameters(self)

    def fit(self, X, y, monitor=None):
        self._check_params()
        X_checked = check_array(X, dtype=np.float64)
        y = column_or_1d(y, warn=True)
        n = X_checked.shape[0]
        if len(y) != n:
            raise ValueError(f"X has {n} rows but y has {len(y)} labels")
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(f"SklearnMLP needs at least 2 classes in y, got only {classes[0]!r}")
        self.classes_ = classes
        stochastic = self.solver in STOCHASTIC
        batch = min(self.batch_size, n) if stochastic else n  # scikit-learn clips it so
        self.mlp_ = MLPClassifier(
            hidden_layer_sizes=(self.n_hidden,),
            activation="logistic",
            solver=self.solver,
            alpha=self.l2 * batch / n,  # see the class docstring
            batch_size=batch,
            learning_rate_init=self.learning_rate,
            max_iter=self.max_epochs,
            max_fun=EVALUATIONS_PER_ITERATION * self.max_epochs,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            random_state=self.random_state,
            shuffle=True,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.mlp_.fit(X_checked, y)
        unconverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
        self.n_features_in_ = self.mlp_.n_features_in_
        self.n_iter_ = int(self.mlp_.n_iter_)
        if stochastic:
            self.history_ = {"objective": [-n * loss for loss in self.mlp_.loss_curve_]}
            self.converged_ = self.n_iter_ < self.max_epochs
        else:
            self.history_ = {"objective": [-n * float(self.mlp_.loss_)]}
            self.converged_ = not unconverged
        if monitor is not None:
            monitor(self.n_iter_, self)
        if not self.converged_:
            what = "epochs, the loss still improving" if stochastic else "iterations"
            reason = f": {unconverged[0].message}" if unconverged and not stochastic else ""
            warnings.warn(
                f"SklearnMLP stopped after {self.n_iter_} {what}{reason}",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def objective(self, X, y) -> float:
        """sum_j log p(y_j | x_j) - l2/2 * (||W||^2 + ||V||^2) at the current weights."""
        check_is_fitted(self, "mlp_")
        X = check_array(X, dtype=np.float64)
        (W, V), (b, c) = self.coefs_, self.intercepts_
        logits = expit(X @ W + b) @ V + c
        y = column_or_1d(y)
        if not np.isin(y, self.classes_).all():
            raise ValueError(f"y has labels outside the classes seen in fit, {self.classes_}")
        index = np.searchsorted(self.classes_, y)
        if logits.shape[1] == 1:  # one logistic unit: p(classes_[1] | x) = sigmoid(z)
            z = logits[:, 0]
            log_likelihood = -np.logaddexp(0.0, np.where(index == 1, -z, z))
        else:
            log_likelihood = log_softmax(logits)[np.arange(len(X)), index]
        penalty = 0.5 * self.l2 * float((W**2).sum() + (V**2).sum())
        return float(log_likelihood.sum()) - penalty

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
