"""The paper: escaping of arbitrary names, anchors, no network, reruns, hashes and the PDF.

One tiny study (two splits, a few iterations) is trained, aggregated and drawn
in a temporary directory; its dataset and method carry every character HTML
and LaTeX treat specially.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from emnn import aggregate, figures, pdf, provenance, records, report
from emnn.config import figure_plan, job_spec, load_config, runs, study_plan
from emnn.datasets import load_dataset
from emnn.errors import StudyError
from emnn.estep_cost import cost_table
from emnn.experiment import run_splits
from emnn.layout import REPORT, TABLES, TIMING_TABLES, run_dir

REPO = Path(__file__).resolve().parent.parent
DATASET = 'Iris & <Co> 100% $#_{}~^"\\'
METHOD = 'sgd&<b>_"50%"#'
LABEL = 'SGD <back-prop> & "co" 100% $#_{}~^\\'
TEX_DATASET = (
    r"Iris \& \textless{}Co\textgreater{} 100\% \$\#\_\{\}\textasciitilde{}"
    r"\textasciicircum{}\textquotedbl{}\textbackslash{}"
)
TIMING_SECTION = re.compile(r'<section id="timing">.*?</section>', re.DOTALL)


def tiny_config(path: Path) -> dict:
    """A study of every part (main, sweep, replication, E-step cost) in a few seconds."""
    config = {
        "seed": 11,
        "splits": {"n_splits": 2, "test_size": 0.25},
        "datasets": {
            DATASET: {"source": "iris"},
            "iris-original": {
                "source": "iris",
                "splits": {"scheme": "original", "standardize": False},
            },
        },
        "methods": {
            "em-newton": {
                "label": "EM (Newton M-step)",
                "model": "em",
                "params": {"n_hidden": 3, "m_step": "newton", "max_iter": 4, "l2": 0.1},
            },
            METHOD: {
                "label": LABEL,
                "model": "sgd",
                "params": {"n_hidden": 3, "learning_rate": 0.05, "max_epochs": 4, "l2": 0.1},
            },
        },
        "study": {
            "main": {"datasets": [DATASET], "methods": ["em-newton", METHOD], "baseline": METHOD},
            "sweep": {"datasets": [DATASET], "methods": ["em-newton"], "n_hidden": [2]},
            "replication": {
                "datasets": ["iris-original", DATASET],
                "methods": ["em-newton", METHOD],
                "reported": {"em-newton": 0.9333, METHOD: 0.9667},
            },
            "estep_cost": {"dataset": "iris", "n_hidden": [2, 3], "repeats": 1},
        },
        "report": {"title": "A tiny study of <EM> & SGD", "authors": ["A & B", "C_D"]},
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return load_config([path])


def build_study(root: Path) -> tuple[dict, list[str]]:
    """Train, aggregate and draw the tiny study under root, as the workflow would."""
    config = tiny_config(root / "tiny.yaml")
    dirs = []
    for dataset, method, n_hidden in runs(config):
        directory = run_dir(dataset, method, n_hidden)
        results = run_splits(job_spec(config, dataset, method, n_hidden))
        records.write_run_directory(root / directory, results)
        dirs.append(directory)
    aggregate.write(
        [root / d for d in dirs], study_plan(config), root / TABLES, root / TIMING_TABLES
    )
    write_estep_cost(config, root)
    plan = figure_plan(config)
    for name in figures.figure_names(plan):
        figures.draw(name, plan, root)
    return config, dirs


def write_estep_cost(config: dict, root: Path, scale: float = 1.0) -> None:
    spec = config["study"]["estep_cost"]
    data = load_dataset(spec["dataset"], config["datasets"].get(spec["dataset"], {}))
    table = cost_table(data.X, data.y, spec["n_hidden"], spec["repeats"])
    table[["e_step_seconds", "m_step_seconds"]] *= scale
    records.write_text(root / TIMING_TABLES / "estep_cost.csv", aggregate.csv_text(table))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    config, dirs = build_study(root)
    # The work tree may change while the tests run; the report states what it was.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(provenance, "git_commit", lambda: "0123456789abcdef (test)")
        report.render(config, dirs, root)
        yield root, config, dirs


def output(root: Path, name: str) -> str:
    return (root / REPORT / name).read_text(encoding="utf-8")


class TextAndIds(HTMLParser):
    """The text of a page and every id and link in it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.ids, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for key in ("href", "xlink:href", "src"):
            if key in attrs:
                self.links.append((tag, key, attrs[key]))

    def handle_data(self, data):
        self.text.append(data)


