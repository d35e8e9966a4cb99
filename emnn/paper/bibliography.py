"""The references: references.bib read by pybtex, each entry formatted once for both formats.

An entry becomes a list of parts, (style, text) with style "text", "em" (the
journal or publisher, in italics) or "doi"; the templates only set each part in
their own markup, so the HTML and the PDF print the same words and punctuation.
Entries are numbered in the order of the file, as LaTeX's thebibliography
numbers its \\bibitem lines.
"""

from __future__ import annotations

from importlib import resources

from pybtex.database import BibliographyData, Person, parse_string
from pybtex.richtext import Text
from pybtex.scanner import PybtexError

from .. import templates
from ..core.errors import StudyError

BIB_FILE = "references.bib"
MAX_AUTHORS = 6  # past six names: the first three and "et al."
VENUES = ("journal", "booktitle", "publisher", "howpublished")


def read(text: str) -> BibliographyData:
    try:
        return parse_string(text, "bibtex")
    except PybtexError as error:
        raise StudyError(f"{BIB_FILE}: {error}") from None


def field(entry, name: str) -> str:
    """A field's text without the braces that protect capitals, dashes typeset."""
    value = entry.fields.get(name, "")
    text = Text.from_latex(value).render_as("text") if value else ""
    return " ".join(text.replace("--", "–").split())


def person_name(person: Person) -> str:
    """First names, then the "von" part and the last name: Stéfan J. van der Walt."""
    parts = [
        *person.first_names,
        *person.middle_names,
        *person.prelast_names,
        *person.last_names,
        *person.lineage_names,
    ]
    return " ".join(" ".join(parts).split())


def authors_text(persons: list[Person]) -> str:
    """'A, B and C'; 'A, B, C et al.' past six names or where the list ends in 'others'."""
    names = [person_name(p) for p in persons if str(p) != "others"]
    truncated = len(names) < len(persons) or len(names) > MAX_AUTHORS
    if len(names) > MAX_AUTHORS:
        names = names[:3]
    if not names:
        return ""
    if truncated:
        return ", ".join(names) + " et al."
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def sentence(text: str) -> str:
    """Text closed by a full stop, unless it already ends in one (or in ? or !)."""
    return text if not text or text[-1] in ".?!" else text + "."


def details(entry) -> str:
    """Volume, number and pages as journals print them: 15(3):738–749."""
    volume, number, pages = (field(entry, k) for k in ("volume", "number", "pages"))
    text = volume + (f"({number})" if volume and number else "")
    if pages:
        text += f":{pages}" if text else f"pages {pages}"
    return text


def parts(entry) -> list[tuple[str, str]]:
    """One entry as styled parts: Authors. Title. Venue, 15(3):1–9, 2004. Note. doi:…"""
    out = []
    authors = authors_text(entry.persons.get("author", []))
    if authors:
        out.append(("text", sentence(authors) + " "))
    out.append(("text", sentence(field(entry, "title"))))
    venue = next((field(entry, k) for k in VENUES if entry.fields.get(k)), "")
    tail = [t for t in (details(entry), field(entry, "year")) if t]
    if venue:
        out += [("text", " "), ("em", venue)]
    if tail:
        out.append(("text", (", " if venue else " ") + ", ".join(tail)))
    if venue or tail:
        out.append(("text", "."))
    note = field(entry, "note")  # what of the work this study uses, where that is a part
    if note:
        out.append(("text", " " + sentence(note)))
    doi = field(entry, "doi")
    if doi:
        out += [("text", " doi:"), ("doi", doi)]
    return out


def references(text: str | None = None) -> list[dict]:
    """The entries of references.bib (or of `text`), numbered in file order."""
    if text is None:
        text = resources.files(templates).joinpath(BIB_FILE).read_text(encoding="utf-8")
    entries = []
    for position, (key, entry) in enumerate(read(text).entries.items(), 1):
        shown = parts(entry)
        entries.append(
            {
                "key": key,
                "type": entry.type,
                "position": position,
                "title": field(entry, "title"),
                "year": field(entry, "year"),
                "authors": authors_text(entry.persons.get("author", [])),
                "parts": shown,
                "text": "".join(t for _, t in shown),
            }
        )
    return entries
