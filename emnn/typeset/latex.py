"""Names in the PDF as typed: pdflatex's typesetting of any Unicode text, with a fallback.

The report's LaTeX (pdflatex, T1 and TS1 encodings, Latin Modern fonts) typesets
ASCII and most Latin letters, but has no glyphs for Cyrillic, Greek, CJK, emoji
and the like: such a character would stop the build ("Unicode character ... not
set up for use with LaTeX"). Every run of characters outside TYPESET is therefore
shown by its code points, "[U+30C7 U+30FC]", inside a marked-content span whose
/ActualText is the text itself: a reader sees where the name holds characters
the fonts lack, and copying, searching or `pdftotext` give the name as typed.

Within the characters TeX does typeset, the few it would change are spelled out:
' and ` (T1 prints them as curly quotes) and the ligatures -- and ,, (an en dash
and a low quote).
"""

from __future__ import annotations

import re
import unicodedata

# Characters beyond ASCII that pdflatex with [T1]{fontenc}, [utf8]{inputenc}, lmodern and
# textcomp typesets, and that pdftotext extracts as themselves (up to NFC): measured with
# TeX Live 2022 by typesetting every character of the Latin, Greek, Cyrillic, punctuation,
# currency, letterlike, arrow and symbol blocks (tests/test_hostile.py checks them again
# wherever TeX is installed).
_RANGES = """
00A1-00AC 00AE-00B1 00B4-00B8 00BA-010F 0111-0121 0124-0125 0128 012A 012C 0130-0134
0139-013A 013D-013E 0141-0144 0147-0148 014A-0155 0158-0165 0168-0171 0174-017E 0192
01CD-01CF 01D1-01D4 01E2-01E3 01E6-01E9 01F4-01F5 0232-0233 0237 02C7 02D8-02D9 02DD
1E02-1E03 1E1E-1E21 1E30-1E31 1E45 1E8E-1E91 1EF2-1EF3 2013-2014 2016 2018-201A 201C-201E
2020-2022 2030 2039-203B 203D 2044 20A1 20A4 20A9 20AB-20AC 2103 2116 2122 212E 2190-2193
25E6 266A
"""


def _characters(ranges: str) -> frozenset[str]:
    found = set()
    for item in ranges.split():
        first, _, last = item.partition("-")
        found.update(map(chr, range(int(first, 16), int(last or first, 16) + 1)))
    return frozenset(found)


TYPESET = frozenset("\t\n\r") | frozenset(map(chr, range(0x20, 0x7F))) | _characters(_RANGES)
"""Characters the report's fonts typeset (printable ASCII once LaTeX's specials are escaped)."""

_SPELLED = {"'": r"\textquotesingle{}", "`": r"\textasciigrave{}", "-": "-{}", ",": ",{}"}
# A quote, or the first of two characters TeX would join into one glyph.
_LITERAL = re.compile(r"['`]|-(?=-)|,(?=,)")
# Formulas that the escaping of a few symbols writes ($\sigma$): left alone.
_MATH = re.compile(r"((?<!\\)\$[^$]*\$)")


def text(escaped: str) -> str:
    """LaTeX text whose special characters are already escaped, made typesettable.

    Runs of characters the fonts lack become a visible fallback carrying the
    original text; quotes and ligatures are spelled out so the PDF shows what
    was typed.
    """
    parts = _MATH.split(escaped)
    for k in range(0, len(parts), 2):  # the text between formulas
        plain = unicodedata.normalize("NFC", parts[k])
        plain = _LITERAL.sub(lambda match: _SPELLED[match.group()], plain)
        parts[k] = "".join(
            run if run[0] in TYPESET else fallback(run)
            for run in _RUNS.findall(plain)
        )  # fmt: skip
    return "".join(parts)


_CLASS = re.escape("".join(sorted(TYPESET)))
_RUNS = re.compile(f"[{_CLASS}]+|[^{_CLASS}]+")  # alternately typeset and not


def fallback(run: str) -> str:
    """Characters the fonts lack: their code points on the page, the text itself in
    the PDF's /ActualText (what copy, search and pdftotext give)."""
    utf16 = run.encode("utf-16-be").hex().upper()
    shown = r"\,".join(f"U+{ord(ch):04X}" for ch in run)
    return (
        rf"\pdfliteral direct{{/Span<</ActualText<FEFF{utf16}>>>BDC}}"
        rf"{{\ttfamily\footnotesize[{shown}]}}"
        r"\pdfliteral direct{EMC}"
    )
