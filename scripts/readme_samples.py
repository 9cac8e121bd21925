"""The README's sample outputs, produced by the commands that print them.

    .venv/bin/python -m scripts.readme_samples           # print each sample as it is now
    .venv/bin/python -m scripts.readme_samples --write   # and write them into README.md

A sample is a fenced block in README.md right after a marker line naming what prints it,
``<!-- sample: NAME -->``. ``PRODUCERS`` maps each NAME to the commands that print it: they
run as a user would, against one local emulator, in the order a user would (errors before
anything is launched, then ``sceptre launch -y dev``, then prod, then a change by hand and
``drift-check``), so each environment is launched once. ``normalise`` removes only what
differs between runs (timestamps, generated ids, digests, ports, measured durations), so
tests/test_readme.py can compare the README with a fresh run.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from emulator.process import ROOT, Emulator

README = ROOT / "README.md"
BIN = Path(sys.executable).parent
MARKER = re.compile(r"^<!-- sample: (?P<name>.+?) -->$")
FIGURE = re.compile(r"^<!-- figure: .+ -->$")
# What a command of the empty-account walk prints: checked by tests/test_empty_account.py,
# which runs the walk on an empty emulator, not by this module's one seeded emulator.
WALK_OUTPUT = re.compile(r"^<!-- walk: [\w-]+ prints: .+ -->$")
# Sceptre's progress lines on stderr ("[2026-11-28 20:08:15] - dev/service ..."): a log, not
# what the README quotes.
EnvHook = Callable[[dict[str, str]], dict[str, str]]
# What a command left: its returncode, stdout and stderr (a CompletedProcess, or alike).
Ran = Any
# (command, cwd, env, *args) -> Ran: a console script run in the calling process.
InProcess = Callable[..., Ran]
LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] - ")


@dataclass(frozen=True)
class Sample:
    """One marked block of the README: its name, first line number (1-based) and text."""

    name: str
    line: int
    text: str


@dataclass(frozen=True)
class Block:
    """One fenced block of the README: its info string, marker (or ""), line and text."""

    info: str
    marker: str
    line: int
    text: str


def blocks(readme: str) -> list[Block]:
    """Every fenced block, with the marker line just above its opening fence, if any."""
    lines = readme.splitlines()
    found, index = [], 0
    while index < len(lines):
        opening = lines[index].strip()
        if not opening.startswith("```"):
            index += 1
            continue
        end = next(
            (i for i in range(index + 1, len(lines)) if lines[i].strip() == "```"), len(lines)
        )
        indent = len(lines[index]) - len(lines[index].lstrip())
        body = [line[indent:] for line in lines[index + 1 : end]]
        marker = lines[index - 1].strip() if index else ""
        found.append(Block(opening[3:].strip(), marker, index + 2, "\n".join(body)))
        index = end + 1
    return found


def samples(readme: str) -> list[Sample]:
    """The blocks marked ``<!-- sample: NAME -->``."""
    return [
        Sample(match["name"], block.line, block.text)
        for block in blocks(readme)
        if (match := MARKER.match(block.marker))
    ]


# What differs from run to run, and only that. A CloudFormation physical id ends in a
# generated suffix of 12 or 13 upper-case letters and digits (e.g.
# "product-service-dev-service-Service-OU1C907WAVEY"), as load balancer names it makes do.
VARYING = [
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"sha256:[0-9a-f]+…?"), "sha256:<digest>"),
    (re.compile(r"-[A-Z0-9]{12,13}\b"), "-<id>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
]
# Measured durations, in the rows that report them: bench's launch rows.
DURATIONS = [
    (re.compile(r"\d+(\.\d+)? s\b"), "<n> s"),
    (re.compile(r"\d+\.\d+x\b"), "<n>x"),
]


def normalise(text: str) -> str:
    """The text with run-specific values replaced; lines right-stripped; measured rows
    (those starting ``launch ``) with durations replaced and spaces collapsed, since the
    column widths follow the measured values."""
    out = []
    for line in text.strip("\n").splitlines():
        for pattern, placeholder in VARYING:
            line = pattern.sub(placeholder, line)
        if line.startswith("launch "):
            for pattern, placeholder in DURATIONS:
                line = pattern.sub(placeholder, line)
        if line.startswith(("launch ", "rollout ", "cost ", "bench ", "-----")):
            line = re.sub(r" {2,}", "  ", line)
            line = "-----" if line.startswith("-----") else line
        out.append(line.rstrip())
    return "\n".join(out)


def shorten(text: str) -> str:
    """What --write puts in the README: digests cut to their first 4 hex digits."""
    return re.sub(r"sha256:([0-9a-f]{4})[0-9a-f]+", r"sha256:\1…", text)


class Runner:
    """Runs commands as a user would, against one emulator, and remembers what they print."""

    # The commands a caller may run in its own process instead (see in_process).
    IN_PROCESS_COMMANDS = ("sceptre", "drift-check", "python")

    def __init__(
        self,
        emulator: Emulator,
        workdir: Path,
        env_hook: EnvHook | None = None,
        in_process: InProcess | None = None,
    ) -> None:
        """emulator: started; workdir: where broken copies of the project go; env_hook: what
        to change in each command's environment (tests shorten Sceptre's polls); in_process:
        runs ``sceptre``, ``drift-check`` and ``python -m`` in the calling process, as
        ``in_process(command, cwd, env, *args)``, with the same arguments, directory,
        environment, output and exit code (tests: tests/roles.py in_process, which saves a
        second of imports per command); None runs every command in a new process."""
        self.emulator = emulator
        self.workdir = workdir
        self.env_hook = env_hook or (lambda env: env)
        self.in_process = in_process

    def run(self, *args: str, project: Path = ROOT) -> Ran:
        """One command of the project's environment (sceptre, drift-check, python...)."""
        env = self.env_hook(self.emulator.child_env())
        if self.in_process and args[0] in self.IN_PROCESS_COMMANDS:
            return self.in_process(args[0], project, env, *args[1:])
        return subprocess.run(
            [str(BIN / args[0]), *args[1:]],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def broken_copy(self, name: str, file: str, old: str, new: str) -> Path:
        """A copy of the project whose file has old replaced by new (old must be there)."""
        from tests.templates import copy_project

        project = copy_project(self.workdir / name)
        path = project / file
        text = path.read_text()
        if old not in text:
            raise ValueError(f"{file} no longer contains {old!r}: update scripts/readme_samples")
        path.write_text(text.replace(old, new))
        return project


def said(result: Ran, stderr: bool = True) -> str:
    """What a command told its user: stderr without Sceptre's progress log, then stdout."""
    errors = [line for line in result.stderr.splitlines() if not LOG_LINE.match(line)]
    return "\n".join([*(errors if stderr else []), *result.stdout.splitlines()])


def expect(result: Ran, code: int, what: str) -> None:
    """Stop when a command exits otherwise than the sample says it does."""
    if result.returncode != code:
        raise RuntimeError(
            f"{what}: exit {result.returncode}, expected {code}\n{result.stdout}\n{result.stderr}"
        )


def config_errors(run: Runner) -> str:
    """A config file that is not YAML; a stack launched before the stack it reads from."""
    project = run.broken_copy("yaml", "config/dev/config.yaml", "  cpu: 256\n", "  cpu: 256: x\n")
    yaml_error = run.run("sceptre", "launch", "-y", "dev", project=project)
    expect(yaml_error, 1, "sceptre launch -y dev with 'cpu: 256: x'")
    missing = run.run(
        "sceptre", "--var", "image_tag=1.1.0", "--ignore-dependencies", "launch", "-y",
        "prod/service.yaml",
    )  # fmt: skip
    expect(missing, 1, "sceptre launch -y prod/service.yaml before prod/cluster")
    return said(yaml_error, stderr=False) + "\n" + said(missing, stderr=False)


def invalid_cpu(run: Runner) -> str:
    """The validation every command does first: dev asks for a cpu Fargate does not offer."""
    project = run.broken_copy("cpu", "config/dev/config.yaml", "  cpu: 256\n", "  cpu: 300\n")
    args = ["--ignore-dependencies", "update", "-y", "dev/service.yaml"]
    result = run.run("sceptre", *args, project=project)
    expect(result, 1, "sceptre update with cpu 300")
    return f"$ sceptre {' '.join(args)}\n{said(result)}"


def launch_dev_summary(run: Runner) -> str:
    """The summary `sceptre launch -y dev` ends with."""
    result = run.run("sceptre", "launch", "-y", "dev")
    expect(result, 0, "sceptre launch -y dev")
    lines = result.stdout.splitlines()
    start = lines.index("Deployed dev/service:")
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines)
    )
    return "\n".join(lines[start:end])


