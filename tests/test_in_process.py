"""tests/roles.py's in-process runs of the console scripts print, exit and leave the process
as the scripts themselves do (the scripts, run as processes, are the reference here)."""

import logging
import os
import subprocess
import sys

import pytest

from drift.detect import FIRST_POLL, poll_intervals
from emulator.process import ROOT
from tests.roles import (
    BIN,
    Ran,
    drift_check_in_process,
    in_process,
    python_module_in_process,
    sceptre_in_process,
)


def as_process(command: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / command), *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("staging",),  # an unknown group: drift-check's own message, exit 2
        (),  # no group: argparse's usage error, SystemExit(2)
        ("dev", "--yes"),  # --yes without --revert: parser.error, exit 2
        ("dev", "--revert"),  # no terminal to ask on: refused, exit 2
    ],
    ids=["unknown-group", "no-group", "yes-alone", "revert-without-terminal"],
)
def test_drift_check_in_process_prints_and_exits_as_the_console_script(args):
    expected = as_process("drift-check", *args)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    got = drift_check_in_process(ROOT, env, *args)
    assert (got.returncode, got.stdout, got.stderr) == (
        expected.returncode,
        expected.stdout,
        expected.stderr,
    )
    assert expected.returncode == 2 and expected.stderr  # each case is a refusal, said


def test_an_in_process_run_leaves_the_process_as_it_found_it(monkeypatch):
    monkeypatch.setenv("KEPT", "yes")
    root = logging.getLogger()
    handlers, level, stdin = list(root.handlers), root.level, sys.stdin
    result = drift_check_in_process(ROOT, {"PATH": "/usr/bin:/bin"}, "staging")
    assert result.returncode == 2
    assert (list(root.handlers), root.level, sys.stdin) == (handlers, level, stdin)
    assert os.environ.get("KEPT") == "yes"


def test_sceptre_in_process_exits_as_the_console_script_for_an_unknown_command():
    expected = as_process("sceptre", "lanch")
    got = sceptre_in_process(ROOT, {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}, "lanch")
    assert got.returncode == expected.returncode == 2
    assert "No such command 'lanch'" in got.stderr and "No such command 'lanch'" in expected.stderr


def test_in_process_runs_only_the_scripts_it_knows():
    assert isinstance(in_process("drift-check", ROOT, {}, "staging"), Ran)
    with pytest.raises(ValueError, match="bash has no in-process runner"):
        in_process("bash", ROOT, {}, "-c", "true")
    with pytest.raises(ValueError, match="only python -m MODULE"):
        in_process("python", ROOT, {}, "-V")


def test_detection_polls_start_short_and_back_off_to_the_callers_interval():
    # A small stack's detection can end in under a second; a large one's takes minutes
    # (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/detect-drift-stack.html):
    # look again soon, then no more often than the caller's interval.
    intervals = poll_intervals(2)
    assert [next(intervals) for _ in range(6)] == [FIRST_POLL, 0.5, 1, 2, 2, 2]
    short = poll_intervals(0.1)
    assert [next(short) for _ in range(3)] == [0.1, 0.1, 0.1]


@pytest.mark.parametrize(
    "args",
    [
        ("scripts.release", "write", "--tag", "1.0.0", "--digest", "sha256:ab", "--commit", "c"),
        ("scripts.release", "write", "--tag", "1.0.0", "--digest", "md5:ab", "--commit", "c"),
        ("scripts.release",),  # no sub-command: argparse's usage error, exit 2
        ("scripts.smoke_test", "--help"),  # named like a test file: pytest rewrites it
    ],
    ids=["writes", "parser-error", "usage", "help-of-a-module-named-like-a-test"],
)
def test_python_module_in_process_prints_and_exits_as_python_dash_m(args):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    expected = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    got = python_module_in_process(ROOT, env, *args)
    assert (got.returncode, got.stdout, got.stderr) == (
        expected.returncode,
        expected.stdout,
        expected.stderr,
    )
