"""The same architecture as a deterministic network, trained by minibatch SGD (back-propagation)."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from ._common import (
    MLPBase,
    check_nonnegative,
    check_positive_int,
    initial_weights,
    log_softmax,
    mean_field_proba,
    model_streams,
    one_hot,
)


def loss_and_gradients(coefs, intercepts, X, Y, l2):
    """Mean cross-entropy of softmax(V sigmoid(W x + b) + c) plus l2/2 * ||W, V||^2.

    Returns the loss and its gradients in the layout [dW, dV], [db, dc]. The
    sigmoid's derivative is s * (1 - s) of the activation s itself.
    """
    (W, V), (b, c) = coefs, intercepts
    H = expit(X @ W + b)
    log_P = log_softmax(H @ V + c)
    n = len(X)
    loss = -float((Y * log_P).sum()) / n + 0.5 * l2 * float((W**2).sum() + (V**2).sum())
    d_logits = (np.exp(log_P) - Y) / n
    d_hidden = (d_logits @ V.T) * H * (1.0 - H)
    grads_w = [X.T @ d_hidden + l2 * W, H.T @ d_logits + l2 * V]
    grads_b = [d_hidden.sum(axis=0), d_logits.sum(axis=0)]
    return loss, grads_w, grads_b


class FlatWeights:
    """W, V, b, c as views into one vector, so a momentum step is three array operations
    rather than twelve: a minibatch of 16 costs microseconds, and Python overhead is most
    of it."""

    def __init__(self, coefs, intercepts):
        parts = [*coefs, *intercepts]
        self.theta = np.concatenate([p.ravel() for p in parts])
        self.grad = np.zeros_like(self.theta)
        self.velocity = np.zeros_like(self.theta)
        ends = np.cumsum([p.size for p in parts])[:-1]
        self.W, self.V, self.b, self.c = (
            t.reshape(p.shape) for t, p in zip(np.split(self.theta, ends), parts, strict=True)
        )
        self.dW, self.dV, self.db, self.dc = (
            t.reshape(p.shape) for t, p in zip(np.split(self.grad, ends), parts, strict=True)
        )

    def minibatch_gradient(self, X, Y, l2):
        """The gradient of loss_and_gradients into self.grad, without the loss itself."""
        W, V = self.W, self.V
        H = expit(X @ W + self.b)
        logits = H @ V + self.c
        logits -= logits.max(axis=1, keepdims=True)
        P = np.exp(logits)
        P /= P.sum(axis=1, keepdims=True)
        d_logits = (P - Y) / len(X)
        d_hidden = (d_logits @ V.T) * H * (1.0 - H)
        np.matmul(X.T, d_hidden, out=self.dW)
        self.dW += l2 * W
        np.matmul(H.T, d_logits, out=self.dV)
        self.dV += l2 * V
        d_hidden.sum(axis=0, out=self.db)
        d_logits.sum(axis=0, out=self.dc)


class SGDMLPClassifier(MLPBase):
    """softmax(V sigmoid(W x + b) + c) trained by minibatch SGD with momentum.

    It minimizes the same penalized objective as EMMLPClassifier's, for the
    deterministic network: sum_j -log p(y_j | x_j) + l2/2 * (||W||^2 + ||V||^2),
    one minibatch at a time (mean loss of the batch plus l2/(2n) * ||.||^2).
    With batch_size=1 and momentum=0 it is per-sample SGD. Training stops with
    scikit-learn's plateau rule on the training loss: when the full-data
    penalized loss per example (-objective / n) has not fallen below its best
    by more than tol for n_iter_no_change epochs (converged_), or after
    max_epochs. If the objective overflows
    (learning rate too large for the data's scale) training stops with the last
    finite weights, `diverged_` set and a warning. For the same random_state
    and n_hidden it starts from EMMLPClassifier's initial weights.

    fit(X, y, monitor=None): `monitor(epoch, estimator)` is called with the
    initial weights (epoch 0) and after each epoch; returning True stops training.
    """

    def __init__(
        self,
        n_hidden=7,
        learning_rate=0.05,
        momentum=0.9,
        batch_size=16,
        max_epochs=200,
        tol=1e-4,
        n_iter_no_change=10,
        l2=0.1,
        random_state=None,
    ):
        self.n_hidden = n_hidden
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.l2 = l2
        self.random_state = random_state

    def _check_params(self):
        check_positive_int("n_hidden", self.n_hidden)
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("max_epochs", self.max_epochs)
        check_positive_int("n_iter_no_change", self.n_iter_no_change)
        check_nonnegative("learning_rate", self.learning_rate, strict=True)
        check_nonnegative("tol", self.tol)
        check_nonnegative("l2", self.l2)
        check_nonnegative("momentum", self.momentum)
        if self.momentum >= 1:
            raise ValueError(f"momentum must be below 1, got {self.momentum}")

    def fit(self, X, y, monitor=None):
        self._check_params()
        X, y_index = self._check_training_data(X, y)
        n, g = len(X), self.classes_.size
        init_rng, order_rng = model_streams(self.random_state)
        weights = FlatWeights(*initial_weights(X.shape[1], self.n_hidden, g, init_rng))
        self.coefs_, self.intercepts_ = [weights.W, weights.V], [weights.b, weights.c]
        Y = one_hot(y_index, g)
        theta, velocity = weights.theta, weights.velocity  # updated in place
        l2_per_example = self.l2 / n

        self.history_ = {"objective": []}
        self.converged_ = self.diverged_ = False
        self.n_iter_ = 0
        best, stale = -np.inf, 0
        last_finite = theta.copy()
        if monitor is not None:
            monitor(0, self)
        for epoch in range(1, self.max_epochs + 1):
            order = order_rng.permutation(n)
            with np.errstate(over="ignore", invalid="ignore"):
                for start in range(0, n, self.batch_size):
                    rows = order[start : start + self.batch_size]
                    weights.minibatch_gradient(X[rows], Y[rows], l2_per_example)
                    velocity *= self.momentum
                    velocity -= self.learning_rate * weights.grad
                    theta += velocity
                objective = self.objective(X, Y)
            if not np.isfinite(objective):
                # Diverged: keep the last finite weights rather than return NaNs.
                theta[...] = last_finite
                self.diverged_ = True
                warnings.warn(
                    f"SGD diverged in epoch {epoch} (the objective became {objective}) and kept "
                    f"the weights of epoch {epoch - 1}; lower learning_rate (now "
                    f"{self.learning_rate}) or standardize the features",
                    ConvergenceWarning,
                    stacklevel=2,
                )
                break
            last_finite[...] = theta
            self.history_["objective"].append(objective)
            self.n_iter_ = epoch
            if monitor is not None and monitor(epoch, self):
                break
            if epoch == 1 or (objective - best) / n > self.tol:
                stale = 0
            else:
                stale += 1
            best = objective if epoch == 1 else max(best, objective)
            if stale >= self.n_iter_no_change:
                self.converged_ = True
                break
        if not (self.converged_ or self.diverged_):
            warnings.warn(
                f"SGD stopped after {self.n_iter_} epochs while the objective was still improving",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def objective(self, X, Y) -> float:
        """Penalized log-likelihood of one-hot targets Y: -n * loss."""
        loss, _, _ = loss_and_gradients(self.coefs_, self.intercepts_, X, Y, self.l2 / len(X))
        return -len(X) * loss

    def predict_proba(self, X):
        return mean_field_proba(self._check_inputs(X), self.coefs_, self.intercepts_)
