"""Paper markup in blocks: a section's text, written once, as the two formats set it.

A section's text (emnn/templates/text/<section>.j2, rendered with the report's
context) is split here into blocks, which each format template renders in its
own way; the sentences inside them keep their inline marks (emnn.typeset.markup).
Blocks are separated by blank lines:

    ### Title {#sub-anchor}          a subsection (the anchor is optional)
    $$ TeX $$ {#eq-anchor}           a display equation, numbered when it has an anchor
    - item                           a list: consecutive lines starting with "- "
    ::: table tab-anchor             a table of the context (its data, emnn.parts.main.floats)
    ::: figure figure/name           a figure of emnn.paper.figures
    ```                              a code block, shown as typed, up to the next ```
    anything else                    a paragraph

The outline (emnn.paper.context) numbers figures, tables and equations in the
order their blocks come here, so a section that places a float numbers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANCHOR = r"(?:\s*\{#([A-Za-z][\w:.-]*)\})?\s*$"
_HEADING = re.compile(r"###\s+(.*?)" + _ANCHOR)
_FLOAT = re.compile(r":::\s+(table|figure)\s+(\S+)\s*$")
_EQUATION_END = re.compile(r"(.*?)\$\$" + _ANCHOR, re.DOTALL)
_FENCE = "```"


class MarkupError(ValueError):
    """Paper markup that cannot be split into blocks: an unclosed equation or code block."""


@dataclass(frozen=True)
class Block:
    """One block: kind is paragraph, heading, equation, list, table, figure or code.

    text holds the paragraph's or heading's markup, the equation's TeX, the code, or
    the float's name; items the list's entries; anchor the label, if any; info the
    word after a code block's opening backquotes; number what the outline numbers it.
    """

    kind: str
    text: str = ""
    anchor: str | None = None
    items: tuple[str, ...] = ()
    info: str = ""
    number: str | None = None


def parse(text: str) -> list[Block]:
    """The blocks of a section's rendered text, in order."""
    lines = str(text).splitlines()
    blocks: list[Block] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush():
        if paragraph:
            blocks.append(Block("paragraph", " ".join(paragraph)))
            paragraph.clear()
        if items:
            blocks.append(Block("list", items=tuple(items)))
            items.clear()

    k = 0
    while k < len(lines):
        line = lines[k].strip()
        k += 1
        if not line:
            flush()
        elif line.startswith(_FENCE):
            flush()
            end = next((j for j in range(k, len(lines)) if lines[j].strip() == _FENCE), None)
            if end is None:
                raise MarkupError(f"a code block opened by {line!r} is never closed")
            blocks.append(Block("code", "\n".join(lines[k:end]), info=line[3:].strip()))
            k = end + 1
        elif line.startswith("$$"):
            flush()
            source = line[2:]
            while not (match := _EQUATION_END.match(source)):
                if k >= len(lines):
                    raise MarkupError(f"a display equation is never closed: {line!r}")
                source += "\n" + lines[k].strip()
                k += 1
            blocks.append(Block("equation", match.group(1).strip(), match.group(2)))
        elif match := _HEADING.match(line):
            flush()
            blocks.append(Block("heading", match.group(1), match.group(2)))
        elif match := _FLOAT.match(line):
            flush()
            blocks.append(Block(match.group(1), match.group(2)))
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:].strip())
        elif items:  # a continuation line of the last item
            items[-1] += " " + line
        else:
            paragraph.append(line)
    flush()
    return blocks


def floats(blocks: list[Block]) -> list[Block]:
    """The table and figure blocks, in order: the order the outline numbers them in."""
    return [b for b in blocks if b.kind in ("table", "figure")]
