"""How long the paper is: words of the abstract and of the main text (Introduction to
Conclusion) from report.html, and the PDF pages the main text spans.

    python -m emnn.paper.length report/build/report.html [report/build/report.pdf]

A word is a whitespace-separated token of the rendered text: prose, captions and table
cells count, and each formula counts as one word (MathML would otherwise count every
symbol). The PDF pages are those from the page where the first section starts to the
page where the references start, as pdftotext reads them.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .outline import BODY

SECTION = re.compile(r'<section id="([^"]+)"[^>]*>(.*?)</section>', re.DOTALL)
MATH = re.compile(r"<math.*?</math>", re.DOTALL)
TAG = re.compile(r"<[^>]+>")


def words(fragment: str) -> int:
    fragment = MATH.sub(" x ", fragment)
    fragment = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", fragment, flags=re.DOTALL)
    return len(TAG.sub(" ", fragment).split())


def html_words(page: str) -> dict:
    """Words of the abstract, of each main section and of the main text in all."""
    found = dict(SECTION.findall(page))
    body = {name: words(found[name]) for name, _ in BODY if name in found}
    abstract = re.search(r'<section class="abstract"[^>]*>(.*?)</section>', page, re.DOTALL)
    return {
        "abstract": words(abstract.group(1)) - 1 if abstract else 0,  # less its heading
        "sections": body,
        "main": sum(body.values()),
    }


def pdf_pages(pdf: Path, first: str, last: str = "References") -> tuple[int, int] | None:
    """The pages (1-based) on which the heading `first` and the heading `last` stand."""
    if shutil.which("pdftotext") is None:
        return None
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    pages = text.split("\f")

    def page_of(heading):
        pattern = re.compile(rf"^\s*(\d+\s+)?{re.escape(heading)}\s*$", re.MULTILINE)
        return next((k + 1 for k, p in enumerate(pages) if pattern.search(p)), None)

    start, end = page_of(first), page_of(last)
    return (start, end) if start and end else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emnn.paper.length",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("html", type=Path)
    parser.add_argument("pdf", type=Path, nargs="?")
    args = parser.parse_args(argv)
    counted = html_words(args.html.read_text(encoding="utf-8"))
    print(f"abstract: {counted['abstract']} words")
    for name, n in counted["sections"].items():
        print(f"  {name}: {n}")
    print(f"main text (Introduction to Conclusion): {counted['main']} words")
    if args.pdf:
        span = pdf_pages(args.pdf, BODY[0][1])
        if span is None:
            print("main text pages: unknown (pdftotext missing or headings not found)")
        else:
            print(f"main text pages: {span[1] - span[0] + 1} (pages {span[0]} to {span[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
