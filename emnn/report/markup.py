"""Prose markup, written once and rendered to HTML and to LaTeX.

A sentence of the paper is plain Unicode text with two marks:

* `$...$` holds TeX mathematics (emnn.report.texmath): italic letters and
  scripts in HTML, the formula itself in LaTeX;
* `[@key]` cites an entry of references.bib: a numbered link in HTML,
  `\\cite{key}` in LaTeX.

`\\$`, `\\[` and `\\\\` stand for a literal dollar sign, bracket and backslash.
Names from the study are put into sentences with literal(), so a name holding
dollar signs or brackets is shown as typed. A dollar sign that does not open a
formula - none closes it, or what it encloses is not mathematics texmath knows
- is itself literal, so text that was never marked still renders.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from .. import latex
from . import texmath
from .formats import tex_escape

_CITATION = re.compile(r"\[@([A-Za-z0-9_:-]+)\]")
_ESCAPABLE = "\\$["


def literal(text) -> str:
    """Text shown as typed inside prose markup: its backslashes, dollar signs and
    brackets escaped."""
    return re.sub(r"([\\$\[])", r"\\\1", str(text))


def _closing(text: str, start: int) -> int | None:
    """The position of the dollar sign that closes a formula opened at `start`, if any.

    As in pandoc, the opening sign is followed by a non-space and the closing
    one preceded by a non-space and not followed by a digit ("$5 and $6" is money).
    """
    end = text.find("$", start + 1)
    if end <= start + 1 or text[start + 1].isspace() or text[end - 1].isspace():
        return None
    if end + 1 < len(text) and text[end + 1].isdigit():
        return None
    return end if texmath.is_math(text[start + 1 : end]) else None


def segments(text) -> list[tuple[str, str]]:
    """The pieces of a sentence, in order: ("text", ...), ("math", ...), ("cite", key)."""
    text, out, buffer, position = str(text), [], [], 0

    def flush():
        if buffer:
            out.append(("text", "".join(buffer)))
            buffer.clear()

    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text) and text[position + 1] in _ESCAPABLE:
            buffer.append(text[position + 1])
            position += 2
            continue
        if char == "$" and (end := _closing(text, position)) is not None:
            flush()
            out.append(("math", text[position + 1 : end]))
            position = end + 1
            continue
        if char == "[" and (match := _CITATION.match(text, position)):
            if buffer and buffer[-1].endswith(" "):
                buffer[-1] = buffer[-1][:-1]
            flush()
            out.append(("cite", match.group(1)))
            position = match.end()
            continue
        buffer.append(char)
        position += 1
    flush()
    return out


def html(text, refnum: dict) -> Markup:
    """Prose as HTML: text escaped, formulas typeset, citations as numbered links."""
    parts = []
    for kind, value in segments(text):
        if kind == "math":
            parts.append(texmath.html(value))
        elif kind == "cite" and value in refnum:
            parts.append(Markup(' <a class="cite" href="#ref-{0}">[{1}]</a>').format(
                value, refnum[value]))  # fmt: skip
        elif kind == "cite":
            parts.append(escape(f" [@{value}]"))
        else:
            parts.append(escape(value))
    return Markup("").join(parts)


def tex(text, refnum: dict) -> str:
    """Prose as LaTeX: text escaped (with the fonts' fallbacks), formulas as themselves,
    citations as \\cite."""
    parts: list[str] = []
    for kind, value in segments(text):
        if kind == "math":
            piece = f"${value}$"
        elif kind == "cite" and value in refnum:
            piece = f"~\\cite{{{value}}}"
        elif kind == "cite":
            piece = latex.text(tex_escape(f" [@{value}]"))
        else:
            piece = latex.text(tex_escape(value))
        if parts and parts[-1].endswith("$") and piece.startswith("$"):
            piece = "{}" + piece  # never "$$", which would open a display
        parts.append(piece)
    return "".join(parts)


def plain(text) -> str:
    """Prose as plain text (the formulas' TeX source kept between dollar signs)."""
    return "".join(
        f"${value}$" if kind == "math" else f"[@{value}]" if kind == "cite" else value
        for kind, value in segments(text)
    )
