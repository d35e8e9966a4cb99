"""emnn: an MLP with stochastic binary hidden units trained by exact EM, versus backprop."""

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emnn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# Public names, imported on first use: `import emnn.aggregate` loads no model, so a
# stage depends on (and re-runs after edits to) only the code it imports.
_EXPORTS = {
    "EMMLPClassifier": ".models.em",
    "LBFGSMLPClassifier": ".models.lbfgs",
    "SGDMLPClassifier": ".models.sgd",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
