"""The emnn study: train every method on every split, aggregate, draw, render the paper.

    snakemake --cores 4                                  # the full study
    snakemake --cores 4 --configfile config/smoke.yaml   # a small study of the whole pipeline

Run from the repository's top directory: Snakemake finds this file, and its
default profile in profiles/default, by itself. The rules live in
workflow/rules/, one file per stage. Every rule's action is one `emnn` command;
what runs, with which settings and which code, comes from emnn.plan.Plan.
Each rule names its conda environment (workflow/envs/emnn.yaml, the same as
environment.yml), so `--sdm conda` works on a cluster; in the README's venv the
rules simply run in that venv.
"""

import os
import sys
from pathlib import Path

# Jobs run `python -m emnn` (this interpreter's, or a rule's conda environment's),
# importing the package of this checkout: the same files the rules declare as
# inputs, so an edit re-runs exactly the jobs that depend on it.
CHECKOUT = str(Path(workflow.basedir))
sys.path.insert(0, CHECKOUT)
os.environ.update(
    PYTHONPATH=CHECKOUT,
    PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]),
)

from emnn.core import provenance  # noqa: E402
from emnn.study.cluster import check_status_command  # noqa: E402
from emnn.study.config import validate  # noqa: E402
from emnn.core.errors import StudyError  # noqa: E402
from emnn.plan import Plan  # noqa: E402


configfile: "config/config.yaml"


# `snakemake --report report.zip`: Snakemake's own browsable report of the run
# (figures, tables, rule graph, run times), beside the paper.
report: "workflow/report/workflow.rst"


try:
    # Snakemake's JSON-schema validator against emnn/config.schema.yaml (package data,
    # so that `emnn check` validates the same way without this workflow): names that
    # break the rule for names, unknown keys and wrong types stop here with the key
    # named; defaults are filled in.
    config.update(validate(config))
    # Names that refer to nothing, hyperparameters a model does not take, data that
    # cannot be split: all stop here too, before any job runs.
    PLAN = Plan(config)
    # With report.pdf "auto", a machine that cannot build the PDF still gets the rest.
    if PLAN.pdf_unavailable():
        print(
            "emnn: not building the PDF, only report.html and report.tex: "
            f"{PLAN.pdf_unavailable()}",
            file=sys.stderr,
        )
except StudyError as error:
    # One message naming the culprit, as `emnn check` prints it; no traceback.
    print(f"emnn: error: {error}", file=sys.stderr)
    sys.exit(2)


onstart:
    # On the submitting host, before the first job: a SLURM executor that would wait
    # forever on a cluster without accounting stops here instead, saying what to set.
    check_status_command(workflow.executor_settings)


# Rendering and the PDF are light and need TeX: they run where Snakemake runs.
localrules:
    all,
    report,
    pdf,
    paper_source,


wildcard_constraints:
    dataset=r"[^/]+",
    method=r"[^/]+",
    n_hidden=r"\d+",


include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


if PLAN.ablation:

    include: "workflow/rules/ablation.smk"


if PLAN.moe:

    include: "workflow/rules/moe.smk"


if PLAN.scaling:

    include: "workflow/rules/scaling.smk"


rule all:
    default_target: True
    input:
        PLAN.targets(),
