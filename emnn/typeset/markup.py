"""Prose markup, written once and rendered to HTML and to LaTeX.

A sentence of the paper is plain Unicode text with a few marks:

* `$...$` holds TeX mathematics (emnn.typeset.texmath): italic letters and
  scripts in HTML, the formula itself in LaTeX;
* `[@key]` cites an entry of references.bib: a numbered link in HTML,
  `\\cite{key}` in LaTeX;
* `[#anchor]` refers to a table, figure, section, appendix or equation by the
  number the outline gives it (tab-, fig-, sec-, sub-, app-, eq- anchors);
* `**bold**`, `*italic*`, and `` `code` ``, which LaTeX sets in typewriter type
  with `--` kept as two hyphens, so a command copied from the PDF runs.

`\\$`, `\\[`, `\\\\`, `\\*`, `` \\` `` and `\\'` stand for the character itself. An
apostrophe of the prose is set as a typographic one (’) in both formats. Names from
the study are put into sentences with literal(), so a name holding any of these
is shown as typed. A mark that does not open - a dollar sign that no formula
follows, a star before a space, an unknown anchor - is itself literal, so text
that was never marked still renders.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from . import latex, texmath
from .formats import tex_escape, tex_path_text

_CITATION = re.compile(r"\[@([A-Za-z0-9_:-]+)\]")
_REFERENCE = re.compile(r"\[#([A-Za-z][\w:.-]*)\]")
_HASH = re.compile(r"[0-9a-f]{32,}")
_UNIT_SPACE = re.compile(r"(?<=\d) (?=%)")  # "96.67 %" never breaks before its sign
_ESCAPABLE = "\\$[*`'"
# How LaTeX refers to each kind of anchor; appendices are labelled as sections.
_TEX_REFS = {
    "tab": r"Table~\ref{{{0}}}",
    "fig": r"Figure~\ref{{{0}}}",
    "sec": r"Section~\ref{{{0}}}",
    "sub": r"Section~\ref{{{0}}}",
    "app": r"Appendix~\ref{{sec-{1}}}",
    "eq": r"\eqref{{{0}}}",
}
_EMPHASIS = {"**": "bold", "*": "italic"}


def literal(text) -> str:
    """Text shown as typed inside prose markup: every character that could open a
    mark escaped with a backslash."""
    return re.sub(r"([\\$\[*`'])", r"\\\1", str(text))


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


def _emphasis(text: str, position: int) -> str | None:
    """The emphasis delimiter ("**" or "*") at position, if there is one."""
    if text.startswith("**", position):
        return "**"
    return "*" if text[position] == "*" else None


def _opens(text: str, position: int, mark: str) -> bool:
    """A delimiter opens emphasis when a non-space follows and the same one comes later."""
    after = position + len(mark)
    if after >= len(text) or text[after].isspace():
        return False
    later = text.find(mark, after)
    return later > after and (mark == "**" or not text.startswith("**", later))


def _code(text: str, start: int) -> tuple[str, int] | None:
    """The code opened by the backquote at start, its escapes undone, and the position
    after its closing backquote; None if no backquote closes it or it is empty."""
    shown, position = [], start + 1
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text) and text[position + 1] in _ESCAPABLE:
            shown.append(text[position + 1])
            position += 2
        elif char == "`":
            return ("".join(shown), position + 1) if shown else None
        else:
            shown.append(char)
            position += 1
    return None


def segments(text) -> list[tuple[str, str]]:
    """The pieces of a sentence, in order: ("text", ...), ("math", ...), ("cite", key),
    ("ref", anchor), ("code", ...), ("bold" or "italic", "open" or "close")."""
    text, out, buffer, position, open_marks = str(text), [], [], 0, []

    def flush():
        if buffer:
            out.append(("text", _UNIT_SPACE.sub("\u00a0", "".join(buffer))))
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
        if char == "[" and (match := _REFERENCE.match(text, position)):
            flush()
            out.append(("ref", match.group(1)))
            position = match.end()
            continue
        if char == "`" and (code := _code(text, position)) is not None:
            flush()
            out.append(("code", code[0]))
            position = code[1]
            continue
        if mark := _emphasis(text, position):
            kind = _EMPHASIS[mark]
            if kind in open_marks or _opens(text, position, mark):
                flush()
                state = "close" if kind in open_marks else "open"
                (open_marks.remove if state == "close" else open_marks.append)(kind)
                out.append((kind, state))
                position += len(mark)
                continue
        buffer.append("’" if char == "'" else char)  # an apostrophe of the prose
        position += 1
    flush()
    out.extend((kind, "close") for kind in reversed(open_marks))
    return out


_HTML_TAGS = {"bold": "b", "italic": "i"}
_TEX_FONTS = {"bold": "\\textbf{", "italic": "\\emph{"}


def html(text, refnum: dict, labels: dict | None = None) -> Markup:
    """Prose as HTML: text escaped, formulas typeset, citations as numbered links, and
    references as links that print the outline's number ("Table 3")."""
    labels = labels or {}
    parts = []
    for kind, value in segments(text):
        if kind == "math":
            parts.append(texmath.html(value))
        elif kind == "cite" and value in refnum:
            parts.append(Markup(' <a class="cite" href="#ref-{0}">[{1}]</a>').format(
                value, refnum[value]))  # fmt: skip
        elif kind == "cite":
            parts.append(escape(f" [@{value}]"))
        elif kind == "ref" and value in labels:
            shown, target = labels[value]
            parts.append(Markup('<a href="#{0}">{1}</a>').format(target, shown))
        elif kind == "ref":
            parts.append(escape(f"[#{value}]"))
        elif kind == "code" and _HASH.fullmatch(value):  # a digest may break anywhere
            parts.append(Markup('<code class="hash">{0}</code>').format(value))
        elif kind == "code":
            parts.append(Markup("<code>{0}</code>").format(value))
        elif kind in _HTML_TAGS:
            parts.append(Markup(f"<{'/' if value == 'close' else ''}{_HTML_TAGS[kind]}>"))
        else:
            parts.append(escape(value))
    return Markup("").join(parts)


def tex(text, refnum: dict, labels: dict | None = None) -> str:
    """Prose as LaTeX: text escaped (with the fonts' fallbacks), formulas as themselves,
    citations as \\cite, references as \\ref, code paste-safe in \\texttt."""
    labels = labels or {}
    parts: list[str] = []
    for kind, value in segments(text):
        if kind == "math":
            piece = f"${value}$"
        elif kind == "cite" and value in refnum:
            piece = f"~\\cite{{{value}}}"
        elif kind == "cite":
            piece = latex.text(tex_escape(f" [@{value}]"))
        elif kind == "ref" and value in labels:
            prefix, _, name = value.partition("-")
            piece = _TEX_REFS[prefix].format(value, name)
        elif kind == "ref":
            piece = latex.text(tex_escape(f"[#{value}]"))
        elif kind == "code":
            piece = f"\\texttt{{{latex.text(tex_path_text(value))}}}"
        elif kind in _TEX_FONTS:
            piece = _TEX_FONTS[kind] if value == "open" else "}"
        else:
            piece = latex.text(tex_escape(value))
        if parts and parts[-1].endswith("$") and piece.startswith("$"):
            piece = "{}" + piece  # never "$$", which would open a display
        parts.append(piece)
    return "".join(parts)


def plain(text) -> str:
    """Prose as plain text (the formulas' TeX source kept between dollar signs)."""
    shown = {"math": "${}$", "cite": "[@{}]", "ref": "[#{}]", "code": "{}", "text": "{}"}
    return "".join(shown[kind].format(value) for kind, value in segments(text) if kind in shown)
