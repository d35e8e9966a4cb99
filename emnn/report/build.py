"""render(): the paper's files from the study's files, through two Jinja2 environments.

Both template environments share one Jinja2 syntax, ((* block *)), ((( variable )))
and ((= comment =)), which neither LaTeX nor CSS uses, so that macros.j2 can
serve both. The HTML environment escapes every value; the LaTeX one escapes
with the `tex` filter. Generated sentences go through the `prose` filter of
either format (emnn.report.markup), which typesets their mathematics and
citations.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import jinja2

from .. import latex, records, templates
from ..layout import REPORT
from . import markup
from .context import context
from .formats import finite, number, tex_escape, tex_path_text
from .inputs import load

SYNTAX = {
    "block_start_string": "((*",
    "block_end_string": "*))",
    "variable_start_string": "(((",
    "variable_end_string": ")))",
    "comment_start_string": "((=",
    "comment_end_string": "=))",
}


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
    # Characters the PDF's fonts lack get a fallback that still reads as typed (emnn.latex).
    tex.filters["tex"] = lambda value: latex.text(tex_escape(value))
    tex.filters["texpath"] = lambda value: latex.text(tex_path_text(value))
    # Prose markup: $math$ typeset, [@key] cited by the number of the bibliography.
    html.filters["prose"] = jinja2.pass_context(
        lambda ctx, value: markup.html(value, ctx["refnum"])
    )
    tex.filters["prose"] = jinja2.pass_context(lambda ctx, value: markup.tex(value, ctx["refnum"]))
    for env in (html, tex):
        env.tests["finite"] = finite
    return html, tex
