"""emnn: an MLP with stochastic binary hidden units trained by exact EM, versus backprop."""

from importlib.metadata import PackageNotFoundError, version

from .core.lazy import lazy_exports

try:
    __version__ = version("emnn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# Public names, imported on first use: `import emnn.parts.main.aggregate` loads no model, so a
# stage depends on (and re-runs after edits to) only the code it imports.
_EXPORTS = {
    "EMMLPClassifier": ".models.em",
    "LBFGSMLPClassifier": ".models.lbfgs",
    "SGDMLPClassifier": ".models.sgd",
    "MoEClassifier": ".models.moe",
}

__all__ = [*_EXPORTS, "__version__"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
