"""Display equations, written once in TeX: LaTeX sets them itself, HTML gets MathML.

latex2mathml converts the TeX of a `$$ ... $$` block (emnn.report.blocks); the few
things it or Chromium's MathML Core would set differently from LaTeX are adjusted
here: `gathered` (one centred formula per line) becomes a one-column table, whose
rows are set in display style as LaTeX sets them.
"""

from __future__ import annotations

import re

from latex2mathml.converter import convert
from markupsafe import Markup

_GATHERED = re.compile(r"\\(begin|end)\{gathered\}")


def mathml(tex: str) -> Markup:
    """A display equation's TeX as a MathML <math display="block"> element."""
    source = _GATHERED.sub(
        lambda m: rf"\{m.group(1)}{{array}}" + ("{c}" * (m.group(1) == "begin")), tex
    )
    element = convert(source, display="block")
    element = element.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1)
    element = element.replace("<mtable>", '<mtable displaystyle="true">')
    return Markup(element)
