"""The classifiers of the study: NumPy, and SciPy's L-BFGS.

Imported on first use, like emnn's own exports: importing one model (emnn.models.em)
loads the modules it needs and no other model, so a training job depends on its
own model's code only.
"""

import importlib

_EXPORTS = {
    "EMMLPClassifier": ".em",
    "LBFGSMLPClassifier": ".lbfgs",
    "SGDMLPClassifier": ".sgd",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
