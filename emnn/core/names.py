"""The rule for names a user types: what a name may hold, and one message when it may not.

Dataset and method names, method labels, CSV column names and class labels
all follow one rule. A name may hold any *printable* Unicode character
(`str.isprintable`: every letter, mark, digit, punctuation and symbol of
any script, emoji included) and single plain spaces between words. It may not
be empty, start or end with a space, hold two spaces in a row, or hold a
character that is not printable: a control character (tab, newline), an
invisible formatting character (zero-width space or joiner, a bidirectional
override, a soft hyphen), a space other than U+0020 (no-break, thin,
ideographic), a private-use or unassigned code point or a lone surrogate. Such
characters cannot be seen in the paper, so two names that differ only by them
would read alike.

Everything else works end to end: files are named by a safe slug
(emnn.core.layout.slug), and the paper shows the name as typed (emnn.typeset.latex covers the
characters pdflatex cannot typeset).
"""

from __future__ import annotations

import re
import unicodedata

REASONS = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate, not a character",
    "Co": "a private-use character",
    "Cn": f"not a character of Unicode {unicodedata.unidata_version}",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Zs": "a space other than the plain space U+0020",
}
RULE = "a name may hold any printable character and single spaces between words"


# Control characters have no Unicode name, only aliases: those of the usual ones.
CONTROLS = {0x00: "NULL", 0x09: "CHARACTER TABULATION", 0x0A: "LINE FEED",
            0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE", 0x7F: "DELETE"}  # fmt: skip


def character(ch: str) -> str:
    """'U+0009 (CHARACTER TABULATION)': a character named so that it can be found."""
    name = unicodedata.name(ch, "") or CONTROLS.get(ord(ch), "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def problem(name: str) -> str | None:
    """Why `name` breaks the rule for names, or None when it keeps it."""
    if name == "":
        return "is empty"
    for position, ch in enumerate(name, start=1):
        if not ch.isprintable():
            reason = REASONS.get(unicodedata.category(ch), "not printable")
            return f"holds {character(ch)} at position {position}, {reason}"
    if name.startswith(" ") or name.endswith(" "):
        return f"{'starts' if name.startswith(' ') else 'ends'} with a space"
    if "  " in name:
        return f"holds two spaces in a row at position {name.index('  ') + 1}"
    return None


def text_problem(text: str) -> str | None:
    """Why free text (a title, a file path) cannot be shown, or None: printable only."""
    for position, ch in enumerate(text, start=1):
        if not ch.isprintable():
            reason = REASONS.get(unicodedata.category(ch), "not printable")
            return f"holds {character(ch)} at position {position}, {reason}"
    return None


def same_looking(name: str) -> str:
    """The key under which two names read alike: case and compatibility forms folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def config_key(parts) -> str:
    """A config key for messages: study.main.datasets[2], datasets.'a b'.label."""
    shown = [p if isinstance(p, str) and re.fullmatch(r"[\w\[\]-]+", p) else repr(p)
             for p in parts]  # fmt: skip
    return ".".join(shown)
