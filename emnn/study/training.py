"""One job of the study: one method trained and evaluated on one split of one dataset."""

from __future__ import annotations

import logging
import time

import numpy as np

from ..core import provenance, records
from ..core.errors import ConfigError
from ..core.seeds import job_seeds, start_seeds
from ..data.datasets import load_dataset
from ..data.splits import prepare, split_indices
from ..models.batch import fit_together, time_shares
from ..models.scoring import cross_scores, hidden_units_used, stochastic_predictor
from .config import spec_hash
from .methods import build, model_module
from .selection import select_params

log = logging.getLogger("emnn.run")

PROGRESS_SECONDS = 10.0  # a long fit logs its progress at this pace


def run_splits(spec: dict, splits: list[int] | None = None) -> list[tuple[dict, dict]]:
    """Records and timings of the given splits (all when None), loading the data once and
    training every split's networks together (emnn.models.batch)."""
    data_spec, method = spec["dataset"], spec["method"]
    dataset = load_dataset(data_spec["name"], data_spec)
    split_spec = data_spec["splits"]
    split_seed = job_seeds(spec["seed"], dataset.name, 0)["split"]["seed"]
    pairs = split_indices(dataset.y, split_spec, split_seed)
    if splits is None:
        # A job of study.scaling alone runs the first `first_splits` paired splits.
        splits = list(range(min(len(pairs), spec.get("first_splits", len(pairs)))))
    for k in splits:
        if not 0 <= k < len(pairs):
            raise ConfigError(
                f"split {k} does not exist: dataset '{dataset.name}' has splits 0..{len(pairs) - 1}"
            )
    files = provenance.train_sources(model_module(method["model"]))
    common = {
        "schema_version": records.SCHEMA_VERSION,
        "method": {k: method[k] for k in ("name", "model")},
        "provenance": {
            "code": provenance.code(files),
            "config_sha256": spec_hash(spec),
            "versions": {
                k: v
                for k, v in provenance.versions().items()
                if k in ("emnn", "python", "numpy", "scipy", "scikit-learn")
            },
        },
    }
    standardize = split_spec["standardize"]
    jobs = [_SplitJob(dataset, method["name"], k, pairs[k], standardize, spec["seed"])
            for k in splits]  # fmt: skip

    started = time.perf_counter()
    chosen = select_params(method, [(job.X_train, job.y_train, job.seeds) for job in jobs])
    selection_seconds = time.perf_counter() - started
    n_starts = method.get("starts", 1)
    starts = [(job, start) for job in jobs for start in job.starts(n_starts)]
    estimators = [
        build(method["model"], params, random_state=start["seed"])
        for (job, start), (params, _) in zip(
            starts, [c for c in chosen for _ in range(n_starts)], strict=True
        )
    ]
    log.info(
        "%s/%s: training %d %s together (splits %s%s)", dataset.name, method["name"],
        len(estimators), type(estimators[0]).__name__, _span(splits),
        f", {n_starts} starts each" if n_starts > 1 else "",
    )  # fmt: skip
    trackers = [job.tracker if n_starts == 1 else job.new_tracker(f"start {r % n_starts}")
                for r, (job, _) in enumerate(starts)]  # fmt: skip
    started = time.perf_counter()
    messages = fit_together(estimators, [(job.X_train, job.y_train) for job, _ in starts], trackers)
    fit_seconds = time.perf_counter() - started - sum(t.overhead for t in trackers)
    fits = time_shares(fit_seconds, [estimator.n_iter_ for estimator in estimators])
    results = []
    for j, (job, (_, selection)) in enumerate(zip(jobs, chosen, strict=True)):
        mine = range(j * n_starts, (j + 1) * n_starts)
        best = job.keep_best([(estimators[i], trackers[i]) for i in mine]) + j * n_starts
        shares = {"fit_seconds": sum(fits[i] for i in mine),
                  "selection_seconds": selection_seconds / len(jobs)}  # fmt: skip
        results.append(
            _record(
                spec,
                job,
                estimators[best],
                selection,
                messages[best],
                common,
                shares,
                len(estimators),
            )
        )
    return results


def _span(splits) -> str:
    return f"{splits[0]}..{splits[-1]}" if len(splits) > 1 else str(splits[0])


