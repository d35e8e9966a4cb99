"""What the SLURM executor needs checked before the study submits anything.

The executor plugin polls job states with `sacct` whenever that program exists; on a
cluster without accounting `sacct` fails on every poll and Snakemake waits forever,
printing nothing. `check_status_command` asks `sacct` once, before the first
submission, and stops the run with the remedy instead (the Snakefile's onstart).
"""

from __future__ import annotations

import subprocess

from ..core.errors import StudyError

NO_ACCOUNTING = (
    "this SLURM cluster answers no `sacct` query ({reason}), so the executor could not "
    "tell when a job ends and would wait forever. Check jobs with squeue instead: add "
    "--slurm-status-command squeue to the command line (README, 'Running on a SLURM "
    "cluster'), or set up SLURM's accounting (slurmdbd)."
)


def check_status_command(executor_settings, run=subprocess.run) -> None:
    """Raise StudyError when the SLURM executor would poll `sacct` and `sacct` fails."""
    if getattr(executor_settings, "status_command", None) != "sacct":
        return  # not the SLURM executor, or it polls squeue
    try:
        result = run(
            ["sacct", "--noheader", "-X", "--parsable2", "--format=JobIdRaw", "--starttime", "now"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise StudyError(NO_ACCOUNTING.format(reason=error)) from None
    if result.returncode != 0:
        reason = (result.stderr.strip() or f"exit status {result.returncode}").splitlines()[-1]
        raise StudyError(NO_ACCOUNTING.format(reason=f"sacct: {reason.removeprefix('sacct: ')}"))
