"""The back-propagation notebook rebuilt, keeping any subset of its defects."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from .common import (
    BACKPROP_EPOCHS,
    LEARNING_RATE,
    OriginatingNetwork,
    check_defects,
    prepare,
    settled,
)

BACKPROP_DEFECTS = ("doubled_derivative", "b1_gradient_times_p", "raw_features")


def backprop_gradients(W1, b1, W2, b2, x, y_onehot, defects=BACKPROP_DEFECTS):
    """The notebook's per-sample gradients of -log softmax(W2^T s + b2)_y, s = sigmoid(W1^T x + b1).

    Returns [dW1, db1, dW2, db2]. doubled_derivative uses sigmoid'(s) for s(1 - s);
    b1_gradient_times_p multiplies db1 by p = len(x).
    """
    s = expit(x @ W1 + b1)
    logits = s @ W2 + b2
    o = np.exp(logits - logits.max())
    d_out = o / o.sum() - y_onehot
    slope = expit(s) * (1.0 - expit(s)) if "doubled_derivative" in defects else s * (1.0 - s)
    d_hidden = (W2 @ d_out) * slope
    db1 = d_hidden * (len(x) if "b1_gradient_times_p" in defects else 1.0)
    return [np.outer(x, d_hidden), db1, np.outer(s, d_out), d_out]


def originating_backprop(
    X_train,
    y_train,
    defects=BACKPROP_DEFECTS,
    init="original",
    n_epochs=BACKPROP_EPOCHS,
    tol=None,
) -> OriginatingNetwork:
    """The back-propagation notebook, keeping `defects` (a subset of BACKPROP_DEFECTS).

    Per-sample SGD over the rows in the order given, the same order every
    epoch. init: "original" (seeds 202 and 1138), a seed for random_init, or (W1, W2).
    With tol, n_epochs is a cap: training stops once an epoch lowers the mean training
    cross-entropy by less than tol (the originating code ran 30 epochs).
    """
    defects = check_defects(defects, BACKPROP_DEFECTS, "back-propagation")
    X, Y, classes, scaler, W1, W2 = prepare(X_train, y_train, defects, "backprop", init)
    net = OriginatingNetwork("backprop", defects, classes, scaler, "mean-field")
    net.W, net.V = W1, W2
    net.b, net.c = np.zeros(W1.shape[1]), np.zeros(W2.shape[1])
    params = [net.W, net.b, net.V, net.c]  # updated in place
    net._record(X, Y)
    for _ in range(n_epochs):
        for x, y in zip(X, Y, strict=True):
            grads = backprop_gradients(*params, x, y, defects)
            for param, grad in zip(params, grads, strict=True):
                param -= LEARNING_RATE * grad
        net._record(X, Y)
        if settled(net.history_["cross_entropy"], tol):
            break
    return net
