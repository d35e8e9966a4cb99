"""Methods: a model kind and its hyperparameters, built into an estimator.

Each model is imported only when a method uses it, so a training job imports
(and its rule depends on) its own model's code and no other's.
"""

from __future__ import annotations

import importlib

from ..core.errors import ConfigError
from ..core.names import config_key
from ..models.estep import MAX_EXACT_HIDDEN

# model kind -> (module, class)
MODELS = {
    "em": ("emnn.models.em", "EMMLPClassifier"),
    "lbfgs": ("emnn.models.lbfgs", "LBFGSMLPClassifier"),
    "lbfgs-deterministic": ("emnn.models.deterministic_lbfgs", "DeterministicLBFGSClassifier"),
    "sgd": ("emnn.models.sgd", "SGDMLPClassifier"),
    "sklearn-mlp": ("emnn.models.sklearn_mlp", "SklearnMLP"),
}


def model_module(model: str) -> str:
    return MODELS[model][0]


def estimator_class(model: str):
    module, name = MODELS[model]
    return getattr(importlib.import_module(module), name)


def build(model: str, params: dict, random_state=None):
    """The estimator for a method; a ValueError names an unknown hyperparameter."""
    estimator = estimator_class(model)()
    allowed = estimator.get_params()
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {', '.join(map(repr, unknown))} for model '{model}'; "
            f"it takes {', '.join(sorted(allowed))}"
        )
    return estimator.set_params(**{**params, "random_state": random_state})


def hidden_units(method: dict) -> int:
    """The number of hidden units a method trains with (its default if unset)."""
    return int(method["params"].get("n_hidden", estimator_class(method["model"])().n_hidden))


def check_values(model: str, params: dict) -> None:
    """Run the model's own checks of hyperparameter values (ranges, names of options)."""
    estimator = build(model, params)
    if hasattr(estimator, "_check_params"):
        estimator._check_params()


def check_method(name: str, method: dict, n_hidden: int | None = None) -> None:
    params = dict(method["params"])
    if n_hidden is not None:
        params["n_hidden"] = n_hidden
    where = f"config: method '{name}'" + (f" with n_hidden={n_hidden}" if n_hidden else "")
    if exact_e_step(method) and params.get("n_hidden", 0) > MAX_EXACT_HIDDEN:
        hint = (
            f"; set {config_key(('methods', name, 'params', 'e_step'))} to 'variational' or "
            "'monte-carlo' for more"
            if method["model"] == "em"
            else "; EM with e_step 'variational' or 'monte-carlo' (model: em) takes more"
        )
        raise ConfigError(
            f"{where}: the exact E-step takes at most {MAX_EXACT_HIDDEN} hidden units, got "
            f"{params['n_hidden']}: it enumerates all 2^n_hidden configurations for every "
            f"example and iteration{hint}"
        )
    for key, values in method.get("grid", {}).items():
        if key in ("random_state",) or (n_hidden is not None and key == "n_hidden"):
            raise ConfigError(f"{where}: '{key}' cannot be searched by the grid here")
        for value in values:
            _check_values(where, method["model"], {**params, key: value})
    inner = method.get("inner_params", {})
    if inner and not method.get("grid"):
        raise ConfigError(
            f"{where}: inner_params set without a grid: there is no inner cross-validation "
            f"for them to apply to; remove {config_key(('methods', name, 'inner_params'))} "
            "or add a grid"
        )
    if {"random_state", "n_hidden"} & set(inner) or set(inner) & set(method.get("grid", {})):
        raise ConfigError(
            f"{where}: inner_params may not set random_state, n_hidden or a key the grid "
            "searches: the inner fits must train the networks the grid compares"
        )
    if inner:
        _check_values(where, method["model"], {**params, **inner})
    _check_values(where, method["model"], params)


def exact_e_step(method: dict) -> bool:
    """Whether a method's training sums over all 2^m hidden configurations: EM and L-BFGS
    unless their params choose an approximate e_step."""
    return method["model"] in ("em", "lbfgs") and method["params"].get("e_step", "exact") == "exact"


def _check_values(where, model, params):
    try:
        check_values(model, params)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
