"""Counts, lists and metric names in the words the paper uses ("3 of 20 runs", "iris,
wine and digits"), written once for every part's sentences and captions."""

from __future__ import annotations

from .markup import literal

METRIC_TEXT = {"accuracy": "test accuracy", "log_loss": "test log-loss"}
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
# How the paper names a hyperparameter that inner cross-validation chooses.
SEARCHED = {"l2": "the penalty $\\lambda$", "learning_rate": "the learning rate"}


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun: "1 split", "20 splits", "2 losses"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def in_words(n: int, noun: str) -> str:
    """A small count spelled out: "three datasets" (digits past eight)."""
    return f"{NUMBER_WORDS.get(n, n)} {noun}{'s' if n != 1 else ''}"


def count_of(count: int, total: int, noun: str = "runs") -> str:
    """ "3 of 20 runs", "none of 20 runs", "all 10 runs"."""
    if count == 0:
        return f"none of {total} {noun}" if total != 1 else f"not the one {noun[:-1]}"
    if count == total:
        return f"all {total} {noun}" if total > 1 else f"the one {noun[:-1]}"
    return f"{count} of {total} {noun}"


def join(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def series(parts: list[str]) -> str:
    """Clauses that themselves hold "and": "A, and B"; "A, B, and C"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + ", and " + parts[-1]


def names(items) -> str:
    """Names from the data (datasets, methods), each shown as typed, joined."""
    return join([literal(item) for item in items])
