"""The emnn study: train every method on every split, aggregate, draw, render the paper.

    snakemake --cores 4                                  # the full study
    snakemake --cores 4 --configfile config/smoke.yaml   # a small study of the whole pipeline

Every rule's action is one `emnn` command; what runs, with which settings and
which code, comes from emnn.workflow.Plan. Jobs run the `emnn` package of this
checkout (PYTHONPATH below), the same files the rules declare as inputs, so an
edit re-runs exactly the jobs that depend on it.
"""

import os
import shlex
import sys

sys.path.insert(0, workflow.basedir)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
)

from emnn import provenance  # noqa: E402
from emnn.config import validate  # noqa: E402
from emnn.workflow import Plan  # noqa: E402


configfile: "config/config.yaml"


# Snakemake's JSON-schema validator against workflow/schemas/config.schema.yaml:
# unknown keys and wrong types stop here with the key named; defaults are filled in.
config.update(validate(config))
# Names that refer to nothing, hyperparameters a model does not take, data that
# cannot be split: all stop here too, before any job runs.
PLAN = Plan(config)
EMNN = f"{shlex.quote(sys.executable)} -m emnn"

if not PLAN.pdf_wanted() and config["report"]["pdf"] == "auto":
    print(
        "emnn: no TeX engine (latexmk + pdflatex) found: building report.html and report.tex "
        "only. For the PDF: apt-get install texlive-latex-recommended "
        "texlive-fonts-recommended latexmk",
        file=sys.stderr,
    )


wildcard_constraints:
    dataset=r"[^/]+",
    method=r"[^/]+",
    n_hidden=r"\d+",


include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        PLAN.targets(),
