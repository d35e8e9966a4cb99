"""Prose markup: mathematics and citations written once, typeset in HTML and in LaTeX."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from emnn.paper.outline import outline
from emnn.typeset import blocks, markup, mathml, texmath
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


def test_a_percentage_never_breaks_before_its_sign():
    assert markup.tex("28/30 (96.67 %)", {}) == "28/30 (96.67~\\%)"
    assert "96.67\u00a0%" in markup.html("28/30 (96.67 %)", {})
    assert markup.tex("a % sign", {}) == "a \\% sign"  # no number, an ordinary space


def test_the_replication_description_is_markup_with_its_formulas_and_reference():
    from emnn.parts.replication.sentences import DESCRIPTION

    kinds = {kind for sentence in DESCRIPTION for kind, _ in markup.segments(sentence)}
    assert {"math", "ref", "code"} <= kinds
    tex = markup.tex(" ".join(DESCRIPTION), {}, {"eq-marginal": ("(3)", "eq-marginal")})
    assert "$m = 7$" in tex and "\\eqref{eq-marginal}" in tex and "\\$" not in tex


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


# ------------------------------------------------------------------ the marks of paper markup

XREFS = {"tab-main": ("Table 3", "tab-main"), "eq-objective": ("(4)", "eq-objective"),
         "app-timing": ("Appendix C", "timing"), "sub-convergence": ("Section 4.1",
         "sub-convergence"), "fig-x": ("Figure 2", "fig-x")}  # fmt: skip


@pytest.mark.parametrize(
    ("source", "shown_html", "shown_tex"),
    [
        ("see [#tab-main]", 'see <a href="#tab-main">Table 3</a>', r"see Table~\ref{tab-main}"),
        ("[#eq-objective]", '<a href="#eq-objective">(4)</a>', r"\eqref{eq-objective}"),
        ("[#app-timing]", '<a href="#timing">Appendix C</a>', r"Appendix~\ref{sec-timing}"),
        ("[#sub-convergence]", '<a href="#sub-convergence">Section 4.1</a>',
         r"Section~\ref{sub-convergence}"),
        ("[#fig-x]", '<a href="#fig-x">Figure 2</a>', r"Figure~\ref{fig-x}"),
        ("[#tab-unknown]", "[#tab-unknown]", r"[\#tab-unknown]"),
        ("a **bold** word", "a <b>bold</b> word", r"a \textbf{bold} word"),
        ("an *italic* word", "an <i>italic</i> word", r"an \emph{italic} word"),
        ("**E-step of $m$**", '<b>E-step of <span class="math"><i>m</i></span></b>',
         r"\textbf{E-step of $m$}"),
        ("run `snakemake --cores 1`", "run <code>snakemake --cores 1</code>",
         r"run \texttt{snakemake -{}-cores 1}"),
        ("`a/b_c`", "<code>a/b_c</code>", r"\texttt{a/\allowbreak{}b\_c}"),
        ("2 * 3 and a * b", "2 * 3 and a * b", "2 * 3 and a * b"),
        ("\\*not\\* \\`code\\`", "*not* `code`", "*not* \\textasciigrave{}code\\textasciigrave{}"),
    ],
)  # fmt: skip
def test_each_inline_mark_in_both_formats(source, shown_html, shown_tex):
    assert str(markup.html(source, REFNUM, XREFS)) == shown_html
    assert markup.tex(source, REFNUM, XREFS) == shown_tex


def test_code_is_pasted_as_typed_from_both_formats():
    command = "snakemake --cores 1 --force results/figures/x.svg"
    assert "--" not in markup.tex(f"`{command}`", REFNUM).replace("-{}-", "")
    assert text_of(markup.html(f"`{command}`", REFNUM)) == command
    name = "-rf * '; echo $(id) `id`; '"
    assert text_of(markup.html(f"`{markup.literal(name)}`", REFNUM)) == name
    assert text_of(markup.html(f"*{markup.literal(name)}*", REFNUM)) == name


# ------------------------------------------------------------------ blocks

TEXT = """First paragraph
on two lines with [#tab-a].

### A subsection {#sub-a}
$$ a = b $$ {#eq-a}

$$ \\begin{gathered}
x \\\\
y
\\end{gathered} $$

- one item
  continued
- two
::: table tab-a
::: figure learning-iris

```bibtex
@misc{x,
  title = {y}
}
```
Last."""


def test_the_block_parser_finds_every_kind_of_block():
    found = blocks.parse(TEXT)
    assert [b.kind for b in found] == [
        "paragraph", "heading", "equation", "equation", "list", "table", "figure", "code",
        "paragraph",
    ]  # fmt: skip
    assert found[0].text == "First paragraph on two lines with [#tab-a]."
    assert (found[1].text, found[1].anchor) == ("A subsection", "sub-a")
    assert (found[2].text, found[2].anchor) == ("a = b", "eq-a")
    assert found[3].anchor is None and "\\\\\ny" in found[3].text
    assert found[4].items == ("one item continued", "two")
    assert (found[5].text, found[6].text) == ("tab-a", "learning-iris")
    assert found[7].info == "bibtex" and found[7].text == "@misc{x,\n  title = {y}\n}"
    assert [b.kind for b in blocks.floats(found)] == ["table", "figure"]


@pytest.mark.parametrize("text", ["$$ a = b", "```\ncode"])
def test_an_unclosed_block_is_an_error(text):
    with pytest.raises(blocks.MarkupError):
        blocks.parse(text)


def test_a_display_equation_is_mathml_in_html_and_an_equation_in_latex():
    shown = str(mathml.mathml(r"\frac{\lambda}{2} \lVert \mathbf{W} \rVert^2"))
    assert shown.startswith('<math display="block">') and "<mfrac>" in shown
    gathered = str(mathml.mathml("\\begin{gathered} a \\\\ b \\end{gathered}"))
    assert '<mtable displaystyle="true">' in gathered and gathered.count("<mtr>") == 2


# ------------------------------------------------------------------ the format templates

TEMPLATES = Path(__file__).resolve().parent.parent / "emnn/templates"


def prose_runs(template: str) -> list[str]:
    """Runs of six or more ordinary words left once Jinja, tags, TeX commands, TeX
    comments and CSS are taken out of a format template."""
    text = re.sub(r"\(\(=.*?=\)\)|\(\(\*.*?\*\)\)|\(\(\(.*?\)\)\)", " ", template, flags=re.S)
    text = re.sub(r"<style>.*?</style>|<[^>]*>", " ", text, flags=re.S)
    text = re.sub(r"(?m)(?<!\\)%.*$", " ", text)
    text = re.sub(r"\\[A-Za-z]+\*?(\[[^\]]*\])?", " ", text)
    return re.findall(r"\b[A-Za-z']+(?: [A-Za-z']+){5,}", text)


@pytest.mark.parametrize("name", ["report.html.j2", "report.tex.j2"])
def test_the_format_templates_hold_no_prose(name):
    assert prose_runs((TEMPLATES / name).read_text()) == []
    assert prose_runs("<p>All methods fit the same architecture: p inputs</p>")


# ------------------------------------------------------------------ the outline


def test_the_outline_numbers_floats_in_the_order_the_texts_place_them():
    figures = {"a": {"anchor": "fig-a"}, "b": {"anchor": "fig-b"}}

    def numbered(first: str, second: str) -> dict:
        texts = (
            f"$$ x $$ {{#eq-x}}\n\n::: {first}\n\n### Sub {{#sub-s}}\n\n::: table tab-t\n",
            f"::: {second}\n\n::: figure b\n",
            "Text.",
        )
        shown = [
            {"name": name, "title": name, "appendix": name == "app", "blocks": blocks.parse(text)}
            for name, text in zip(("one", "two", "app"), texts, strict=True)
        ]
        return outline(shown, figures)

    found = numbered("table tab-u", "figure a")
    assert found["table_order"] == ["tab-u", "tab-t"]
    assert found["figure_order"] == ["fig-a", "fig-b"]
    assert found["numbers"] == {"eq-x": 1, "tab-u": 1, "tab-t": 2, "fig-a": 1, "fig-b": 2}
    assert found["xrefs"]["sub-s"] == ("Section 1.1", "sub-s")
    assert found["xrefs"]["app-app"] == ("Appendix A", "app")
    assert found["xrefs"]["fig-b"] == ("Figure 2", "fig-b")
    # A text that places the floats the other way round numbers them the other way round.
    swapped = numbered("figure a", "table tab-u")
    assert swapped["table_order"] == ["tab-t", "tab-u"]
    assert swapped["numbers"]["tab-t"] == 1 and swapped["numbers"]["tab-u"] == 2
    assert [b.number for b in swapped["sections"][0]["blocks"]] == ["1", "1", "1.1", "1"]