def launch_prod(run: Runner) -> str:
    """Prod, as the README's day-to-day commands launch it (no sample of its own)."""
    result = run.run("sceptre", "--var", "image_tag=1.1.0", "launch", "-y", "prod")
    expect(result, 0, "sceptre --var image_tag=1.1.0 launch -y prod")
    return result.stdout


def drift_after_changes(run: Runner) -> str:
    """`make demo`'s second drift check: dev changed by hand, as scripts/demo.py changes it."""
    from scripts.demo import change_dev_by_hand

    saved = dict(os.environ)
    os.environ.update(run.emulator.env())
    try:
        change_dev_by_hand()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    result = run.run("drift-check", "dev", "prod")
    expect(result, 1, "drift-check dev prod after changes")
    return result.stdout


def drift_revert(run: Runner) -> str:
    """`make demo`'s last step: drift-check puts back what drift_after_changes changed."""
    result = run.run("drift-check", "dev", "prod", "--revert", "--yes")
    expect(result, 0, "drift-check dev prod --revert --yes after changes")
    return result.stdout


def coverage_table(run: Runner) -> str:
    """The table `python -m permissions.coverage` starts with."""
    result = run.run("python", "-m", "permissions.coverage")
    return result.stdout.split("\n\n")[0]


def bench_table(run: Runner) -> str:
    """`make bench`'s table. Rollout and cost are computed; the launch rows are measured, so
    their durations come out of normalise() as placeholders and are not re-measured here."""
    from bench import cost, launch, rollout
    from bench.report import format_table

    measured = launch.launch_seconds
    launch.launch_seconds = float  # the figure's shape without a minute of launches
    try:
        rows = rollout.rows() + cost.rows() + launch.rows()
    finally:
        launch.launch_seconds = measured
    return format_table(rows)


