"""`sceptre diff dev` right after `sceptre launch -y dev` finds no difference on any stack.

On AWS, DescribeStacks returns each parameter as it was passed (a List<...> parameter as
"subnet-a,subnet-b") and GetTemplate the template as it was sent, so a diff of what was just
launched is empty (DescribeStacks' Parameter.ParameterValue:
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Parameter.html).
Sceptre 4.7 prints "No difference to deployed stack NAME" for each such stack
(sceptre/diffing/diff_writer.py, DiffWriter.write) and exits 0 whatever it finds, so the test
reads that line per stack. One launch, on an emulator of the module's own.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from emulator.process import ROOT, Emulator
from tests.roles import quick

SCEPTRE = Path(sys.executable).with_name("sceptre")
# Every stack file of dev (config.yaml is the group's configuration, not a stack).
STACKS = sorted(p.stem for p in (ROOT / "config" / "dev").glob("*.yaml") if p.stem != "config")


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


def sceptre(emulator: Emulator, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCEPTRE), *args],
        cwd=ROOT,
        env=quick(emulator.child_env()),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def diff(emulator) -> subprocess.CompletedProcess:
    launched = sceptre(emulator, "launch", "-y", "dev")
    assert launched.returncode == 0, launched.stdout + launched.stderr
    return sceptre(emulator, "diff", "dev")


def test_the_stacks_are_the_dev_stacks():
    assert STACKS == ["cluster", "drift-monitor", "load-balancer", "pipeline", "service"]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("stack", STACKS)
def test_no_stack_differs_right_after_launch(diff, stack):
    assert diff.returncode == 0, diff.stdout + diff.stderr
    name = f"product-service-dev-{stack}"
    assert f"No difference to deployed stack {name}" in diff.stdout, diff.stdout
    assert f"Difference detected for stack {name}!" not in diff.stdout
