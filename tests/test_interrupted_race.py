"""Faults during a launch: two launches at once leave one whole environment.

A file of its own, so that pytest-xdist runs it beside tests/test_interrupted_launches.py
(whose helpers it uses): each fault waits through Sceptre's 4 s polls, mostly idle."""

from emulator.process import Emulator
from tests.test_interrupted_launches import STACKS, assert_dev_is_whole, launch, launch_and_wait


def test_two_launches_at_once_leave_one_whole_environment():
    with Emulator() as emulator:
        both = [launch(emulator), launch(emulator)]
        outputs = [p.communicate(timeout=180)[0] for p in both]
        assert 0 in [p.returncode for p in both], outputs
        assert_dev_is_whole(emulator)

        again = launch_and_wait(emulator)
        assert again.returncode == 0, again.stdout + again.stderr
        assert again.stderr.count("No updates to perform") == len(STACKS)
