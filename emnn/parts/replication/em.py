"""The EM notebook rebuilt, keeping any subset of its defects."""

from __future__ import annotations

import numpy as np

from ...models import estep, mstep
from ...models.common import with_ones
from .common import (
    EM_ITERATIONS,
    LEARNING_RATE,
    OriginatingNetwork,
    check_defects,
    prepare,
    settled,
)

EM_DEFECTS = (
    "frozen_output",
    "no_biases",
    "raw_features",
    "mean_field_prediction",
    "gradient_mstep",
)


def originating_em(
    X_train,
    y_train,
    defects=EM_DEFECTS,
    init="original",
    n_iter=EM_ITERATIONS,
    newton_steps=None,
    tol=None,
) -> OriginatingNetwork:
    """The EM notebook, keeping `defects` (a subset of EM_DEFECTS).

    init: "original" (seeds 1183 and 202), a seed for random_init, or (W, V).
    Without gradient_mstep each M-step takes Newton steps on each half of Q
    (newton_steps=None solves it, classical EM; an integer k caps the steps). The
    frozen output layer then stays at its initial weights (the shadowed update
    would only add one vector to every column, which changes no prediction).
    With tol, n_iter is a cap: training stops once an iteration raises the exact
    log-likelihood by less than tol per example (the originating code ran 50).
    """
    defects = check_defects(defects, EM_DEFECTS, "EM")
    biases = "no_biases" not in defects
    frozen = "frozen_output" in defects
    gradient = "gradient_mstep" in defects
    if not (biases or frozen or gradient):
        raise ValueError(
            "a Newton M-step for a trained output layer needs its biases (emnn.models.mstep "
            "solves for V and c together); keep no_biases only with frozen_output or "
            "gradient_mstep"
        )
    X, Y, classes, scaler, W, V = prepare(X_train, y_train, defects, "em", init)
    net = OriginatingNetwork(
        "em", defects, classes, scaler,
        "mean-field" if "mean_field_prediction" in defects else "exact",
    )  # fmt: skip
    (p, m), g = W.shape, V.shape[1]
    Xt = with_ones(X) if biases else X
    Wt = np.vstack([W, np.zeros((1, m))]) if biases else W  # [W; b]
    Vt = np.vstack([V, np.zeros((1, g))])  # [V; c]; c stays 0 without biases
    for iteration in range(n_iter + 1):
        net.W, net.b = Wt[:p], (Wt[p] if biases else np.zeros(m))
        net.V, net.c = Vt[:m], Vt[m]
        post = estep.e_step(Xt @ Wt, Y, estep.output_log_table(net.V, net.c))
        net._record(X, Y, post)
        loss = [-ll / len(X) for ll in net.history_["log_likelihood"][-2:]]
        if iteration == n_iter or settled(loss, tol):
            break
        T, N = post.hidden_means, post.class_counts
        if gradient:  # one unguarded step on the summed Q, no penalty
            dW = LEARNING_RATE * mstep.hidden_gradient(Xt, T, Wt, 0.0)
            dV = LEARNING_RATE * mstep.output_gradient(N, Vt, 0.0)
        else:  # with l2 = 0, mstep's unpenalized last row does not matter without biases
            dW = mstep.newton_hidden(Xt, T, Wt, 0.0, newton_steps)[0] - Wt
            dV = (
                np.zeros_like(Vt)
                if frozen
                else mstep.newton_output(N, Vt, 0.0, newton_steps)[0] - Vt
            )
        if frozen:  # `for i in range(g)` reuses i: every column gets class g - 1's value
            dV = np.repeat(dV[:, -1:], g, axis=1)
        if not biases:
            dV[m] = 0.0
        Wt, Vt = Wt + dW, Vt + dV
    return net
