"""The study end to end: the smoke study under Snakemake, in temporary copies of the repo.

Slow (a few minutes): it runs the whole pipeline twice from scratch, once on one
core and once on four, and checks what re-runs after an edit.
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from emnn.paper.figures import figure_names
from emnn.paper.pdf import preflight
from emnn.study.config import load_config
from emnn.study.jobs import figure_plan, runs
from tests.conftest import REPO, copy_checkout

pytestmark = pytest.mark.slow
PDF = preflight() is None  # this machine can build the PDF

# A dataset whose name holds every character HTML or LaTeX treats specially,
# layered over the smoke study so it goes through every stage and both outputs.
SPECIAL = 'Iris & <Co> 100% $#_{}~^"\\'
SPECIAL_CONFIG = {
    "datasets": {SPECIAL: {"source": "iris"}},
    "study": {"main": {"datasets": ["iris", "wine", "teacher", SPECIAL]}},
}
RUN = ["--configfile", "config/smoke.yaml", "special.yaml"]
CONFIG = REPO / "config/config.yaml"


def copy_repo(destination: Path) -> Path:
    """The working tree without anything a run generates, plus special.yaml."""
    copy_checkout(destination)
    (destination / "special.yaml").write_text(yaml.safe_dump(SPECIAL_CONFIG))
    return destination


def study_figures(root: Path) -> list[str]:
    """Every figure the smoke study (with the special dataset) draws."""
    files = [CONFIG, root / "config/smoke.yaml", root / "special.yaml"]
    return figure_names(figure_plan(load_config(files)))


def snakemake(root: Path, *args, check=True, env=None, timeout=900) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=root, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, **(env or {})},
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result


def planned_jobs(root: Path, *args) -> dict[str, list[str]]:
    """Rule name -> wildcards of each job a dry run schedules."""
    out = snakemake(root, "-n", *RUN, *args).stdout
    jobs: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out):
        match = re.match(r"(?:local)?rule (\w+):", block.strip())
        if match:
            wildcards = re.search(r"wildcards: (.*)", block)
            jobs.setdefault(match.group(1), []).append(wildcards.group(1) if wildcards else "")
    return jobs


def deterministic_files(root: Path) -> dict[str, str]:
    """SHA-256 of every result file that must not change between reruns."""
    found = {}
    for path in sorted((root / "results").rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and "timing" not in relative:
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    found["report/build/report.tex"] = hashlib.sha256(
        (root / "report/build/report.tex").read_bytes()
    ).hexdigest()
    return found


def html_outside_timing(root: Path) -> str:
    html = (root / "report/build/report.html").read_text()
    start = html.index('<section id="timing"')
    end = html.index("</section>", start)
    return html[:start] + html[end:]


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """The smoke study run from scratch twice: on four cores and on one."""
    four = copy_repo(tmp_path_factory.mktemp("four") / "repo")
    one = copy_repo(tmp_path_factory.mktemp("one") / "repo")
    snakemake(four, "--cores", "4", *RUN)
    snakemake(one, "--cores", "1", *RUN)
    return four, one


def test_smoke_study_produces_every_output(studies):
    root, _ = studies
    for table in ("runs", "summary", "main", "comparisons", "sweep", "curves", "ablation",
                  "scaling", "scaling_best", "scaling_comparisons"):  # fmt: skip
        assert (root / f"results/tables/{table}.csv").stat().st_size > 0
    for table in ("fit_times", "fit_summary", "estep_cost", "iteration_cost"):
        assert (root / f"results/tables/timing/{table}.csv").exists()
    figures = study_figures(root)
    assert {"suboptimality", "cross-scoring", "timing/estep-cost", "scaling-sweep"} <= set(figures)
    for name in figures:
        for kind in ("svg", "pdf", "png", "json"):
            assert (root / f"results/figures/{name}.{kind}").exists(), name
    for name in ("report.html", "report.tex", "timing.tex", "SHA256SUMS"):
        assert (root / "report/build" / name).stat().st_size > 0
    if PDF:
        assert (root / "report/build/report.pdf").read_bytes().startswith(b"%PDF")
        assert (root / "report/build/pdf-status.txt").read_text() == "built report.pdf\n"
        assert "Output written on" in (root / "logs/pdf.log").read_text()
    assert not list(root.rglob("*.part")), "a temporary file was left behind"


def test_reruns_from_scratch_are_byte_identical_whatever_the_cores(studies):
    four, one = studies
    assert deterministic_files(four) == deterministic_files(one)
    assert html_outside_timing(four) == html_outside_timing(one)


def test_special_names_render_in_html_and_latex(studies):
    root, _ = studies
    html = (root / "report/build/report.html").read_text()
    text = html_text(html)
    assert SPECIAL in text
    assert html.count("Iris &amp; &lt;Co&gt;") >= 3  # escaped, never raw markup
    assert "<Co>" not in html
    tex = (root / "report/build/report.tex").read_text()
    assert r"Iris \& \textless{}Co\textgreater{} 100\% \$\#\_\{\}" in tex
    if PDF:  # the .tex with the name compiled
        assert (root / "report/build/report.pdf").read_bytes().startswith(b"%PDF")


def html_text(html: str) -> str:
    """The text a browser shows, entities decoded."""
    parts = []
    parser = HTMLParser()
    parser.handle_data = parts.append
    parser.feed(html)
    return "".join(parts)


def test_a_second_run_with_no_change_does_nothing(studies):
    root, _ = studies
    result = snakemake(root, "-n", *RUN)
    assert "Nothing to be done" in result.stdout + result.stderr


def edit_and_plan(root: Path, relative: str) -> dict[str, list[str]]:
    """Append a comment to a file, dry-run, then restore the file and its times."""
    path = root / relative
    original, stat = path.read_bytes(), path.stat()
    try:
        comment = b"\n{# an edit #}\n" if relative.endswith(".j2") else b"\n# an edit\n"
        path.write_bytes(original + comment)
        return planned_jobs(root)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_editing_the_em_model_reruns_em_jobs_only(studies):
    root, _ = studies
    config = yaml.safe_load((root / "config/config.yaml").read_text())
    jobs = edit_and_plan(root, "emnn/models/em.py")
    trained = {re.search(r"method=([^,]+)", w).group(1) for w in jobs.pop("train")}
    em_methods = {n for n, m in config["methods"].items() if m["model"] == "em"}
    assert trained == em_methods & set(used_methods(root))
    figures = {re.search(r"name=(.+)", w).group(1) for w in jobs.pop("figure")}
    # Every figure but the ablation's reads a table the EM runs feed; the E-step cost times
    # an EM iteration. The ablation rebuilds the originating code and uses no emnn model.
    # The mixture of experts' figure reads the moe stage's tables, which no MLP feeds.
    assert figures == set(study_figures(root)) - {"initializations", "moe-objective"}
    expected = {"aggregate", "estep_cost", "scaling_tables", "report", "all"}
    assert set(jobs) == expected | ({"pdf"} if PDF else set())
    assert all(len(wildcards) == 1 for wildcards in jobs.values())


def test_editing_the_m_step_reruns_the_estep_cost_job(studies):
    root, _ = studies
    jobs = edit_and_plan(root, "emnn/models/mstep.py")
    assert "estep_cost" in jobs
    trained = {re.search(r"method=([^,]+)", w).group(1) for w in jobs["train"]}
    assert "sgd" not in trained and "sklearn-mlp" not in trained


def test_editing_the_mixture_of_experts_model_reruns_that_part_only(studies):
    """The MoE part's contract, not its trainer, is what the figures and the paper import:
    an edit of the estimator re-trains the MoE and redraws its own figure, and the paper
    follows its tables; no MLP job and no other figure runs."""
    root, _ = studies
    jobs = edit_and_plan(root, "emnn/models/moe.py")
    assert {re.search(r"name=(.+)", w).group(1) for w in jobs.pop("figure")} == {"moe-objective"}
    assert set(jobs) == {"moe", "moe_tables", "report", "all"} | ({"pdf"} if PDF else set())


def test_editing_one_parts_figure_code_redraws_its_figures_only(studies):
    root, _ = studies
    jobs = edit_and_plan(root, "emnn/parts/scaling/figure.py")
    assert {re.search(r"name=(.+)", w).group(1) for w in jobs.pop("figure")} == {"scaling-sweep"}
    assert set(jobs) <= {"report", "pdf", "all"}


def used_methods(root: Path) -> list[str]:
    return [p.name for d in (root / "results/runs").iterdir() for p in d.iterdir()]


def test_editing_a_template_rerenders_the_report_only(studies):
    root, _ = studies
    jobs = edit_and_plan(root, "emnn/templates/report.html.j2")
    assert set(jobs) <= {"report", "pdf", "all"} and "report" in jobs


def test_bad_config_fails_before_any_job_naming_the_key(tmp_path):
    root = copy_repo(tmp_path / "repo")
    cases = {
        "unknown.yaml": ({"splits": {"n_split": 3}}, "n_split"),
        "type.yaml": ({"splits": {"n_splits": "many"}}, "splits.n_splits"),
        "zero.yaml": ({"splits": {"n_splits": 0}}, "splits.n_splits"),
        "hidden.yaml": ({"study": {"sweep": {"datasets": ["iris"], "methods": ["em-newton"],
                                             "n_hidden": [30]}}}, "at most 24"),
        "dataset.yaml": ({"study": {"main": {"datasets": ["nope"], "methods": ["sgd"]}}}, "'nope'"),
    }  # fmt: skip
    for name, (content, key) in cases.items():
        (root / name).write_text(yaml.safe_dump(content))
        result = snakemake(root, "--cores", "1", "--configfile", name, check=False)
        assert result.returncode != 0
        assert key in result.stderr, (name, result.stderr[-2000:])
        assert not (root / "results").exists()


def test_a_killed_study_completes_when_started_again(studies, tmp_path):
    """Kill the whole run, jobs included, mid-way: started again, it completes
    with exactly the results of an uninterrupted run."""
    root = copy_repo(tmp_path / "repo")
    process = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "2", *RUN], cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while len(list(root.glob("results/runs/*/*/h*/0.json"))) < 4:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    snakemake(root, "--unlock", *RUN)  # a hard kill leaves Snakemake's lock behind
    snakemake(root, "--cores", "4", *RUN)
    assert deterministic_files(root) == deterministic_files(studies[0])
    assert html_outside_timing(root) == html_outside_timing(studies[0])


def test_the_full_study_dry_runs_through_the_slurm_profile(tmp_path):
    """Every job of the full study carries memory, time and CPU resources for SLURM."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    root = copy_repo(tmp_path / "repo")
    out = snakemake(root, "-n", "--profile", "workflow/profiles/slurm").stdout
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(.*?)(?=^\[|^Job stats|\Z)", out, re.M | re.S)
    assert sum(rule == "train" for rule, _ in jobs) == len(runs(load_config([CONFIG])))
    for rule, block in jobs:
        resources = dict(
            item.split("=", 1) for item in re.search(r"resources: (.*)", block).group(1).split(", ")
        )
        assert int(resources["mem_mb"]) >= 1000 and int(resources["runtime"]) >= 10, rule
        assert resources["cpus_per_task"] == "1", rule


def test_lint_is_clean_and_the_snakefile_is_at_the_top(tmp_path):
    root = copy_repo(tmp_path / "repo")
    assert (root / "Snakefile").is_file() and not (root / "workflow/Snakefile").exists()
    result = snakemake(root, "--lint", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_the_default_profile_applies_from_the_top_directory(tmp_path):
    root = copy_repo(tmp_path / "repo")
    out = snakemake(root, "-n", *RUN)
    assert "Using workflow specific profile profiles/default" in out.stdout + out.stderr
    profile = yaml.safe_load((root / "profiles/default/config.yaml").read_text())
    assert profile["rerun-incomplete"] is True


def test_every_rule_names_the_environment_of_environment_yml():
    rules = "\n".join(p.read_text() for p in (REPO / "workflow/rules").glob("*.smk"))
    # Every rule that runs a command; a target rule (`scaling`, like `all`) runs none.
    n_rules = rules.count("\n    shell:\n")
    assert rules.count('conda:\n        "../envs/emnn.yaml"') == n_rules > 0
    env = yaml.safe_load((REPO / "workflow/envs/emnn.yaml").read_text())
    assert env == yaml.safe_load((REPO / "environment.yml").read_text())


def test_timing_jobs_run_alone(tmp_path):
    """The E-step cost job takes every core Snakemake is given, so no job runs beside it;
    and commands that run no job (--unlock) need no --cores for it."""
    root = copy_repo(tmp_path / "repo")
    target = "results/tables/timing/estep_cost.csv"
    for cores in ("2", "3"):
        out = snakemake(root, target, "-n", "--cores", cores, "--forcerun", "estep_cost").stdout
        job = out[out.index("rule estep_cost:") :]
        assert re.search(r"threads: (\d+)", job)[1] == cores
    snakemake(root, "--unlock")


FAILING_PDFLATEX = "#!/bin/sh\necho '! LaTeX Error: File `lmodern.sty'\"'\"' not found.'\nexit 1\n"


@pytest.mark.skipif(not PDF, reason="needs latexmk (a stand-in pdflatex fails in its place)")
def test_a_failing_tex_costs_nothing_unless_the_pdf_is_required(studies, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(studies[0], root, symlinks=True)
    before = deterministic_files(root)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/pdflatex").write_text(FAILING_PDFLATEX)
    (tmp_path / "bin/pdflatex").chmod(0o755)
    env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    auto = snakemake(root, "--cores", "1", *RUN, "--forcerun", "pdf", env=env)
    assert "lmodern.sty" in auto.stderr and "apt-get install lmodern" in auto.stderr
    assert (root / "report/build/pdf-status.txt").read_text().startswith("not built")
    assert "lmodern.sty" in (root / "logs/pdf.log").read_text()
    assert deterministic_files(root) == before
    (root / "required.yaml").write_text(yaml.safe_dump({"report": {"pdf": "required"}}))
    required = snakemake(
        root, "--cores", "1", *RUN, "required.yaml", "--forcerun", "pdf", env=env, check=False
    )
    assert required.returncode != 0
    assert "lmodern.sty" in required.stderr
    assert (root / "report/build/report.html").is_file()


# ------------------------------------------------------------ on a real SLURM cluster

CLUSTER = REPO / "tests/cluster"
# The README's cluster command on a cluster without accounting (the one slurm-up.sh
# starts): job states from squeue; the first check after 2 s, not the default 40.
SLURM = ["--profile", "workflow/profiles/slurm", "--slurm-status-command", "squeue",
         "--slurm-init-seconds-before-status-checks", "2"]  # fmt: skip
SLURM_TIMEOUT = 1500  # seconds: a cluster test may fail, never hang


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A one-node cluster for this module (tests/cluster/slurm-up.sh): the environment
    to run Snakemake in, and the cluster's directory (jobs.txt: its record of finished
    jobs)."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    if shutil.which("sbatch") is None:
        pytest.skip("no SLURM here (sbatch is absent): apt-packages.txt lists slurm-wlm, munge")
    directory = tmp_path_factory.mktemp("slurm")
    up = subprocess.run([CLUSTER / "slurm-up.sh", directory], capture_output=True, text=True,
                        timeout=120)  # fmt: skip
    if up.returncode == 2:  # something it needs is missing: it says what
        pytest.skip(up.stderr.strip())
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield {}, directory
    finally:
        subprocess.run([CLUSTER / "slurm-down.sh", directory], timeout=60, check=False)


def cluster_jobs(directory: Path) -> list[dict[str, str]]:
    """The cluster's record of finished jobs (jobcomp/filetxt: key=value per line)."""
    record = directory / "jobs.txt"
    lines = record.read_text().splitlines() if record.exists() else []
    return [dict(item.split("=", 1) for item in line.split() if "=" in item) for line in lines]


def local_rules(root: Path) -> set[str]:
    """The rules the workflow runs where Snakemake runs (its `localrules:` lists)."""
    found = set()
    for path in [root / "Snakefile", *(root / "workflow/rules").glob("*.smk")]:
        for block in re.findall(r"^localrules:\n((?:    \w+,?\n)+)", path.read_text(), re.M):
            found.update(re.findall(r"\w+", block))
    return found


def test_the_smoke_study_runs_through_slurm_as_it_runs_locally(studies, slurm, tmp_path):
    env, directory = slurm
    root = copy_repo(tmp_path / "repo")
    planned = planned_jobs(root, *SLURM)
    assert {"report", "pdf"} <= local_rules(root)
    submitted = sum(len(jobs) for rule, jobs in planned.items() if rule not in local_rules(root))
    assert submitted > 20
    before = len(cluster_jobs(directory))
    snakemake(root, *RUN, *SLURM, env=env, timeout=SLURM_TIMEOUT)
    jobs = cluster_jobs(directory)[before:]
    assert [job["JobState"] for job in jobs] == ["COMPLETED"] * submitted
    assert deterministic_files(root) == deterministic_files(studies[0])
    assert html_outside_timing(root) == html_outside_timing(studies[0])


def test_a_job_failing_on_the_cluster_fails_the_run_naming_its_log(slurm, tmp_path):
    env, directory = slurm
    root = copy_repo(tmp_path / "repo")
    cli = root / "emnn/cli.py"
    cli.write_text(cli.read_text() + '\nraise SystemExit("broken on purpose")\n')
    target = "results/runs/iris/sgd/h7"
    result = snakemake(root, target, *RUN, *SLURM, "--retries", "0", env=env, check=False,
                       timeout=300)  # fmt: skip
    assert result.returncode != 0
    assert "logs/train/iris/sgd/h7.log" in result.stdout + result.stderr
    assert "broken on purpose" in (root / "logs/train/iris/sgd/h7.log").read_text()
    assert cluster_jobs(directory)[-1]["JobState"] == "FAILED"


def test_without_accounting_the_default_status_command_stops_at_once(slurm, tmp_path):
    """The plugin's default (sacct) would wait forever on this cluster: the run stops
    before submitting anything and says which option to set."""
    env, directory = slurm
    root = copy_repo(tmp_path / "repo")
    before = len(cluster_jobs(directory))
    result = snakemake(root, *RUN, "--profile", "workflow/profiles/slurm", env=env, check=False,
                       timeout=300)  # fmt: skip
    assert result.returncode != 0
    assert "--slurm-status-command squeue" in result.stderr
    assert len(cluster_jobs(directory)) == before


# ------------------------------------------------------------ for Snakemake users and journals


def test_snakemakes_own_report_holds_the_figures_and_tables(studies, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(studies[0], root, symlinks=True)
    snakemake(root, *RUN, "--report", "report.zip")
    with zipfile.ZipFile(root / "report.zip") as archive:
        names = archive.namelist()
    shown = {Path(name).name for name in names}  # the archive keeps file names, not paths
    for figure in study_figures(root):
        assert f"{Path(figure).name}.svg" in shown, figure
    assert {"summary.csv", "comparisons.csv", "moe_summary.csv", "scaling.csv"} <= shown


def test_the_paper_source_builds_in_an_empty_directory(studies, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(studies[0], root, symlinks=True)
    target = "report/build/paper-source.tar.gz"
    snakemake(root, target, "--cores", "1", *RUN)
    first = (root / target).read_bytes()
    snakemake(root, target, "--cores", "1", "--forcerun", "paper_source", *RUN)
    assert (root / target).read_bytes() == first  # the same sources, the same bytes
    empty = tmp_path / "empty"
    empty.mkdir()
    with tarfile.open(root / target) as archive:
        archive.extractall(empty, filter="data")
    source = empty / "paper-source"
    tex = (source / "report.tex").read_text() + (source / "timing.tex").read_text()
    figures = re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\}", tex)
    assert figures and all(name.startswith("figures/") for name in figures)
    assert all((source / name).is_file() for name in figures)
    assert (source / "timing.tex").is_file()
    if PDF:
        built = subprocess.run(
            ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
            cwd=source, capture_output=True, timeout=600,
        )  # fmt: skip
        assert built.returncode == 0, built.stdout[-3000:]
        assert (source / "report.pdf").read_bytes().startswith(b"%PDF")
