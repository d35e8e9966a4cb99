"""The paper: escaping of arbitrary names, anchors, no network, reruns, hashes and the PDF.

One tiny study (two splits, a few iterations) is trained, aggregated and drawn
in a temporary directory; its dataset and method carry every character HTML
and LaTeX treat specially. It has an exact-likelihood trainer besides EM
(L-BFGS) and a dataset sampled from a teacher network, so the convergence,
suboptimality, cross-scoring and teacher-floor parts are all exercised.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from emnn import paper as report
from emnn.core import provenance, records
from emnn.core.errors import StudyError
from emnn.core.layout import REPORT, TABLES, TIMING_TABLES, run_dir
from emnn.core.tidy import csv_text, read_table
from emnn.data.datasets import load_dataset
from emnn.paper import bibliography, figures, pdf, setup_tables
from emnn.paper.prose import ABSTRACT_WORDS
from emnn.paper.protocol import applies
from emnn.parts.main import aggregate, narrative
from emnn.parts.main.primary_text import primary_context
from emnn.parts.replication.contract import TABLE_NAMES as ABLATION_TABLES
from emnn.parts.replication.run import ablation_table, inits_table
from emnn.parts.timing.estep_cost import cost_table
from emnn.plan import Plan
from emnn.study import method_text
from emnn.study.config import load_config
from emnn.study.jobs import figure_plan, job_spec, runs, study_plan
from emnn.study.runs import CONVERGED_SHARE, load
from emnn.study.training import run_splits
from emnn.typeset import formats, markup

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
    """A study of every part (main, sweep, ablation, E-step cost) in a few seconds."""
    config = {
        "seed": 11,
        "splits": {"n_splits": 2, "test_size": 0.25},
        "datasets": {
            DATASET: {"source": "iris"},
            "teacher": {
                "source": "teacher",
                "n_samples": 120,
                "n_features": 3,
                "n_hidden": 2,
                "n_classes": 3,
                "seed": 5,
            },
        },
        "methods": {
            "em-newton": {
                "label": "EM (Newton M-step)",
                "model": "em",
                "params": {"n_hidden": 3, "m_step": "newton", "max_iter": 4, "l2": 0.1},
            },
            "lbfgs": {
                "label": "L-BFGS (exact likelihood)",
                "model": "lbfgs",
                "params": {"n_hidden": 3, "max_iter": 4, "l2": 0.1},
            },
            # The model question's pair, each with its penalty chosen by inner CV: run for
            # the primary contrast alone, outside study.main.methods.
            "lbfgs-cv": {
                "label": "L-BFGS, tuned penalty",
                "model": "lbfgs",
                "params": {"n_hidden": 3, "max_iter": 4},
                "grid": {"l2": [0.1, 1.0]},
                "inner_folds": 2,
            },
            "sklearn-cv": {
                "label": "scikit-learn L-BFGS, tuned penalty",
                "model": "sklearn-mlp",
                "params": {"n_hidden": 3, "solver": "lbfgs", "max_epochs": 4},
                "grid": {"l2": [0.1, 1.0]},
                "inner_folds": 2,
            },
            # Each split's reference optimum: the best of two starts of its own.
            "lbfgs-ref": {
                "label": "L-BFGS (reference optimum)",
                "model": "lbfgs",
                "params": {"n_hidden": 3, "max_iter": 30, "tol": 1e-8, "l2": 0.1},
                "starts": 2,
            },
            METHOD: {
                "label": LABEL,
                "model": "sgd",
                "params": {"n_hidden": 3, "max_epochs": 4, "l2": 0.1},
                "grid": {"learning_rate": [0.01, 0.05]},
                "inner_folds": 2,
            },
        },
        "study": {
            "main": {
                "datasets": [DATASET, "teacher"],
                "methods": ["em-newton", "lbfgs", METHOD],
                "baseline": METHOD,
                "reference": "lbfgs-ref",
                "primary": {
                    "contrasts": [
                        {"method": "lbfgs-cv", "baseline": "sklearn-cv", "question": "the model"},
                        {"method": "lbfgs", "baseline": METHOD, "question": "two"},
                    ],
                    "margins": {"accuracy": 0.02, "log_loss": 0.05},
                },
            },
            "sweep": {"datasets": [DATASET], "methods": ["em-newton"], "n_hidden": [2]},
            "ablation": {"dataset": DATASET, "n_inits": 4},
            "estep_cost": {"dataset": "iris", "n_hidden": [2, 3], "repeats": 1},
        },
        "report": {
            "title": "A tiny study of <EM> & SGD",
            "authors": ["A & B", "C_D"],
            "affiliation": "Dept. of <Tests> & Co",
            "date": "2025-03-14",
        },
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
    ablation = json.loads(Plan(config).ablation_json())
    for name, table in zip(
        ABLATION_TABLES, (ablation_table(ablation), inits_table(ablation)), strict=True
    ):
        records.write_text(root / TABLES / f"{name}.csv", csv_text(table))
    plan = figure_plan(config)
    for name in figures.figure_names(plan):
        figures.draw(name, plan, root)
    return config, dirs


def write_estep_cost(config: dict, root: Path, scale: float = 1.0) -> None:
    spec = config["study"]["estep_cost"]
    data = load_dataset(spec["dataset"], config["datasets"].get(spec["dataset"], {}))
    table = cost_table(data.X, data.y, spec["n_hidden"], spec["repeats"])
    table[["e_step_seconds", "m_step_seconds"]] *= scale
    records.write_text(root / TIMING_TABLES / "estep_cost.csv", csv_text(table))


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
    assert formats.tex_escape(LABEL) in tex
    assert formats.tex_escape(METHOD) in tex
    assert DATASET not in tex and LABEL not in tex
    assert r"A tiny study of \textless{}EM\textgreater{} \& SGD" in tex
    assert formats.tex_escape(DATASET) in output(root, "timing.tex")


def test_tex_escape_spells_out_every_special_character():
    assert formats.tex_escape('a&b_<c>%$#{}~^"\\') == (
        r"a\&b\_\textless{}c\textgreater{}\%\$\#\{\}\textasciitilde{}\textasciicircum{}"
        r"\textquotedbl{}\textbackslash{}"
    )
    assert formats.tex_escape("plain text, 1.5") == "plain text, 1.5"
    assert formats.tex_escape("−1 ∝ 2^m") == r"$-$1 $\propto$ 2\textasciicircum{}m"


def test_numbers_have_fixed_formats():
    assert formats.number(0.93333, "accuracy") == "93.33"
    assert formats.number(-0.0123, "diff_accuracy", minus="−") == "−1.23"
    assert formats.number(0.0333, "diff_accuracy") == "+3.33"
    assert formats.number(0.10785, "log_loss") == "0.108"
    assert formats.number(0.012332574, "p") == "0.0123"
    assert formats.number(1.0, "p") == "1.00"
    assert formats.number(float("nan"), "p") == "–"
    assert formats.number(None, "log_loss") == "–"
    assert formats.number(-2.42e-5, "sci", minus="−") == "−2.42e-5"
    assert formats.number(4.43e14, "sci") == "4.43e14"
    assert formats.number(21.6, "sci") == "2.16e1"
    assert formats.number(0.0, "sci") == "0"


def test_a_value_that_rounds_to_zero_prints_without_a_sign():
    """−0.0004 as a log-loss difference is 0.000, not −0.000: no direction is shown."""
    assert formats.number(-0.0004, "diff_log_loss", minus="−") == "0.000"
    assert formats.number(0.0004, "diff_log_loss") == "0.000"
    assert formats.number(-0.00004, "diff_accuracy", minus="−") == "0.00"
    assert formats.number(-0.00004, "log_loss") == "0.000"
    assert formats.number(-0.4, "int") == "0"
    assert formats.number(-0.0006, "diff_log_loss", minus="−") == "−0.001"
    assert formats.number(-1e-9, "sci", minus="−") == "−1.00e-9"  # the digits are not zero


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
    ablation = pd.read_csv(root / TABLES / "ablation.csv")
    original = ablation[ablation["protocol"] == "original"].set_index("row")
    for key, row in original.iterrows():
        line = f"{row['name']} {row['n_correct']}/{row['n_test']}"
        assert line in text, key  # the table's row: its name, then its count
    em, bp = (original.loc[f"{m}-bug-compatible", "n_correct"] for m in ("em", "backprop"))
    assert (
        f"the originating EM classifies {em}/30 test examples correctly and the originating "
        f"back-propagation {bp}/30" in text
    )
    inits = pd.read_csv(root / TABLES / "ablation_inits.csv")
    assert f"From {inits['draw'].nunique()} other random initializations" in text


def test_the_abstract_gives_the_primary_verdicts_first_in_few_words(study):
    root, config, dirs = study
    page = output(root, "report.html")
    abstract = re.search(r'<section class="abstract".*?<p>(.*?)</p>', page, re.DOTALL)[1]
    abstract = " ".join(html.unescape(re.sub(r"<[^>]+>", "", abstract)).split())
    data = report.load(config, dirs, root)
    shown = primary_context(config, data["plan"], data["tables"]["primary"])
    compact = markup.plain(shown["contrasts"][0]["compact"])
    assert abstract.startswith("The model: ") and compact in abstract
    found = narrative.findings(config, data["plan"], data["tables"])
    if found["converged_speed"]:
        assert markup.plain(found["converged_speed"]) in abstract
    assert re.search(r"Replication: the originating EM[’']s 28/30 or better comes from", abstract)
    assert "of 4 other initializations; corrected and each trained until its loss settles" in (
        abstract
    )
    assert len(abstract.split()) <= ABSTRACT_WORDS


def test_a_contrast_of_tuned_methods_runs_outside_the_main_tables(study):
    """The model question's pair chooses its penalty per split and enters the primary
    analysis only: the algorithm question's tables keep one fixed objective."""
    root = study[0]
    tuned = {"lbfgs-cv", "sklearn-cv"}
    primary = table(root, "primary")
    assert set(primary.loc[primary["contrast"] == 1, "method"]) == {"lbfgs-cv"}
    for name in ("main", "comparisons", "convergence", "cross", "curves", "suboptimality"):
        assert not tuned & set(table(root, name)["method"]), name
    page = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", output(root, "report.html"))).split())
    assert "Both choose the penalty λ from {0.1, 1} per split" in page
    assert "Only contrast 1 chooses the penalty of both its methods; elsewhere it is fixed" in page
    data = report.load(study[1], study[2], root)
    assert primary_context(study[1], data["plan"], data["tables"]["primary"])["tuned"] == (
        "contrast 1"  # the overfitting paragraph's "unlike those of contrast 1"
    )
    for label in ("L-BFGS, tuned penalty", "scikit-learn L-BFGS, tuned penalty"):
        assert re.search(rf"{re.escape(label)} 2 l2=(0.1|1.0)", row_text(page, label)), label


