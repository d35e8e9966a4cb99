"""The stochastic-binary-unit MLP, its exact likelihood maximized directly by L-BFGS."""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

from . import meanfield, mstep
from .common import (
    Integer,
    OneOf,
    Real,
    Seed,
    check_parameters,
    one_hot,
    with_ones,
)
from .stochastic import StochasticMLPBase

E_STEPS = ("exact", "variational")

# Line-search evaluations allowed per iteration, on average, before SciPy stops
# (its maxfun): generous, since an iteration rarely needs more than two.
EVALUATIONS_PER_ITERATION = 20


def run_lbfgs(estimator, negative_objective, theta0, callback):
    """SciPy's L-BFGS-B under the study's rule, for either network: converged_ only when
    SciPy reports success and the gradient's largest entry is at most tol (its success
    also covers a line search that stalls). Leaves the estimator at the result."""
    result = minimize(
        negative_objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={
            "maxiter": estimator.max_iter,
            "maxfun": EVALUATIONS_PER_ITERATION * estimator.max_iter,
            "maxcor": estimator.memory,
            "gtol": estimator.tol,
            "ftol": 0.0,
        },
    )
    estimator._set_flat(result.x)
    estimator.optimizer_message_ = str(result.message)
    gradient_ok = result.jac is not None and np.max(np.abs(result.jac)) <= estimator.tol
    estimator.converged_ = bool(result.success and gradient_ok)
    if not estimator.converged_:
        warnings.warn(
            f"L-BFGS stopped after {estimator.n_iter_} iterations before the gradient's "
            f"largest entry fell to tol={estimator.tol}: {estimator.optimizer_message_}",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result


class LBFGSMLPClassifier(StochasticMLPBase):
    """EMMLPClassifier's model and objective, maximized by SciPy's L-BFGS-B.

    The model (m stochastic binary hidden units, softmax output), the penalty
    l2/2 * (||W||^2 + ||V||^2) (biases free) and the initial weights for a
    given random_state and n_hidden are EMMLPClassifier's, so both start from
    the same point. Each evaluation is one exact E-step, which gives the
    penalized log-likelihood and, by Fisher's identity, its exact gradient:
    X~^T (tau - u) - l2 W for the hidden layer, sum_z z~ (N_z - n_z o(z))^T - l2 V
    for the output layer.

    memory is L-BFGS's number of stored correction pairs (SciPy's maxcor). Its
    default, 50, was chosen by measurement: on standardized Iris and
    breast_cancer (m = 7, l2 = 0.1, five 80 % training parts, tol = 1e-5) the
    median E-steps to convergence were 136 and 191 with SciPy's default of 10,
    and 86 and 122 with 50 (100 saves a few more); the extra work per
    iteration is negligible next to an E-step.

    Stopping: SciPy's gtol is `tol`: training stops when the largest absolute
    entry of the gradient of the penalized log-likelihood (a sum over the
    examples, so it scales with n) is at most tol; its relative-reduction test
    (ftol) is switched off. Otherwise it stops after max_iter iterations, or
    when the line search can make no more progress at working precision.
    converged_ is True when SciPy reports success and the gradient criterion
    holds at the returned weights.

    e_step="variational" maximizes instead the mean-field bound F(theta) =
    max_mu ELBO(theta, mu) minus the penalty (DESIGN.md section 1d; the objective
    variational EM raises), at any n_hidden: each evaluation is one mean-field
    E-step (emnn.models.meanfield), warm-started from the last point's mu and run
    to a fixed point of tolerance `mean_field_tol`; at that fixed point the
    partial derivative in mu vanishes, so the gradient of F is the partial
    gradient of the ELBO in theta (the envelope theorem): X~^T (mu - u) - l2 W for
    the hidden layer, the output bound's gradient for the output layer, the same
    as variational EM's M-step gradients.

    history_["objective"][k] is the penalized log-likelihood after L-BFGS
    iteration k + 1 (with e_step="variational", history_["elbo"] holds the
    penalized bound instead and "objective" stays empty); n_iter_ counts
    iterations and n_estep_ the E-steps (one per function evaluation,
    line-search trials included).

    fit(X, y, monitor=None): `monitor(iteration, estimator)` is called with the
    initial weights (iteration 0) and after each iteration; returning True
    stops training.
    """

    def __init__(
        self,
        n_hidden=7,
        max_iter=1000,
        tol=1e-5,
        l2=0.1,
        memory=50,
        e_step="exact",
        mean_field_tol=1e-9,
        chunk_size=None,
        random_state=None,
    ):
        self.n_hidden = n_hidden
        self.e_step = e_step
        self.mean_field_tol = mean_field_tol
        self.max_iter = max_iter
        self.tol = tol
        self.l2 = l2
        self.memory = memory
        self.chunk_size = chunk_size
        self.random_state = random_state

    _parameter_rules: ClassVar[dict] = {
        "e_step": OneOf(E_STEPS),
        "mean_field_tol": Real(positive=True),
        "max_iter": Integer(),
        "tol": Real(),
        "l2": Real(),
        "memory": Integer(),
        "random_state": Seed(),
        "chunk_size": Integer(optional=True),
    }

    def _check_params(self):
        check_parameters(self)
        self._check_hidden(exact=self.e_step == "exact")

    def fit(self, X, y, monitor=None):
        X, y_index = self._begin(X, y)
        g = self.classes_.size
        Xt, Y = with_ones(X), one_hot(y_index, g)

        variational = self.e_step == "variational"
        self.history_ = {"objective": [], "log_likelihood": []}
        if variational:
            self.history_ = {"elbo": []}
        self.converged_ = False
        self.n_iter_ = 0
        self.n_estep_ = 0
        last = {}  # the last point evaluated, with its objective and log-likelihood
        evaluate = self._bound_and_gradient if variational else self._value_and_gradient

        def negative_objective(theta):
            post, objective, gradient = evaluate(theta, Xt, Y)
            self.n_estep_ += 1
            likelihood = getattr(post, "log_likelihood", None)
            last.update(theta=theta.copy(), objective=objective, ll=likelihood)
            return (-objective if np.isfinite(objective) else np.inf), -gradient

        def callback(intermediate_result):
            theta = intermediate_result.x
            self._set_flat(theta)
            if np.array_equal(theta, last["theta"]):
                objective, log_likelihood = last["objective"], last["ll"]
            else:  # SciPy reports a point other than the last one evaluated
                objective = -float(intermediate_result.fun)
                log_likelihood = objective + self._penalty()
            if variational:
                self.history_["elbo"].append(objective)
            else:
                self.history_["objective"].append(objective)
                self.history_["log_likelihood"].append(log_likelihood)
            self.n_iter_ += 1
            if monitor is not None and monitor(self.n_iter_, self):
                raise StopIteration

        self._mu = None  # the last mean-field fixed point, the next evaluation's start
        theta0 = self._get_flat()
        if monitor is not None:
            monitor(0, self)
        run_lbfgs(self, negative_objective, theta0, callback)
        self._mu = None
        return self

    def _bound_and_gradient(self, theta, Xt, Y):
        """Set the weights to theta; return the mean-field E-step there, the penalized
        bound F and its gradient (the envelope theorem; see the class docstring)."""
        self._set_flat(theta)
        (W, V), (b, c) = self.coefs_, self.intercepts_
        with np.errstate(over="ignore", invalid="ignore"):
            post = meanfield.e_step(Xt[:, :-1] @ W + b, Y, V, c, self._mu, tol=self.mean_field_tol)
            objective = post.elbo - self._penalty()
            if not np.isfinite(objective):
                return post, objective, np.zeros_like(theta)
            self._mu = post.hidden_means
            Wt, Vt = self._stacked()
            grad_w = mstep.hidden_gradient(Xt, post.hidden_means, Wt, self.l2)
            grad_v, _ = meanfield._output_derivatives(
                post.hidden_means, Y, Vt, self.l2, hessian=False
            )
        return post, objective, np.concatenate([grad_w.ravel(), grad_v.ravel()])
