"""Hostile names and extreme values: each works end to end or is refused up front.

The rule for names (emnn.core.names, README "Names"): any printable Unicode character
and single spaces between words. Names that keep it go through the whole study
(paths by slug, Snakemake wildcards and params, records, tables, figures, HTML,
LaTeX and PDF) and show as typed; names that break it stop config validation
with one message naming the key and the character, and nothing is written.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_iris

from emnn import cli
from emnn.core.errors import ConfigError, StudyError
from emnn.core.layout import run_dir, slug
from emnn.core.names import RULE
from emnn.core.tidy import read_table
from emnn.paper.pdf import build_report_pdf, preflight
from emnn.study.config import load_config
from emnn.typeset import latex, markup
from emnn.typeset.formats import tex_escape
from tests.conftest import copy_checkout, small_config

PDF = preflight() is None  # this machine can build the PDF

# ------------------------------------------------------------------ names that work

ACCEPTED = {
    "HTML and TeX specials": 'Iris & <Co> 100% $#_{}~^"\\',
    "a Snakemake wildcard": "{dataset}",
    "a wildcard with a constraint": "{n_hidden,\\d+}",
    "Latin-1 letters, en dash": "Café Müller – Øre ß",
    "Latin Extended-A": "Łódź Ångström Œuvre",
    "CJK (no glyphs in the PDF's fonts)": "データ 集合",
    "an emoji beyond the BMP": "🌸 blossom",
    "Cyrillic and Greek, partly TeX math": "Ирис αβγ λ σ",
    "right to left": "שלום",
    "a number with a leading zero (YAML's 7 unquoted)": "007",
    "pandas' not-a-number": "NaN",
    "YAML's null": "null",
    "path separators, a parent directory": "../a/b\\c",
    "shell metacharacters": "-rf * '; echo $(id) `id`; '",
    "HTML and LaTeX markup": "<script>alert(1)</script> \\end{document}",
    "TeX quotes and ligatures": "it's --- ,, ``x''",
    "a decomposed accent": "Cafe\u0301 noir",
    "long and periodic (Snakemake's recursion guard)": "ab" * 60,
}

# ------------------------------------------------------------------ names that are refused

REFUSED = {
    "tab": ("a\tb", r"U\+0009 \(CHARACTER TABULATION\) at position 2, a control character"),
    "newline": ("a\nb", r"U\+000A \(LINE FEED\) at position 2, a control character"),
    "zero-width space": ("iris\u200b", r"U\+200B \(ZERO WIDTH SPACE\) at position 5, an invisible"),
    "bidirectional override": ("\u202eevil", r"U\+202E \(RIGHT-TO-LEFT OVERRIDE\) at position 1"),
    "emoji joined by a zero-width joiner": ("👩\u200d🔬", r"U\+200D \(ZERO WIDTH JOINER\)"),
    "soft hyphen": ("soft\u00adhyphen", r"U\+00AD \(SOFT HYPHEN\).*invisible formatting"),
    "no-break space": ("a\u00a0b", r"U\+00A0 \(NO-BREAK SPACE\).*other than the plain space"),
    "ideographic space": ("データ\u3000集合", r"U\+3000 \(IDEOGRAPHIC SPACE\)"),
    "line separator": ("a\u2028b", r"U\+2028 \(LINE SEPARATOR\).*a line separator"),
    "private use": ("\ue000x", r"U\+E000 at position 1, a private-use character"),
    "unassigned": ("x\u0378", r"U\+0378 at position 2, not a character of Unicode"),
    "lone surrogate": ("x\ud800", r"U\+D800 at position 2, a lone surrogate"),
    "leading space": (" iris", "starts with a space"),
    "trailing space": ("iris ", "ends with a space"),
    "two spaces": ("a  b", "holds two spaces in a row at position 2"),
    "empty": ("", "is empty"),
}

# Where a name can be typed: (how to put it in a config, the key the message names).
PLACES = {
    "dataset": (
        lambda c, n: c.update(datasets={n: {"source": "iris"}},
                              study={"main": {"datasets": [n], "methods": ["sgd"]}}),
        "config: datasets: the dataset name",
    ),
    "method": (
        lambda c, n: c.update(methods={n: {"model": "sgd"}},
                              study={"main": {"datasets": ["iris"], "methods": [n]}}),
        "config: methods: the method name",
    ),
    "label": (
        lambda c, n: c["methods"]["sgd"].update(label=n),
        "config: methods.sgd.label: the label",
    ),
    "CSV column": (
        lambda c, n: c["datasets"].update(mine={"source": "csv", "path": "x.csv", "target": n}),
        "config: datasets.mine.target: the column name",
    ),
    "study list": (
        lambda c, n: c["study"]["main"].update(datasets=["iris", n]),
        r"config: study.main.datasets\[1\]: the dataset name",
    ),
}  # fmt: skip


def refusal(tmp_path, config: dict) -> tuple[int, str, set[str]]:
    """`emnn check` on the config, from tmp_path: exit code, stderr, files left after it."""
    path = write(tmp_path / "config.yaml", config)
    before = set(os.listdir(tmp_path))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = cli.main(["check", "--config", str(path)])
    finally:
        os.chdir(cwd)
    return code, before, set(os.listdir(tmp_path))


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("case", REFUSED)
def test_a_name_breaking_the_rule_is_refused_naming_key_and_character(
    tmp_path, capsys, case, place
):
    name, reason = REFUSED[case]
    put, key = PLACES[place]
    config = small_config()
    put(config, name)
    code, before, after = refusal(tmp_path, config)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("emnn: error: ") and "Traceback" not in err
    assert re.search(f"{key} {re.escape(repr(name))} .*{reason}", err), err
    assert after == before  # nothing written


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("datasets: {007: {source: iris}}", "datasets: the dataset name 7 is a number, not text"),
        ("datasets: {1.5: {source: iris}}", "datasets: the dataset name 1.5 is a number"),
        ("methods: {yes: {model: sgd}}", "methods: the method name True is a true/false value"),
        ("methods: {sgd: {model: sgd, label: null}}", "methods.sgd.label: the label None is null"),
        ("study: {main: {datasets: [iris, 2024], methods: [sgd]}}",
         r"study.main.datasets\[1\]: the dataset name 2024 is a number"),
    ],
)  # fmt: skip
def test_a_name_yaml_reads_as_no_text_asks_for_quotes(tmp_path, yaml_text, message):
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(small_config()))
    (tmp_path / "bad.yaml").write_text(yaml_text + "\n")
    with pytest.raises(ConfigError, match=message) as error:
        load_config([base, tmp_path / "bad.yaml"])
    assert "write it in quotes" in str(error.value)


SLUG = slug("Iris & Co")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["Iris", "iris"], "'Iris' and 'iris' differ only in case"),
        (["ﬁsh", "fish"], "'ﬁsh' and 'fish' differ only in case or in the form"),
        (
            ["Iris & Co", SLUG],  # a name typed as another one's slug
            f"'Iris & Co' and '{SLUG}' would share the file name '{SLUG}'",
        ),
        (
            ["Iris & Co", SLUG.upper()],  # the same file on a case-insensitive file system
            "'Iris & Co' and '.*' would share the file name",
        ),
    ],
)
def test_names_that_would_share_files_or_read_alike_are_refused(tmp_path, names, message):
    config = small_config(
        datasets={n: {"source": "iris"} for n in names},
        study={"main": {"datasets": names, "methods": ["sgd"]}},
    )
    with pytest.raises(ConfigError, match=f"config: datasets: the names {message}"):
        load_config([write(tmp_path / "c.yaml", config)])
    config = small_config(
        methods={n: {"model": "sgd"} for n in names},
        study={"main": {"datasets": ["iris"], "methods": names}},
    )
    with pytest.raises(ConfigError, match=f"config: methods: the names {message}"):
        load_config([write(tmp_path / "c.yaml", config)])


def write(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("path", ["data/{raw}/x.csv", "{w,\\d+}.csv", "a/{ x }.csv"])
def test_a_data_path_snakemake_would_read_as_a_wildcard_is_refused(tmp_path, path):
    config = small_config(datasets={"iris": {}, "wine": {}, "mine": {"source": "csv", "path": path,
                                                                   "target": "y"}})  # fmt: skip
    with pytest.raises(ConfigError, match=r"config: datasets.mine.path: the path .* holds '\{"):
        load_config([write(tmp_path / "c.yaml", config)])


def test_every_accepted_name_passes_validation_as_every_kind_of_name(tmp_path):
    names = list(ACCEPTED.values())
    config = small_config(
        datasets={n: {"source": "iris"} for n in names},
        methods={n: {"model": "sgd", "label": n} for n in names},
        study={"main": {"datasets": names, "methods": names}},
    )
    config = load_config([write(tmp_path / "c.yaml", config)])
    assert list(config["datasets"]) == names


@pytest.mark.parametrize("name", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_slugs_are_safe_in_paths_wildcards_and_shells(name):
    from snakemake.io import PeriodicityDetector

    value = slug(name)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", value)
    assert value not in (".", "..")
    for wildcard in (value, f"learning-{value}"):
        assert PeriodicityDetector().is_periodic(wildcard) is None
    if len(name) <= 64 and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        assert value == name  # a plain name stays as it is
    assert len({slug(n) for n in ACCEPTED.values()}) == len(ACCEPTED)


def test_figures_draw_names_literally_and_keep_them_in_legends():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emnn.typeset.figure_style import drawn

    fig, axis = plt.subplots()
    for name in ("_private", "$x$ and $y$", "100% {n}"):
        axis.plot([0, 1], label=drawn(name))
    labels = axis.get_legend_handles_labels()[1]
    plt.close(fig)
    assert [label.lstrip("\u200b") for label in labels] == [
        "_private",
        r"\$x\$ and \$y\$",
        "100% {n}",
    ]  # none left out, none read as math


# ------------------------------------------------------------------ the PDF's characters


def pdf_text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode("utf-8", errors="replace")


def squeezed(text: str) -> str:
    """Text compared as a reader sees it: NFC, without the spaces and line breaks of layout."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