def row_text(page: str, label: str) -> str:
    """The selection table's text from a method's row on (the plain text of the page)."""
    start = page.index("Hyperparameters chosen by inner cross-validation")
    return page[page.index(label, start) :]


# ------------------------------------------------------------------ the fair-comparison parts


def table(root: Path, name: str) -> pd.DataFrame:
    return read_table(root / TABLES / f"{name}.csv")


def row_of(page: str, table_id: str, *cells: str) -> str:
    """The first row of an HTML table holding every one of the given cell texts."""
    body = re.search(rf'<table id="{table_id}".*?</table>', page, re.DOTALL).group(0)
    for row in re.findall(r"<tr.*?</tr>", body, re.DOTALL):
        text = html.unescape(re.sub(r"<[^>]+>", "|", row))
        if all(f"|{cell}|" in text for cell in cells):
            return row
    raise AssertionError(f"no row of {table_id} holds {cells}")


def test_comparisons_show_raw_and_holm_adjusted_p_values(study):
    root, _, _ = study
    page, tex = output(root, "report.html"), output(root, "report.tex")
    comparisons = table(root, "comparisons")
    family = int(comparisons["family_size"].iloc[0])
    assert family == comparisons["p_value"].notna().sum()
    assert "<i>p</i><sub>Holm</sub>" in page and r"$p_{\mathrm{Holm}}$" in tex
    assert f"Holm-adjusted over the family of all {family} comparisons" in page
    assert f"family of all {family} comparisons" in tex
    for row in comparisons.itertuples():
        if row.test != "corrected t":
            continue
        shown = row_of(page, "tab-comparisons", formats.pvalue(row.p_value))
        assert formats.pvalue(row.p_holm) in html.unescape(shown)


