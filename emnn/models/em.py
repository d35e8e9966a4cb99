"""The MLP with stochastic binary hidden units, trained by EM (Ng & McLachlan, 2004):
exact, or with a variational or Monte-Carlo E-step past 2^m configurations."""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import em_stack, meanfield, montecarlo, mstep
from .batch import warn_all
from .common import (
    SAMPLING_STREAM,
    Integer,
    OneOf,
    Real,
    Seed,
    check_parameters,
    one_hot,
    role_stream,
    with_ones,
)
from .stochastic import PREDICT_METHODS, StochasticMLPBase

E_STEPS = ("exact", "variational", "monte-carlo")
M_STEPS = ("newton", "gradient")
ACCELERATIONS = ("none", "squarem")
__all__ = ["ACCELERATIONS", "E_STEPS", "M_STEPS", "PREDICT_METHODS", "EMMLPClassifier"]

# With an approximate E-step, history_ also holds the exact objective while the
# exact E-step costs little: up to 2^12 configurations per example.
EXACT_HISTORY_MAX_HIDDEN = 12
# Monte-Carlo EM stops when the mean of its last MC_WINDOW objective estimates
# exceeds the mean of the MC_WINDOW before by at most tol (relative).
MC_WINDOW = 10
# The history_ key of each approximate E-step's training objective.
TRAINING_OBJECTIVE = {"variational": "elbo", "monte-carlo": "mc_objective"}

from .em_stack import SQUAREM_MAX_HALVINGS  # noqa: E402

DEFAULT_NEWTON_STEPS = 1


