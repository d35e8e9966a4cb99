"""The paper: one HTML page and one LaTeX document, both from the study's own files.

Every number, name and sentence with a number in it is read from the result
tables, the figure sidecars and the run records, so the text cannot drift from
the results. render() (emnn.paper.build) is the one entry point; the modules
each own one step:

    inputs.py         load the tables, figure sidecars and run records, with hashes
    context.py        everything the paper shows, gathered from the parts' values
    outline.py        each section's text (templates/text/<name>.j2) rendered to paper
                      markup; the one outline that numbers both formats
    protocol.py       the protocol section: datasets, seeds, methods, inner CV
    setup_tables.py   the protocol's and the appendices' tables as data
    prose.py          generated sentences: the abstract, the citation
    originating.py    the originating study's conclusions, each with its verdict
    bibliography.py   references.bib read with pybtex, formatted for both formats
    build.py          the Jinja2 environments and render()
    figures.py        the figure registry: which part draws each figure, and draw()
    pdf.py, source.py the PDF from report.tex, and the LaTeX source as one archive
    length.py         the paper's length: words and pages of the main text

Every sentence is written once: the format templates (report.html.j2,
report.tex.j2) hold the page skeleton, the CSS or the preamble and how each kind
of block is set, and nothing a reader reads as prose. The PDF is built from
report.tex by emnn.paper.pdf. Wall-clock times are the one
thing that differs between reruns; they appear only inside <section
id="timing"> of report.html and in timing.tex, which report.tex inputs, so
report.tex and the rest of report.html are byte for byte reproducible.

Names are imported on first use, so a module that needs only the prose markup
(emnn.typeset.markup) does not load the rest.
"""

from ..core.lazy import lazy_exports

_EXPORTS = {
    "render": ".build",
    "environments": ".build",
    "load": ".inputs",
    "context": ".context",
    "references": ".bibliography",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