def test_a_zero_variance_comparison_shows_an_undefined_interval_and_the_sign_test(study, tmp_path):
    root, config, dirs = study
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    comparisons = table(copy, "comparisons")
    # As aggregate writes it when every paired difference is the same.
    first = comparisons.index[0]
    comparisons.loc[first, ["mean_difference", "p_value", "test"]] = [0.0, 1.0, "sign"]
    comparisons.loc[first, ["ci_low", "ci_high", "t"]] = float("nan")
    records.write_text(copy / TABLES / "comparisons.csv", csv_text(comparisons))
    report.render(config, dirs, copy)
    page, tex = output(copy, "report.html"), output(copy, "report.tex")
    shown = html.unescape(re.sub(r"<[^>]+>", "|", row_of(page, "tab-comparisons", "undefined")))
    assert "|sign test|" in shown and "|0.00|" in shown and "[+0.00, +0.00]" not in shown
    assert "t =" not in shown
    assert "& undefined & sign test &" in tex
    assert "[+0.00, +0.00]" not in page + tex


def test_the_teacher_floor_is_a_row_of_the_log_loss_table(study):
    root, _, _ = study
    page, tex = output(root, "report.html"), output(root, "report.tex")
    main = table(root, "main")
    floor = main[main["reference"].astype(str) == "True"]
    assert list(floor["dataset"]) == ["teacher"]
    value = formats.fixed(floor["log_loss_mean"].iloc[0])
    row = row_of(page, "tab-main-log-loss", "teacher network (floor)", value)
    assert f"<i>{value}</i>" in row and "<i>teacher network (floor)</i>" in row
    assert r"\textit{teacher network (floor)}" in tex and rf"\textit{{{value}}}" in tex
    # Not in the accuracy table: the teacher has no accuracy of its own there.
    accuracy = re.search(r'<table id="tab-main-accuracy".*?</table>', page, re.DOTALL).group(0)
    assert "teacher network (floor)" not in accuracy


def body_rows(page: str, table_id: str) -> list[list[str]]:
    """The cell texts of each body row of an HTML table, the dataset cell dropped."""
    body = re.search(rf'<table id="{table_id}".*?</table>', page, re.DOTALL).group(0)
    body = body.split("</thead>", 1)[1]
    rows = []
    for row in re.findall(r"<tr.*?</tr>", body, re.DOTALL):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(
            r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]  # fmt: skip
        rows.append(cells[1:] if 'rowspan="' in row else cells)
    return rows


def test_same_target_counts_the_e_steps_of_two_runs_to_one_level(study):
    root, config, dirs = study
    shown = table(root, "same_target")
    runs_, history, _ = load([root / d for d in dirs])
    main = config["study"]["main"]
    exact = [m for m in main["methods"] if config["methods"][m]["model"] in ("em", "lbfgs")]
    n_splits = config["splits"]["n_splits"]
    # Every pair of exact-likelihood trainers, in the study's order, on every split.
    assert len(shown) == len(main["datasets"]) * n_splits * len(exact) * (len(exact) - 1) // 2
    assert set(zip(shown["method"], shown["other"], strict=True)) == {("em-newton", "lbfgs")}
    width = {m: config["methods"][m]["params"]["n_hidden"] for m in exact}
    ends = runs_.set_index(["dataset", "method", "n_hidden", "split"])
    for row in shown.to_dict("records"):
        dataset, split, pair = row["dataset"], row["split"], (row["method"], row["other"])
        end = [ends.loc[(dataset, m, width[m], split)] for m in pair]
        lower = min(e["train_objective"] / e["n_train"] for e in end)
        assert row["target"] == pytest.approx(lower - aggregate.OTHER_OPTIMUM, rel=1e-12)
        for method, count in zip(pair, (row["n_estep"], row["other_n_estep"]), strict=True):
            steps = history[(history["dataset"] == dataset) & (history["method"] == method)
                            & (history["n_hidden"] == width[method])
                            & (history["split"] == split)]  # fmt: skip
            level = steps["train_objective"] / steps["n_train"]
            # The first recorded E-step count at or above the level, and none before it.
            assert (level[steps["n_estep"] < count] < row["target"]).all()
            assert level[steps["n_estep"] == count].max() >= row["target"]


