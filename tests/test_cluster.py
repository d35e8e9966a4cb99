"""The check that keeps the SLURM profile from waiting forever (emnn.study.cluster)."""

import subprocess
from types import SimpleNamespace

import pytest

from emnn.core.errors import StudyError
from emnn.study.cluster import check_status_command


def answering(returncode, stderr=""):
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, returncode, stdout="", stderr=stderr)

    return run, calls


def test_a_cluster_without_accounting_stops_the_run_naming_the_remedy():
    run, calls = answering(1, "sacct: error: Slurm accounting storage is disabled\n")
    with pytest.raises(StudyError) as error:
        check_status_command(SimpleNamespace(status_command="sacct"), run=run)
    assert "--slurm-status-command squeue" in str(error.value)
    assert "Slurm accounting storage is disabled" in str(error.value)
    assert calls[0][0] == "sacct"


def test_a_missing_or_hanging_sacct_stops_the_run_too():
    for failure in (FileNotFoundError("sacct"), subprocess.TimeoutExpired("sacct", 60)):

        def run(command, failure=failure, **kwargs):
            raise failure

        with pytest.raises(StudyError, match="--slurm-status-command squeue"):
            check_status_command(SimpleNamespace(status_command="sacct"), run=run)


def test_nothing_is_asked_where_sacct_answers_or_is_not_used():
    run, calls = answering(0)
    check_status_command(SimpleNamespace(status_command="sacct"), run=run)
    assert len(calls) == 1
    for settings in (SimpleNamespace(status_command="squeue"), None, SimpleNamespace()):
        check_status_command(settings, run=answering(1)[0])  # other executors: no query
