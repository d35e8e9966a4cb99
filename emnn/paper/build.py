"""render(): the paper's files from the study's files, through two Jinja2 environments.

The section texts (emnn.paper.outline) and both format templates share one Jinja2
syntax, ((* block *)), ((( variable ))) and ((= comment =)), which neither LaTeX nor
CSS uses. The HTML environment escapes every value; the LaTeX one escapes with the
`tex` filter. Paper markup goes through the `prose` filter of either format
(emnn.typeset.markup), which typesets its mathematics, citations and references.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import jinja2

from .. import templates
from ..core import records
from ..core.layout import REPORT
from ..typeset import latex, markup
from ..typeset.formats import finite, number, tex_escape, tex_path_text
from ..typeset.mathml import mathml
from .context import context
from .inputs import load
from .outline import SYNTAX


def render(
    config: dict, run_dirs: list[str], root: Path = Path("."), out_dir: str = REPORT
) -> None:
    """Write report.html, report.tex, timing.tex and SHA256SUMS into root/out_dir."""
    root = Path(root)
    data = load(config, run_dirs, root)
    values = context(config, data, root, out_dir)
    html_env, tex_env = environments()
    outputs = {
        "report.html": html_env.get_template("report.html.j2").render(values),
        "report.tex": tex_env.get_template("report.tex.j2").render(values, part="report"),
        "timing.tex": tex_env.get_template("report.tex.j2").render(values, part="timing"),
        "SHA256SUMS": "".join(f"{digest}  {path}\n" for digest, path in data["sums"]),
    }
    for name, text in outputs.items():
        records.write_text(root / out_dir / name, text)


def environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    """The HTML environment (escapes every value) and the LaTeX one (`tex` filter)."""
    common = {
        "loader": jinja2.PackageLoader(templates.__name__, "."),
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        **SYNTAX,
    }
    html = jinja2.Environment(autoescape=True, **common)
    tex = jinja2.Environment(autoescape=False, **common)
    html.filters["num"] = partial(number, minus="−")
    tex.filters["num"] = partial(number, minus="$-$")
    # Characters the PDF's fonts lack get a fallback that still reads as typed (emnn.typeset.latex).
    tex.filters["tex"] = lambda value: latex.text(tex_escape(value))
    tex.filters["texpath"] = lambda value: latex.text(tex_path_text(value))
    # Paper markup: $math$ typeset, [@key] cited by the number of the bibliography, [#anchor]
    # referred to by the outline's number, display equations as MathML.
    html.filters["prose"] = jinja2.pass_context(
        lambda ctx, value: markup.html(value, ctx["refnum"], ctx["xrefs"])
    )
    tex.filters["prose"] = jinja2.pass_context(
        lambda ctx, value: markup.tex(value, ctx["refnum"], ctx["xrefs"])
    )
    html.filters["mathml"] = mathml
    for env in (html, tex):
        env.tests["finite"] = finite
    return html, tex
