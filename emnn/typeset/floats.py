"""The paper's tables as data: caption, columns and rows in paper markup, set by one
macro per format.

Each function turns the rows that context() gathers into a table of the form the
sections agree on (shared-spec "Tables as data"): an anchor, a caption, columns
with a title, an alignment and an optional width (a fraction of the line), an
optional row of column groups, groups of rows separated by a rule, a type size,
and whether it may break across pages. A cell is paper markup (emnn.typeset.markup;
names through literal(), numbers already formatted) or a dict with its text and
"bold" or "italic"; two extensions serve the existing tables: "rows" (a cell
spanning the rows below it, which hold None in its column) and a line break
written as a newline in the cell's text.
"""

from __future__ import annotations

from functools import partial

from .formats import finite, number
from .markup import literal

num = partial(number, minus="−")


def column(title: str, align: str = "l", width: float | None = None) -> dict:
    return {"title": title, "align": align, "width": width}


def table(anchor, caption, columns, groups, header_groups=None, size="small", long=False):
    return {
        "anchor": anchor,
        "caption": caption,
        "columns": columns,
        "groups": groups,
        "header_groups": header_groups,
        "size": size,
        "long": long,
    }


def mean_sd(mean, sd, kind: str) -> str:
    return num(mean, kind) + (f" ± {num(sd, kind)}" if finite(sd) else "")


def interval(low, high, kind: str) -> str:
    return f"\\[{num(low, kind)}, {num(high, kind)}]" if finite(low) and finite(high) else "–"


def grouped(rows: list[dict], cells) -> list[list]:
    """Rows split into groups where a row is marked first; cells(row) gives a row's cells."""
    groups: list[list] = []
    for row in rows:
        if row.get("first", True) or not groups:
            groups.append([])
        groups[-1].append(cells(row))
    return groups


def spanned(row: dict, text: str):
    """The first cell of a group, spanning its rows; None below it."""
    return {"text": literal(text), "rows": row["span"]} if row["first"] else None
