"""Display equations, written once in TeX: LaTeX sets them itself, HTML gets MathML.

latex2mathml converts the TeX of a `$$ ... $$` block (emnn.typeset.blocks); what it
or Chromium's MathML Core would set differently from LaTeX is adjusted here:
`gathered` (one centred formula per line) becomes a one-column table set in display
style; norm bars keep their size (MathML stretches a lone "‖" to its superscript);
a function name is an identifier followed by a thin space, as TeX spaces `\\log p`.
"""

from __future__ import annotations

import re

from latex2mathml.converter import convert
from markupsafe import Markup

_GATHERED = re.compile(r"\\begin\{gathered\}(.*?)\\end\{gathered\}", re.DOTALL)
_BARS = re.compile(r"<mo>(&#x02016;|&#x0007C;)</mo>")
_OPERATOR_NAME = re.compile(r"<mo>([A-Za-z]{2,})</mo>")
_FUNCTION = re.compile(r"<mi>(log|exp|softmax)</mi>(?!<mo stretchy=\"false\">&#x00028;)")


def mathml(tex: str) -> Markup:
    """A display equation's TeX as a MathML <math display="block"> element."""
    source = _GATHERED.sub(r"\\begin{array}{c}\1\\end{array}", tex)
    element = convert(source, display="block")
    element = element.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1)
    element = element.replace("<mtable>", '<mtable displaystyle="true">')
    element = _BARS.sub(r'<mo stretchy="false">\1</mo>', element)
    element = _OPERATOR_NAME.sub(r"<mi>\1</mi>", element)
    element = _FUNCTION.sub(r'<mi>\1</mi><mspace width="0.167em"></mspace>', element)
    return Markup(element)
