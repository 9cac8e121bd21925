"""make bench-setup: what a new user waits for, from a fresh clone to a finished command.

    .venv/bin/python -m bench.setup [--demo-only] [--keep]

Clones the current checkout (its last commit) into a temporary folder and runs `make demo`
there with EMPTY caches: uv's, pip's, npm's and jsii's package caches point at fresh
temporary folders, so every package is downloaded from the configured indexes and unpacked
again. A second fresh clone then runs `make test` with those caches warm, as a user's second
checkout would. Each recipe line is timed by a wrapper shell (`make SHELL=...`), so the wall
time splits into phases (the uv tools venv, .venv, .venv-emulator, npm ci, the demo...) from
timestamps. Prints one table against the goals of issue 11 and the load average around each
run (the machine may be shared). Takes about ten minutes; not part of `make test`.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.report import Row, format_table

ROOT = Path(__file__).resolve().parent.parent

# Goals of issue 11, in seconds of wall time on two cores.
GOALS = {"demo": 90.0, "test": 180.0}

# The wrapper make runs every recipe line through: one tab-separated line per command
# (start, end, exit code, command with tabs and newlines flattened) appended to the log.
WRAPPER = """#!/bin/sh
start=$(date +%s.%N)
/bin/sh "$@"
rc=$?
end=$(date +%s.%N)
shift $(($# - 1))
line=$(printf '%s' "$1" | tr '\\t\\n' '  ')
printf '%s\\t%s\\t%s\\t%s\\n' "$start" "$end" "$rc" "$line" >> "$BENCH_SETUP_LOG"
exit $rc
"""

# Phases in the order a table lists them, each with the pattern that recognises its recipe
# lines. Matched in this order against the command with the uv binary's own path removed
# (every venv recipe runs `.venv-tools/bin/uv`); the first match wins.
PHASES: tuple[tuple[str, str], ...] = (
    ("set-up, all", r"^\S*make\s|^:$"),  # the parallel sub-make and its aggregate targets
    ("demo", r"-m scripts\.demo\b"),
    ("lint", r"\bruff\b"),
    ("pytest", r"-m pytest\b"),
    ("npm ci", r"\bnpm\b|node_modules"),
    ("uv (.venv-tools)", r"\.venv-tools\b"),
    (".venv-emulator", r"\.venv-emulator\b"),
    (".venv-scanners", r"\.venv-scanners\b"),
    (".venv", r"\.venv(?![\w-])"),
)
OTHER = "other"
UV_BINARY = re.compile(r"\S*\.venv-tools/bin/uv\b")


@dataclass(frozen=True)
class Command:
    """One recipe line make ran: when it started and ended (epoch seconds), how it exited."""

    start: float
    end: float
    returncode: int
    text: str


@dataclass(frozen=True)
class Phase:
    """A phase's span: from its first command's start to its last command's end."""

    name: str
    start: float
    end: float
    busy: float  # the sum of its commands' durations (less than the span if others interleave)

    @property
    def seconds(self) -> float:
        """The phase's wall time."""
        return self.end - self.start


@dataclass(frozen=True)
class Run:
    """One timed `make TARGET` in a fresh clone."""

    target: str
    caches: str  # "cold" or "warm"
    start: float
    end: float
    returncode: int
    commands: tuple[Command, ...]
    load_before: float
    load_after: float

    @property
    def seconds(self) -> float:
        """The command's wall time, make included."""
        return self.end - self.start


def phase_of(command: str) -> str:
    """The phase a recipe line belongs to, by what it runs or builds; OTHER if none fits."""
    text = UV_BINARY.sub("uv", command)
    for name, pattern in PHASES:
        if re.search(pattern, text):
            return name
    return OTHER


def parse_log(text: str) -> list[Command]:
    """The commands the wrapper logged, in log order; an error names a malformed line."""
    commands = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("\t", 3)
        if len(fields) != 4:
            raise ValueError(f"line {number} of the command log is not start/end/rc/command")
        commands.append(Command(float(fields[0]), float(fields[1]), int(fields[2]), fields[3]))
    return commands


def phases(commands: Iterable[Command]) -> list[Phase]:
    """Each phase that ran, spanning its commands, in the order the phases first started."""
    spans: dict[str, list[float]] = {}
    for command in commands:
        name = phase_of(command.text)
        start, end, busy = spans.get(name, [command.start, command.end, 0.0])
        spans[name] = [min(start, command.start), max(end, command.end), busy]
        spans[name][2] += command.end - command.start
    found = [Phase(name, *span) for name, span in spans.items()]
    return sorted(found, key=lambda phase: phase.start)


def cache_env(base: Mapping[str, str], root: Path) -> dict[str, str]:
    """base with every package cache a set-up fills pointed into root (created if absent).

    uv, pip, npm and jsii (which unpacks the CDK's JavaScript once per package version) are
    the caches a first run fills; XDG_CACHE_HOME catches any other tool's default cache.
    """
    folders = {
        "UV_CACHE_DIR": "uv",
        "PIP_CACHE_DIR": "pip",
        "npm_config_cache": "npm",
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": "jsii",
        "XDG_CACHE_HOME": "xdg",
    }
    env = {k: v for k, v in base.items() if k.upper() != "NPM_CONFIG_CACHE"}
    for variable, folder in folders.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        env[variable] = str(root / folder)
    env.pop("PIP_NO_CACHE_DIR", None)
    env.pop("VIRTUAL_ENV", None)  # the clone's make must not see the caller's venv
    return env


def clone(destination: Path) -> None:
    """A fresh clone of this checkout's current commit (uncommitted changes are not in it)."""
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(destination)], check=True
    )