class EMMLPClassifier(StochasticMLPBase):
    """One hidden layer of m stochastic binary units, softmax output, trained by EM.

    P(z_h = 1 | x) = sigmoid(w_h.x + b_h) independently, P(y | z) = softmax(V z + c).
    The objective is the exact observed-data log-likelihood minus
    l2/2 * (||W||^2 + ||V||^2) (biases free). The E-step enumerates all 2^m
    configurations exactly (unless e_step says otherwise, below). The M-step
    raises Q(Psi | Psi_k), whose two halves (m logistic regressions for W, one
    weighted multinomial regression for V) are concave:

    * m_step="newton": guarded Newton steps (each halved until its half of Q
      does not decrease), warm-started from the current weights.
      newton_steps=None solves each half to tolerance (Newton decrement 1e-12,
      classical EM); an integer k takes at most k steps per half (a
      generalized EM, GEM). Both are monotone, and both have the fixed points
      of EM. The default, newton_steps=1, was chosen by measurement on
      standardized Iris (m = 7, l2 = 0.1, training parts of 120 rows, one BLAS
      thread): an iteration costs about 0.8 ms with one Newton step per half
      against 1.4 ms with each half solved (the E-step is 0.3 ms of either),
      and the iterations hardly change (median 1,388 against 1,560 E-steps to
      within 1e-6 of the best objective over five splits), so it converges in
      about half the time. Two or three steps per half cost more per
      iteration and saved no iterations; on the SQUAREM map one step was also
      the faster choice (`python -m emnn.parts.timing.bench` prints these figures).
    * m_step="gradient": `inner_steps` gradient-ascent steps of size
      `learning_rate` on each half of Q (the originating study's update; one
      step is full-batch gradient ascent on the objective, by Fisher's
      identity). A step that would lower its half of Q is halved until it does
      not, so this variant is monotone too on data of any scale.

    acceleration="squarem" wraps the EM map in SQUAREM (Varadhan & Roland,
    2008, scheme S3) on the flat parameter vector theta = (W~, V~), biases
    included. From theta0, two EM maps give theta1, theta2; r = theta1 - theta0,
    v = theta2 - theta1 - r, alpha = -||r|| / ||v|| clipped to at most -1,
    theta' = theta0 - 2 alpha r + alpha^2 v, and one stabilizing EM map from
    theta' gives the cycle's result, unless its objective is below that at
    theta2 (or not finite): then alpha <- (alpha - 1) / 2, toward -1, at most
    10 times, and finally the cycle keeps theta2 (as it does when v = 0). So
    the objective never decreases from cycle to cycle.

    e_step chooses the E-step (DESIGN.md section 1d):

    * "exact" (default): all 2^m configurations; n_hidden at most 24.
    * "variational": mean-field q(z | x, y) = prod_h Bernoulli(mu_h), damped and
      guarded fixed-point updates warm-started from the last iteration
      (emnn.models.meanfield). EM then maximizes the evidence lower bound
      (ELBO, never above the exact log-likelihood) minus the penalty, and the
      ELBO never decreases. Cost O(n m g) per sweep: any n_hidden.
    * "monte-carlo": self-normalized importance sampling with n_samples draws
      per example from p(z | x), weighted by o_y(z) (emnn.models.montecarlo);
      fresh draws from the model's own seed every iteration. The M-step for V
      runs on the distinct sampled configurations with Boehning's bound as its
      Newton matrix. The objective is an estimate, so it is not monotone;
      training stops when the mean of the last 10 estimates exceeds the mean of
      the 10 before by at most tol (relative), a plateau. Any n_hidden.

    Both approximate E-steps take m_step="newton"; the variational one also
    takes acceleration="squarem" (the E-step at the extrapolated point starts
    from the last mu, and the ELBO is the objective SQUAREM guards).
    history_ records the training objective under its own name:
    history_["elbo"] (penalized ELBO) or history_["mc_objective"] (penalized
    Monte-Carlo estimate of the objective), one entry per iteration; there
    history_["objective"] and history_["log_likelihood"] hold the exact
    penalized and unpenalized log-likelihood after each iteration only while
    n_hidden <= 12 (they cost an exact E-step each), and stay empty beyond.
    n_estep_ counts the approximate E-steps. predict_proba: see
    StochasticMLPBase.predict_proba (exact up to n_hidden = 24, Monte Carlo
    beyond, mean-field on request).

    One iteration (an entry of history_, counted by n_iter_ and max_iter, and
    reported to monitor) is one EM iteration (M-step then E-step) without
    acceleration, and one SQUAREM cycle (two EM maps and, unless they did not
    move, an extrapolation and a stabilizing map) with it. Training stops when
    the objective changes by at most tol (relative) between iterations, that
    is between cycles with SQUAREM. n_estep_ counts the E-steps fit evaluated: one per EM
    iteration plus the initial one, and with SQUAREM every E-step of every
    cycle (its two EM maps, the extrapolated point, the stabilizing map, and
    each retry after halving alpha).

    fit(X, y, monitor=None): `monitor(iteration, estimator)` is called with the
    initial weights (iteration 0) and after each iteration; returning True
    stops training. With the exact E-step, emnn.models.batch.fit_together trains
    many of these at once (emnn.models.em_stack), each as fit would.
    """

    def __init__(
        self,
        n_hidden=7,
        e_step="exact",
        n_samples=64,
        m_step="newton",
        newton_steps=DEFAULT_NEWTON_STEPS,
        acceleration="none",
        max_iter=200,
        tol=1e-6,
        l2=0.1,
        learning_rate=0.005,
        inner_steps=1,
        chunk_size=None,
        random_state=None,
    ):
        self.n_hidden = n_hidden
        self.e_step = e_step
        self.n_samples = n_samples
        self.m_step = m_step
        self.newton_steps = newton_steps
        self.acceleration = acceleration
        self.max_iter = max_iter
        self.tol = tol
        self.l2 = l2
        self.learning_rate = learning_rate
        self.inner_steps = inner_steps
        self.chunk_size = chunk_size
        self.random_state = random_state

    _parameter_rules: ClassVar[dict] = {
        "e_step": OneOf(E_STEPS),
        "m_step": OneOf(M_STEPS),
        "acceleration": OneOf(ACCELERATIONS),
        "n_samples": Integer(),
        "newton_steps": Integer(optional=True, why=" (or None, to solve each M-step)"),
        "max_iter": Integer(),
        "inner_steps": Integer(),
        "tol": Real(),
        "l2": Real(),
        "learning_rate": Real(positive=True),
        "random_state": Seed(),
        "chunk_size": Integer(optional=True),
    }

    def _check_params(self):
        check_parameters(self)
        self._check_hidden(exact=self.e_step == "exact")
        if self.e_step != "exact" and self.m_step != "newton":
            raise ValueError(f"e_step={self.e_step!r} takes m_step='newton', got {self.m_step!r}")
        if self.e_step == "monte-carlo" and self.acceleration != "none":
            raise ValueError(
                "e_step='monte-carlo' takes acceleration='none' (SQUAREM needs a deterministic "
                f"objective), got {self.acceleration!r}"
            )

    # ------------------------------------------------------------------ training

    def fit(self, X, y, monitor=None):
        if self.e_step == "exact":
            (messages,) = self._fit_batch([self], [(X, y)], [monitor])
            warn_all(messages, ConvergenceWarning)
            return self
        X, y_index = self._begin(X, y)
        g = self.classes_.size
        self._sampler = role_stream(self.seed_entropy_, SAMPLING_STREAM)
        Xt, Y = with_ones(X), one_hot(y_index, g)

        self.n_estep_ = 0
        post = self._counted_e_step(Xt, Y)
        objective = self._objective(post)
        if not np.isfinite(objective):
            raise FloatingPointError(f"EM objective is {objective} at the initial weights")
        self.history_ = {"objective": [], "log_likelihood": []}
        if self.e_step != "exact":
            self.history_[TRAINING_OBJECTIVE[self.e_step]] = []
        self.converged_ = False
        self.n_iter_ = 0
        if monitor is not None:
            monitor(0, self)
        iterate = self._squarem_cycle if self.acceleration == "squarem" else self._em_iteration
        for iteration in range(1, self.max_iter + 1):
            post, previous, objective = iterate(Xt, Y, post, objective)
            self._record(Xt, Y, post, objective)
            self.n_iter_ = iteration
            if not np.isfinite(objective):
                raise FloatingPointError(
                    f"EM objective became {objective} at iteration {iteration}"
                )
            if monitor is not None and monitor(iteration, self):
                break
            if self._has_converged(previous, objective):
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

    # ------------------------------------------------------------ training in stacks

    def _batch_key(self, X):
        """Exact EM trains in stacks (emnn.models.em_stack); the approximate E-steps alone."""
        if self.e_step != "exact":
            return None
        shape = np.shape(X)[1] if np.ndim(X) == 2 else None
        return (shape, self.n_hidden, self.m_step, self.newton_steps, self.acceleration,
                self.inner_steps, self.chunk_size)  # fmt: skip

    @classmethod
    def _fit_batch(cls, estimators, data, monitors) -> list[list[str]]:
        """Fit each estimator on its own data, all in one loop (see emnn.models.batch)."""
        nets = [est._start(X, y, monitor) for est, (X, y), monitor in
                zip(estimators, data, monitors, strict=True)]  # fmt: skip
        groups: dict[tuple, list[em_stack.Network]] = {}
        for net in nets:
            groups.setdefault((net.Xt.shape[1], net.Y.shape[1]), []).append(net)
        for group in groups.values():
            em_stack.train(group)
        for net in nets:
            net.estimator._finish(net)
        for net in nets:
            if net.error is not None:
                raise net.error
        return [net.messages for net in nets]

    def _start(self, X, y, monitor) -> em_stack.Network:
        X, y_index = self._begin(X, y)
        g = self.classes_.size
        self._sampler = role_stream(self.seed_entropy_, SAMPLING_STREAM)
        self.history_ = {"objective": [], "log_likelihood": []}
        self.converged_ = False
        self.n_iter_ = self.n_estep_ = 0
        Wt, Vt = self._stacked()
        return em_stack.Network(self, with_ones(X), one_hot(y_index, g), Wt, Vt, monitor)

    def _finish(self, net: em_stack.Network) -> None:
        self._set_stacked(net.Wt, net.Vt)
        self.history_ = net.history
        self.n_iter_, self.n_estep_, self.converged_ = net.n_iter, net.n_estep, net.converged
        if not self.converged_ and net.error is None:
            net.messages.append(
                f"EM stopped after {self.n_iter_} iterations before the relative change of "
                f"the objective fell below tol={self.tol}"
            )

    def _record(self, Xt, Y, post, objective):
        if self.e_step == "exact":
            self.history_["objective"].append(objective)
            self.history_["log_likelihood"].append(post.log_likelihood)
            return
        self.history_[TRAINING_OBJECTIVE[self.e_step]].append(objective)
        if self.n_hidden <= EXACT_HISTORY_MAX_HIDDEN:
            exact = self._e_step(Xt, Y, with_counts=False).log_likelihood
            self.history_["objective"].append(exact - self._penalty())
            self.history_["log_likelihood"].append(exact)

    def _has_converged(self, previous, objective):
        if self.e_step != "monte-carlo":
            return abs(objective - previous) <= self.tol * max(abs(previous), 1e-300)
        trace = self.history_["mc_objective"]
        if len(trace) < 2 * MC_WINDOW:
            return False
        before = np.mean(trace[-2 * MC_WINDOW : -MC_WINDOW])
        return np.mean(trace[-MC_WINDOW:]) - before <= self.tol * max(abs(before), 1e-300)

    def _objective(self, post) -> float:
        """The training objective: penalized log-likelihood, ELBO or MC estimate."""
        if isinstance(post, meanfield.MeanFieldEStep):
            return post.elbo - self._penalty()
        return post.log_likelihood - self._penalty()

    def _counted_e_step(self, Xt, Y, previous=None):
        """The E-step at the current weights; a variational one starts from previous's mu."""
        self.n_estep_ += 1
        if self.e_step == "exact":
            return self._e_step(Xt, Y)
        (W, V), (b, c) = self.coefs_, self.intercepts_
        A = Xt[:, :-1] @ W + b
        if self.e_step == "variational":
            start = None if previous is None else previous.hidden_means
            return meanfield.e_step(A, Y, V, c, start)
        return montecarlo.e_step(A, Y, V, c, self.n_samples, self._sampler)

    def _em_map(self, Xt, Y, post):
        """One EM map from the current weights (whose E-step is post): M-step, E-step."""
        self._m_step(Xt, post)
        post = self._counted_e_step(Xt, Y, post)
        return post, self._objective(post)

    def _em_iteration(self, Xt, Y, post, objective):
        new_post, new_objective = self._em_map(Xt, Y, post)
        return new_post, objective, new_objective

    def _squarem_cycle(self, Xt, Y, post, objective):
        """One SQUAREM (S3) cycle from the current weights theta0; see the class docstring."""
        theta0 = self._get_flat()
        post1, _ = self._em_map(Xt, Y, post)
        theta1 = self._get_flat()
        post2, objective2 = self._em_map(Xt, Y, post1)
        theta2 = self._get_flat()
        r = theta1 - theta0
        v = theta2 - theta1 - r
        norm_r, norm_v = np.linalg.norm(r), np.linalg.norm(v)
        if not (norm_v > 0 and np.isfinite(objective2)):  # no curvature to extrapolate along
            return post2, objective, objective2
        alpha = min(-norm_r / norm_v, -1.0)
        for _ in range(SQUAREM_MAX_HALVINGS + 1):
            self._set_flat(theta0 - 2.0 * alpha * r + alpha**2 * v)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                post_x = self._counted_e_step(Xt, Y, post2)
                if np.isfinite(self._objective(post_x)):
                    try:
                        post_s, objective_s = self._em_map(Xt, Y, post_x)
                    except np.linalg.LinAlgError:  # a singular Newton system far out
                        objective_s = -np.inf
                    if np.isfinite(objective_s) and objective_s >= objective2:
                        return post_s, objective, objective_s
            if alpha == -1.0:
                break
            alpha = (alpha - 1.0) / 2.0
        self._set_flat(theta2)
        return post2, objective, objective2

    def _m_step(self, Xt, post):
        Wt, Vt = self._stacked()
        T = post.hidden_means
        steps = self.newton_steps
        if self.m_step == "newton":
            Wt, _ = mstep.newton_hidden(Xt, T, Wt, self.l2, steps)
            if isinstance(post, meanfield.MeanFieldEStep):
                Vt, _ = meanfield.newton_output(T, post.targets, Vt, self.l2, steps)
            else:
                configurations = getattr(post, "configurations", None)
                Vt, _ = mstep.newton_output(post.class_counts, Vt, self.l2, steps, configurations)
        else:
            N = post.class_counts
            for _ in range(self.inner_steps):
                Wt, Vt = mstep.guarded_gradient_step(Xt, T, N, Wt, Vt, self.l2, self.learning_rate)
        self._set_stacked(Wt, Vt)
