"""The study's own targets, measured: `python -m emnn.parts.timing.bench_study` prints each
beside its value.

Three parts, each also alone:

* `study`: the full study from scratch in a fresh clone of this checkout
  (`snakemake --cores N`), its wall time and the CPU time of everything it ran
  (snakemake and every job: the children's rusage), against the targets of at
  most 30 CPU-minutes and 18 minutes of wall time on 2 cores; then the
  convergence report below of that study.
* `convergence DIR`: in a finished study, the share of runs that met their own
  stopping rule in every cell (dataset x method x m) of the main study, the
  mixture of experts and the m-sweep, against the target of 95 %, with the
  exemptions the targets allow: the main study's EM without acceleration (plain
  Newton EM and the gradient M-step), IRLS-EM at rate 1 in the mixture of
  experts, and an EM cell of the m-sweep whose L-BFGS row on the same objective
  and m meets 95 %.
* `sgd-job`: the main study's SGD job on Iris (m = 7, every split with its inner
  cross-validation) in this checkout and in a git worktree of a reference commit
  (5285b62, before networks trained together), alternately, CPU time of each
  `emnn run` process; target: at least 10 times less CPU.

Run it on an otherwise idle machine: CPU times are the processes' own, but two
processes on two cores still share caches and memory bandwidth.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from ...core.provenance import ROOT
from ...core.tidy import read_table
from ...study.config import load_config
from ...study.jobs import job_spec

TARGETS = {"cpu_minutes": 30.0, "wall_minutes": 18.0, "converged_share": 0.95, "sgd_ratio": 10}
REFERENCE = "5285b62"  # the last commit before a job's networks trained together


# ---------------------------------------------------------------- convergence


def convergence_cells(tables: Path, config: dict) -> pd.DataFrame:
    """One row per cell of the main study, the mixture of experts and the m-sweep: how many
    runs met their stopping rule, the share, and whether the target exempts the cell."""
    study = config["study"]
    parts = []
    runs = read_table(tables / "runs.csv")
    main = study["main"]
    hidden = {name: int(config["methods"][name]["params"].get("n_hidden", 7))
              for name in main["methods"]}  # fmt: skip
    chosen = runs[runs["dataset"].isin(main["datasets"]) & runs["method"].isin(main["methods"])]
    chosen = chosen[chosen["n_hidden"] == chosen["method"].map(hidden)]
    slow = {name for name in main["methods"] if slow_em_baseline(config["methods"][name])}
    for (dataset, method, m), group in chosen.groupby(["dataset", "method", "n_hidden"]):
        met = _true(group["converged"])
        parts.append(_cell("main", dataset, method, m, len(met), met.sum(), method in slow))
    if (tables / "moe_runs.csv").is_file():
        moe = read_table(tables / "moe_runs.csv")
        for (dataset, method), group in moe.groupby(["dataset", "method"]):
            met = _true(group["converged"])
            parts.append(
                _cell("moe", dataset, method, None, len(met), met.sum(), method == "moe-irls-1")
            )
    if (tables / "scaling.csv").is_file() and "scaling" in study:
        parts.extend(_sweep_cells(read_table(tables / "scaling.csv")))
    cells = pd.DataFrame(parts)
    cells["meets"] = cells["exempt"] | (cells["share"] >= TARGETS["converged_share"])
    return cells


def slow_em_baseline(method: dict) -> bool:
    """Plain Newton EM and the gradient M-step: EM of the main study without SQUAREM."""
    return method["model"] == "em" and method["params"].get("acceleration", "none") == "none"


def _true(column) -> pd.Series:
    """A boolean column, also when a CSV reader left it as the text "True"."""
    return column.astype(str).str.strip().str.lower().isin(["true", "1"])


def _cell(part, dataset, method, m, runs, converged, exempt) -> dict:
    return {
        "part": part, "dataset": dataset, "method": method, "n_hidden": m, "runs": int(runs),
        "converged": int(converged), "share": float(converged / runs), "exempt": bool(exempt),
    }  # fmt: skip


# An EM role of the m-sweep and the L-BFGS role on the same objective.
SAME_OBJECTIVE = {"exact": "exact_lbfgs", "approximate": "approximate_lbfgs"}


def _sweep_cells(summary: pd.DataFrame) -> list[dict]:
    share = summary["converged"] / summary["n_splits"]
    good = {(d, r, int(m)) for d, r, m, s in
            zip(summary["dataset"], summary["role"], summary["n_hidden"], share, strict=True)
            if s >= TARGETS["converged_share"]}  # fmt: skip
    cells = []
    for row in summary.itertuples():
        partner = SAME_OBJECTIVE.get(row.role)
        exempt = partner is not None and (row.dataset, partner, int(row.n_hidden)) in good
        cells.append(
            _cell(
                "m-sweep",
                row.dataset,
                row.method,
                int(row.n_hidden),
                row.n_splits,
                row.converged,
                exempt,
            )
        )
    return cells


def convergence_report(study_dir: Path) -> bool:
    """Print every cell short of the target and the verdict; True when the target holds."""
    config = load_config([study_dir / "config/config.yaml"])
    cells = convergence_cells(study_dir / "results/tables", config)
    target = TARGETS["converged_share"]
    print(f"\nruns that met their own stopping rule, per cell (target: >= {target:.0%}):")
    for part, group in cells.groupby("part", sort=False):
        short = group[~group["meets"]]
        exempt = group[group["exempt"] & (group["share"] < target)]
        print(
            f"  {part}: {len(group) - len(short)} of {len(group)} cells meet it "
            f"({int(group['converged'].sum())} of {int(group['runs'].sum())} runs converged; "
            f"{len(exempt)} cells below it are exempt)"
        )
        for row in short.itertuples():
            at = f" m = {int(row.n_hidden)}" if pd.notna(row.n_hidden) else ""
            print(f"    short: {row.dataset} {row.method}{at}: {row.converged} of {row.runs}")
    holds = bool(cells["meets"].all())
    print(f"  every cell meets it: {'yes' if holds else 'NO'}")
    return holds


# ---------------------------------------------------------------- the study


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_study(workdir: Path, cores: int) -> tuple[float, float]:
    """Clone this checkout's HEAD into workdir and run the full study there: (wall, CPU)
    seconds, the CPU of snakemake and every job it ran."""
    if workdir.exists():
        raise SystemExit(f"{workdir} exists; give a new directory")
    subprocess.run(["git", "clone", "-q", str(ROOT), str(workdir)], check=True)
    before, started = children_cpu(), time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores)],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wall, cpu = time.perf_counter() - started, children_cpu() - before
    if result.returncode != 0:
        raise SystemExit(f"the study failed:\n{result.stderr[-3000:]}")
    return wall, cpu


def study_section(workdir: Path, cores: int) -> None:
    print(f"the full study from scratch in {workdir} (snakemake --cores {cores}) ...", flush=True)
    wall, cpu = run_study(workdir, cores)
    print(
        f"wall {wall / 60:.1f} min (target <= {TARGETS['wall_minutes']:g}): "
        f"{_verdict(wall / 60 <= TARGETS['wall_minutes'])}; CPU {cpu / 60:.1f} min "
        f"(target <= {TARGETS['cpu_minutes']:g}): {_verdict(cpu / 60 <= TARGETS['cpu_minutes'])}"
    )
    convergence_report(workdir)


# ---------------------------------------------------------------- the SGD job


def sgd_section(reference: str, repeats: int) -> None:
    config = load_config([ROOT / "config/config.yaml"])
    spec = json.dumps(job_spec(config, "iris", "sgd"), sort_keys=True)
    scratch = Path(tempfile.mkdtemp(prefix="emnn-bench-"))
    old = scratch / "reference"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), reference],
                   cwd=ROOT, check=True)  # fmt: skip
    try:
        times = {"now": [], reference: []}
        for _ in range(repeats):  # alternately, so that drifting load hits both alike
            for name, tree in (("now", ROOT), (reference, old)):
                times[name].append(_job_cpu(tree, spec, scratch / f"out-{name}"))
        now, then = statistics.median(times["now"]), statistics.median(times[reference])
        print(
            f"SGD on iris, m = 7, 20 splits with inner cross-validation (one `emnn run`, CPU "
            f"seconds, median of {repeats}): {reference} {then:.1f} s, now {now:.1f} s; "
            f"{then / now:.1f}x less (target >= {TARGETS['sgd_ratio']}x): "
            f"{_verdict(then / now >= TARGETS['sgd_ratio'])}"
        )
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def _job_cpu(tree: Path, spec: str, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    before = children_cpu()
    subprocess.run(
        [sys.executable, "-m", "emnn", "run", "--spec", spec, "--split", "all", "--out", str(out)],
        cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin",
                       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
    )  # fmt: skip
    return children_cpu() - before


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m emnn.parts.timing.bench_study", description=__doc__
    )
    parts = parser.add_subparsers(dest="part")
    study = parts.add_parser("study", help="run the full study from scratch and check it")
    study.add_argument("--workdir", type=Path, help="where to clone (a new directory)")
    study.add_argument("--cores", type=int, default=4)
    check = parts.add_parser("convergence", help="the convergence shares of a finished study")
    check.add_argument("study_dir", type=Path)
    sgd = parts.add_parser("sgd-job", help="the SGD job on iris against a reference commit")
    sgd.add_argument("--reference", default=REFERENCE)
    sgd.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.part == "convergence":
        convergence_report(args.study_dir)
    elif args.part == "sgd-job":
        sgd_section(args.reference, args.repeats)
    else:
        workdir = getattr(args, "workdir", None) or Path(tempfile.mkdtemp(prefix="emnn-study-"))
        if workdir.exists() and not any(workdir.iterdir()):
            workdir.rmdir()
        sgd_section(REFERENCE, 3)
        study_section(workdir, getattr(args, "cores", 4))


if __name__ == "__main__":
    main()