class _SplitJob:
    """One split of a job: its data, seeds, notes and the tracker of its final fit."""

    def __init__(self, dataset, method_name, split, pair, standardize, root):
        self.dataset, self.split = dataset, split
        self.label = f"{dataset.name}/{method_name} split {split}"
        self.seeds = job_seeds(root, dataset.name, split)
        self.train, self.test = pair
        self.standardize = standardize
        self.X_train, self.X_test = prepare(dataset.X, self.train, self.test, standardize)
        self.y_train, self.y_test = dataset.y[self.train], dataset.y[self.test]
        self.notes = data_notes(dataset, self.train, self.test, standardize)
        for note in self.notes:
            log.warning("%s: %s", self.label, note)
        self.tracker = self.new_tracker()
        self.started_from: list[dict] | None = None  # each start's seed and end, with starts

    def new_tracker(self, start: str = "") -> Tracker:
        label = f"{self.label} {start}".strip()
        data = (self.X_train, self.y_train, self.X_test, self.y_test)
        return Tracker(label, self.dataset.n_classes, *data)

    def starts(self, n_starts: int) -> list[dict]:
        """The seeds of the split's initial weights: the main study's, or with n_starts > 1
        that many of their own (seed role 3)."""
        if n_starts == 1:
            return [self.seeds["init"]]
        self.seeds = {k: v for k, v in self.seeds.items() if k != "init"}  # none uses it
        self.seeds["starts"] = start_seeds(
            self.seeds["root"], self.dataset.name, self.split, n_starts
        )
        return self.seeds["starts"]

    def keep_best(self, fitted: list) -> int:
        """Of the split's (estimator, tracker) starts, keep the one whose final training
        objective is highest (the first of equals) as the split's run; its index."""
        for estimator, tracker in fitted:
            tracker.finish(estimator)
        ends = [tracker.history["train_objective"][-1] for _, tracker in fitted]
        best = int(np.argmax(ends))
        if len(fitted) > 1:
            self.tracker = fitted[best][1]
            self.started_from = [
                {**seed, "train_objective": end, "converged": bool(estimator.converged_),
                 "iterations": int(estimator.n_iter_)}
                for seed, end, (estimator, _) in zip(self.seeds["starts"], ends, fitted,
                                                     strict=True)
            ]  # fmt: skip
            log.info("%s: kept start %d of %d (objective %.10g)", self.label, best,
                     len(fitted), ends[best])  # fmt: skip
        return best


def _record(spec, job, estimator, selection, messages, common, shares, together):
    """The run record and timings of one split's final fit."""
    dataset, method, tracker = job.dataset, spec["method"], job.tracker
    tracker.finish(estimator)
    notes = list(job.notes)
    for message in messages:
        notes.append(message)
        log.warning("%s: %s", job.label, message)
    last = {key: values[-1] for key, values in tracker.history.items()}
    log.info(
        "%s: done after %d iterations, test accuracy %.4f, test log-loss %.4f",
        job.label, estimator.n_iter_, last["test_accuracy"], last["test_log_loss"],
    )  # fmt: skip

    summary = dataset.summary()
    summary.update(
        n_train=len(job.train),
        n_test=len(job.test),
        standardize=job.standardize,
        teacher_test_log_loss=dataset.teacher_log_loss(job.test),
    )
    record = {
        **common,
        "dataset": summary,
        "split": {
            "index": job.split,
            **spec["dataset"]["splits"],
            "train_indices": job.train,
            "test_indices": job.test,
        },
        "method": {
            **common["method"],
            "params": estimator.get_params(),
            "selection": selection,
            **({"starts": job.started_from} if job.started_from else {}),
        },
        "seeds": job.seeds,
        "metrics": {
            "test_accuracy": last["test_accuracy"],
            "test_log_loss": last["test_log_loss"],
            "train_accuracy": last["train_accuracy"],
            "train_objective": last["train_objective"],
            "objective": objective_kind(estimator),
            "predictor": tracker.predictor(estimator),
            "iterations": estimator.n_iter_,
            "n_estep": getattr(estimator, "n_estep_", None),
            "converged": estimator.converged_,
            # How near a stationary point of the exact objective the run ended, whatever its
            # rule (EM's is a relative change of the objective): None for other objectives.
            "gradient_max": (
                estimator.gradient_max(job.X_train, job.y_train)
                if hasattr(estimator, "gradient_max")
                else None
            ),
            "hidden_units_used": hidden_units_used(estimator),
        },
        "cross_scores": cross_scores(
            estimator, dataset.n_classes, job.X_train, job.y_train, job.X_test, job.y_test
        ),
        "history": tracker.history,
        "notes": notes,
    }
    timing = {
        "dataset": dataset.name,
        "method": method["name"],
        "n_hidden": estimator.get_params()["n_hidden"],
        "split": job.split,
        # The job trains its networks together: each run's share of the wall time of the
        # final fits (by iterations) and of the inner cross-validation, and how many shared it.
        **shares,
        "trained_together": together,
        "iteration": tracker.history["iteration"],
    }
    return records.jsonable(record), records.jsonable(timing)


def data_notes(dataset, train, test, standardize: bool) -> list[str]:
    """What a user should know about this split's data before reading its results."""
    notes = []
    absent = [
        dataset.classes[c] for c in np.setdiff1d(np.arange(dataset.n_classes), dataset.y[test])
    ]
    if absent:
        notes.append(f"class(es) {', '.join(map(repr, absent))} absent from the test part")
    spread = dataset.X[train].std(axis=0)
    constant = [name for name, s in zip(dataset.feature_names, spread, strict=True) if s == 0]
    if constant:
        notes.append(f"feature(s) {', '.join(map(repr, constant))} constant in the training part")
    varying = spread[spread > 0]
    largest = float(np.abs(dataset.X[train]).max())
    if not standardize and varying.size and (largest > 1e3 or varying.max() > 1e3 * varying.min()):
        notes.append(
            f"features are not standardized and their scales differ widely (largest |value| "
            f"{largest:.3g}, spreads from {varying.min():.3g} to {varying.max():.3g}); "
            "training may be slow or diverge: consider standardize: true"
        )
    return notes