def parse(text: str) -> TextAndIds:
    parser = TextAndIds()
    parser.feed(text)
    return parser


# ------------------------------------------------------------------ escaping


def test_names_come_out_escaped_in_html(study):
    root, _, _ = study
    page = output(root, "report.html")
    parsed = parse(page)
    cells = [t.strip() for t in parsed.text]
    assert DATASET in cells
    assert LABEL in cells
    assert METHOD in cells  # the method's key, in the table of methods
    assert html.escape(DATASET, quote=False) in page or "Iris &amp; &lt;Co&gt;" in page
    assert "<Co>" not in page and "<back-prop>" not in page and "<b>_" not in page
    assert "A tiny study of &lt;EM&gt; &amp; SGD" in page


def test_names_come_out_escaped_in_latex(study):
    root, _, _ = study
    tex = output(root, "report.tex")
    assert TEX_DATASET in tex
    assert report.tex_escape(LABEL) in tex
    assert report.tex_escape(METHOD) in tex
    assert DATASET not in tex and LABEL not in tex
    assert r"A tiny study of \textless{}EM\textgreater{} \& SGD" in tex
    assert report.tex_escape(DATASET) in output(root, "timing.tex")


def test_tex_escape_spells_out_every_special_character():
    assert report.tex_escape('a&b_<c>%$#{}~^"\\') == (
        r"a\&b\_\textless{}c\textgreater{}\%\$\#\{\}\textasciitilde{}\textasciicircum{}"
        r"\textquotedbl{}\textbackslash{}"
    )
    assert report.tex_escape("plain text, 1.5") == "plain text, 1.5"
    assert report.tex_escape("−1 ∝ 2^m") == r"$-$1 $\propto$ 2\textasciicircum{}m"


def test_numbers_have_fixed_formats():
    assert report.number(0.93333, "accuracy") == "93.33"
    assert report.number(-0.0123, "diff_accuracy", minus="−") == "−1.23"
    assert report.number(0.0333, "diff_accuracy") == "+3.33"
    assert report.number(0.10785, "log_loss") == "0.108"
    assert report.number(0.012332574, "p") == "0.0123"
    assert report.number(1.0, "p") == "1.00"
    assert report.number(float("nan"), "p") == "–"
    assert report.number(None, "log_loss") == "–"


# ------------------------------------------------------------------ structure


def test_every_figure_and_table_has_an_anchor(study):
    root, config, _ = study
    page, tex = output(root, "report.html"), output(root, "report.tex")
    timing_tex = output(root, "timing.tex")
    ids = parse(page).ids
    assert len(ids) == len(set(ids)), "ids repeat across inlined figures"
    names = figures.figure_names(figure_plan(config))
    for name in names:
        anchor = records.read(root / f"{figures.output_prefix(name)}.json")["anchor"]
        assert anchor in ids
        assert rf"\label{{{anchor}}}" in (timing_tex if name.startswith("timing/") else tex)
    tables = re.findall(r'<table id="(tab-[^"]+)"', page)
    assert {"tab-main-accuracy", "tab-comparisons", "tab-replication", "tab-sweep"} <= set(tables)
    for anchor in tables:
        if anchor == "tab-environment":
            continue
        assert rf"\label{{{anchor}}}" in tex + timing_tex


def test_html_makes_no_network_request(study):
    root, _, _ = study
    page = output(root, "report.html")
    urls = re.findall(r"https?://", page)
    namespaces = re.findall(r'xmlns(?::\w+)?="https?://', page)
    assert urls and len(urls) == len(namespaces)
    for tag, key, target in parse(page).links:
        assert key != "src", f"<{tag} src=...>"
        assert target.startswith("#"), f"<{tag} {key}={target!r}>"
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    for target in re.findall(r"url\(([^)]*)\)", page):
        assert target.startswith("#")