def shown(name: str, text: str) -> bool:
    """The name appears in extracted PDF text, up to line breaks (and hyphenation).

    pdftotext writes right-to-left text in visual order, whatever the PDF holds: a
    name wholly in such a script is looked for reversed too."""
    targets = {squeezed(name)}
    if all(unicodedata.bidirectional(c) in ("R", "AL", "WS") for c in name):
        targets.add(squeezed(name[::-1]))
    texts = (squeezed(text), squeezed(re.sub(r"-\n", "", text)))
    return any(target in found for target in targets for found in texts)


TEX_PREAMBLE = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage{textcomp}
\usepackage{caption}
\usepackage{longtable}
\usepackage{microtype}
\usepackage{hyperref}
\tracinglostchars=1
\begin{document}
"""


def compile_tex(tmp_path: Path, body: str) -> tuple[str, str]:
    """pdflatex on a document of the report's preamble: its log and the PDF's text."""
    tex = tmp_path / "t.tex"
    tex.write_text(TEX_PREAMBLE + body + "\n\\end{document}\n", encoding="utf-8")
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path, capture_output=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    log = (tmp_path / "t.log").read_bytes().decode("utf-8", errors="replace")
    assert (tmp_path / "t.pdf").is_file(), log[-3000:]
    return log, pdf_text(tmp_path / "t.pdf")


def tex(value: str) -> str:
    """A value as the report's `tex` filter writes it."""
    return latex.text(tex_escape(value))