def objective_kind(estimator) -> str:
    """Which likelihood the method maximizes: the stochastic-unit network's exact
    marginal, or the deterministic (mean-field) network's."""
    return "exact" if hasattr(estimator, "log_likelihood") else "mean-field"


# Iterations whose metrics a run records: every one up to 20, then a grid about 10 %
# apart (and the last, by Tracker.finish), so 10,000 EM iterations keep about 90 rows.
RECORDED = frozenset(range(21)) | {round(20 * 1.1**j) for j in range(250)}


def recorded(iteration: int) -> bool:
    return iteration in RECORDED


def mean_log_loss(proba, y) -> float:
    """Mean -log p(y | x), probabilities clipped at machine epsilon as scikit-learn's
    log_loss does (which costs milliseconds a call in input checks)."""
    chosen = np.clip(proba[np.arange(len(y)), y], np.finfo(np.float64).eps, 1.0)
    return float(-np.log(chosen).mean())


class Tracker:
    """The monitor handed to fit: per-iteration metrics, training time, progress."""

    def __init__(self, label, n_classes, X_train, y_train, X_test, y_test):
        self.label, self.n_classes = label, n_classes
        self.y_train, self.y_test = y_train, y_test
        self.X_both = np.vstack([X_train, X_test])  # one prediction call per iteration
        self.history = {
            key: []
            for key in (
                "iteration",
                "n_estep",
                "train_objective",
                "train_accuracy",
                "test_accuracy",
                "test_log_loss",
            )
        }
        self.overhead = 0.0  # time spent here, not training
        self.started = time.perf_counter()
        self.last_log = self.started

    def __call__(self, iteration, estimator):
        # A Monte-Carlo prediction of every row costs about an iteration of the fit
        # itself: those runs record their initial and (by finish) final weights only.
        sparse = self.predictor(estimator) == "monte-carlo"
        if iteration == 0 or (recorded(iteration) and not sparse):
            self.record(iteration, estimator)
        elif time.perf_counter() - self.last_log >= PROGRESS_SECONDS:
            log.info("%s: iteration %d", self.label, iteration)
            self.last_log = time.perf_counter()
        return False

    def finish(self, estimator):
        """Record the final weights if the last iteration was not on the grid."""
        if not self.history["iteration"] or self.history["iteration"][-1] != estimator.n_iter_:
            self.record(estimator.n_iter_, estimator)

    def record(self, iteration, estimator):
        entered = time.perf_counter()
        P_both = self.proba(estimator, self.X_both)
        P_train, P_test = P_both[: len(self.y_train)], P_both[len(self.y_train) :]
        rows = np.arange(len(self.y_train))
        W, V = estimator.coefs_[0], estimator.coefs_[-1]
        penalty = 0.5 * estimator.l2 * float((W**2).sum() + (V**2).sum())
        # A probability that underflowed to 0 counts as the smallest positive float.
        likelihood = np.maximum(P_train[rows, self.y_train], np.finfo(np.float64).tiny)
        objective = float(np.log(likelihood).sum()) - penalty
        values = {
            "iteration": iteration,
            "n_estep": getattr(estimator, "n_estep_", None),
            "train_objective": objective,
            "train_accuracy": float((P_train.argmax(axis=1) == self.y_train).mean()),
            "test_accuracy": float((P_test.argmax(axis=1) == self.y_test).mean()),
            "test_log_loss": mean_log_loss(P_test, self.y_test),
        }
        for key, value in values.items():
            self.history[key].append(value)
        now = time.perf_counter()
        if now - self.last_log >= PROGRESS_SECONDS:
            log.info("%s: iteration %d, objective %.6g", self.label, iteration, objective)
            self.last_log = now
        self.overhead += time.perf_counter() - entered

    @staticmethod
    def predictor(estimator) -> str:
        """The predictor a model is scored with: a model of the stochastic-unit network
        (EM, L-BFGS) by its marginal, exact or Monte Carlo (emnn.models.scoring); any other by
        its own predict_proba, the deterministic network."""
        if hasattr(estimator, "log_likelihood"):
            return stochastic_predictor(estimator.n_hidden)
        return "mean-field"

    def proba(self, estimator, X):
        """Probabilities over all the dataset's classes, whichever the model saw."""
        full = np.zeros((len(X), self.n_classes))
        predictor = self.predictor(estimator)
        if predictor == "mean-field":
            full[:, estimator.classes_] = estimator.predict_proba(X)
        else:
            full[:, estimator.classes_] = estimator.predict_proba(X, method=predictor)
        return full
