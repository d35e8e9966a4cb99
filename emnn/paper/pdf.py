"""The PDF: report.tex through latexmk and pdflatex, without ever costing the study.

With `report: {pdf: auto}` (the default) a TeX failure of any kind leaves the
HTML, the .tex and every result in place: the build says what went wrong in
one message and keeps the LaTeX log. With `pdf: required` the same failure
stops the study. Tools' output is read as bytes and decoded with replacement,
since TeX writes whatever encoding its input had.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..core import records
from ..core.errors import StudyError

LATEXMK_TIMEOUT = 600
# Every LaTeX file the report's preamble loads, and the Debian package that installs it
# (texlive-latex-base comes with texlive-latex-recommended). tests/test_pdf.py keeps this
# equal to the template's \usepackage lines and within apt-packages.txt.
TEX_FILES = {
    "article.cls": "texlive-latex-base",
    "fontenc.sty": "texlive-latex-base",
    "inputenc.sty": "texlive-latex-base",
    "lmodern.sty": "lmodern",
    "textcomp.sty": "texlive-latex-base",
    "amsmath.sty": "texlive-latex-base",
    "graphicx.sty": "texlive-latex-base",
    "booktabs.sty": "texlive-latex-recommended",
    "caption.sty": "texlive-latex-recommended",
    "longtable.sty": "texlive-latex-base",
    "array.sty": "texlive-latex-base",
    "geometry.sty": "texlive-latex-base",
    "microtype.sty": "texlive-latex-recommended",
    "xcolor.sty": "texlive-latex-recommended",
    "hyperref.sty": "texlive-latex-base",
}
ENGINE_PACKAGES = ["latexmk", "texlive-latex-recommended", "texlive-fonts-recommended"]
_MISSING_FILE = re.compile(r"File `([^']+)' not found")
_LOADS = re.compile(
    r"\\(?:usepackage|RequirePackage|documentclass)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}"
)


def install_hint(packages) -> str:
    return f"apt-get install {' '.join(sorted(set(packages)))}"


def tex_engine() -> str | None:
    """latexmk's path when both latexmk and pdflatex are on PATH, else None."""
    latexmk = shutil.which("latexmk")
    return latexmk if latexmk and shutil.which("pdflatex") else None


def loaded_files(tex: str) -> list[str]:
    """The class and package files a LaTeX source loads (\\documentclass, \\usepackage)."""
    files = []
    for match in _LOADS.finditer(tex):
        kind = ".cls" if match.group(0).startswith("\\documentclass") else ".sty"
        files += [name.strip() + kind for name in match.group(1).split(",") if name.strip()]
    return files


def missing_files(files) -> list[str]:
    """Those of `files` that TeX cannot find (asks kpsewhich once)."""
    kpsewhich = shutil.which("kpsewhich")
    if kpsewhich is None:
        return list(files)
    try:
        done = subprocess.run([kpsewhich, *files], capture_output=True, stdin=subprocess.DEVNULL)
    except OSError:  # not runnable: TeX is as good as missing
        return list(files)
    found = {Path(line).name for line in decode(done.stdout).splitlines() if line.strip()}
    return [name for name in files if name not in found]


def missing_message(files) -> str:
    """What is missing and, where known, which Debian package provides it."""
    packages = [TEX_FILES[name] for name in files if name in TEX_FILES]
    hint = f"; on Debian/Ubuntu: {install_hint(packages)}" if packages else ""
    return f"TeX cannot find {', '.join(files)}{hint}"


def preflight() -> str | None:
    """Why the PDF cannot be built on this machine, or None when it can."""
    if tex_engine() is None:
        return (
            "no TeX engine (latexmk and pdflatex) is installed; on Debian/Ubuntu: "
            f"{install_hint(ENGINE_PACKAGES + list(TEX_FILES.values()))}"
        )
    missing = missing_files(list(TEX_FILES))
    return missing_message(missing) if missing else None


def decode(data: bytes) -> str:
    """A tool's output as text: UTF-8 where it is, U+FFFD for any other byte (TeX writes
    its log in the encoding of its input, and names files as the file system does)."""
    return data.decode("utf-8", errors="replace")


def build_pdf(tex_path, log_path=None) -> Path:
    """Build the PDF beside the .tex file; on failure raise StudyError with one message.

    It is built in a temporary directory and renamed into place, so a failed
    build leaves no half-written PDF; SOURCE_DATE_EPOCH fixes pdfTeX's dates so
    the same sources give the same PDF. latexmk's output and the LaTeX log are
    written to `log_path` (when given), whether the build succeeds or not.
    """
    tex_path = Path(tex_path)
    latexmk = tex_engine()
    if latexmk is None:
        raise StudyError(f"building the PDF needs latexmk and pdflatex: {preflight()}")
    directory = tex_path.parent
    for stale in directory.glob(".latexmk-*"):  # left by a build that was killed
        shutil.rmtree(stale, ignore_errors=True)
    build = Path(tempfile.mkdtemp(dir=directory, prefix=".latexmk-"))
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
    command = [
        latexmk, "-norc", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
        "-file-line-error", f"-outdir={build.name}", tex_path.name,
    ]  # fmt: skip
    try:
        try:
            done = subprocess.run(
                command, cwd=directory, env=env, capture_output=True,
                stdin=subprocess.DEVNULL, timeout=LATEXMK_TIMEOUT,
            )  # fmt: skip
            failed, output = done.returncode != 0, decode(done.stdout + done.stderr)
        except subprocess.TimeoutExpired as error:
            failed = True
            output = f"latexmk did not finish in {LATEXMK_TIMEOUT} s\n{decode(error.output or b'')}"
        except OSError as error:  # found on PATH but not runnable
            failed, output = True, f"! could not run {latexmk}: {error}"
        latex_log_file = build / f"{tex_path.stem}.log"
        latex_log = decode(latex_log_file.read_bytes()) if latex_log_file.is_file() else ""
        if log_path is not None:
            records.write_text(log_path, f"$ {' '.join(command)}\n{output}\n{latex_log}")
        pdf = build / f"{tex_path.stem}.pdf"
        if failed or not pdf.is_file():
            raise StudyError(_failure(tex_path, latex_log or output, log_path))
        target = tex_path.with_suffix(".pdf")
        os.replace(pdf, target)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return target


def _failure(tex_path: Path, log: str, log_path) -> str:
    """One message: the missing file and its package when TeX says so, else the first error."""
    where = f"; the LaTeX log is in {log_path}" if log_path else ""
    missing = _MISSING_FILE.findall(log)
    if missing:
        return f"latexmk could not build {tex_path}: {missing_message(sorted(set(missing)))}{where}"
    errors = [line for line in log.splitlines() if line.startswith("!") or ":error:" in line]
    errors += [line for line in log.splitlines() if re.match(r"^\S+:\d+: ", line)]
    first = errors[0].strip() if errors else "\n".join(log.strip().splitlines()[-5:])
    return f"latexmk could not build {tex_path}: {first}{where}"


def build_report_pdf(tex_path, mode: str, log_path, status_path) -> bool:
    """The workflow's PDF step. Writes a one-line status file in every case; returns
    whether the PDF was built. A failure raises only when `mode` is 'required'."""
    try:
        pdf = build_pdf(tex_path, log_path)
    except StudyError as error:
        if mode == "required":
            raise
        records.write_text(status_path, f"not built: {error}\n")
        print(
            f"emnn: the PDF was not built ({error}); report.html and report.tex are complete",
            file=sys.stderr,
        )
        return False
    records.write_text(status_path, f"built {Path(pdf).name}\n")
    return True
