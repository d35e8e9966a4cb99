"""Methods: a model kind and its hyperparameters, built into an estimator.

Each model is imported only when a method uses it, so a training job imports
(and its rule depends on) its own model's code and no other's.
"""

from __future__ import annotations

import importlib

# model kind -> (module, class)
MODELS = {
    "em": ("emnn.models.em", "EMMLPClassifier"),
    "lbfgs": ("emnn.models.lbfgs", "LBFGSMLPClassifier"),
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
