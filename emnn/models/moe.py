"""Mixture of experts for multiclass classification (Jordan & Jacobs, 1994), trained by
EM with an IRLS or an ECM M-step (Ng & McLachlan, 2004), or by back-propagation: the
estimator, MoEClassifier.

The model, its E-step and objective are emnn.models.moe_model; the M-steps
moe_irls and moe_ecm; the training loops moe_em (EM, SQUAREM) and moe_sgd. Every
one of them trains a stack of networks at once (emnn.models.batch): fit is a stack
of one, and emnn.models.batch.fit_together trains many, each as fit would.

EM: the E-step gives the posteriors h_jk = pi_k(x_j) p_k(y_j | x_j) / p(y_j | x_j),
and Q(Psi | Psi_old), penalized like the objective, separates into a multinomial
regression of h on x for the gate and K multinomial regressions of y weighted by
h_.k for the experts. Every raise of Q raises the objective (the EM inequality), so
an M-step that never lowers Q makes the objective monotone; one that can lower Q
(an unguarded IRLS step) can make it fall.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from . import moe_em, moe_sgd
from .batch import warn_all
from .common import (
    Integer,
    OneOf,
    Real,
    Seed,
    check_inputs,
    check_parameters,
    check_training_data,
    label_indices,
    model_streams,
    with_ones,
)
from .moe_model import Network, StackData, e_step, initial_weights, log_softmax, logsumexp, penalty

ALGORITHMS = ("em-irls", "ecm", "sgd")
ACCELERATIONS = ("none", "squarem")
__all__ = ["ALGORITHMS", "MoEClassifier"]


class MoEClassifier(ClassifierMixin, BaseEstimator):
    """Mixture of K experts (multinomial logistic regressions) with a softmax gate.

    All three algorithms maximize the same penalized log-likelihood
    (emnn.models.moe_model) from the same initial weights for a given random_state:

    * algorithm="em-irls": EM whose M-step takes `irls_steps` IRLS iterations
      (Newton-Raphson with the exact Hessian of each multinomial sub-problem,
      scaled by `irls_rate`, unguarded) on the gate and on each expert. The
      default, one iteration per M-step, is the classical generalized EM of
      Jordan & Jacobs: an IRLS iteration costs as much as several E-steps, and
      an M-step needs not be solved for EM to make progress. With irls_rate
      = 1 a step can overshoot and lower Q, and with it the objective; the
      claim of Ng & McLachlan (2004) is that a rate below 1 keeps it monotone.
      Here it does at rate 0.5 on standardized iris, wine and breast_cancer,
      but not on raw features (a saturated softmax has a nearly flat Hessian,
      so the Newton step is huge) nor on standardized digits; the cases are
      recorded in tests/test_moe.py. Diverging steps stay finite.
    * algorithm="ecm": EM whose M-step is one cycle of K + g conditional
      maximizations (Meng & Rubin, 1993), each solved to tolerance by guarded
      Newton (see moe_ecm.ecm_m_step for the blocks): Q rises at every CM-step, so
      the objective never decreases.
    * algorithm="sgd": back-propagation of the same likelihood by minibatch SGD
      with momentum (mean loss of the batch plus l2/(2n) * ||weights||^2).

    acceleration="squarem" (ECM only) wraps the ECM map in SQUAREM (Varadhan &
    Roland, 2008, scheme S3), guarded as in EMMLPClassifier, so it stays
    monotone; an iteration is then one cycle (three or more ECM maps).
    n_estep_ counts the E-steps of the EM algorithms (one per map, plus the
    initial one and each extrapolated point).

    Stopping: EM stops when the objective changes by at most tol (relative)
    between iterations. SGD uses scikit-learn's plateau rule, like
    SGDMLPClassifier: when the full-data penalized loss per example has not
    fallen below its best by more than tol for n_iter_no_change epochs. Either
    stops after max_iter iterations (epochs) with a ConvergenceWarning. If the
    objective stops being finite (a step far too large for the data's scale),
    training stops with the last finite weights, `diverged_` set and a warning.

    history_["objective"] holds the penalized log-likelihood after each
    iteration (epoch). fit(X, y, monitor=None): `monitor(iteration, estimator)`
    is called with the initial weights (iteration 0) and after each
    iteration; returning True stops training. emnn.models.batch.fit_together
    trains many of these at once, each as fit would.
    """

    def __init__(
        self,
        n_experts=3,
        algorithm="em-irls",
        irls_rate=1.0,
        irls_steps=1,
        max_iter=200,
        tol=1e-6,
        l2=0.1,
        learning_rate=0.05,
        batch_size=16,
        momentum=0.9,
        n_iter_no_change=10,
        acceleration="none",
        random_state=None,
    ):
        self.n_experts = n_experts
        self.algorithm = algorithm
        self.acceleration = acceleration
        self.irls_rate = irls_rate
        self.irls_steps = irls_steps
        self.max_iter = max_iter
        self.tol = tol
        self.l2 = l2
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.momentum = momentum
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    _parameter_rules: ClassVar[dict] = {
        "n_experts": Integer(),
        "algorithm": OneOf(ALGORITHMS),
        "irls_rate": Real(positive=True),
        "irls_steps": Integer(),
        "max_iter": Integer(),
        "tol": Real(),
        "l2": Real(),
        "learning_rate": Real(positive=True),
        "batch_size": Integer(),
        "momentum": Real(below=1.0),
        "n_iter_no_change": Integer(),
        "acceleration": OneOf(ACCELERATIONS),
        "random_state": Seed(),
    }

    def _check_params(self):
        check_parameters(self)
        if self.acceleration == "squarem" and self.algorithm != "ecm":
            raise ValueError(
                "acceleration='squarem' takes algorithm='ecm': SQUAREM's guard keeps a "
                "monotone map monotone, and IRLS-EM's falls are what the study measures"
            )

    # ------------------------------------------------------------------ training

    def fit(self, X, y, monitor=None):
        (messages,) = self._fit_batch([self], [(X, y)], [monitor])
        warn_all(messages, ConvergenceWarning)
        return self

    def _batch_key(self, X):
        """Networks of one shape and kind of training share a loop (emnn.models.batch)."""
        shape = np.shape(X)[1] if np.ndim(X) == 2 else None
        by_kind = self.batch_size if self.algorithm == "sgd" else self.irls_steps
        return (shape, self.n_experts, self.algorithm, self.acceleration, by_kind)

    @classmethod
    def _fit_batch(cls, estimators, data, monitors) -> list[list[str]]:
        """Fit each estimator on its own data, all in one loop (see emnn.models.batch)."""
        nets = [est._start(X, y, monitor) for est, (X, y), monitor in
                zip(estimators, data, monitors, strict=True)]  # fmt: skip
        groups: dict[tuple, list[Network]] = {}
        for net in nets:
            est = net.estimator
            key = (net.n_classes, est.n_experts, est.algorithm, est.acceleration,
                   est.batch_size if est.algorithm == "sgd" else est.irls_steps)  # fmt: skip
            groups.setdefault(key, []).append(net)
        for group in groups.values():
            (moe_sgd if group[0].estimator.algorithm == "sgd" else moe_em).train(group)
        for net in nets:
            net.estimator._finish(net)
        for net in nets:
            if net.error is not None:
                raise net.error
        return [net.messages for net in nets]

    def _start(self, X, y, monitor) -> Network:
        self._check_params()
        X, y_index = check_training_data(self, X, y)
        classes = self.classes_
        init_rng, order_rng = model_streams(self.random_state)
        Gt, Et = initial_weights(X.shape[1], self.n_experts, classes.size, init_rng)
        self._set_stacked(Gt, Et)
        self.history_ = {"objective": []}
        self.converged_ = self.diverged_ = False
        self.n_iter_ = 0
        return Network(self, with_ones(X), y_index, classes.size, Gt, Et, order_rng, monitor)

    def _finish(self, net: Network) -> None:
        self._set_stacked(net.Gt, net.Et)
        self.history_ = {"objective": net.history}
        self.n_iter_, self.converged_, self.diverged_ = net.n_iter, net.converged, net.diverged
        if net.n_estep is not None:
            self.n_estep_ = net.n_estep
        if not (self.converged_ or self.diverged_ or net.error is not None):
            net.messages.append(
                f"{self.algorithm} stopped after {self.n_iter_} iterations before meeting its "
                f"stopping rule (tol={self.tol})"
            )

    # ------------------------------------------------------------------ weights

    def _stacked(self):
        """G~ ((p+1) x K) and E~ (K x (p+1) x g): intercepts as the last row."""
        Gt = np.vstack([self.gate_coef_, self.gate_intercept_])
        Et = np.concatenate([self.expert_coefs_, self.expert_intercepts_[:, None, :]], axis=1)
        return Gt, Et

    def _set_stacked(self, Gt, Et):
        self.gate_coef_ = np.array(Gt[:-1])
        self.gate_intercept_ = np.array(Gt[-1])
        self.expert_coefs_ = np.array(Et[:, :-1])
        self.expert_intercepts_ = np.array(Et[:, -1])

    def _penalty(self) -> float:
        Gt, Et = self._stacked()
        return float(penalty(Gt[None], Et[None], np.array([self.l2]))[0])

    # ------------------------------------------------------------------ prediction

    def _check_inputs(self, X):
        return check_inputs(self, X, "gate_coef_")

    def predict_proba(self, X):
        """p(y | x) = sum_k pi_k(x) p_k(y | x), combined in log space."""
        Xt = with_ones(self._check_inputs(X))
        Gt, Et = self._stacked()
        joint = log_softmax(Xt @ Gt).T[:, :, None] + log_softmax(Xt @ Et)  # K x n x g
        return np.exp(log_softmax(logsumexp(np.moveaxis(joint, 0, -1))))

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        check_is_fitted(self, "gate_coef_")
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def log_likelihood(self, X, y) -> float:
        """Observed-data log-likelihood sum_j log p(y_j | x_j), unpenalized."""
        X = self._check_inputs(X)
        data = StackData.single(X, label_indices(self.classes_, X, y), self.classes_.size)
        Gt, Et = self._stacked()
        return float(e_step(data, Gt[None], Et[None]).log_likelihood[0])