def test_latex_text_is_ascii_or_typeset_and_keeps_the_text():
    for name in ACCEPTED.values():
        written = tex(name)
        assert set(written) <= latex.TYPESET, name
    assert tex("データ") == (
        r"\pdfliteral direct{/Span<</ActualText<FEFF30C730FC30BF>>>BDC}"
        r"{\ttfamily\footnotesize[U+30C7\,U+30FC\,U+30BF]}\pdfliteral direct{EMC}"
    )
    assert tex("it's -- ,,") == r"it\textquotesingle{}s -{}- ,{},"
    assert tex("σ-algebra") == r"$\sigma$-algebra"  # formulas are left alone
    assert tex("Cafe\u0301") == "Café"


@pytest.mark.skipif(not PDF, reason="needs TeX")
def test_every_typeset_character_compiles_and_reads_back(tmp_path):
    """The table of characters the fonts typeset holds on this machine's TeX; every
    other accepted name compiles through its fallback and reads back as typed."""
    characters = sorted(set(latex.TYPESET) - set("\t\n\r"))
    lines = [f"[{ord(c):04X}]{tex(c)}[/]\\par" for c in characters]
    names = [f"\\textbf{{{tex(n)}}} {{\\ttfamily {tex(n)}}} [/]\\par" for n in ACCEPTED.values()]
    log, text = compile_tex(tmp_path, "\n".join(lines + names))
    assert "\n!" not in log and "Missing character" not in log
    read = dict(re.findall(r"\[([0-9A-F]{4})\](.*?)\[/\]", text, re.S))
    for c in characters:
        assert unicodedata.normalize("NFC", read.get(f"{ord(c):04X}", "")) == c, c
    for name in ACCEPTED.values():
        assert shown(name, text), name


