"""The same architecture as a deterministic network, trained by minibatch SGD (back-propagation).

Networks of one shape train together (emnn.models.batch): one loop over minibatches
advances a stack of K networks with stacked matrix products, each with its own data,
initial weights, minibatch order, learning rate and stopping rule. A single fit is a
stack of one.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from .batch import warn_all
from .common import (
    Integer,
    MLPBase,
    Real,
    Seed,
    check_parameters,
    initial_weights,
    log_softmax,
    mean_field_proba,
    model_streams,
    one_hot,
)
from .sgd_stack import StackedWeights, _views
from .stopping import Plateau


def loss_and_gradients(coefs, intercepts, X, Y, l2):
    """Mean cross-entropy of softmax(V sigmoid(W x + b) + c) plus l2/2 * ||W, V||^2.

    Returns the loss and its gradients in the layout [dW, dV], [db, dc]. The
    sigmoid's derivative is s * (1 - s) of the activation s itself. The reference
    the stacked training step is tested against.
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
    emnn.models.batch.fit_together trains many of these at once, each as fit would.
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

    _parameter_rules: ClassVar[dict] = {
        "n_hidden": Integer(),
        "batch_size": Integer(),
        "max_epochs": Integer(),
        "n_iter_no_change": Integer(),
        "learning_rate": Real(positive=True),
        "tol": Real(),
        "l2": Real(),
        "momentum": Real(below=1.0),
        "random_state": Seed(),
    }

    def _check_params(self):
        check_parameters(self)

    def fit(self, X, y, monitor=None):
        (messages,) = self._fit_batch([self], [(X, y)], [monitor])
        warn_all(messages, ConvergenceWarning)
        return self

    # ------------------------------------------------------------ training in stacks

    def _batch_key(self, X):
        return (np.shape(X)[1] if np.ndim(X) == 2 else None, self.n_hidden, self.batch_size)

    @classmethod
    def _fit_batch(cls, estimators, data, monitors) -> list[list[str]]:
        """Fit each estimator on its own data, all in one loop (see emnn.models.batch)."""
        nets = [est._start(X, y, monitor) for est, (X, y), monitor in
                zip(estimators, data, monitors, strict=True)]  # fmt: skip
        by_classes: dict[int, list[_Network]] = {}
        for net in nets:
            by_classes.setdefault(net.Y.shape[1], []).append(net)
        for group in by_classes.values():
            _train(group)
        for net in nets:
            net.estimator._finish(net)
        return [net.messages for net in nets]

    def _start(self, X, y, monitor) -> _Network:
        self._check_params()
        X, y_index = self._check_training_data(X, y)
        g = self.classes_.size
        init_rng, order_rng = model_streams(self.random_state)
        coefs, intercepts = initial_weights(X.shape[1], self.n_hidden, g, init_rng)
        self.coefs_, self.intercepts_ = coefs, intercepts
        self.history_ = {"objective": []}
        self.converged_ = self.diverged_ = False
        self.n_iter_ = 0
        theta = StackedWeights.pack(coefs, intercepts)
        return _Network(self, X, one_hot(y_index, g), theta, order_rng, monitor)

    def _finish(self, net: _Network) -> None:
        self._set_theta(net.theta)
        self.history_ = {"objective": net.history}
        self.n_iter_, self.converged_, self.diverged_ = net.n_iter, net.converged, net.diverged
        if not (self.converged_ or self.diverged_):
            net.messages.append(
                f"SGD stopped after {self.n_iter_} epochs while the objective was still improving"
            )

    def _set_theta(self, theta):
        p, m, g = self.n_features_in_, self.n_hidden, self.classes_.size
        _, W, V, b, c = (a[0].copy() for a in _views(theta[None], p, m, g))
        self.coefs_, self.intercepts_ = [W, V], [b, c]

    def objective(self, X, Y) -> float:
        """Penalized log-likelihood of one-hot targets Y: -n * loss."""
        loss, _, _ = loss_and_gradients(self.coefs_, self.intercepts_, X, Y, self.l2 / len(X))
        return -len(X) * loss

    def predict_proba(self, X):
        return mean_field_proba(self._check_inputs(X), self.coefs_, self.intercepts_)


