"""The two classifiers of the study, NumPy only."""

from .em import EMMLPClassifier
from .sgd import SGDMLPClassifier

__all__ = ["EMMLPClassifier", "SGDMLPClassifier"]