def test_convergence_table_counts_and_names_each_objective(study):
    root, config, _ = study
    page, tex = output(root, "report.html"), output(root, "report.tex")
    convergence = table(root, "convergence").set_index(["dataset", "method"])
    main = config["study"]["main"]
    expected = [(d, m) for d in main["datasets"] for m in main["methods"]]
    shown = body_rows(page, "tab-convergence")
    assert len(shown) == len(expected)
    for (dataset, method), cells in zip(expected, shown, strict=True):
        row = convergence.loc[(dataset, method)]
        label, converged, iterations, n_estep, exact, mean_field, gap, other, gradient = cells
        assert iterations == formats.number(row["iterations_median"], "median")
        # A method short of its rule on 95 % of the splits is marked, never shown as done.
        capped = " (capped)" if row["converged"] < 0.95 * row["n_splits"] else ""
        assert label == config["methods"][method].get("label", method) + capped
        assert converged == f"{int(row['converged'])}/{int(row['n_splits'])}"  # counts, not %
        objective = formats.number(row["objective_per_example_mean"], "objective", minus="−")
        # The exact and the mean-field objective never share a column.
        if row["objective"] == "exact":
            assert (exact, mean_field) == (objective, "–")
            assert n_estep == formats.number(row["n_estep_median"], "median")
            assert gap == formats.number(row["gap_to_reference_median"], "sci")
            assert other == f"{row['below_reference']}/{row['above_reference']}"
            # Gaps are to the reference method's runs, split by split, not to any trainer's.
            runs = table(root, "runs").set_index(["dataset", "method", "n_hidden", "split"])
            width = config["methods"][method]["params"]["n_hidden"]
            own, ref = runs.loc[(dataset, method, width)], runs.loc[(dataset, "lbfgs-ref", width)]
            gaps = (ref["train_objective"] - own["train_objective"]) / own["n_train"]
            assert row["gap_to_reference_median"] == pytest.approx(gaps.median(), rel=1e-9)
            assert row["below_reference"] == (gaps > aggregate.OTHER_OPTIMUM).sum()
            assert row["above_reference"] == (gaps < -aggregate.OTHER_OPTIMUM).sum()
            # One notation down the column, whatever the gap's size (1e-7 beside 0.03).
            assert re.fullmatch(r"\d\.\d\de-?\d+|0", gap)
            # Where the runs ended: the median of each run's largest gradient entry.
            runs = table(root, "runs")
            ended = runs[
                (runs["dataset"] == dataset)
                & (runs["method"] == method)
                & (runs["n_hidden"] == config["methods"][method]["params"]["n_hidden"])
            ]
            assert gradient == formats.number(ended["gradient_max"].median(), "sci") != "–"
        else:
            assert (exact, mean_field, n_estep, gap, other, gradient) == (
                "–", objective, "–", "–", "–", "–"
            )  # fmt: skip
    stopping = re.search(r'<table id="tab-stopping".*?</table>', page, re.DOTALL).group(0)
    assert "relative change of ℓ per iteration ≤ 1e-6" in stopping
    assert "largest |∂ℓ/∂θ| ≤ 1e-5" in html.unescape(stopping)
    assert "4 epochs" in stopping and "plateau" in stopping
    assert r"\label{tab-convergence}" in tex and r"\label{tab-stopping}" in tex
    # Wall-clock times stay in the timing section.
    outside = TIMING_SECTION.sub("", page)
    assert "fit_seconds" not in outside and "Wall time" not in outside.split('id="timing"')[0]


def test_cross_scoring_table_and_protocol_name_the_new_methods(study):
    root, _, _ = study
    page = output(root, "report.html")
    cross = table(root, "cross")
    sgd = cross[(cross["method"] == METHOD) & (cross["dataset"] == DATASET)]
    exact = sgd[sgd["predictor"] == "exact"]["test_log_loss_mean"].iloc[0]
    main = table(root, "main").set_index(["dataset", "method"])
    capped = main.loc[(DATASET, METHOD), "converged_rate"] < CONVERGED_SHARE
    shown = row_of(page, "tab-cross", LABEL + (" (capped)" if capped else ""))
    assert formats.fixed(exact) in html.unescape(shown)
    text = " ".join(" ".join(parse(page).text).split())
    assert "L-BFGS (SciPy)" in text and "SQUAREM" in text
    assert (
        f"inner cross-validation on the training part chooses the learning rate of {LABEL} and "
        "the penalty λ of L-BFGS, tuned penalty and scikit-learn L-BFGS, tuned penalty from the "
        "grids" in text
    )
    assert "own stopping rule" in text
    assert 'id="tab-selection"' in page and "learning_rate=" in page