# ------------------------------------------------------------------ subprocess output


def test_a_tool_that_cannot_run_costs_one_message_never_a_traceback(tmp_path, monkeypatch, capsys):
    """latexmk on PATH but not runnable (a broken interpreter line): one message, kept log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("latexmk", "pdflatex"):
        (bin_dir / tool).write_text("#!/nonexistent/interpreter\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    tex_path = tmp_path / "build/report.tex"
    tex_path.parent.mkdir()
    tex_path.write_text("\\documentclass{article}\\begin{document}x\\end{document}\n")
    log, status = tmp_path / "logs/pdf.log", tmp_path / "pdf-status.txt"
    assert build_report_pdf(tex_path, "auto", log, status) is False
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "could not run" in err and str(log) in err
    assert status.read_text().startswith("not built: ")
    assert "could not run" in log.read_text()
    with pytest.raises(StudyError, match="could not run"):
        build_report_pdf(tex_path, "required", log, status)
    assert sorted(p.name for p in tex_path.parent.iterdir()) == ["report.tex"]


# ------------------------------------------------------------------ extreme values

IRIS = load_iris()
SPECIES = np.array(["setosa", "versicolor", "virginica"])[IRIS.target]


def csv_bytes(X, labels, header=None, encoding="utf-8", bom=b"", sep=",") -> bytes:
    header = header or [f"x{k}" for k in range(X.shape[1])]
    lines = [sep.join([*header, "label"])]
    for row, label in zip(X, labels, strict=True):
        lines.append(sep.join([*(repr(float(v)) for v in row), str(label)]))
    return bom + ("\n".join(lines) + "\n").encode(encoding)


def rare(labels, n):
    """The labels with the first n rows of the first class made class 'rare'."""
    labels = labels.astype(object).copy()
    labels[:n] = "rare"
    return labels


def relabelled():
    """Iris's 150 rows in six classes whose labels look alike: numbers, case, NaN."""
    names = np.array(["1", "1.0", "01", "A", "a", "NaN"])
    return names[IRIS.target * 2 + (np.arange(150) % 50 >= 25)]


