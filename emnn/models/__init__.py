"""The classifiers of the study: NumPy, and SciPy's L-BFGS.

Imported on first use, like emnn's own exports: importing one model (emnn.models.em)
loads the modules it needs and no other model, so a training job depends on its
own model's code only.
"""

from ..core.lazy import lazy_exports

_EXPORTS = {
    "EMMLPClassifier": ".em",
    "LBFGSMLPClassifier": ".lbfgs",
    "SGDMLPClassifier": ".sgd",
    "MoEClassifier": ".moe",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
