"""emnn: an MLP with stochastic binary hidden units trained by exact EM, versus backprop."""

from importlib.metadata import PackageNotFoundError, version

from .models import EMMLPClassifier, SGDMLPClassifier

try:
    __version__ = version("emnn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["EMMLPClassifier", "SGDMLPClassifier", "__version__"]
