"""The PDF step: what it needs from the system, and that a TeX failure never costs the study."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emnn.core.errors import StudyError
from emnn.paper import pdf

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "emnn/templates/report.tex.j2"
LATEXMK = shutil.which("latexmk")
MINIMAL = "\\documentclass{article}\n\\begin{document}\nx\n\\end{document}\n"


def apt_packages() -> set[str]:
    """The one list of system packages (.ci/run installs it; the README quotes it)."""
    text = (REPO / "apt-packages.txt").read_text()
    return {line.split("#")[0].strip() for line in text.splitlines()} - {""}


def test_the_preamble_table_lists_every_file_the_template_loads():
    assert set(pdf.loaded_files(TEMPLATE.read_text())) == set(pdf.TEX_FILES)


def test_the_apt_list_installs_every_package_the_pdf_needs():
    wanted = set(pdf.TEX_FILES.values()) | set(pdf.ENGINE_PACKAGES)
    wanted -= {"texlive-latex-base"}  # a dependency of texlive-latex-recommended
    assert wanted <= apt_packages()
    assert "lmodern" in apt_packages()


def test_ci_and_readme_use_the_apt_list():
    assert "apt-packages.txt" in (REPO / ".ci/run").read_text()
    assert "apt-packages.txt" in (REPO / "README.md").read_text()


def test_loaded_files_reads_options_and_lists():
    tex = "\\documentclass[11pt]{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{a, b}\n"
    assert pdf.loaded_files(tex) == ["article.cls", "fontenc.sty", "a.sty", "b.sty"]


def stand_in(tmp_path: Path, name: str, script: str) -> Path:
    """An executable `name` that runs `script` (sh), on a directory to put first on PATH."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    tool = directory / name
    tool.write_text(f"#!/bin/sh\n{script}\n")
    tool.chmod(0o755)
    return directory


# A pdflatex that fails as TeX does when a package is not installed, writing a
# log that is not UTF-8 (TeX writes the bytes of its input).
FAILING_PDFLATEX = r"""
for arg in "$@"; do case "$arg" in -output-directory=*) out="${arg#*=}";; esac; done
job=report
printf '! LaTeX Error: File `lmodern.sty'"'"' not found.\n\xe9\xff\n' > "${out:-.}/$job.log"
printf '! LaTeX Error: File `lmodern.sty'"'"' not found.\n\xe9\n'
exit 1
"""


@pytest.fixture
def failing_tex(tmp_path, monkeypatch):
    """PATH with a failing pdflatex first (and latexmk, when TeX is not installed)."""
    bin_dir = stand_in(tmp_path, "pdflatex", FAILING_PDFLATEX)
    if LATEXMK is None:
        stand_in(tmp_path, "latexmk", 'exec pdflatex "$@"')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    tex = tmp_path / "build" / "report.tex"
    tex.parent.mkdir()
    tex.write_text(MINIMAL)
    return tex


def emnn(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emnn", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


def test_auto_mode_survives_a_failing_tex_and_names_the_package(failing_tex, tmp_path):
    log, status = tmp_path / "logs/pdf.log", tmp_path / "pdf-status.txt"
    done = emnn("pdf", str(failing_tex), "--mode", "auto", "--log", str(log),
                "--status", str(status), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "lmodern.sty" in message and "apt-get install lmodern" in message
    assert str(log) in message
    assert "lmodern.sty" in log.read_text()  # the LaTeX log is kept, bytes decoded
    assert status.read_text().startswith("not built: ")
    assert not failing_tex.with_suffix(".pdf").exists()
    assert [p.name for p in failing_tex.parent.iterdir()] == ["report.tex"]


def test_required_mode_fails_with_one_message_and_the_log(failing_tex, tmp_path):
    log, status = tmp_path / "logs/pdf.log", tmp_path / "pdf-status.txt"
    done = emnn("pdf", str(failing_tex), "--mode", "required", "--log", str(log),
                "--status", str(status), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert re.fullmatch(r"emnn: error: latexmk could not build .*lmodern.*\n", done.stderr)
    assert log.is_file() and not status.exists()


def test_a_compile_error_names_the_first_error(failing_tex, tmp_path, monkeypatch):
    if LATEXMK is None:
        pytest.skip("needs a real TeX installation")
    monkeypatch.setenv("PATH", os.environ["PATH"].split(os.pathsep, 1)[1])  # real pdflatex
    failing_tex.write_text(
        "\\documentclass{article}\n\\begin{document}\n\\undefinedmacro\n\\end{document}\n"
    )
    with pytest.raises(StudyError, match="Undefined control sequence"):
        pdf.build_pdf(failing_tex)
    assert not failing_tex.with_suffix(".pdf").exists()


def test_no_tex_engine_names_the_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pdf.tex_engine() is None
    tex = tmp_path / "report.tex"
    tex.write_text(MINIMAL)
    with pytest.raises(StudyError) as error:
        pdf.build_pdf(tex)
    for package in ("texlive-latex-recommended", "lmodern", "latexmk"):
        assert package in str(error.value)


def test_the_paper_source_names_figures_locally_and_refuses_a_missing_one(tmp_path):
    from emnn.paper.source import bundle, local_figures

    build = tmp_path / "report/build"
    figures = tmp_path / "results/figures/timing"
    build.mkdir(parents=True)
    figures.mkdir(parents=True)
    (figures / "cost.pdf").write_bytes(b"%PDF-1.5 figure")
    tex = "\\includegraphics[width=\\linewidth]{../../results/figures/timing/cost.pdf}\n"
    local, files = local_figures(tex, build)
    assert local == "\\includegraphics[width=\\linewidth]{figures/timing/cost.pdf}\n"
    assert files == {"figures/timing/cost.pdf": (figures / "cost.pdf").resolve()}
    (build / "report.tex").write_text(tex)
    names = bundle(build / "report.tex", tmp_path / "a.tar.gz")
    assert names == ["README.txt", "figures/timing/cost.pdf", "report.tex"]
    with pytest.raises(StudyError, match=r"missing\.pdf"):
        local_figures("\\includegraphics{../../results/figures/missing.pdf}", build)