def test_the_methods_table_lists_only_the_defaults_a_method_uses(study):
    """A Newton M-step has no learning rate, an exact E-step no sample count, an EM
    without acceleration no acceleration setting: the methods table leaves them out."""
    root, _, _ = study
    page = output(root, "report.html")
    body = re.search(r'<table id="tab-methods".*?</table>', page, re.DOTALL).group(0)
    rows = re.findall(r"<tr.*?</tr>", body, re.DOTALL)

    def defaults(name):
        row = next(r for r in rows if f">{name}<" in r)
        return html.unescape(re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)[-1])

    newton = defaults("em-newton")
    assert "e_step=exact" in newton and "newton_steps=1" in newton
    for unused in ("learning_rate", "inner_steps", "n_samples", "acceleration"):
        assert unused not in newton
    assert "memory=50" in defaults("lbfgs") and "mean_field_tol" not in defaults("lbfgs")
    assert applies("lbfgs", "mean_field_tol", {"e_step": "variational"})
    assert applies("em", "acceleration", {"acceleration": "squarem"})
    assert applies("em", "learning_rate", {"m_step": "gradient"})
    assert not applies("sklearn-mlp", "batch_size", {"solver": "lbfgs"})
    assert applies("sklearn-mlp", "batch_size", {"solver": "adam"})


def test_the_datasets_table_says_where_each_dataset_comes_from():
    """scikit-learn's load_digits is the 1,797-image test part of UCI's Optdigits: the
    table cites scikit-learn for it and the UCI entry for its origin."""
    digits = {"name": "digits", "source": "digits", "source_params": "", "n": 1797, "p": 64,
              "g": 10, "class_counts": "178, 182", "splits": "20 splits"}  # fmt: skip
    iris = {**digits, "name": "iris", "source": "iris", "n": 150}
    shown = setup_tables.datasets({"datasets": [digits, iris]})["groups"][0]
    source = shown[0][1]
    assert "[@pedregosa2011sklearn]" in source and "[@alpaydin1998digits]" in source
    assert "`load_digits`" in source and "1,797 images" in source
    # A bundled dataset's source names the loader and the data's origin, not its own name.
    assert shown[1][1] == "`load_iris` [@pedregosa2011sklearn] [@fisher1936iris]"
    assert shown[0][2] == "1,797"  # thousands separated, as the text counts


def test_model_text_and_stopping_rules_cover_every_model():
    squarem = method_text.model_text("em", {"m_step": "newton", "acceleration": "squarem",
                                       "newton_steps": 1})  # fmt: skip
    assert "SQUAREM" in squarem and "1 Newton step per half" in squarem
    assert "L-BFGS" in method_text.model_text("lbfgs", {})
    assert "solved to tolerance" in method_text.model_text("em", {"newton_steps": None})
    assert (
        method_text.stopping_rule("em", {"acceleration": "squarem", "tol": 1e-6, "max_iter": 9})[
            "cap"
        ]
        == "9 cycles"
    )
    assert method_text.stopping_rule("lbfgs", {"tol": 1e-5, "max_iter": 3})["rule"] == (
        "largest |∂ℓ/∂θ| ≤ 1e-5"
    )
    assert formats.tex_escape("|∂ℓ/∂θ|") == r"\textbar{}$\partial\ell$/$\partial\theta$\textbar{}"
    assert formats.sci(1e-6) == "1e-6" and formats.sci(0.0001) == "0.0001"


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
    cost = csv_text(cost_table(wine.X, wine.y, [2], 1))
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
        records.write_text(copy / TIMING_TABLES / f"{name}.csv", csv_text(table))
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

PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture(scope="module")
def built_pdf(study, tmp_path_factory):
    """The tiny study's PDF, built once: its path, its build log and its text, page by page
    (pdftotext separates pages by form feeds)."""
    if pdf.tex_engine() is None:
        pytest.skip("no latexmk and pdflatex on PATH")
    root, _, _ = study
    log = tmp_path_factory.mktemp("pdf") / "pdf.log"
    built = pdf.build_pdf(root / REPORT / "report.tex", log)
    pages = None
    if PDFTOTEXT:
        text = subprocess.run([PDFTOTEXT, str(built), "-"], capture_output=True, check=True)
        pages = text.stdout.decode("utf-8", "replace").split("\f")
    return built, log, pages


def test_pdf_builds_and_keeps_its_log(study, built_pdf):
    root, _, _ = study
    built, log, pages = built_pdf
    assert built == root / REPORT / "report.pdf"
    assert built.read_bytes().startswith(b"%PDF")
    assert [p.name for p in (root / REPORT).iterdir() if p.name.startswith(".")] == []
    assert "Output written on" in log.read_text()
    if pages is not None:
        # Commands copied from the PDF run: two ASCII hyphens, never an en dash.
        text = "".join(pages)
        assert "snakemake --cores 1 --force results/figures/" in text
        assert "–cores" not in text and "–force" not in text


CAPTION_LABEL = re.compile(r"^(Table|Figure) (\d+): (.*)")


def caption_list(lines) -> list[tuple[str, int, str]]:
    """(kind, number, first three words) of each numbered caption, in order."""
    found = []
    for line in lines:
        match = CAPTION_LABEL.match(" ".join(line.split()))
        if match:
            words = match.group(3).replace("’", "'").split()[:3]
            found.append((match.group(1), int(match.group(2)), " ".join(words)))
    return found


def html_captions(page: str) -> list[tuple[str, int, str]]:
    texts = [
        html.unescape(re.sub(r"<[^>]+>", "", body))
        for body in re.findall(r"<(?:figcaption|caption)>(.*?)</(?:figcaption|caption)>", page,
                               re.DOTALL)
    ]  # fmt: skip
    return caption_list(texts)


