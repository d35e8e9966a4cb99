"""What every trainer of the stochastic-binary-unit network shares.

The model: P(z_h = 1 | x) = sigmoid(w_h.x + b_h) independently, P(y | z) =
softmax(V z + c), p(y | x) = sum over all 2^m configurations z. EM and L-BFGS
maximize the same exact penalized log-likelihood
l(Psi) = sum_j log p(y_j | x_j) - l2/2 * (||W||^2 + ||V||^2) (biases free), and
predict with the same exact marginal; this base class holds the E-step, the
objective, its gradient (Fisher's identity), the flat parameter vector and the
prediction methods.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import estep, montecarlo, mstep
from .common import (
    PREDICTION_STREAM,
    MLPBase,
    check_positive_int,
    initial_weights,
    label_indices,
    mean_field_proba,
    model_streams,
    one_hot,
    role_stream,
    seed_entropy,
    with_ones,
)
from .montecarlo import PREDICT_SAMPLES

PREDICT_METHODS = ("exact", "mean-field", "monte-carlo")
"""Samples per row of the Monte-Carlo prediction unless the caller chooses: each
probability is then within about 0.5 / sqrt(4096) = 0.008 (one standard error,
at worst) of the exact marginal."""


class StochasticMLPBase(MLPBase):
    """Exact E-step, objective, gradient and prediction of the stochastic-unit network.

    Subclasses set n_hidden, l2 and chunk_size and implement fit.
    """

    def _check_hidden(self, exact=True):
        """n_hidden at most MAX_EXACT_HIDDEN where the exact E-step is used, else any."""
        check_positive_int(
            "n_hidden",
            self.n_hidden,
            high=estep.MAX_EXACT_HIDDEN if exact else None,
            why=(
                f": the exact likelihood sums over all 2^n_hidden hidden configurations, and "
                f"past 2^{estep.MAX_EXACT_HIDDEN} one evaluation costs minutes and gigabytes"
            ),
        )

    def _begin(self, X, y):
        """The start EM and L-BFGS share: parameters and data checked, the seed's streams,
        the initial weights. Returns X and each label's index in classes_."""
        self._check_params()
        X, y_index = self._check_training_data(X, y)
        self.seed_entropy_ = seed_entropy(self.random_state)
        init_rng, _ = model_streams(self.seed_entropy_)
        self._set_weights(*initial_weights(X.shape[1], self.n_hidden, self.classes_.size, init_rng))
        return X, y_index

    # ------------------------------------------------------- weights as one vector

    def _stacked(self):
        """[W; b] ((p+1) x m) and [V; c] ((m+1) x g): biases as the last row."""
        (W, V), (b, c) = self.coefs_, self.intercepts_
        return np.vstack([W, b]), np.vstack([V, c])

    def _set_stacked(self, Wt, Vt):
        self._set_weights([Wt[:-1], Vt[:-1]], [Wt[-1], Vt[-1]])

    def _get_flat(self) -> np.ndarray:
        """The parameters as one vector theta = [vec W~, vec V~] (row-major)."""
        Wt, Vt = self._stacked()
        return np.concatenate([Wt.ravel(), Vt.ravel()])

    def _set_flat(self, theta: np.ndarray):
        p1 = self.n_features_in_ + 1
        m, g = self.n_hidden, self.classes_.size
        self._set_stacked(
            theta[: p1 * m].reshape(p1, m), theta[p1 * m : p1 * m + (m + 1) * g].reshape(m + 1, g)
        )

    # ------------------------------------------------------- likelihood and gradient

    def _e_step(self, Xt, Y, with_counts=True) -> estep.EStep:
        """Exact E-step at the current weights: log p(y_j | x_j), E[z | x, y], counts N."""
        (W, V), (b, c) = self.coefs_, self.intercepts_
        table = estep.output_log_table(V, c)
        return estep.e_step(Xt[:, :-1] @ W + b, Y, table, self.chunk_size, with_counts)

    def _objective(self, post: estep.EStep) -> float:
        """Penalized log-likelihood at the current weights, given their E-step."""
        return post.log_likelihood - self._penalty()

    def _gradient(self, Xt, post: estep.EStep):
        """Gradient of the penalized log-likelihood at the current weights, as [dW~, dV~].

        Fisher's identity: it equals the gradient of Q(. | Psi) at Psi, so one
        E-step gives it: X~^T (tau - u) - l2 W for the hidden layer and
        sum_z z~ (N_z - n_z o(z))^T - l2 V for the output layer (biases unpenalized).
        """
        Wt, Vt = self._stacked()
        return (
            mstep.hidden_gradient(Xt, post.hidden_means, Wt, self.l2),
            mstep.output_gradient(post.class_counts, Vt, self.l2),
        )

    def gradient_max(self, X, y) -> float | None:
        """Largest entry of the penalized exact log-likelihood's gradient at the fitted
        weights on (X, y), in L-BFGS's units (None for an approximate E-step). Whatever a
        run's stopping rule, it says how near a stationary point the run ended."""
        if self.e_step != "exact":
            return None
        check_is_fitted(self)
        X = np.asarray(X, dtype=np.float64)
        y_index = label_indices(self.classes_, X, y)
        Xt = with_ones(X)
        with np.errstate(over="ignore", invalid="ignore"):
            post = self._e_step(Xt, one_hot(y_index, self.classes_.size))
            if not np.isfinite(self._objective(post)):
                return float("nan")
            grad_w, grad_v = self._gradient(Xt, post)
        return float(max(np.abs(grad_w).max(), np.abs(grad_v).max()))

    def _value_and_gradient(self, theta, Xt, Y):
        """Set the weights to theta; return its E-step, objective and flat gradient.

        One E-step: the objective, and by Fisher's identity its exact gradient.
        A non-finite objective comes back with a zero gradient.
        """
        self._set_flat(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            post = self._e_step(Xt, Y)
            objective = self._objective(post)
            if not np.isfinite(objective):
                return post, objective, np.zeros_like(theta)
            grad_w, grad_v = self._gradient(Xt, post)
        return post, objective, np.concatenate([grad_w.ravel(), grad_v.ravel()])

    # ------------------------------------------------------------------ prediction

    def predict_proba(self, X, method=None, n_samples=None):
        """p(y | x) of the stochastic-unit network.

        method:
          * "exact": the marginal over all 2^m configurations; refused past
            m = MAX_EXACT_HIDDEN (24), and slow near it (n 2^m exponentials).
          * "monte-carlo": the mean of softmax(V^T z + c) over n_samples draws
            z ~ p(z | x) (default PREDICT_SAMPLES = 4096; a probability's
            standard error is at most 0.5 / sqrt(n_samples)). The draws come from
            the fitted model's own seed and are the same for every row and call.
          * "mean-field": the deterministic shortcut softmax(V sigmoid(W x + b) + c).
          * None (the default): "exact" while n_hidden <= 24, "monte-carlo" beyond.
        """
        X = self._check_inputs(X)
        method = self._prediction_method(method)
        (W, V), (b, c) = self.coefs_, self.intercepts_
        if method == "exact":
            return estep.marginal_proba(X @ W + b, V, c, self.chunk_size)
        if method == "monte-carlo":
            return montecarlo.marginal_proba(X @ W + b, V, c, self._prediction_uniforms(n_samples))
        return mean_field_proba(X, self.coefs_, self.intercepts_)

    def _prediction_method(self, method):
        if method is None:
            return "exact" if self.n_hidden <= estep.MAX_EXACT_HIDDEN else "monte-carlo"
        if method not in PREDICT_METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {PREDICT_METHODS}")
        if method == "exact" and self.n_hidden > estep.MAX_EXACT_HIDDEN:
            raise ValueError(
                f"exact prediction sums over all 2^n_hidden configurations and takes at most "
                f"{estep.MAX_EXACT_HIDDEN} hidden units, got {self.n_hidden}; use "
                "method='monte-carlo' or 'mean-field'"
            )
        return method

    def _prediction_uniforms(self, n_samples=None):
        n_samples = PREDICT_SAMPLES if n_samples is None else n_samples
        check_positive_int("n_samples", n_samples)
        rng = role_stream(self.seed_entropy_, PREDICTION_STREAM)
        return montecarlo.prediction_uniforms(self.n_hidden, n_samples, rng)

    def predict(self, X, method=None, n_samples=None):
        check_is_fitted(self, "coefs_")
        proba = self.predict_proba(X, method=method, n_samples=n_samples)
        return self.classes_[proba.argmax(axis=1)]

    def log_likelihood(self, X, y, method=None, n_samples=None) -> float:
        """Observed-data log-likelihood sum_j log p(y_j | x_j), unpenalized.

        method "exact" (the default while n_hidden <= 24) sums the exact E-step's
        log-sum-exps; "monte-carlo" (the default beyond) sums the logs of the
        Monte-Carlo p(y | x) of predict_proba.
        """
        X = self._check_inputs(X)
        y_index = label_indices(self.classes_, X, y)
        method = self._prediction_method(method)
        if method == "exact":
            Y = one_hot(y_index, self.classes_.size)
            return self._e_step(with_ones(X), Y, with_counts=False).log_likelihood
        if method == "monte-carlo":
            (W, V), (b, c) = self.coefs_, self.intercepts_
            log_proba = montecarlo.log_marginal_proba(
                X @ W + b, V, c, self._prediction_uniforms(n_samples)
            )
            return float(log_proba[np.arange(len(y)), y_index].sum())
        raise ValueError("log_likelihood takes method 'exact' or 'monte-carlo'")
