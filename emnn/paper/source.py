"""The paper's LaTeX source as one archive, for a journal or arXiv.

report.tex finds its figures in the study's tree (../../results/figures/...); the
archive holds report.tex and timing.tex (the wall-clock appendix it inputs when
present) with those paths made local (figures/...), the figures as PDF and a README. The
bibliography is inline (thebibliography) and every package is standard TeX Live, so
`latexmk -pdf report.tex` (or pdflatex, twice) builds it in an empty directory. The
archive's bytes depend only on its contents: entries sorted, dates and owners zeroed.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from pathlib import Path

from ..core import records
from ..core.errors import StudyError

GRAPHICS = re.compile(r"(\\includegraphics(?:\[[^\]]*\])?\{)([^}]+)(\})")
FIGURES = "figures"
README = """The LaTeX source of the paper, as the emnn study rendered it.

Build:  latexmk -pdf report.tex      (or: pdflatex report.tex, twice)

report.tex inputs timing.tex (the wall-clock appendix) and the figures in figures/;
the bibliography is inline. Everything it loads is in a standard TeX Live.
"""


def local_figures(tex: str, tex_dir: Path) -> tuple[str, dict[str, Path]]:
    """report.tex with each figure's path made local, and the archive name -> file."""
    files: dict[str, Path] = {}

    def relocate(match: re.Match) -> str:
        source = (tex_dir / match.group(2)).resolve()
        if not source.is_file():
            raise StudyError(f"report.tex includes {match.group(2)}, which does not exist")
        parts = source.parts
        name = "/".join(parts[parts.index("figures") + 1 :]) if "figures" in parts else source.name
        files[f"{FIGURES}/{name}"] = source
        return f"{match.group(1)}{FIGURES}/{name}{match.group(3)}"

    return GRAPHICS.sub(relocate, tex), files


def bundle(tex_path, out_path) -> list[str]:
    """Write the archive; return the names it holds."""
    tex_path = Path(tex_path)
    entries, figures = {"README.txt": README.encode()}, {}
    for source in (tex_path, tex_path.parent / "timing.tex"):
        if source.is_file():  # timing.tex too includes a figure
            tex, found = local_figures(source.read_text(encoding="utf-8"), tex_path.parent)
            entries[source.name] = tex.encode("utf-8")
            figures.update(found)
    entries.update({name: path.read_bytes() for name, path in figures.items()})
    archive = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=archive, mode="wb", mtime=0, filename="") as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in sorted(entries):
            info = tarfile.TarInfo(f"paper-source/{name}")
            info.size, info.mode, info.mtime = len(entries[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(entries[name]))
    records.write_bytes(out_path, archive.getvalue())
    return sorted(entries)
