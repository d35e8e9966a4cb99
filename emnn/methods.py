"""Methods: a model kind and its hyperparameters, built into an estimator."""

from __future__ import annotations

from .models import EMMLPClassifier, SGDMLPClassifier
from .sklearn_mlp import SklearnMLP

MODELS = {"em": EMMLPClassifier, "sgd": SGDMLPClassifier, "sklearn-mlp": SklearnMLP}


def build(model: str, params: dict, random_state=None):
    """The estimator for a method; a ValueError names an unknown hyperparameter."""
    estimator = MODELS[model]()
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
    return int(method["params"].get("n_hidden", MODELS[method["model"]]().n_hidden))


def check_values(model: str, params: dict) -> None:
    """Run the model's own checks of hyperparameter values (ranges, names of options)."""
    estimator = build(model, params)
    if hasattr(estimator, "_check_params"):
        estimator._check_params()
