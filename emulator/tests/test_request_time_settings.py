"""Settings the emulator reads on each request do not start a fork server of their own."""

import os

from emulator import process


def test_the_detection_time_is_read_per_request_so_any_fork_server_serves_it():
    # emulator/drift.py reads EMULATOR_DRIFT_SECONDS when a detection starts, from the forked
    # emulator's own environment (emulator/forkserver.py replaces it per fork), so emulators
    # that differ only in it fork from one server (each further server costs ~4 s of CPU).
    # emulator/tests/test_drift.py's in-progress test runs on such an emulator (1 s, where
    # the suite's take 0.2 s) and fails if the setting does not reach it.
    base = {**os.environ, "EMULATOR_TASK_START_SECONDS": "0.3"}
    key = process.fork_server_key(base)
    for seconds in ("0", "1", "30"):
        assert process.fork_server_key({**base, "EMULATOR_DRIFT_SECONDS": seconds}) == key
        # So is the deployment alarms' bake time (emulator/deployment_alarms.py, per call).
        assert process.fork_server_key({**base, "EMULATOR_BAKE_SECONDS": seconds}) == key
    # Settings read at import still tell fork servers apart (but not task_lifecycle's timings,
    # applied after the fork: test_forkserver.py).
    assert process.fork_server_key({**base, "MOTO_ECS_NEW_ARN": "false"}) != key