class _Network:
    """One network of a stack: its data, streams, settings, and where training left it."""

    def __init__(self, estimator, X, Y, theta, order_rng, monitor):
        self.estimator, self.X, self.Y = estimator, X, Y
        self.theta, self.order_rng, self.monitor = theta, order_rng, monitor
        self.history: list[float] = []
        self.n_iter = 0
        self.converged = self.diverged = False
        self.messages: list[str] = []

    def report(self, epoch: int, theta: np.ndarray) -> bool:
        """Show the monitor the weights after `epoch`; True asks training to stop."""
        if self.monitor is None:
            return False
        self.estimator._set_theta(theta)
        self.estimator.n_iter_ = epoch
        return bool(self.monitor(epoch, self.estimator))


class _Slots:
    """The distinct training sets of a stack (the networks of one inner-CV fold share
    theirs), stacked as rows of one array with a column of ones: set s holds rows
    base[s] .. base[s] + n_s - 1, and row base[s] + n_max, zeros, pads its short
    minibatches."""

    def __init__(self, nets):
        index: dict[int, int] = {}
        sets = []
        for net in nets:
            if id(net.X) not in index:
                index[id(net.X)] = len(sets)
                sets.append(net)
        self.n_max = max(len(net.X) for net in sets)
        size = self.n_max + 1
        p, g = sets[0].X.shape[1], sets[0].Y.shape[1]
        self.X, self.Y = np.zeros((len(sets) * size, p + 1)), np.zeros((len(sets) * size, g))
        self.X[:, p] = 1.0  # X~ = [X, 1] (see StackedWeights)
        self.labels = np.full((len(sets), self.n_max), -1)
        for s, net in enumerate(sets):
            n = len(net.X)
            self.X[s * size : s * size + n, :p] = net.X
            self.Y[s * size : s * size + n] = net.Y
            self.labels[s, :n] = net.Y.argmax(axis=1)
        self.slot = np.array([index[id(net.X)] for net in nets])
        # Networks with one training set and one seed draw the same minibatch orders:
        # one generator (the first's) serves them all, while any of them trains.
        seeds = [net.estimator.random_state for net in nets]
        first: dict[tuple, int] = {}
        self.order_key = np.array([
            first.setdefault((s, seed if seed is not None else -1 - k), k)
            for k, (s, seed) in enumerate(zip(self.slot, seeds, strict=True))
        ])  # fmt: skip
        self.base = self.slot * size  # per network
        self.pad = self.base + self.n_max


