"""The arithmetic of SGD on a stack of networks (emnn.models.sgd trains with it): their
weights as one array, the minibatch gradient and the full-data objective of every
network at once, with NumPy's per-call costs kept off the short axes."""

from __future__ import annotations

import numpy as np


class StackedWeights:
    """The weights of K networks as one K x P array, laid out per network as
    W~ = [W; b] ((p + 1) x m), V (m x g), c (g): W~, W, V, b and c are views of it, so a
    momentum step is three array operations for the whole stack. With a column of ones
    appended to the inputs (X~ = [X, 1]), X~ W~ = X W + b is one product: no broadcast
    add over the hidden units, and X~^T d_hidden gives dW and db at once."""

    def __init__(self, theta: np.ndarray, p: int, m: int, g: int):
        self.shape = (p, m, g)
        self.theta = theta
        self.W1, self.W, self.V, self.b, self.c = _views(theta, p, m, g)
        self.grad = np.zeros_like(theta)
        self.dW1, self.dW, self.dV, self.db, self.dc = _views(self.grad, p, m, g)
        penalized = np.zeros((1, theta.shape[1]))  # 1 on W and V, 0 on the biases
        _, W, V, _, _ = _views(penalized, p, m, g)
        W[:], V[:] = 1.0, 1.0
        self.penalized = penalized[0]

    @staticmethod
    def pack(coefs, intercepts) -> np.ndarray:
        """One network's theta from [W, V], [b, c]."""
        (W, V), (b, c) = coefs, intercepts
        return np.concatenate([W.ravel(), b, V.ravel(), c])

    def penalty_rates(self, l2):
        """l2 (K, 1) per network, spread over the penalized entries of theta (K x P)."""
        return l2 * self.penalized

    def gradient(self, X1, Y, weight, l2):
        """Gradient of each network's minibatch loss into self.grad.

        X1 (K, B, p + 1) are the inputs with a column of ones, Y (K, B, g); weight
        (K, B, 1) is 1 / (rows in the batch) for a real row and 0 for padding, and l2
        (K x P, from penalty_rates) the penalty per example.
        """
        V = self.V
        H = _sigmoid(X1 @ self.W1)
        logits = H @ V
        logits += self.c[:, None, :]
        logits -= _row_max(logits)
        P = np.exp(logits, out=logits)
        P /= _row_sum(P)
        P -= Y
        d_logits = np.multiply(P, weight, out=P)
        d_hidden = d_logits @ np.ascontiguousarray(V.transpose(0, 2, 1))  # BLAS: 7x faster
        d_hidden *= H
        d_hidden *= 1.0 - H
        np.matmul(X1.transpose(0, 2, 1), d_hidden, out=self.dW1)
        np.matmul(H.transpose(0, 2, 1), d_logits, out=self.dV)
        ones = np.ones((1, X1.shape[1]))  # sums over the rows as products: faster
        self.dc[:] = (ones @ d_logits)[:, 0]
        self.grad += l2 * self.theta

    def objective(self, X1, labels, l2_half):
        """Each network's penalized log-likelihood over all its rows: -n * loss.

        X1 (K, n, p + 1) with its column of ones; labels (K, n) are class indices, -1
        on padded rows."""
        H = _sigmoid(X1 @ self.W1)
        logits = H @ self.V
        logits += self.c[:, None, :]
        logits -= _row_max(logits)
        chosen = np.take_along_axis(logits, np.maximum(labels, 0)[:, :, None], axis=2)[:, :, 0]
        np.exp(logits, out=logits)
        log_p = chosen - np.log(_row_sum(logits)[:, :, 0])
        fit = np.where(labels >= 0, log_p, 0.0).sum(axis=1)
        penalty = (self.theta**2) @ self.penalized
        return fit - l2_half * penalty


def _row_max(a):
    """a.max(axis=2, keepdims=True), by columns: NumPy reduces a short last axis slowly."""
    if a.shape[2] > 16:
        return a.max(axis=2, keepdims=True)
    top = a[:, :, :1].copy()
    for i in range(1, a.shape[2]):
        np.maximum(top, a[:, :, i : i + 1], out=top)
    return top


def _row_sum(a):
    """a.sum(axis=2, keepdims=True), by columns where they are few (as _row_max)."""
    if a.shape[2] > 16:
        return a.sum(axis=2, keepdims=True)
    total = a[:, :, :1].copy()
    for i in range(1, a.shape[2]):
        total += a[:, :, i : i + 1]
    return total


def _sigmoid(a):
    """1 / (1 + e^-a), in place (a few times faster than scipy's expit on small arrays)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    return np.reciprocal(a, out=a)


def _views(theta, p, m, g):
    """W~ (K, p + 1, m), W, V (K, m, g), b (K, m), c (K, g) of a K x P theta."""
    K = len(theta)
    W1, V, c = np.split(theta, [(p + 1) * m, (p + 1) * m + m * g], axis=1)
    W1 = W1.reshape(K, p + 1, m)
    return W1, W1[:, :p], V.reshape(K, m, g), W1[:, p], c