@pytest.mark.skipif(PDFTOTEXT is None, reason="needs pdftotext (poppler-utils)")
def test_html_and_pdf_number_and_caption_every_table_and_figure_alike(study, built_pdf):
    root, _, _ = study
    _, _, pages = built_pdf
    from_html = html_captions(output(root, "report.html"))
    from_pdf = caption_list("\n".join(pages).splitlines())
    # The same numbers and captions; LaTeX may set a float after the next one of the
    # other kind, so each list is compared in the order of its numbers.
    assert sorted(from_pdf) == sorted(from_html)
    for kind in ("Table", "Figure"):
        numbers = [n for k, n, _ in from_html if k == kind]
        assert numbers == list(range(1, len(numbers) + 1)), kind  # each shown once, in order
    assert len(from_html) >= 20


def destinations(path: Path) -> dict[str, int]:
    """hyperref's named destinations of a PDF (section.3, appendix.A, cite.key), with the
    page (from 0) each is on."""
    listing = subprocess.run(
        [shutil.which("pdfinfo"), "-dests", str(path)], capture_output=True, check=True
    ).stdout.decode("utf-8", "replace")
    found = re.findall(r'^\s*(\d+) \[[^\]]*\] "([^"]+)"', listing, re.MULTILINE)
    return {name: int(page) - 1 for page, name in found}


@pytest.mark.skipif(
    PDFTOTEXT is None or shutil.which("pdfinfo") is None, reason="needs poppler-utils"
)
def test_the_pdf_body_ends_before_the_appendices_and_floats_stay_in_their_section(study, built_pdf):
    root, _, _ = study
    built, _, pages = built_pdf
    dests = destinations(built)
    page = output(root, "report.html")
    heading = r'<section id="([^"]+)"[^>]*>\s*<h2>([0-9A-Z]+) ([^<]+)</h2>(.*?)</section>'
    sections = re.findall(heading, page, re.DOTALL)
    numbers = [number for _, number, _, _ in sections]
    first = next(k for k, number in enumerate(numbers) if number.isalpha())
    assert numbers[first:] == [chr(ord("A") + k) for k in range(len(numbers) - first)]
    starts = [
        dests[f"appendix.{number}" if number.isalpha() else f"section.{number}"]
        for _, number, _, _ in sections
    ]
    assert starts == sorted(starts)
    bibliography = [p for name, p in dests.items() if name.startswith("cite.")]
    appendix = starts[first]
    # The body, then the references, then the appendices from a page of their own.
    assert max(starts[:first]) <= min(bibliography) and max(bibliography) < appendix
    assert re.match(r"\s*A\s+Secondary results", pages[appendix])

    def page_of(kind: str, number: int) -> int:
        found = [k for k, text in enumerate(pages)
                 if re.search(rf"^{kind} {number}: ", text, re.MULTILINE)]  # fmt: skip
        assert len(found) == 1, (kind, number)
        return found[0]

    shown = 0
    for k, (_, _, _, body) in enumerate(sections):
        end = starts[k + 1] if k + 1 < len(starts) else len(pages) - 1
        for kind, number, _ in html_captions(body):
            assert starts[k] <= page_of(kind, number) <= end, (kind, number)  # in its section
            shown += 1
    assert shown == len(html_captions(page))


def test_the_outline_numbers_floats_in_the_order_latex_sets_them(study):
    """Without building the PDF: the HTML numbers its figures and tables 1, 2, ... in the
    order of the LaTeX source's labels, which is the order LaTeX numbers them in."""
    root, _, _ = study
    tex = output(root, "report.tex").replace(
        r"\InputIfFileExists{timing.tex}{}{}", output(root, "timing.tex")
    )
    page = output(root, "report.html")
    labels = re.findall(r"\\label\{((?:fig|tab)-[^}]+)\}", tex)
    figures_shown = re.findall(r'<figure id="([^"]+)"', page)
    tables_shown = re.findall(r'<table id="(tab-[^"]+)"', page)
    assert [a for a in labels if a.startswith("fig-")] == figures_shown
    assert [a for a in labels if a.startswith("tab-")] == tables_shown
    shown = re.findall(r'<span class="label">(Table|Figure) (\d+):</span>', page)
    for kind in ("Table", "Figure"):
        numbers = [int(n) for k, n in shown if k == kind]
        assert numbers == list(range(1, len(numbers) + 1)), kind
    assert len(shown) == len(labels)


@pytest.mark.skipif(shutil.which("kpsewhich") is None, reason="no TeX installed")
def test_every_package_the_rendered_tex_loads_is_installed(study):
    root, _, _ = study
    loaded = pdf.loaded_files((root / REPORT / "report.tex").read_text())
    assert "lmodern.sty" in loaded
    assert pdf.missing_files(loaded) == []


