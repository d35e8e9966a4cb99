"""The MLP with stochastic binary hidden units, trained by exact EM (Ng & McLachlan, 2004)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import estep, mstep
from ._common import (
    MLPBase,
    check_nonnegative,
    check_positive_int,
    initial_weights,
    mean_field_proba,
    model_streams,
    one_hot,
    with_ones,
)

M_STEPS = ("newton", "gradient")
PREDICT_METHODS = ("exact", "mean-field")


class EMMLPClassifier(MLPBase):
    """One hidden layer of m stochastic binary units, softmax output, trained by EM.

    P(z_h = 1 | x) = sigmoid(w_h.x + b_h) independently, P(y | z) = softmax(V z + c).
    The E-step enumerates all 2^m configurations exactly; the M-step maximizes the
    two concave halves of Q by Newton ("newton") or takes `inner_steps` plain
    gradient-ascent steps of size `learning_rate` on them ("gradient", the
    originating study's update). The objective is the observed-data
    log-likelihood minus l2/2 * (||W||^2 + ||V||^2); `tol` bounds its relative
    change between iterations at convergence.

    fit(X, y, monitor=None): `monitor(iteration, estimator)` is called with the
    initial weights (iteration 0) and after each EM iteration; returning True
    stops training.
    """

    def __init__(
        self,
        n_hidden=7,
        m_step="newton",
        max_iter=200,
        tol=1e-6,
        l2=0.1,
        learning_rate=0.005,
        inner_steps=1,
        chunk_size=None,
        random_state=None,
    ):
        self.n_hidden = n_hidden
        self.m_step = m_step
        self.max_iter = max_iter
        self.tol = tol
        self.l2 = l2
        self.learning_rate = learning_rate
        self.inner_steps = inner_steps
        self.chunk_size = chunk_size
        self.random_state = random_state

    def _check_params(self):
        check_positive_int(
            "n_hidden",
            self.n_hidden,
            high=estep.MAX_EXACT_HIDDEN,
            why=(
                f": exact EM enumerates all 2^n_hidden hidden configurations, and past "
                f"2^{estep.MAX_EXACT_HIDDEN} one iteration costs minutes and gigabytes"
            ),
        )
        if self.m_step not in M_STEPS:
            raise ValueError(f"unknown m_step {self.m_step!r}; choose one of {M_STEPS}")
        check_positive_int("max_iter", self.max_iter)
        check_positive_int("inner_steps", self.inner_steps)
        check_nonnegative("tol", self.tol)
        check_nonnegative("l2", self.l2)
        check_nonnegative("learning_rate", self.learning_rate, strict=True)
        if self.chunk_size is not None:
            check_positive_int("chunk_size", self.chunk_size)

    # ------------------------------------------------------------------ training

    def fit(self, X, y, monitor=None):
        self._check_params()
        X, y_index = self._check_training_data(X, y)
        g = self.classes_.size
        init_rng, _ = model_streams(self.random_state)
        self._set_weights(*initial_weights(X.shape[1], self.n_hidden, g, init_rng))
        Xt, Y = with_ones(X), one_hot(y_index, g)

        post = self._e_step(Xt, Y)
        objective = post.log_likelihood - self._penalty()
        self.history_ = {"objective": [], "log_likelihood": []}
        self.converged_ = False
        self.n_iter_ = 0
        if monitor is not None:
            monitor(0, self)
        for iteration in range(1, self.max_iter + 1):
            self._m_step(Xt, post)
            post = self._e_step(Xt, Y)
            previous, objective = objective, post.log_likelihood - self._penalty()
            self.history_["objective"].append(objective)
            self.history_["log_likelihood"].append(post.log_likelihood)
            self.n_iter_ = iteration
            if not np.isfinite(objective):
                raise FloatingPointError(
                    f"EM objective became {objective} at iteration {iteration}"
                )
            if monitor is not None and monitor(iteration, self):
                break
            if abs(objective - previous) <= self.tol * max(abs(previous), 1e-300):
                self.converged_ = True
                break
        if not self.converged_:
            warnings.warn(
                f"EM stopped after {self.n_iter_} iterations before the relative change of "
                f"the objective fell below tol={self.tol}",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _stacked(self):
        (W, V), (b, c) = self.coefs_, self.intercepts_
        return np.vstack([W, b]), np.vstack([V, c])

    def _e_step(self, Xt, Y, with_counts=True) -> estep.EStep:
        (W, V), (b, c) = self.coefs_, self.intercepts_
        table = estep.output_log_table(V, c)
        return estep.e_step(Xt[:, :-1] @ W + b, Y, table, self.chunk_size, with_counts)

    def _m_step(self, Xt, post: estep.EStep):
        Wt, Vt = self._stacked()
        T, N = post.hidden_means, post.class_counts
        if self.m_step == "newton":
            Wt, _ = mstep.newton_hidden(Xt, T, Wt, self.l2)
            Vt, _ = mstep.newton_output(N, Vt, self.l2)
        else:
            for _ in range(self.inner_steps):
                Wt = Wt + self.learning_rate * mstep.hidden_gradient(Xt, T, Wt, self.l2)
                Vt = Vt + self.learning_rate * mstep.output_gradient(N, Vt, self.l2)
        self._set_weights([Wt[:-1], Vt[:-1]], [Wt[-1], Vt[-1]])

    # ---------------------------------------------------------------- prediction

    def predict_proba(self, X, method="exact"):
        """p(y | x): exact marginal over all 2^m configurations, or "mean-field",
        the deterministic shortcut softmax(V sigmoid(W x + b) + c)."""
        X = self._check_inputs(X)
        if method == "exact":
            (W, V), (b, c) = self.coefs_, self.intercepts_
            return estep.marginal_proba(X @ W + b, V, c, self.chunk_size)
        if method == "mean-field":
            return mean_field_proba(X, self.coefs_, self.intercepts_)
        raise ValueError(f"unknown method {method!r}; choose one of {PREDICT_METHODS}")

    def predict(self, X, method="exact"):
        return self.classes_[self.predict_proba(X, method=method).argmax(axis=1)]

    def log_likelihood(self, X, y) -> float:
        """Exact observed-data log-likelihood sum_j log p(y_j | x_j), unpenalized."""
        X = self._check_inputs(X)
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(f"y holds labels unseen in training: {np.unique(y[unknown])}")
        Y = one_hot(np.searchsorted(self.classes_, y), self.classes_.size)
        return self._e_step(with_ones(X), Y, with_counts=False).log_likelihood