def _train(nets: list[_Network]) -> None:
    """Minibatch SGD with momentum for a stack of networks of one shape.

    Per epoch the stack's minibatches are gathered at once; the bookkeeping is by array
    over the networks, a Python loop only for monitors and diverged networks."""
    est = nets[0].estimator
    p, m, g, B = nets[0].X.shape[1], est.n_hidden, nets[0].Y.shape[1], est.batch_size
    data = _Slots(nets)
    n = np.array([len(net.X) for net in nets])
    setting = {
        name: np.array([getattr(net.estimator, name) for net in nets], dtype=float)
        for name in ("learning_rate", "momentum", "l2", "tol")
    }
    patience = np.array([net.estimator.n_iter_no_change for net in nets])
    max_epochs = np.array([net.estimator.max_epochs for net in nets])
    monitored = np.array([net.monitor is not None for net in nets])
    history = np.empty((len(nets), int(max_epochs.max())))
    n_iter = np.zeros(len(nets), dtype=int)
    converged = np.zeros(len(nets), dtype=bool)
    weights = StackedWeights(np.array([net.theta for net in nets]), p, m, g)
    velocity = np.zeros_like(weights.theta)
    alive = np.arange(len(nets))  # the networks still training, rows of the stack
    for k in np.flatnonzero(monitored):
        nets[k].report(0, weights.theta[k])
    plateau = Plateau(len(nets))
    last_finite = weights.theta.copy()
    n_steps = -(-data.n_max // B)
    full_rows = np.arange(data.n_max)
    full = None  # all rows of every alive network, gathered again when `alive` shrinks
    for epoch in range(1, int(max_epochs.max()) + 1):
        K = len(alive)
        if full is None:
            full = np.take(data.X, data.base[alive][:, None] + full_rows, axis=0)
            labels = data.labels[data.slot[alive]]
            lr = setting["learning_rate"][alive][:, None]
            momentum = setting["momentum"][alive][:, None]
            l2 = weights.penalty_rates((setting["l2"][alive] / n[alive])[:, None])
        keys, inverse = np.unique(data.order_key[alive], return_inverse=True)
        drawn = np.full((len(keys), n_steps * B), -1)
        for u, key in enumerate(keys):  # networks of one training set and seed: one draw
            drawn[u, : n[key]] = nets[key].order_rng.permutation(n[key])
        drawn = drawn[inverse]
        real = drawn >= 0
        order = np.where(real, data.base[alive][:, None] + drawn, data.pad[alive][:, None])
        by_step = order.reshape(K, n_steps, B).transpose(1, 0, 2)
        X_steps, Y_steps = np.take(data.X, by_step, axis=0), np.take(data.Y, by_step, axis=0)
        count = real.reshape(K, n_steps, B).sum(axis=2).T  # (n_steps, K)
        weight = real.reshape(K, n_steps, B).transpose(1, 0, 2) / np.maximum(count, 1)[:, :, None]
        with np.errstate(over="ignore", invalid="ignore"):
            for step in range(n_steps):
                weights.gradient(X_steps[step], Y_steps[step], weight[step][:, :, None], l2)
                if count[step].all():
                    velocity *= momentum
                    velocity -= lr * weights.grad
                    weights.theta += velocity
                else:  # a network whose epoch has no such minibatch waits
                    moving = count[step] > 0
                    velocity[moving] *= momentum[moving]
                    velocity[moving] -= lr[moving] * weights.grad[moving]
                    weights.theta[moving] += velocity[moving]
            objective = weights.objective(full, labels, 0.5 * setting["l2"][alive])
        stopped = np.zeros(K, dtype=bool)
        finite = np.isfinite(objective)
        for i in np.flatnonzero(~finite):
            net = nets[alive[i]]
            weights.theta[i] = last_finite[i]  # keep the last finite weights, not NaNs
            net.diverged, stopped[i] = True, True
            net.messages.append(
                f"SGD diverged in epoch {epoch} (the objective became {objective[i]}) and kept "
                f"the weights of epoch {epoch - 1}; lower learning_rate (now "
                f"{net.estimator.learning_rate}) or standardize the features"
            )
        last_finite[finite] = weights.theta[finite]
        ok = np.flatnonzero(finite)
        met = plateau.update(
            alive[ok], objective[ok], n[alive[ok]], setting["tol"][alive[ok]], patience[alive[ok]]
        )
        history[alive[ok], epoch - 1] = objective[ok]
        n_iter[alive[ok]] = epoch
        rule_met = np.zeros(K, dtype=bool)
        rule_met[ok] = met
        for i in ok[monitored[alive[ok]]]:
            if nets[alive[i]].report(epoch, weights.theta[i]):
                stopped[i], rule_met[i] = True, False  # the monitor asked: not converged
        converged[alive[rule_met]] = True
        stopped |= rule_met | (epoch >= max_epochs[alive])
        for i in np.flatnonzero(stopped):
            nets[alive[i]].theta = weights.theta[i].copy()
        if stopped.all():
            break
        if stopped.any():
            keep = ~stopped
            alive, full = alive[keep], None
            weights = StackedWeights(weights.theta[keep], p, m, g)
            velocity, last_finite = velocity[keep], last_finite[keep]
    for k, net in enumerate(nets):
        net.n_iter, net.converged = int(n_iter[k]), bool(converged[k])
        net.history = history[k, : n_iter[k]].tolist()