# case -> (file bytes, extra dataset entry, splits, method, expected): expected is a dict of
# record checks when the run trains, or the message (regex) when it is refused.
EXTREME = {
    "features of scale 1e12": (
        csv_bytes(IRIS.data * 1e12, SPECIES), {}, {}, "lbfgs", {"same_as": "plain"}),
    "scales from 1e-12 to 1e12": (
        csv_bytes(IRIS.data * np.array([1e12, 1e-12, 1e12, 1e-12]), SPECIES), {}, {}, "lbfgs",
        {"same_as": "plain"}),
    "scale 1e12, not standardized": (
        csv_bytes(IRIS.data * 1e12, SPECIES), {}, {"standardize": False}, "lbfgs",
        {"note": "not standardized and their scales differ widely"}),
    "a constant column": (
        csv_bytes(np.column_stack([IRIS.data, np.full(150, 7.0)]), SPECIES), {}, {}, "lbfgs",
        {"note": "feature(s) 'x4' constant", "accuracy_above": 0.8}),
    "every column constant": (
        csv_bytes(np.ones((150, 2)), SPECIES), {}, {}, "sgd",
        {"note": "feature(s) 'x0', 'x1' constant", "log_loss_near": np.log(3)}),
    "a class with two examples": (
        csv_bytes(IRIS.data, rare(SPECIES, 2)), {}, {}, "lbfgs", {"counts": 2}),
    "a class with two examples, searched by 3-fold inner CV": (
        csv_bytes(IRIS.data, rare(SPECIES, 2)), {}, {}, "sgd-grid",
        r"method 'sgd-grid' searches its grid by 3-fold inner cross-validation, but in split 0 "
        r"of dataset 'mine' class 'rare' has 2 training row\(s\)"),
    "every row twice": (
        csv_bytes(np.vstack([IRIS.data, IRIS.data]), np.concatenate([SPECIES, SPECIES])),
        {}, {}, "lbfgs", {"n": 300, "accuracy_above": 0.8}),
    "latin-1 with its encoding given": (
        csv_bytes(IRIS.data, np.char.replace(SPECIES, "setosa", "sétosa"),
                  header=["größe", "x1", "x2", "x3"], encoding="latin-1"),
        {"encoding": "latin-1"}, {}, "lbfgs", {"classes": ["sétosa", "versicolor", "virginica"]}),
    "latin-1 read as UTF-8": (
        csv_bytes(IRIS.data, SPECIES, header=["größe", "x1", "x2", "x3"], encoding="latin-1"),
        {}, {}, "lbfgs",
        r"\(.*mine\.csv\): line 1 is not utf-8 text \(byte 0xf6\); save it as UTF-8, or give "
        r"its encoding .*encoding: latin-1"),
    "a UTF-8 byte-order mark": (
        csv_bytes(IRIS.data, SPECIES, bom=codecs.BOM_UTF8), {}, {}, "lbfgs",
        {"same_as": "plain"}),
    "UTF-16 with its byte-order mark": (
        csv_bytes(IRIS.data, SPECIES, encoding="utf-16"), {}, {}, "lbfgs", {"same_as": "plain"}),
    "UTF-16 without a byte-order mark": (
        csv_bytes(IRIS.data, SPECIES, encoding="utf-16-le"), {}, {}, "lbfgs",
        "the file holds NUL characters: is it UTF-16 without a byte-order mark"),
    "labels that look like numbers or differ in case": (
        csv_bytes(IRIS.data, relabelled()), {}, {}, "lbfgs",
        {"classes": ["01", "1", "1.0", "A", "NaN", "a"]}),
    "a header naming a column twice": (
        csv_bytes(IRIS.data, SPECIES, header=["x", "y", "x", "z"]), {}, {}, "lbfgs",
        r"the header names columns 1 and 3 both 'x'"),
    "semicolon-separated": (
        csv_bytes(IRIS.data, SPECIES, sep=";"), {}, {}, "lbfgs",
        r"no target column 'label'; columns are .*separated by ';' rather than commas"),
    "a class label holding a tab": (
        csv_bytes(IRIS.data, np.where(np.arange(150) == 7, "set\tosa", SPECIES)), {}, {}, "lbfgs",
        r"column 'label', line 9: the class label 'set\\tosa' holds U\+0009"),
    "scale 1e200: its squares overflow": (
        csv_bytes(IRIS.data * 1e200, SPECIES), {}, {}, "lbfgs",
        r"column 'x0', line 2: value 5\.0?9*e\+200 is too large: squares of numbers beyond "
        r"1e-150 to 1e\+150 in size leave the range of floating point"),
    "scale 1e-300: its squares underflow": (
        csv_bytes(IRIS.data * 1e-300, SPECIES), {}, {}, "lbfgs",
        r"column 'x0', line 2: value 5\.1e-300 is too small"),
    "a value of 1e400": (
        csv_bytes(IRIS.data, SPECIES).replace(b"\n5.0,", b"\n1e400,", 1), {}, {}, "lbfgs",
        r"column 'x0', line \d+: value 1e400 is not finite"),
}  # fmt: skip