def test_sentences_and_references_are_separated_by_a_space(study):
    root, _, _ = study
    page = re.sub(r"<(svg|math|code|pre)\b.*?</\1>", " ", output(root, "report.html"), flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert not re.findall(r"\w[.;:](?:Table|Figure|Section|Appendix)\b", text)


def test_the_title_block_comes_from_the_config(study):
    root, _, _ = study
    page, tex = output(root, "report.html"), output(root, "report.tex")
    header = re.search(r"<header>.*?</header>", page, re.DOTALL).group(0)
    assert '<p class="authors">A &amp; B, C_D</p>' in header
    assert '<p class="affiliation">Dept. of &lt;Tests&gt; &amp; Co</p>' in header
    assert '<p class="date">14 March 2025</p>' in header
    assert r"{\itshape Dept. of \textless{}Tests\textgreater{} \& Co\par}" in tex
    assert "14 March 2025" in tex and r"\today" not in tex
    citation = re.search(r'<pre class="bibtex">(.*?)</pre>', page, re.DOTALL).group(1)
    assert "year        = {2025}" in citation
    assert "institution = {Dept. of \\textless{}Tests\\textgreater{} \\&amp; Co}" in citation


def test_the_date_defaults_to_the_schema_and_must_be_a_date(tmp_path):
    path = tmp_path / "c.yaml"
    base = yaml.safe_load((REPO / "config/smoke.yaml").read_text())
    base["report"] = {"title": "t"}
    path.write_text(yaml.safe_dump(base))
    assert load_config([path])["report"]["date"] == "2026-11-21"
    assert load_config([path])["report"]["affiliation"] == ""
    base["report"]["date"] = "21 November 2026"
    path.write_text(yaml.safe_dump(base))
    with pytest.raises(Exception, match=r"report\.date"):
        load_config([path])


def test_references_are_read_with_pybtex():
    text = (REPO / "emnn/templates/references.bib").read_text()
    entries = report.references(text)
    keys = [e["key"] for e in entries]
    assert keys[0] == "ng2004em" and len(keys) == len(set(keys)) == 27
    assert [e["position"] for e in entries] == list(range(1, 28))
    ng = entries[0]
    assert ng["text"] == (
        "Shu-Kay Ng and Geoffrey J. McLachlan. Using the EM algorithm to train neural networks: "
        "misconceptions and a new algorithm for multiclass classification. IEEE Transactions on "
        "Neural Networks, 15(3):738–749, 2004. doi:10.1109/TNN.2004.826217"
    )
    assert ("em", "IEEE Transactions on Neural Networks") in ng["parts"]
    by_key = {e["key"]: e for e in entries}
    assert by_key["molder2021snakemake"]["authors"].endswith("Brice Letcher et al.")
    assert by_key["harris2020numpy"]["authors"] == (  # "and others" in the file
        "Charles R. Harris, K. Jarrod Millman, Stéfan J. van der Walt et al."
    )
    assert "Mathematical Programming, 45(1–3):503–528, 1989." in by_key["liu1989lbfgs"]["text"]
    origin = by_key["choiwhn2025em"]["text"]
    pinned = (
        "github.com/choiwhn/EM-algorithm-to-train-Neural-Network, commit "
        "365a48c725c363e4a130236a647c3ca8eee15cea (2025-06-10"  # the full hash, as DESIGN.md's
    )
    assert pinned in origin
    assert origin.endswith(", 2025.")  # pinned by its commit, not "undated"
    assert "Computing in Science & Engineering" in by_key["hunter2007matplotlib"]["text"]
    # W. Nick Street is one author, not two ("Nick Street and W. Street").
    assert by_key["wolberg1995breast"]["authors"] == (
        "William H. Wolberg, Olvi L. Mangasarian and W. Nick Street"
    )
    # The study's digits are scikit-learn's 1,797 images, not all of UCI's Optdigits.
    digits = by_key["alpaydin1998digits"]["text"]
    assert "1998. Used here as scikit-learn's load_digits, its test part of 1,797 images" in digits
    for entry in bibliography.read(text).entries.values():
        last = [" ".join(p.last_names) for p in entry.persons.get("author", [])]
        assert len(last) == len(set(last)), last
    with pytest.raises(StudyError, match=r"references\.bib"):
        report.references("@article{broken,\n  title = {unclosed\n}")


def no_stray_punctuation(text: str) -> None:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        assert depth >= 0, text
    assert depth == 0, text
    for bad in ("..", " .", " ,", ",.", ".,", "( ", " )", "  "):
        assert bad not in text.replace("...", ""), (bad, text)


def test_the_bibliography_renders_without_stray_punctuation(study, built_pdf):
    root, _, _ = study
    page = output(root, "report.html")
    items = re.findall(r'<li id="ref-[^"]+">(.*?)</li>', page, re.DOTALL)
    cited = set(re.findall(r'class="cite" href="#ref-([^"]+)"', page))
    assert len(items) == len(cited) > 10  # the references the text cites, each once
    for item in items:
        no_stray_punctuation(html.unescape(re.sub(r"<[^>]+>", "", item)))
    _, _, pages = built_pdf
    if pages is None:
        return
    text = "\n".join(pages)
    start = text.index("\nReferences\n")
    bibliography = text[start : text.index("Secondary results", start)]  # the first appendix
    entries = re.split(r"\n\[\d+\] ", bibliography)[1:]
    assert len(entries) == len(cited)
    for entry in entries:
        no_stray_punctuation(" ".join(entry.replace("-\n", "-").split()))


def test_every_reference_is_cited_in_both_formats(study):
    root, _, _ = study
    page, tex = output(root, "report.html"), output(root, "report.tex")
    # The bibliography lists what the text cites: a dataset's source where the study uses
    # it (this one uses Iris only), the mixture of experts' papers where it has that section.
    unused = {key for d in ("wine", "breast_cancer", "digits")
              for key in re.findall(r"\[@([^\]]+)\]", narrative.DATASET_CITES[d])}  # fmt: skip
    unused.discard("pedregosa2011sklearn")  # cited for the study's software too
    unused |= {"jordan1994hierarchical", "meng1993ecm"}
    # Cited by a sentence the data decide: where variational EM switched units off.
    if 'href="#ref-mackay2001local"' not in page:
        unused.add("mackay2001local")
    for entry in report.references():
        if entry["key"] in unused:
            assert f'id="ref-{entry["key"]}"' not in page, entry["key"]  # not listed either
            continue
        assert f'href="#ref-{entry["key"]}"' in page, entry["key"]
        assert re.search(rf"\\cite\{{{entry['key']}\}}", tex), entry["key"]


def test_figure_captions_typeset_their_mathematics_in_both_formats(study):
    """Whatever formulas emnn.paper.figures writes between dollar signs are typeset: none is left
    as TeX source in the HTML, and each reaches the LaTeX as a formula."""
    root, config, _ = study
    page, tex = output(root, "report.html"), output(root, "report.tex")
    names = [*config["datasets"], *config["methods"],
             *(m.get("label", "") for m in config["methods"].values())]  # fmt: skip
    formulas = 0
    for name in figures.figure_names(figure_plan(config)):
        sidecar = records.read(root / f"{figures.output_prefix(name)}.json")
        for kind, value in markup.segments(sidecar["caption"]):
            if kind == "math":
                formulas += 1
                source = "timing.tex" if name.startswith("timing/") else "report.tex"
                assert f"${value}$" in output(root, source), value
            elif kind == "text":
                for shown in names:
                    value = value.replace(shown, "")
                assert "$" not in value and not re.search(r"\\[A-Za-z]", value), (name, value)
        caption = re.search(
            rf'<figure id="{sidecar["anchor"]}".*?<figcaption>(.*?)</figcaption>', page, re.DOTALL
        ).group(1)
        text = html.unescape(re.sub(r"<[^>]+>", "", caption))
        assert not re.search(r"\\(ell|propto|times|mathrm)\b", text), text
    assert formulas == 0 or '<span class="math">' in page
    # Formulas open and close: unescaped dollar signs pair up (names show theirs as \$).
    assert len(re.findall(r"(?<!\\)\$", tex)) % 2 == 0


def test_the_report_stage_depends_on_every_module_of_the_package():
    sources = set(provenance.stage_sources("report"))
    package = {f"emnn/paper/{p.name}" for p in (REPO / "emnn/paper").glob("*.py")}
    assert package - {"emnn/paper/figures.py", "emnn/paper/length.py", "emnn/paper/pdf.py",
                      "emnn/paper/source.py"} <= sources  # fmt: skip
    assert {"emnn/parts/main/narrative.py", "emnn/typeset/latex.py",
            "emnn/templates/references.bib", "emnn/templates/report.html.j2",
            "emnn/templates/text/models.j2", "emnn/parts/main/floats.py"} <= sources  # fmt: skip
    pdf = set(provenance.stage_sources("pdf"))
    assert not {"emnn/paper/build.py", "emnn/paper/context.py", "emnn/paper/outline.py"} & pdf


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


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian package chromium)")
def test_the_bibtex_box_wraps_instead_of_clipping_at_1280_px(study):
    playwright = pytest.importorskip("playwright.sync_api")
    root, _, _ = study
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((root / REPORT / "report.html").resolve().as_uri(), wait_until="load")
        scroll, client = page.eval_on_selector(
            "pre.bibtex", "pre => [pre.scrollWidth, pre.clientWidth]"
        )
        body = page.evaluate("document.documentElement.scrollWidth")
        browser.close()
    assert scroll <= client
    assert body <= 1280


