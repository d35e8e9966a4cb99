"""Prose markup: mathematics and citations written once, typeset in HTML and in LaTeX."""

from __future__ import annotations

import html
import re

import pytest

from emnn.report import markup, texmath
from tests.test_hostile import ACCEPTED, LABEL

REFNUM = {"ng2004em": 1, "holm1979simple": 10}


def text_of(markup_html) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(markup_html)))


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("$2^m$", '<span class="math">2<sup><i>m</i></sup></span>'),
        ("$\\propto 2^m$", '<span class="math">∝ 2<sup><i>m</i></sup></span>'),
        ("$m$", '<span class="math"><i>m</i></span>'),
        ("$10^{-7}$", '<span class="math">10<sup>−7</sup></span>'),
        ("$2\\times10^{-5}$", '<span class="math">2 × 10<sup>−5</sup></span>'),
        (
            "$(\\ell^* - \\ell)/|\\ell^*|$",
            '<span class="math">(<i>ℓ</i><sup>∗</sup> − <i>ℓ</i>)/|<i>ℓ</i><sup>∗</sup>|</span>',
        ),
        ("$n_{\\mathrm{test}}$", '<span class="math"><i>n</i><sub>test</sub></span>'),
        ("$m = 7$", '<span class="math"><i>m</i> = 7</span>'),
        ("$-1$", '<span class="math">−1</span>'),
        ("$\\hat p(y \\mid x)$", '<span class="math"><i>p̂</i>(<i>y</i> ∣ <i>x</i>)</span>'),
    ],
)
def test_formulas_are_typeset_in_html_and_kept_in_latex(source, shown):
    assert str(markup.html(source, REFNUM)) == shown
    assert markup.tex(source, REFNUM) == source


def test_a_sentence_mixes_text_formulas_and_citations():
    sentence = "All $2^m$ configurations [@ng2004em], & <b> 100% [@holm1979simple]."
    assert str(markup.html(sentence, REFNUM)) == (
        'All <span class="math">2<sup><i>m</i></sup></span> configurations '
        '<a class="cite" href="#ref-ng2004em">[1]</a>, &amp; &lt;b&gt; 100% '
        '<a class="cite" href="#ref-holm1979simple">[10]</a>.'
    )
    assert markup.tex(sentence, REFNUM) == (
        r"All $2^m$ configurations~\cite{ng2004em}, \& \textless{}b\textgreater{} 100\%"
        r"~\cite{holm1979simple}."
    )


def test_symbols_next_to_a_formula_never_make_a_display():
    assert "$$" not in markup.tex("ℓ$m$", REFNUM)
    assert markup.tex("ℓ$m$", REFNUM) == r"$\ell${}$m$"


@pytest.mark.parametrize(
    "text",
    [
        "costs $5 and $6",  # money, as pandoc reads it
        "$ 2^m$",  # a space after the opening sign
        "$\\unknown{x}$",  # a command texmath does not know
        "$a & b$",  # a character that is not mathematics
        "one $ sign",
        "$",
        "$$",
    ],
)
def test_what_is_not_a_formula_is_shown_as_typed(text):
    assert text_of(markup.html(text, REFNUM)) == text
    assert "$" not in markup.tex(text, REFNUM).replace(r"\$", "")


@pytest.mark.parametrize("name", [*ACCEPTED.values(), LABEL, "a [@ng2004em] b", "x\\$y$z$"])
def test_a_literal_name_is_shown_as_typed(name):
    sentence = f"On {markup.literal(name)}, $m$ grows."
    assert text_of(markup.html(sentence, REFNUM)) == f"On {name}, m grows."
    assert markup.plain(sentence) == f"On {name}, $m$ grows."
    assert markup.tex(sentence, REFNUM).endswith(", $m$ grows.")
    assert "\\cite" not in markup.tex(sentence, REFNUM)


def test_an_unknown_citation_is_left_as_typed():
    assert text_of(markup.html("see [@nobody]", REFNUM)) == "see [@nobody]"
    assert "cite" not in markup.tex("see [@nobody]", REFNUM)


def test_only_known_commands_are_mathematics():
    assert texmath.is_math(r"\frac{\lambda}{2} \lVert W \rVert^2")
    assert texmath.is_math(r"\text{if } m \leq 20")
    for source in (r"\input{x}", r"\def\a{b}", "x^", "{x", "x}", "a_b_c", "ü", "\\\\"):
        assert not texmath.is_math(source), source
    with pytest.raises(texmath.NotMath):
        texmath.html(r"\write18{rm}")
