"""The `emnn` command: every stage of the study, runnable without Snakemake."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

# One busy core per job (--cores N means N): every BLAS and OpenMP library that loads
# later reads these (SciPy's L-BFGS-B brings an OpenBLAS of its own, which a
# threadpool_limits entered before it loads would not reach).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy  # noqa: E402, F401  (loads NumPy's BLAS, so that main's thread limit reaches it)
from threadpoolctl import threadpool_limits  # noqa: E402

from .core.errors import StudyError  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="emnn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="train and evaluate one method on one split (or all splits) of one dataset",
        description="Train one method on one split of one dataset and write its run record "
        "(FILE.json) and wall-clock timings (FILE.timing.json).",
    )
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--config", action="append", type=Path, metavar="FILE",
        help="config file; give it again to layer files, later ones overriding earlier keys",
    )  # fmt: skip
    source.add_argument("--spec", help="a job spec (JSON) already resolved from the config")
    run.add_argument("--dataset", help="dataset name (with --config)")
    run.add_argument("--method", help="method name (with --config)")
    run.add_argument("--n-hidden", type=int, help="override the method's number of hidden units")
    run.add_argument(
        "--split", required=True,
        help="split index (0-based), or 'all' to run every split into the directory --out",
    )  # fmt: skip
    run.add_argument(
        "--out", required=True, type=Path, help="record file, or directory with --split all"
    )

    aggregate = commands.add_parser("aggregate", help="run records to result and timing tables")
    aggregate.add_argument("--study", required=True, help="the study plan (JSON)")
    aggregate.add_argument("--runs", nargs="+", required=True, type=Path, metavar="DIR")
    aggregate.add_argument("--out", required=True, type=Path, help="directory of result tables")
    aggregate.add_argument(
        "--timing-out", required=True, type=Path, help="directory of timing tables"
    )

    figure = commands.add_parser("figure", help="draw one figure from the tables")
    figure.add_argument("name", help="figure name, e.g. learning-iris or timing/estep-cost")
    figure.add_argument("--plan", required=True, help="the study plan with labels (JSON)")

    cost = commands.add_parser("estep-cost", help="time one EM iteration against m")
    cost.add_argument("--spec", required=True, help="dataset, n_hidden and repeats (JSON)")
    cost.add_argument(
        "--iteration-out", type=Path, help="table of one EM iteration per kind of E-step"
    )
    cost.add_argument("--out", required=True, type=Path, help="CSV table to write")

    ablation = commands.add_parser(
        "ablation", help="the originating code rebuilt bug for bug, its defects removed one by one"
    )
    ablation.add_argument("--spec", required=True, help="seed, dataset and n_inits (JSON)")
    ablation.add_argument("--out", required=True, type=Path, help="the ablation table (CSV)")
    ablation.add_argument(
        "--inits-out", required=True, type=Path, help="accuracy over initializations (CSV)"
    )

    moe = commands.add_parser(
        "moe", help="one mixture-of-experts method on the paired splits of one dataset"
    )
    moe.add_argument("--spec", required=True, help="seed, method, dataset, cap, splits (JSON)")
    moe.add_argument("--out", required=True, type=Path, help="directory of the part's tables")
    moe_tables = commands.add_parser(
        "moe-tables", help="the mixture-of-experts stage's tables from its parts"
    )
    moe_tables.add_argument("--parts", nargs="+", required=True, type=Path, metavar="DIR")
    moe_tables.add_argument("--out", required=True, type=Path, help="directory of result tables")
    moe_tables.add_argument(
        "--timing-out", required=True, type=Path, help="directory of timing tables"
    )

    scaling = commands.add_parser(
        "scaling", help="the m-sweep's tables: accuracy against m, best m, paired tests"
    )
    scaling.add_argument("--spec", required=True, help="study.scaling of the config (JSON)")
    scaling.add_argument("--runs", nargs="+", required=True, help="the sweep's run directories")
    scaling.add_argument("--out", required=True, type=Path, help="directory of result tables")

    report = commands.add_parser("report", help="render the paper as HTML and LaTeX")
    report.add_argument("--config-json", required=True, help="the validated config (JSON)")
    report.add_argument("--runs", nargs="+", required=True, metavar="DIR")

    pdf = commands.add_parser("pdf", help="build the PDF from report.tex with latexmk")
    pdf.add_argument("tex", type=Path)
    pdf.add_argument(
        "--mode", choices=("required", "auto"), default="required",
        help="auto: a failed build prints why and exits 0 (the study's default)",
    )  # fmt: skip
    pdf.add_argument("--log", type=Path, help="where to keep latexmk's output and the LaTeX log")
    pdf.add_argument("--status", type=Path, help="a one-line file saying whether it was built")

    source = commands.add_parser(
        "paper-source", help="report.tex, its figures and timing.tex as one .tar.gz"
    )
    source.add_argument("tex", type=Path, help="report/build/report.tex")
    source.add_argument("--out", type=Path, required=True, help="the archive to write")

    check = commands.add_parser("check", help="validate config files and their datasets")
    check.add_argument("--config", action="append", type=Path, required=True, metavar="FILE")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        with threadpool_limits(limits=1):  # one busy core per job: --cores N means N
            return COMMANDS[args.command](args, parser)
    except StudyError as error:
        print(f"emnn: error: {error}", file=sys.stderr)
        return 2


def _run(args, parser) -> int:
    from .core import records
    from .study.config import load_config
    from .study.jobs import job_spec
    from .study.training import run_splits

    if args.config:
        if not (args.dataset and args.method):
            parser.error("run --config needs --dataset and --method")
        spec = job_spec(load_config(args.config), args.dataset, args.method, args.n_hidden)
    else:
        if args.dataset or args.method or args.n_hidden:
            parser.error("run --spec carries the dataset and method already")
        spec = json.loads(args.spec)
    if args.split == "all":
        records.write_run_directory(args.out, run_splits(spec))
        return 0
    try:
        split = int(args.split)
    except ValueError:
        parser.error(f"--split takes a split index or 'all', got {args.split!r}")
    ((record, timing),) = run_splits(spec, [split])
    records.write_run(args.out, record, timing)
    return 0


def _aggregate(args, parser) -> int:
    from .parts.main.aggregate import write

    write(args.runs, json.loads(args.study), args.out, args.timing_out)
    return 0


def _figure(args, parser) -> int:
    from .paper.figures import draw, figure_names

    plan = json.loads(args.plan)
    if args.name not in figure_names(plan):
        parser.error(
            f"unknown figure {args.name!r}; the study draws {', '.join(figure_names(plan))}"
        )
    draw(args.name, plan)
    return 0


def _estep_cost(args, parser) -> int:
    from .core import records
    from .core.tidy import csv_text
    from .data.datasets import load_dataset
    from .parts.timing.estep_cost import cost_table, iteration_cost_table

    spec = json.loads(args.spec)
    dataset = load_dataset(spec["dataset"]["name"], spec["dataset"])
    table = cost_table(dataset.X, dataset.y, spec["n_hidden"], spec["repeats"])
    records.write_text(args.out, csv_text(table))
    e_steps = spec.get("e_steps")
    if e_steps:
        if args.iteration_out is None:
            parser.error("estep-cost: the spec has e_steps, so --iteration-out is needed")
        data = load_dataset(e_steps["dataset"]["name"], e_steps["dataset"])
        table = iteration_cost_table(data.X, data.y, e_steps, spec["repeats"])
        records.write_text(args.iteration_out, csv_text(table))
    return 0


def _ablation(args, parser) -> int:
    from .core import records
    from .core.tidy import csv_text
    from .parts.replication.run import ablation_table, inits_table

    spec = json.loads(args.spec)
    records.write_text(args.out, csv_text(ablation_table(spec)))
    records.write_text(args.inits_out, csv_text(inits_table(spec)))
    return 0


def _moe(args, parser) -> int:
    from .parts.moe.runs import write_part

    write_part(json.loads(args.spec), args.out)
    return 0


def _moe_tables(args, parser) -> int:
    from .parts.moe.runs import write_tables

    write_tables(args.parts, args.out, args.timing_out)
    return 0


def _scaling(args, parser) -> int:
    from .parts.scaling.summary import write

    write(args.runs, json.loads(args.spec), args.out)
    return 0


def _report(args, parser) -> int:
    from .paper import render

    render(json.loads(args.config_json), args.runs)
    return 0


def _pdf(args, parser) -> int:
    from .paper.pdf import build_pdf, build_report_pdf

    if args.status is None:
        if args.mode == "auto":
            parser.error("pdf --mode auto needs --status")
        print(build_pdf(args.tex, args.log))
    else:
        build_report_pdf(args.tex, args.mode, args.log, args.status)
    return 0


def _paper_source(args, parser) -> int:
    from .paper.source import bundle

    names = bundle(args.tex, args.out)
    print(f"{args.out}: {len(names)} files ({', '.join(n for n in names if '/' not in n)} "
          f"and {sum('/' in n for n in names)} figures)")  # fmt: skip
    return 0


def _check(args, parser) -> int:
    from .study.config import load_config
    from .study.jobs import runs, used_datasets

    config = load_config(args.config)
    n_datasets = len(used_datasets(config))
    print(f"config OK: {len(runs(config))} training jobs on {n_datasets} datasets")
    return 0


COMMANDS = {
    "run": _run,
    "aggregate": _aggregate,
    "figure": _figure,
    "estep-cost": _estep_cost,
    "ablation": _ablation,
    "moe": _moe,
    "moe-tables": _moe_tables,
    "scaling": _scaling,
    "report": _report,
    "pdf": _pdf,
    "paper-source": _paper_source,
    "check": _check,
}

if __name__ == "__main__":
    sys.exit(main())