def test_abstract_and_replication_use_the_study_numbers(study):
    root, _, _ = study
    page = parse(output(root, "report.html"))
    text = " ".join(" ".join(page.text).split())
    main = pd.read_csv(root / TABLES / "main.csv", keep_default_na=False, na_values=[""])
    em = main[main["method"] == "em-newton"].iloc[0]
    assert f"{report.pct(em['accuracy_mean'])} % against" in text
    replication = pd.read_csv(root / TABLES / "replication.csv")
    original = replication[replication["dataset"] == "iris-original"]
    for value in original["accuracy_mean"]:
        assert f"{report.pct(value)} %" in text
    assert "reported 93.33 %" in text and "reported 96.67 %" in text
    assert "one split with 30 test examples" in text


def test_a_study_of_one_method_without_optional_parts_renders(tmp_path):
    """No baseline, sweep or replication: those sections are left out."""
    path = tmp_path / "one.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "seed": 3,
                "splits": {"n_splits": 2},
                "datasets": {"wine": {}},
                "methods": {"em": {"model": "em", "params": {"n_hidden": 2, "max_iter": 2}}},
                "study": {
                    "main": {"datasets": ["wine"], "methods": ["em"]},
                    "estep_cost": {"dataset": "wine", "n_hidden": [2], "repeats": 1},
                },
            }
        )
    )
    config = load_config([path])
    wine = load_dataset("wine", {})
    cost = aggregate.csv_text(cost_table(wine.X, wine.y, [2], 1))
    records.write_text(tmp_path / TIMING_TABLES / "estep_cost.csv", cost)
    directory = run_dir("wine", "em", 2)
    records.write_run_directory(tmp_path / directory, run_splits(job_spec(config, "wine", "em")))
    aggregate.write(
        [tmp_path / directory], study_plan(config), tmp_path / TABLES, tmp_path / TIMING_TABLES
    )
    for name in figures.figure_names(figure_plan(config)):
        figures.draw(name, figure_plan(config), tmp_path)
    report.render(config, [directory], tmp_path)
    page = output(tmp_path, "report.html")
    assert 'id="fig-learning-wine"' in page and 'id="tab-main-accuracy"' in page
    assert 'id="comparison"' not in page and 'id="replication"' not in page
    assert 'id="timing"' in page
    assert r"\label{tab-main-accuracy}" in output(tmp_path, "report.tex")


# ------------------------------------------------------------------ reruns and hashes


def test_rerun_changes_nothing_but_the_timing_parts(study, tmp_path):
    root, config, dirs = study
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    before = {name: output(copy, name) for name in ("report.html", "report.tex", "SHA256SUMS")}
    # Another machine's wall-clock times: every timing table and figure differs.
    for name in ("fit_times", "fit_summary"):
        table = pd.read_csv(
            copy / TIMING_TABLES / f"{name}.csv", keep_default_na=False, na_values=[""]
        )
        for column in table.columns:
            if "seconds" in column:
                table[column] *= 3.7
        records.write_text(copy / TIMING_TABLES / f"{name}.csv", aggregate.csv_text(table))
    write_estep_cost(config, copy, scale=5.0)
    figures.draw("timing/estep-cost", figure_plan(config), copy)
    report.render(config, dirs, copy)
    after = {name: output(copy, name) for name in ("report.html", "report.tex", "SHA256SUMS")}
    assert after["report.tex"] == before["report.tex"]
    assert after["SHA256SUMS"] == before["SHA256SUMS"]
    assert after["report.html"] != before["report.html"]
    assert TIMING_SECTION.sub("", after["report.html"]) == TIMING_SECTION.sub(
        "", before["report.html"]
    )
    assert output(copy, "timing.tex") != output(root, "timing.tex")
    # Absolute run directories give the same, relative, paths.
    report.render(config, [str(copy / d) for d in reversed(dirs)], copy)
    assert output(copy, "report.tex") == before["report.tex"]
    assert str(tmp_path) not in output(copy, "report.html")


