"""How the paper prints a value: numbers in fixed formats, parameters, and text for LaTeX.

Every number goes through number(), so the text is deterministic and the two
formats print the same digits; only the minus sign is spelled per format.
"""

from __future__ import annotations

import re

import numpy as np


def finite(value) -> bool:
    try:
        return value is not None and bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def short_exponent(text: str) -> str:
    """An exponent without its plus sign or leading zeros: 1e-06 -> 1e-6, 4.4e+14 -> 4.4e14."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", text).replace("e+", "e")


def sci(value) -> str:
    """A tolerance as Python writes it, without the exponent's leading zero: 1e-6."""
    if value is None:
        return "–"
    return short_exponent(f"{value:g}")


def scientific(value: float) -> str:
    """Three significant digits in scientific notation, 0 as itself: a column of gaps or
    differences that spans decades (1e-7 to 1e14) in one notation, so its rows compare."""
    return short_exponent(f"{value:.2e}") if value else "0"


def power_of_ten(value) -> str:
    """A tolerance as the text writes it, in paper math: $10^{-4}$, $5 \\times 10^{-5}$."""
    mantissa, exponent = f"{float(value):.0e}".split("e")
    power = f"10^{{{int(exponent)}}}"
    return f"${power}$" if mantissa == "1" else f"${mantissa} \\times {power}$"


FORMATS = {
    "accuracy": lambda v: f"{100 * v:.2f}",
    "diff_accuracy": lambda v: f"{100 * v:+.2f}",
    "log_loss": lambda v: f"{v:.3f}",
    "diff_log_loss": lambda v: f"{v:+.3f}",
    "p": lambda v: f"{v:#.3g}",
    "t": lambda v: f"{v:.2f}",
    "rate": lambda v: f"{100 * v:.0f}",
    "iterations": lambda v: f"{v:.1f}",
    "median": lambda v: f"{v:.0f}" if v == round(v) else f"{v:.1f}",
    "objective": lambda v: f"{v:.4f}",
    "gap": lambda v: short_exponent(f"{v:.3g}"),  # one value in a sentence: 0.00417, 4.17e14
    "sci": scientific,  # a table column whose values span decades
    "int": lambda v: f"{round(v)}",
    "seconds": lambda v: f"{v:.4g}",
    "ms": lambda v: f"{1e3 * v:.3g}",
}


def number(value, kind: str, minus: str = "-") -> str:
    """One number as the paper prints it: fixed decimals, so the text is deterministic.

    Accuracies are percentages with two decimals, log-losses three decimals,
    p-values three significant digits; a missing value is an en dash. A value that
    rounds to zero prints without a sign ("0.000", never "−0.000"): a sign there
    would claim a direction the printed digits do not show.
    """
    if not finite(value):
        return "–"
    text = FORMATS[kind](float(value))
    if not re.search(r"[1-9]", text.split("e")[0]):
        text = text.lstrip("+-")
    if text.startswith("-"):
        text = minus + text[1:]
    return text


def count_text(value) -> str:
    """A (median) count in a sentence: 1,176 with a thousands separator, 93.5 with its half."""
    return f"{int(value):,}" if float(value) == int(value) else number(value, "median")


def pct(value) -> str:
    return number(value, "accuracy", minus="−")


def signed_points(value) -> str:
    return number(value, "diff_accuracy", minus="−")


def fixed(value) -> str:
    return number(value, "log_loss", minus="−")


def pvalue(value) -> str:
    return number(value, "p", minus="−")


def params_text(params: dict) -> str:
    """key=value pairs in a stable order; floats in Python's shortest round-trip form."""
    return ", ".join(f"{key}={value_text(value)}" for key, value in sorted(params.items()))


def value_text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def date_text(iso: str) -> str:
    """A date of the config (YYYY-MM-DD) as the title block prints it: 21 November 2026."""
    year, month, day = (int(part) for part in str(iso).split("-"))
    return f"{day} {MONTHS[month - 1]} {year}"


TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    '"': r"\textquotedbl{}",
    "|": r"\textbar{}",
    "\u00a0": "~",  # a space that never breaks, as between a number and its unit
    # Characters pdflatex's UTF-8 input does not know.
    "−": r"$-$",
    "∝": r"$\propto$",
    "σ": r"$\sigma$",
    "λ": r"$\lambda$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "∈": r"$\in$",
    "→": r"$\rightarrow$",
    "ℓ": r"$\ell$",
    "∂": r"$\partial$",
    "θ": r"$\theta$",
}
_TEX_SPECIAL = re.compile("|".join(map(re.escape, TEX_ESCAPES)))
_ADJACENT_MATH = re.compile(r"(?<!\\)\$\$")


def tex_escape(value) -> str:
    """Text for LaTeX: every character that means something to TeX, spelled out."""
    text = _TEX_SPECIAL.sub(lambda match: TEX_ESCAPES[match.group()], str(value))
    # Two symbols in a row give "$a$$b$": one formula "$ab$" instead (never a display "$$").
    return _ADJACENT_MATH.sub("", text)


def tex_path_text(value) -> str:
    """A path in running LaTeX text, allowed to break after each slash."""
    return tex_escape(value).replace("/", r"/\allowbreak{}")
