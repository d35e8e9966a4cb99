"""The paper's sections: each one's text written once, and the outline that numbers both
formats.

A section's text is emnn/templates/text/<name>.j2, a Jinja2 template rendered with
the report's context into paper markup and split into blocks (emnn.typeset.blocks);
the format templates only set those blocks. A section whose text renders empty
(a comparison without a baseline, say) is left out. outline() numbers sections,
subsections, equations, tables and figures in the order the texts place them, so
the HTML page prints the numbers LaTeX gives (a test compares the captions of
report.html with those of the PDF).
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jinja2

from .. import templates
from ..core.errors import StudyError
from ..typeset import blocks
from ..typeset.formats import finite, number
from ..typeset.markup import literal

# The sections in print order, each with its title (paper markup).
BODY = (
    ("introduction", "Introduction"),
    ("related", "Related work"),
    ("models", "Models"),
    ("protocol", "Protocol"),
    ("results", "The algorithm question: reaching the optimum of one objective"),
    ("model", "Primary analysis: the model question, and EM against back-propagation"),
    ("scaling", "Wider networks by approximate E-steps"),
    ("replication", "Replication of the originating study"),
    ("moe", "Mixture of experts"),
    ("originating", "The originating study's conclusions, tested"),
    ("discussion", "Discussion"),
    ("conclusion", "Conclusion"),
)
# After the references, lettered as LaTeX's \appendix letters them; wall-clock times last,
# in a file of their own (timing.tex), so that report.tex is the same on every rerun.
APPENDICES = (
    ("secondary", "Secondary results"),
    ("comparison", "Secondary comparisons"),
    ("scaling-detail", "The m-sweep in detail"),
    ("moe-detail", "The mixture of experts in detail"),
    ("reproducibility", "Reproducibility"),
    ("figure-provenance", "Figure provenance"),
    ("artifacts", "Artifacts and their SHA-256"),
    ("timing", "Timing"),
)
SYNTAX = {
    "block_start_string": "((*",
    "block_end_string": "*))",
    "variable_start_string": "(((",
    "variable_end_string": ")))",
    "comment_start_string": "((=",
    "comment_end_string": "=))",
}


def environment() -> jinja2.Environment:
    """The environment of the section texts: paper markup out, so nothing is escaped
    here; names go in through `lit`, numbers through `num` (Unicode minus sign)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(templates.__name__, "text"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        **SYNTAX,
    )
    env.filters["lit"] = literal
    env.filters["num"] = partial(number, minus="−")
    env.tests["finite"] = finite
    return env


def texts(values: dict, names=None) -> list[dict]:
    """The sections present, in order: name, title, whether an appendix, and blocks."""
    env = environment()
    shown = []
    for appendix, part in ((False, BODY), (True, APPENDICES)):
        for name, title in part:
            if names is not None and name not in names:
                continue
            text = env.get_template(f"{name}.j2").render(values)
            found = blocks.parse(text)
            if found:
                shown.append({"name": name, "title": title, "appendix": appendix,
                              "blocks": found})  # fmt: skip
    return shown


def outline(sections: list[dict], figures: dict) -> dict:
    """Numbers of sections (appendices lettered), subsections, equations, tables and
    figures, in the order the texts place them; the blocks get their numbers, and
    `xrefs` tells how the markup refers to each anchor ("Table 3", and its target)."""
    numbers: dict[str, int] = {}
    xrefs: dict[str, tuple[str, str]] = {}
    counts = {"table": 0, "figure": 0, "equation": 0}
    body = [s for s in sections if not s["appendix"]]
    for section in sections:
        if section["appendix"]:
            number = chr(ord("A") + len([s for s in sections[: sections.index(section)]
                                         if s["appendix"]]))  # fmt: skip
            xrefs[f"app-{section['name']}"] = (f"Appendix {number}", section["name"])
        else:
            number = str(body.index(section) + 1)
        section["number"] = number
        xrefs[f"sec-{section['name']}"] = (f"Section {number}", section["name"])
        numbered, subsection = [], 0
        for block in section["blocks"]:
            if block.kind == "heading":
                subsection += 1
                block = dataclasses.replace(block, number=f"{number}.{subsection}")
                if block.anchor:
                    xrefs[block.anchor] = (f"Section {block.number}", block.anchor)
            elif block.kind in counts and (block.kind != "equation" or block.anchor):
                anchor = block.text if block.kind == "table" else block.anchor
                if block.kind == "figure":
                    if block.text not in figures:
                        raise StudyError(
                            f"report: section '{section['name']}' places figure "
                            f"'{block.text}', which the study did not draw"
                        )
                    anchor = figures[block.text]["anchor"]
                counts[block.kind] += 1
                k = counts[block.kind]
                block = dataclasses.replace(block, anchor=anchor, number=str(k))
                numbers[anchor] = k
                shown = {"table": f"Table {k}", "figure": f"Figure {k}", "equation": f"({k})"}
                xrefs[anchor] = (shown[block.kind], anchor)
            numbered.append(block)
        section["blocks"] = numbered
    return {
        "sections": sections,
        "numbers": numbers,
        "xrefs": xrefs,
        "figure_order": [b.anchor for s in sections for b in s["blocks"] if b.kind == "figure"],
        "table_order": [b.anchor for s in sections for b in s["blocks"] if b.kind == "table"],
    }