def test_sha256sums_check_every_artifact(study):
    root, _, dirs = study
    lines = output(root, "SHA256SUMS").splitlines()
    listed = {}
    for line in lines:
        digest, path = line.split("  ", 1)
        assert hashlib.sha256((root / path).read_bytes()).hexdigest() == digest
        listed[path] = digest
    assert f"{TABLES}/main.csv" in listed
    assert not any("timing" in path for path in listed)
    page = output(root, "report.html")
    for directory in dirs:
        mine = sorted(p for p in listed if p.startswith(directory + "/"))
        assert mine and all(p.endswith(".json") for p in mine)
        combined = "".join(f"{listed[p]}  {p}\n" for p in mine)
        assert hashlib.sha256(combined.encode()).hexdigest() in page


def test_a_figure_drawn_from_other_tables_stops_the_report(study, tmp_path):
    root, config, dirs = study
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    runs_table = copy / TABLES / "runs.csv"
    runs_table.write_text(runs_table.read_text() + "\n")
    with pytest.raises(StudyError, match="paired-accuracy"):
        report.render(config, dirs, copy)
    shutil.copy2(root / TABLES / "runs.csv", runs_table)
    relabelled = {**config, "methods": {**config["methods"]}}
    relabelled["methods"]["em-newton"] = {**config["methods"]["em-newton"], "label": "EM"}
    with pytest.raises(StudyError, match="another study plan"):
        report.render(relabelled, dirs, copy)


# ------------------------------------------------------------------ the PDF


@pytest.mark.skipif(pdf.tex_engine() is None, reason="no latexmk and pdflatex on PATH")
def test_pdf_builds_and_keeps_its_log(study, tmp_path):
    root, _, _ = study
    built = pdf.build_pdf(root / REPORT / "report.tex", tmp_path / "pdf.log")
    assert built == root / REPORT / "report.pdf"
    assert built.read_bytes().startswith(b"%PDF")
    assert [p.name for p in (root / REPORT).iterdir() if p.name.startswith(".")] == []
    assert "Output written on" in (tmp_path / "pdf.log").read_text()


@pytest.mark.skipif(shutil.which("kpsewhich") is None, reason="no TeX installed")
def test_every_package_the_rendered_tex_loads_is_installed(study):
    root, _, _ = study
    loaded = pdf.loaded_files((root / REPORT / "report.tex").read_text())
    assert "lmodern.sty" in loaded
    assert pdf.missing_files(loaded) == []


def test_references_are_read_from_the_bib_file():
    entries = report.references((REPO / "emnn/templates/references.bib").read_text())
    keys = [e["key"] for e in entries]
    assert keys[0] == "ng2004em" and len(keys) == len(set(keys)) == 6
    ng = entries[0]
    assert ng["title"].startswith("Using the EM algorithm to train neural networks")
    assert ng["venue"] == "IEEE Transactions on Neural Networks 15(3), 738–749"
    assert [e["position"] for e in entries] == list(range(1, 7))
    assert "et al." in next(e for e in entries if e["key"] == "molder2021snakemake")["authors"]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian package chromium)")
def test_html_loads_in_chromium_cleanly_with_every_figure_drawn(study):
    """No console error, no request but the page itself, every inline figure laid out."""
    playwright = pytest.importorskip("playwright.sync_api")
    root, config, _ = study
    page_url = (root / REPORT / "report.html").resolve().as_uri()
    problems, requests = [], []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page()
        page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("requestfailed", lambda r: problems.append(f"failed request {r.url}"))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_url, wait_until="load")
        drawn = page.eval_on_selector_all(
            "figure svg",
            "svgs => svgs.map(s => [s.closest('figure').id, s.getBoundingClientRect().width,"
            " s.getBoundingClientRect().height, s.querySelectorAll('path').length])",
        )
        browser.close()
    assert problems == []
    assert requests == [page_url]
    expected = {"fig-" + n.replace("/", "-") for n in figures.figure_names(figure_plan(config))}
    assert {figure_id for figure_id, *_ in drawn} == expected
    for figure_id, width, height, paths in drawn:
        assert width > 200 and height > 150 and paths > 10, figure_id
