"""Faults during a launch: none leaves anything that blocks the next launch.

Each test has an emulator of its own, and a file of its own (this one, and
tests/test_interrupted_ctrl_c.py and tests/test_interrupted_race.py, which use the helpers
here): each waits through Sceptre's 4 s polls for about 20 s, mostly idle, and pytest-xdist
runs files, not tests, side by side. moto keeps its state in memory, so "the emulator
stopped" loses the account: the rerun starts again on a fresh, seeded emulator on the
same port, which is what a user of `make emulator` would do.

The launches that are interrupted or race each other keep Sceptre's own 4 s status polls
(their timing is what is tested); the reruns after them only have to complete, so they
poll every 0.25 s (tests/roles.py quick()).
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from emulator.process import ROOT, Emulator, free_port
from tests.roles import quick
from tests.templates import stack_config

SCEPTRE = Path(sys.executable).with_name("sceptre")
# The stacks `sceptre launch -y dev` creates: not those marked ignore or obsolete (the
# network stack is ignored unless network.create is true).
STACKS = tuple(
    stack.external_name
    for name, stack in stack_config("dev").items()
    if name.startswith("dev/") and not (stack.ignore or stack.obsolete)
)


def default_interrupt() -> None:
    """In the child: Ctrl-C (SIGINT) stops it, as in a terminal, even when this test run was
    started with SIGINT ignored (a background job of a shell script), which a child inherits
    and which would make Python ignore Ctrl-C too."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def launch(emulator: Emulator) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SCEPTRE), "launch", "-y", "dev"],
        cwd=ROOT,
        env=emulator.child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_interrupt,
    )


def launch_and_wait(emulator: Emulator) -> subprocess.CompletedProcess:
    """A launch run to its end (a rerun: how fast it polls does not matter)."""
    return subprocess.run(
        [str(SCEPTRE), "launch", "-y", "dev"],
        cwd=ROOT,
        env=quick(emulator.child_env()),
        capture_output=True,
        text=True,
    )


def wait_for_stack(emulator: Emulator, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            emulator.client("cloudformation").describe_stacks(StackName=name)
            return
        except ClientError:
            time.sleep(0.2)
    pytest.fail(f"{name} never appeared")


def assert_dev_is_whole(emulator: Emulator) -> None:
    cfn = emulator.client("cloudformation")
    for name in STACKS:
        assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"].endswith("_COMPLETE")
    ecs = emulator.client("ecs")
    assert len(ecs.list_services(cluster="product-service-dev")["serviceArns"]) == 1


def test_emulator_stopped_mid_launch_gives_a_clear_error_and_a_rerun_completes():
    port = free_port()
    first = Emulator(port=port).start()
    running = launch(first)
    wait_for_stack(first, "product-service-dev-cluster")
    first.stop()
    output, _ = running.communicate(timeout=180)
    assert running.returncode != 0
    # Depending on timing, the project's resolvers or Sceptre itself notice first.
    clear = (f"cannot reach http://127.0.0.1:{port}/", "Could not connect to the endpoint URL")
    assert any(message in output for message in clear), output

    with Emulator(port=port) as second:
        rerun = launch_and_wait(second)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert_dev_is_whole(second)