def test_capped_methods_are_marked_and_never_the_best(study):
    root, config, _ = study
    page = output(root, "report.html")
    main = table(root, "main")
    body = re.search(r'<table id="tab-main-accuracy".*?</table>', page, re.DOTALL).group(0)
    for row in main[main["method"].isin(["em-newton", "lbfgs"])].to_dict("records"):
        label = config["methods"][row["method"]]["label"]
        cells = [r for r in re.findall(r"<tr.*?</tr>", body, re.DOTALL) if label in r]
        assert cells, label
        marked = "(capped)" in cells[0]
        assert marked == (row["converged_rate"] < 0.95), (label, row["converged_rate"])
        if marked:
            assert "<b>" not in cells[0]


def test_the_reference_optimum_is_described_from_its_own_runs(study):
    root, _, _ = study
    text = TextAndIds()
    text.feed(output(root, "report.html"))
    page = re.sub(r"\s+", " ", "".join(text.text))
    runs, convergence = table(root, "runs"), table(root, "convergence")
    reference = runs[runs["method"] == "lbfgs-ref"]
    exact = convergence[convergence["objective"] == "exact"]
    assert "comes from none of the trainers it grades: the best of 2 L-BFGS runs" in page
    assert f"it holds for {int(reference['converged'].sum())} of its {len(reference)} runs" in page
    median = formats.number(reference["gradient_max"].median(), "sci")
    assert f"the entry where they end: median {median}" in page
    assert (
        f"Of the {exact['n_splits'].sum()} runs of the exact-likelihood trainers, "
        f"{exact['below_reference'].sum()} end more than 0.0001 nats per example below"
    ) in page
    # Its runs train from seeds of their own: the Protocol says so.
    assert "the reference optimum’s runs, which draw theirs from a stream of their own" in page