METHODS = {
    "lbfgs": {"model": "lbfgs", "params": {"n_hidden": 3, "max_iter": 40}},
    "sgd": {"model": "sgd", "params": {"n_hidden": 3, "max_epochs": 10}},
    "sgd-grid": {"model": "sgd", "params": {"n_hidden": 3, "max_epochs": 5},
                 "grid": {"learning_rate": [0.01, 0.1]}, "inner_folds": 3},
}  # fmt: skip


def run_csv(tmp_path, data: bytes, entry: dict, splits: dict, method: str):
    """`emnn run` of one split on a CSV dataset 'mine': exit code and record path."""
    (tmp_path / "mine.csv").write_bytes(data)
    config = {
        "seed": 3,
        "splits": {"n_splits": 2, "test_size": 0.2, **splits},
        "datasets": {"mine": {"source": "csv", "path": str(tmp_path / "mine.csv"),
                              "target": "label", **entry}},
        "methods": {method: METHODS[method]},
        "study": {"main": {"datasets": ["mine"], "methods": [method]}},
    }  # fmt: skip
    out = tmp_path / "out" / "0.json"
    path = write(tmp_path / "c.yaml", config)
    code = cli.main(["run", "--config", str(path), "--dataset", "mine", "--method", method,
                     "--split", "0", "--out", str(out)])  # fmt: skip
    return code, out


@pytest.fixture(scope="module")
def plain_iris(tmp_path_factory):
    """The record of Iris as a plain UTF-8 CSV, to compare transformed copies with."""
    tmp = tmp_path_factory.mktemp("plain")
    code, out = run_csv(tmp, csv_bytes(IRIS.data, SPECIES), {}, {}, "lbfgs")
    assert code == 0
    return json.loads(out.read_text())


def test_there_are_enough_hostile_cases():
    assert len(ACCEPTED) + len(REFUSED) >= 15 and len(ACCEPTED) >= 15
    assert len(EXTREME) >= 6


@pytest.mark.parametrize("case", EXTREME)
def test_extreme_values_train_and_report_or_stop_with_one_message(
    tmp_path, capsys, plain_iris, case
):
    data, entry, splits, method, expected = EXTREME[case]
    code, out = run_csv(tmp_path, data, entry, splits, method)
    err = capsys.readouterr().err
    if isinstance(expected, str):  # refused: one message naming the dataset and file
        assert code == 2, err
        assert err.count("emnn: error:") == 1 and "Traceback" not in err
        assert ("'mine'" in err and "mine.csv" in err) or "method 'sgd-grid'" in err, err
        assert re.search(expected, err), err
        assert not out.parent.exists()
        return
    assert code == 0, err
    record = json.loads(out.read_text())
    metrics = record["metrics"]
    assert all(np.isfinite(metrics[k]) for k in ("test_accuracy", "test_log_loss"))
    if "same_as" in expected:  # standardization makes the scale, encoding or BOM vanish
        assert record["dataset"]["classes"] == plain_iris["dataset"]["classes"]
        assert metrics["test_accuracy"] == plain_iris["metrics"]["test_accuracy"]
        assert metrics["test_log_loss"] == pytest.approx(
            plain_iris["metrics"]["test_log_loss"], rel=1e-6
        )
    if "note" in expected:
        assert any(expected["note"] in note for note in record["notes"]), record["notes"]
    if "accuracy_above" in expected:
        assert metrics["test_accuracy"] > expected["accuracy_above"]
    if "log_loss_near" in expected:
        assert metrics["test_log_loss"] == pytest.approx(expected["log_loss_near"], abs=0.05)
    if "counts" in expected:
        summary = record["dataset"]
        counts = dict(zip(summary["classes"], summary["class_counts"], strict=True))
        assert counts["rare"] == expected["counts"]
    if "n" in expected:
        assert record["dataset"]["n"] == expected["n"]
    if "classes" in expected:
        assert record["dataset"]["classes"] == expected["classes"]


