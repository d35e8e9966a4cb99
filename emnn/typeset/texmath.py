"""TeX mathematics of captions and prose, checked and typeset as HTML.

The paper's prose may hold short formulas between dollar signs: `$2^m$`,
`$\\propto 2^m$`, `$(\\ell^* - \\ell)/|\\ell^*|$`, `$10^{-7}$`. LaTeX typesets them
itself; for HTML, html() turns one into markup: italic letters, upright digits
and function names, <sup> and <sub> for scripts, and Unicode for symbols (∝, ℓ,
−), spaced as TeX spaces them. Only the commands listed here are mathematics:
parse() refuses anything else, so a dollar sign in a name is never mistaken
for a formula and LaTeX never meets a command it does not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape


def _words(text: str) -> list[str]:
    return text.split()


# Letters in italic, as TeX sets variables.
GREEK = dict(
    zip(
        _words(
            "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa "
            "lambda mu nu xi pi rho sigma tau upsilon phi varphi chi psi omega ell"
        ),
        "αβγδϵεζηθϑικλμνξπρστυϕφχψωℓ",
        strict=True,
    )
)
# Capital Greek, upright.
CAPITALS = dict(
    zip(
        _words("Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"),
        "ΓΔΘΛΞΠΣΥΦΨΩ",
        strict=True,
    )
)
RELATIONS = {
    "propto": "∝", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠",
    "approx": "≈", "sim": "∼", "equiv": "≡", "in": "∈", "notin": "∉", "subset": "⊂",
    "subseteq": "⊆", "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←",
    "mapsto": "↦", "ll": "≪", "gg": "≫", "mid": "∣",
}  # fmt: skip
BINARY = {"times": "×", "cdot": "·", "pm": "±", "mp": "∓", "div": "÷", "cup": "∪", "cap": "∩"}
SYMBOLS = {
    "infty": "∞", "partial": "∂", "nabla": "∇", "ldots": "…", "dots": "…", "cdots": "⋯",
    "prime": "′", "top": "⊤", "emptyset": "∅", "forall": "∀", "exists": "∃",
    "lVert": "‖", "rVert": "‖", "lvert": "|", "rvert": "|", "langle": "⟨", "rangle": "⟩",
}  # fmt: skip
LARGE = {"sum": "∑", "prod": "∏", "int": "∫"}
FUNCTIONS = set(_words("log ln exp max min arg sup inf lim det sin cos tanh"))
SPACES = {",": "\u2009", ";": "\u2005", ":": "\u2005", "!": "", " ": " ", "quad": "\u2003",
          "qquad": "\u2003\u2003"}  # fmt: skip
ESCAPED = {"{": "{", "}": "}", "|": "‖", "%": "%", "_": "_", "#": "#", "&": "&"}
# Commands with one argument: a font, or an accent (a combining character).
FONTS = {"mathrm": "", "text": "", "textrm": "", "operatorname": "", "mathit": "i",
         "mathbf": "b", "boldsymbol": "bi"}  # fmt: skip
ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "vec": "\u20d7", "dot": "\u0307"}
FRACTIONS = {"frac", "dfrac", "tfrac"}
SIZES = {"left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr"}
COMMANDS = (
    set(GREEK) | set(CAPITALS) | set(RELATIONS) | set(BINARY) | set(SYMBOLS) | set(LARGE)
    | FUNCTIONS | set(SPACES) | set(ESCAPED) | set(FONTS) | set(ACCENTS) | FRACTIONS
    | {"sqrt"} | SIZES
)  # fmt: skip

_TOKEN = re.compile(
    r"\\[A-Za-z]+|\\[^A-Za-z]|\d+(?:\.\d+)?|\s+|[A-Za-z]|[-+*/=<>()\[\]|,.;:!'^_{}]"
)
_TEXT = re.compile(r"[A-Za-z0-9 ,.;:()'-]*")  # what \text{...} may hold


class NotMath(ValueError):
    """The text between two dollar signs is not a formula this module typesets."""


@dataclass
class Atom:
    """One item of a formula: its HTML, its TeX class, and its scripts."""

    html: str
    kind: str = "ord"  # ord, bin, rel, open, close, punct, func, large, space
    sup: list[Atom] | None = None
    sub: list[Atom] | None = None
    parts: list = field(default_factory=list)


def tokens(source: str) -> list[str]:
    found, position = [], 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise NotMath(f"character {source[position]!r}")
        found.append(" " if match.group().isspace() else match.group())
        position = match.end()
    return found


class _Parser:
    def __init__(self, source: str):
        self.tokens = tokens(source)
        self.position = 0

    def peek(self, spaces: bool = False) -> str | None:
        """The next token; spaces count only inside \\text (TeX ignores them in math)."""
        while not spaces and self.position < len(self.tokens) and self.tokens[self.position] == " ":
            self.position += 1
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, spaces: bool = False) -> str:
        token = self.peek(spaces)
        if token is None:
            raise NotMath("formula ends too early")
        self.position += 1
        return token

    def group(self) -> list[Atom]:
        """Atoms up to the closing brace (or the end, at the top level)."""
        atoms: list[Atom] = []
        while (token := self.peek()) is not None and token != "}":
            if token in ("^", "_"):
                self.take()
                if not atoms or atoms[-1].kind == "space":
                    atoms.append(Atom(""))
                slot = "sup" if token == "^" else "sub"
                if getattr(atoms[-1], slot) is not None:
                    raise NotMath(f"double {token}")
                setattr(atoms[-1], slot, self.argument())
            else:
                atoms.extend(self.atom())
        return atoms

    def argument(self) -> list[Atom]:
        """A braced group or a single token, as after ^, _ or a command."""
        if self.peek() == "{":
            self.take()
            atoms = self.group()
            if self.take() != "}":
                raise NotMath("unbalanced braces")
            return atoms
        if self.peek() in (None, "}", "^", "_"):
            raise NotMath("missing argument")
        return self.atom()

    def raw_argument(self) -> str:
        """The source text of a braced argument (for \\text)."""
        if self.take() != "{":
            raise NotMath("\\text needs braces")
        parts = []
        while (token := self.take(spaces=True)) != "}":
            parts.append(token)
        text = "".join(parts)
        if not _TEXT.fullmatch(text):
            raise NotMath("text argument")
        return text

    def atom(self) -> list[Atom]:
        token = self.take()
        if token == "{":
            atoms = self.group()
            if self.take() != "}":
                raise NotMath("unbalanced braces")
            return [Atom("", parts=atoms)]
        if token.startswith("\\"):
            return self.command(token[1:])
        if token.isalpha():
            return [Atom(f"<i>{token}</i>")]
        if token[0].isdigit():
            return [Atom(token)]
        return [symbol(token)]

    def command(self, name: str) -> list[Atom]:
        if name not in COMMANDS:
            raise NotMath(f"unknown command \\{name}")
        if name in GREEK:
            return [Atom(f"<i>{GREEK[name]}</i>")]
        if name in CAPITALS:
            return [Atom(CAPITALS[name])]
        if name in RELATIONS:
            return [Atom(RELATIONS[name], "rel")]
        if name in BINARY:
            return [Atom(BINARY[name], "bin")]
        if name in SYMBOLS:
            kind = {"lVert": "open", "lvert": "open", "langle": "open", "rVert": "close",
                    "rvert": "close", "rangle": "close"}.get(name, "ord")  # fmt: skip
            return [Atom(SYMBOLS[name], kind)]
        if name in LARGE:
            return [Atom(LARGE[name], "large")]
        if name in FUNCTIONS:
            return [Atom(name, "func")]
        if name in SPACES:
            return [Atom(SPACES[name], "space")]
        if name in ESCAPED:
            return [Atom(str(escape(ESCAPED[name])))]
        if name in SIZES:
            delimiter = self.take()
            if delimiter == ".":
                return []
            if delimiter.startswith("\\"):
                return self.command(delimiter[1:])
            return [symbol(delimiter)]
        if name in ("text", "textrm"):
            return [Atom(str(escape(self.raw_argument())))]
        if name in FONTS:
            inner = render(self.argument(), script=False)
            style = FONTS[name]
            if "i" not in style:  # upright: the letters lose their italics
                inner = inner.replace("<i>", "").replace("</i>", "")
            return [Atom(f"<b>{inner}</b>" if "b" in style else inner)]
        if name in ACCENTS:
            inner = render(self.argument(), script=False)
            return [Atom(_accent(inner, ACCENTS[name]))]
        if name in FRACTIONS:
            top, bottom = self.argument(), self.argument()
            return [Atom(f"{_operand(top)}/{_operand(bottom)}")]
        # \sqrt
        return [Atom(f"√{_operand(self.argument())}")]


def _accent(html: str, mark: str) -> str:
    """A combining accent after the last character of the text of `html`."""
    match = re.search(r"[^<>](?=(?:</[a-z]+>)*$)", html)
    return html[: match.end()] + mark + html[match.end() :] if match else html + mark


def _operand(atoms: list[Atom]) -> str:
    """A numerator or denominator: in parentheses unless it is one item."""
    html = render(atoms, script=False)
    return html if len(atoms) == 1 and not (atoms[0].sup or atoms[0].sub) else f"({html})"


SYMBOL_KINDS = {
    "+": ("+", "bin"), "-": ("−", "bin"), "*": ("∗", "bin"), "=": ("=", "rel"),
    "<": ("&lt;", "rel"), ">": ("&gt;", "rel"), "(": ("(", "open"), "[": ("[", "open"),
    ")": (")", "close"), "]": ("]", "close"), ",": (",", "punct"), ";": (";", "punct"),
    "'": ("′", "ord"),
}  # fmt: skip


def symbol(token: str) -> Atom:
    html, kind = SYMBOL_KINDS.get(token, (str(escape(token)), "ord"))
    return Atom(html, kind)


def render(atoms: list[Atom], script: bool = False) -> str:
    """The HTML of a list of atoms, spaced as TeX spaces them (scripts are tighter)."""
    out, previous = [], None
    for atom in atoms:
        kind = atom.kind
        if kind == "bin" and previous in (None, "bin", "rel", "open", "punct", "large", "func"):
            kind = "ord"  # a sign, not an operation: no space
        html = atom.html + (render(atom.parts, script) if atom.parts else "")
        if atom.sub is not None:
            html += f"<sub>{render(atom.sub, True)}</sub>"
        if atom.sup is not None:
            html += f"<sup>{render(atom.sup, True)}</sup>"
        wide = kind in ("bin", "rel") and not script
        if wide and out:
            out.append(" ")
        elif previous in ("func", "large") and kind not in ("open", "space", "punct"):
            out.append("\u2009")
        out.append(html)
        if wide or (kind == "punct" and not script):
            out.append(" ")
        previous = kind if kind != "space" else previous
    text = "".join(out).strip(" ")
    return text.replace("</i><i>", "")  # one run of italic letters, one element


def parse(source: str) -> list[Atom]:
    """The atoms of a formula, or NotMath when it is not one this module typesets."""
    if not source or not source.isascii():
        raise NotMath("empty or not ASCII")
    parser = _Parser(source)
    atoms = parser.group()
    if parser.peek() is not None:
        raise NotMath("unbalanced braces")
    return atoms


def is_math(source: str) -> bool:
    try:
        parse(source)
    except NotMath:
        return False
    return True


def html(source: str) -> Markup:
    """A formula as HTML: <span class="math"> around italic letters, scripts and symbols."""
    return Markup(f'<span class="math">{render(parse(source))}</span>')