def timed_make(workdir: Path, target: str, caches: str, env: dict[str, str]) -> Run:
    """Run `make TARGET` in workdir, every recipe line through the timing wrapper."""
    wrapper = workdir.parent / f"shell-{target}"
    wrapper.write_text(WRAPPER)
    wrapper.chmod(0o755)
    log = workdir.parent / f"commands-{target}.log"
    log.write_text("")
    env = {**env, "BENCH_SETUP_LOG": str(log)}
    for variable in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(variable, None)  # when run from make, the clone's make starts afresh
    print(f"\n== make {target} in {workdir} ({caches} caches)", flush=True)
    load_before = os.getloadavg()[0]
    start = time.time()
    code = subprocess.run(["make", f"SHELL={wrapper}", target], cwd=workdir, env=env).returncode
    end = time.time()
    commands = tuple(parse_log(log.read_text()))
    return Run(target, caches, start, end, code, commands, load_before, os.getloadavg()[0])


def run_rows(run: Run) -> list[Row]:
    """A run's total against its goal, then each phase's wall time and its offset in the run."""
    section = f"make {run.target}"
    goal = GOALS.get(run.target)
    verdict = "failed" if run.returncode else ""
    if goal is not None and not run.returncode:
        verdict = f"goal <= {goal:.0f} s ({'met' if run.seconds <= goal else 'MISSED'})"
    load = f"load {run.load_before:.1f} -> {run.load_after:.1f}"
    against = f"{verdict}; {load}" if verdict else load
    rows = [Row(section, f"total, {run.caches} caches", f"{run.seconds:.1f} s", against)]
    for phase in phases(run.commands):
        offset = f"from {phase.start - run.start:.1f} s"
        rows.append(Row(section, f"  {phase.name}", f"{phase.seconds:.1f} s", offset))
    return rows


NOTES = [
    "Fresh clones of the current commit. Cold: uv, pip, npm and jsii caches empty; warm:",
    "those filled by the cold run. A phase spans its first to last recipe line (make SHELL=).",
    "Load is the 1-minute load average before and after each run, on this shared machine.",
]


def main(argv: list[str] | None = None) -> int:
    """Clone, time `make demo` cold, then `make test` warm in a second clone; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-only", action="store_true", help="skip the make test run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-setup-"))
    try:
        env = cache_env(os.environ, work / "caches")
        runs = []
        for target, caches in [("demo", "cold"), ("test", "warm")][: 1 if args.demo_only else 2]:
            checkout = work / f"clone-{target}" / "main"
            checkout.parent.mkdir()
            clone(checkout)
            runs.append(timed_make(checkout, target, caches, env))
        rows = [row for run in runs for row in run_rows(run)]
        print("\n" + format_table(rows, NOTES))
        return max(run.returncode for run in runs)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