# ------------------------------------------------------------------ end to end

# One method: its hostile name shows in the methods table, its hostile label elsewhere.
METHOD = "L-BFGS {fast} «β» ✓"
LABEL = "L-BFGS — 中文 & {m} $x$ 100%"
# A CSV dataset under a hostile name and path, with hostile column names and labels.
CSV_NAME = "Mesures: Ω-7 (v2) ü"
CSV_PATH = "data/{raw data} & Co/mesures été 100%.csv"  # braces, but no wildcard
CSV_COLUMNS = ["longueur (cm)", "{x}", "NaN", "1.5"]
CSV_TARGET = "classe ✓"


def hostile_study() -> dict:
    names = [*ACCEPTED.values(), CSV_NAME]
    datasets = {n: {"source": "iris"} for n in ACCEPTED.values()}
    datasets[CSV_NAME] = {"source": "csv", "path": CSV_PATH, "target": CSV_TARGET}
    return {
        "seed": 11,
        "splits": {"scheme": "shuffle", "n_splits": 1, "test_size": 0.2, "standardize": True},
        "datasets": datasets,
        "methods": {
            METHOD: {"model": "lbfgs", "label": LABEL, "params": {"n_hidden": 2, "max_iter": 5}},
        },
        "study": {
            "main": {"datasets": names, "methods": [METHOD]},
            "sweep": {"datasets": [names[0]], "methods": [METHOD], "n_hidden": [2]},
            "estep_cost": {"dataset": ACCEPTED["a Snakemake wildcard"], "n_hidden": [2],
                           "repeats": 1},
        },
        "report": {"title": "Hostile names: {dataset} & 100% データ", "authors": ["Zoë {O'Brien}"],
                   "pdf": "auto"},
    }  # fmt: skip


def html_text(html: str) -> str:
    parts: list[str] = []
    parser = HTMLParser()
    parser.handle_data = parts.append
    parser.feed(html)
    return "".join(parts)