def bench_network_rows(run: Runner) -> str:
    """The network stack's rows of `make bench`'s table."""
    return "\n".join(line for line in bench_table(run).splitlines() if " network: " in line)


# In the order they run: errors before anything exists, then dev, prod, a change by hand.
# A step without a name prints no sample: the ones after it rely on what it launched.
STEPS: list[tuple[str | None, Callable[[Runner], str]]] = [
    ("config errors: a YAML error in config/dev/config.yaml; prod/service launched alone",
     config_errors),
    ("sceptre update with cpu 300 in config/dev/config.yaml", invalid_cpu),
    ("sceptre launch -y dev (its summary)", launch_dev_summary),
    (None, launch_prod),
    ("drift-check dev prod after a change by hand (as in make demo)", drift_after_changes),
    ("drift-check dev prod --revert --yes after that change", drift_revert),
    ("python -m permissions.coverage (its table)", coverage_table),
    ("make bench (launch durations not measured)", bench_table),
    ("make bench (its network rows)", bench_network_rows),
]  # fmt: skip
PRODUCERS = {name: step for name, step in STEPS if name}


def produce(env_hook: EnvHook | None = None, in_process: InProcess | None = None) -> dict[str, str]:
    """Run every step on a fresh emulator; return sample name -> what it printed.
    env_hook, in_process: how to run each command (see Runner)."""
    found = {}
    with Emulator() as emulator, TemporaryDirectory() as workdir:
        runner = Runner(emulator, Path(workdir), env_hook, in_process)
        for name, step in STEPS:
            started = time.monotonic()
            printed = step(runner)
            print(f"{step.__name__}: {time.monotonic() - started:.1f} s", file=sys.stderr)
            if name:
                found[name] = printed
    return found


def table_rows(table: str) -> list:
    """The rows of a table format_table printed (header and rule skipped, notes ignored)."""
    from bench.report import Row

    rows = []
    for line in table.strip("\n").splitlines()[2:]:
        if not line.strip():
            break
        rows.append(Row(*re.split(r" {2,}", line.strip())))
    return rows


def with_measured_launches(produced: str, shown: str) -> str:
    """bench's table as produced, with the launch rows the README shows (a real make bench
    measured them; bench_table does not)."""
    from bench.report import format_table

    measured = {row.figure: row for row in table_rows(shown) if row.section == "launch"}
    rows = table_rows(produced)
    return format_table([measured.get(r.figure, r) if r.section == "launch" else r for r in rows])


def write(readme: str, produced: dict[str, str]) -> str:
    """The README with each marked block replaced by what its producer printed."""
    lines = readme.splitlines()
    for sample in reversed(samples(readme)):
        if sample.name not in produced:
            continue
        text = produced[sample.name]
        if PRODUCERS[sample.name] is bench_table:
            text = with_measured_launches(text, sample.text)
        first = sample.line - 1
        last = first + len(sample.text.splitlines()) if sample.text else first
        lines[first:last] = shorten(text.strip("\n")).splitlines()
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the samples as they are now; with --write, put them into README.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite README.md's samples")
    options = parser.parse_args(argv)
    produced = produce()
    for sample in samples(README.read_text()):
        print(f"<!-- sample: {sample.name} -->\n{shorten(produced[sample.name])}\n")
    if options.write:
        README.write_text(write(README.read_text(), produced))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
