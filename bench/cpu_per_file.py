"""Where the test suite's CPU goes, per test file, emulators and subprocesses included.

A pytest plugin and a report. ``time.process_time`` in a test worker misses most of the
suite's CPU: the emulators are forked by fork servers (children of the worker), Sceptre and
the scanners run as subprocesses. This plugin reads /proc for the worker and all its
descendants before and after each test (user + system time of each live process, plus what
it has reaped from its own children, so a process that exits during a test still counts)
and adds the difference to the test's file.

    CPU_PER_FILE_DIR=/tmp/cpu .venv/bin/python -m pytest -p bench.cpu_per_file ...
    .venv/bin/python -m bench.cpu_per_file /tmp/cpu        # the table, most CPU first

Linux only (/proc). Collection and start-up, outside any test, are not in the table.
"""

import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

TICK = os.sysconf("SC_CLK_TCK")
# Each worker starts fork servers of its own and synthesizes CDK stacks itself, so that its
# emulators and syntheses are its descendants and counted here (the suite's workers otherwise
# share the main process's: emulator/process.py, tests/cdk_synthesis.py).
os.environ["EMULATOR_FORK_RELAY"] = "off"
os.environ["CDK_SYNTHESIS_SOCKET"] = ""


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children), or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: the fields after it follow its last ")".
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    return int(fields[1]), sum(int(value) for value in fields[11:15]) / TICK


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by process ``root`` and every process descending from it."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := _stat(entry)) is not None:
            parents[int(entry)], cpu[int(entry)] = found
    children: dict[int, list[int]] = defaultdict(list)
    for pid, parent in parents.items():
        children[parent].append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(children.get(pid, ()))
    return total


_cpu: dict[str, float] = defaultdict(float)
_wall: dict[str, float] = defaultdict(float)
_tests: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """Charge the CPU and wall time of the test (set-up and teardown included) to its file."""
    path = item.nodeid.split("::")[0]
    cpu, wall = tree_cpu(os.getpid()), time.monotonic()
    yield
    _tests[item.nodeid] = tree_cpu(os.getpid()) - cpu
    _cpu[path] += _tests[item.nodeid]
    _wall[path] += time.monotonic() - wall


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write this process's figures to $CPU_PER_FILE_DIR/<worker>.json."""
    folder = os.environ.get("CPU_PER_FILE_DIR")
    if not folder or not _cpu:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    Path(folder).mkdir(parents=True, exist_ok=True)
    figures = {
        path: {
            "cpu": _cpu[path],
            "wall": _wall[path],
            "tests": {k: v for k, v in _tests.items() if k.split("::")[0] == path},
        }
        for path in _cpu
    }
    (Path(folder) / f"{worker}.json").write_text(json.dumps(figures, indent=1))


def table(folder: Path, top: int = 0) -> str:
    """The files of all workers' figures in ``folder``, most CPU first, as a Markdown table."""
    rows: dict[str, dict[str, float]] = {}
    for path in sorted(folder.glob("*.json")):
        rows.update(json.loads(path.read_text()))
    ordered = sorted(rows.items(), key=lambda row: -row[1]["cpu"])
    total = sum(row["cpu"] for _, row in ordered)
    lines = ["| file | CPU s | wall s |", "|---|---:|---:|"]
    for path, row in ordered[: top or None]:
        lines.append(f"| {path} | {row['cpu']:.1f} | {row['wall']:.1f} |")
    lines.append(f"| all {len(ordered)} files | {total:.1f} | |")
    return "\n".join(lines)


def tests(folder: Path, top: int = 30) -> str:
    """The tests that used most CPU (set-up of module fixtures included), one a line."""
    found: dict[str, float] = {}
    for path in sorted(folder.glob("*.json")):
        for row in json.loads(path.read_text()).values():
            found.update(row.get("tests", {}))
    ordered = sorted(found.items(), key=lambda test: -test[1])[:top]
    return "\n".join(f"{cpu:6.1f}  {nodeid}" for nodeid, cpu in ordered)


if __name__ == "__main__":
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    print(table(Path(sys.argv[1]), top))
    print(tests(Path(sys.argv[1]), top or 30))