@pytest.mark.slow
def test_every_accepted_name_goes_through_the_whole_study(tmp_path):
    root = copy_checkout(tmp_path / "repo")
    for generated in ("results", "report/build", "logs"):
        shutil.rmtree(root / generated, ignore_errors=True)
    (root / "config/config.yaml").write_text(
        yaml.safe_dump(hostile_study(), allow_unicode=True), encoding="utf-8"
    )
    labels = relabelled()
    csv_labels = np.where(labels == "NaN", "{y} データ", labels)  # a label of every kind
    data = csv_bytes(IRIS.data, csv_labels, header=CSV_COLUMNS, bom=codecs.BOM_UTF8)
    (root / CSV_PATH).parent.mkdir(parents=True)
    (root / CSV_PATH).write_bytes(data.replace(b",label\n", f",{CSV_TARGET}\n".encode(), 1))
    env = {**os.environ, "PYTHONPATH": str(root)}
    check = subprocess.run(
        [sys.executable, "-m", "emnn", "check", "--config", "config/config.yaml"],
        cwd=root, capture_output=True, env=env,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr.decode(errors="replace")
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2"],
        cwd=root, capture_output=True, timeout=900, env=env,
    )  # fmt: skip
    err = done.stderr.decode("utf-8", errors="replace")
    assert done.returncode == 0, err[-4000:]
    assert "Traceback" not in err

    names = [*ACCEPTED.values(), CSV_NAME]
    # Run records and tables carry the names as typed, never converted (007, NaN, null).
    for name in names:
        record = json.loads((root / run_dir(name, METHOD, 2) / "0.json").read_text())
        assert record["dataset"]["name"] == name
        assert record["method"]["name"] == METHOD
    record = json.loads((root / run_dir(CSV_NAME, METHOD, 2) / "0.json").read_text())
    assert record["dataset"]["classes"] == ["01", "1", "1.0", "A", "a", "{y} データ"]
    main = read_table(root / "results/tables/main.csv")
    assert set(main["dataset"]) == set(names)
    assert set(main["method"]) == {METHOD}
    # Figures: file names by slug, the name as typed in the title (paper markup).
    for name in names:
        sidecar = json.loads((root / f"results/figures/learning-{slug(name)}.json").read_text())
        assert name in markup.plain(sidecar["title"])

    html = (root / "report/build/report.html").read_text(encoding="utf-8")
    text = html_text(html)
    report = hostile_study()["report"]
    shown_names = [*names, LABEL, METHOD, report["title"], *report["authors"]]
    for name in shown_names:
        assert name in text, name
    assert "<script>alert" not in html and "<Co>" not in html  # escaped, never markup

    tex = (root / "report/build/report.tex").read_text(encoding="utf-8")
    template = (root / "emnn/templates/report.tex.j2").read_text(encoding="utf-8")
    assert set(tex) <= latex.TYPESET | set(template)  # every other character has a fallback
    if PDF:
        assert (root / "report/build/pdf-status.txt").read_text() == "built report.pdf\n"
        text = pdf_text(root / "report/build/report.pdf")
        for name in shown_names:
            assert shown(name, text), name


@pytest.mark.slow
def test_snakemake_refuses_a_name_before_any_job_with_one_line(tmp_path):
    root = copy_checkout(tmp_path / "repo")
    bad = {"datasets": {"iris\u200b": {}}, "study": {"main": {"datasets": ["iris\u200b"]}}}
    write(root / "bad.yaml", bad)
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", "bad.yaml"],
        cwd=root, capture_output=True, timeout=300,
    )  # fmt: skip
    err = done.stderr.decode("utf-8", errors="replace")
    assert done.returncode == 2, err
    lines = [line for line in err.splitlines() if "emnn" in line]
    assert lines == [
        "emnn: error: config: datasets: the dataset name 'iris\\u200b' holds U+200B (ZERO WIDTH "
        "SPACE) at position 5, an invisible formatting character; " + RULE
    ]
    assert "Traceback" not in err and 'File "' not in err
    assert not (root / "results").exists() and not (root / "logs").exists()


@pytest.mark.slow
def test_every_stage_plans_with_wildcard_like_names(tmp_path):
    """A dry run of the full study with a dataset named like a wildcard in every part,
    the ablation's included: no rule's params are read as wildcard patterns."""
    root = copy_checkout(tmp_path / "repo")
    name = "{dataset}"
    config = yaml.safe_load((root / "config/config.yaml").read_text())
    study = config["study"]
    study["main"]["datasets"].append(name)
    for part in ("sweep",):
        if part in study:
            study[part]["datasets"].append(name)
    for part in ("ablation", "estep_cost"):
        if part in study:
            study[part]["dataset"] = name
    layered = {"datasets": {name: {"source": "iris"}}, "study": study}
    write(root / "wild.yaml", layered)
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", "wild.yaml"],
        cwd=root, capture_output=True, timeout=300,
    )  # fmt: skip
    out = (done.stdout + done.stderr).decode("utf-8", errors="replace")
    assert done.returncode == 0, out[-3000:]
    assert f"dataset={slug(name)}" in out
    assert "ablation" not in study or "rule ablation:" in out
