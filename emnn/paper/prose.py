"""The paper's generated sentences: what each method trains, its stopping rule, how a
dataset is split, the abstract and the report's own BibTeX entry.

Sentences are prose markup (emnn.typeset.markup): `$...$` is mathematics and
`[@key]` a citation, so every name from the study is marked literal().
"""

from __future__ import annotations

from ..core import provenance
from ..core.tidy import rows_by
from ..typeset.formats import tex_escape

SCHEMES = {
    "shuffle": "repeated stratified shuffle splits",
    "kfold": "repeated stratified k-fold",
    "original": "the originating study's single split",
}


def split_text(spec: dict, info: dict) -> str:
    scheme = spec["scheme"]
    if scheme == "original":
        text = f"{SCHEMES[scheme]} ({info['n_train']} train / {info['n_test']} test)"
    elif scheme == "kfold":
        text = f"{spec['n_splits']} splits: {SCHEMES[scheme]} with {spec['n_folds']} folds"
    else:
        text = (
            f"{spec['n_splits']} {SCHEMES.get(scheme, scheme)}, test fraction {spec['test_size']}"
        )
    standardized = "standardized" if spec["standardize"] else "raw features"
    return f"{text}; {standardized}"


ABSTRACT_WORDS = 180


def abstract(plan: dict, tables: dict, values: dict) -> list[str]:
    """The answer first, then how it was reached: the primary contrasts' verdicts, the
    algorithm question's, and the replication's; every clause computed from the tables.
    At most ABSTRACT_WORDS words (a test holds it to that)."""
    main = plan["main"]
    summary = rows_by(tables["main"], ["dataset", "method"])
    splits = sorted({int(r["n_splits"]) for r in summary.values()}) or [0]
    n_splits = f"{splits[0]}" if len(splits) == 1 else f"{splits[0]} to {splits[-1]}"
    out = []
    primary = values.get("primary")
    if primary:
        for c in primary["contrasts"]:
            question = f"{c['question'][0].upper()}{c['question'][1:]}"
            out.append(
                f"{question} ({c['shared']}): {c['compact']}." if c["shared"]
                else f"{question}: {c['subject']}{c['abstract_tuning']} is {c['compact']}."
            )  # fmt: skip
    n = len(main["datasets"])
    pairs = sorted({int(r["n_pairs"]) for c in (primary or {}).get("contrasts", [])
                    for r in c["rows"]})  # fmt: skip
    paired = (f"{pairs[0]} to {pairs[-1]}" if len(pairs) > 1 else f"{pairs[0]}") if pairs else ""
    out.append(
        f"Each contrast pairs runs that met their stopping rule ({paired} of {n_splits} "
        f"splits, {n} dataset{'s' if n != 1 else ''}), with equivalence margins of "
        f"{primary['margins']}."
        if primary
        else f"We compare {len(main['methods'])} methods over {n_splits} paired splits of "
        f"{n} dataset{'s' if n != 1 else ''}."
    )
    found = values["narrative"]["findings"]
    # The speed of the converged trainers: the one against a capped EM is secondary.
    out += [found["converged_speed"]] if found.get("converged_speed") else []
    # Which EM variants stopped at their caps is in the results, not here: a cap measures
    # a step size or a budget, not the answer to either question.
    rep = values["replication"]
    if rep and rep.get("abstract"):
        out.append(rep["abstract"])
    elif rep and "em" in rep["luck"]:
        out.append(f"Replication: {rep['luck']['em'][0].lower()}{rep['luck']['em'][1:]}")
    return out


def self_citation(values: dict) -> str:
    """A BibTeX entry for this report (its fields escaped for LaTeX); its year is that of
    the report's date in the config, never today's."""
    title = values["title_block"]
    authors = " and ".join("{" + tex_escape(a) + "}" for a in title["authors"]) or "{emnn}"
    version = provenance.versions()["emnn"]
    commit = values["appendix"]["commit"].split(" ")[0]
    return (
        "@techreport{emnn-report,\n"
        f"  title       = {{{tex_escape(title['title'])}}},\n"
        f"  author      = {{{authors}}},\n"
        f"  institution = {{{tex_escape(title['affiliation'] or 'emnn')}}},\n"
        "  type        = {Reproducible study},\n"
        f"  year        = {{{title['year']}}},\n"
        f"  note        = {{emnn {tex_escape(version)}, commit {tex_escape(commit)}, "
        f"config sha256 {values['appendix']['config_sha256'][:16]}}}\n"
        "}\n"
    )
