"""Faults during a launch: Ctrl-C in the middle of a launch leaves nothing that
blocks the next one.

A file of its own, so that pytest-xdist runs it beside tests/test_interrupted_launches.py
(whose helpers it uses): each fault waits through Sceptre's 4 s polls, mostly idle."""

import signal

from emulator.process import Emulator
from tests.test_interrupted_launches import (
    assert_dev_is_whole,
    launch,
    launch_and_wait,
    wait_for_stack,
)


def test_ctrl_c_mid_launch_leaves_nothing_that_blocks_the_next_one():
    with Emulator() as emulator:
        running = launch(emulator)
        wait_for_stack(emulator, "product-service-dev-cluster")
        running.send_signal(signal.SIGINT)
        running.communicate(timeout=60)
        assert running.returncode != 0

        rerun = launch_and_wait(emulator)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert_dev_is_whole(emulator)
