"""emulator/process.py: what a child process pointed at the emulator inherits."""

import os
import subprocess
import sys

from emulator.process import Emulator, quick_polls


def test_child_env_points_at_the_emulator_and_drops_what_would_override_it(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "real-account")
    monkeypatch.setenv("IMAGE_TAG", "1.0.0")
    monkeypatch.setenv("DRIFT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:t")
    monkeypatch.setenv("KEEP_ME", "yes")
    emulator = Emulator(port=1234)  # not started: only its settings are used
    env = emulator.child_env("DRIFT_TOPIC_ARN")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1234"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert not {"AWS_PROFILE", "IMAGE_TAG", "DRIFT_TOPIC_ARN"} & set(env)
    assert env["KEEP_ME"] == "yes"


def test_the_server_binds_a_port_it_chose_and_names_it_in_its_ready_line():
    with Emulator(seed=False) as first, Emulator(seed=False) as second:
        assert first.port and second.port and first.port != second.port
        for running in (first, second):
            ready = running.log_path.read_text()
            assert f"emulator ready on http://127.0.0.1:{running.port}" in ready
            # It serves there: an empty account has no stacks.
            assert running.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_a_client_is_made_once_per_service_and_address():
    emulator = Emulator(port=1234)  # not started: making a client sends nothing
    assert emulator.client("ecs") is emulator.client("ecs")
    assert emulator.client("ecs") is not emulator.client("ec2")
    first = emulator.client("ecs")
    emulator.port = 1235  # a restart elsewhere: clients of the old address would miss it
    assert emulator.client("ecs") is not first
    assert emulator.client("ecs").meta.endpoint_url == "http://127.0.0.1:1235"


def test_quick_polls_cap_sceptres_waits_and_leave_processes_without_sceptre_alone():
    # Sceptre's own wait is time.sleep(4) per poll (sceptre/plan/actions.py); a 30 s wait
    # stands in for it, so a cap that did not hold would show as 30 s, not a few tenths.
    probe = (
        "import sys, time\n"
        "started = 'sceptre' in sys.modules\n"
        "import sceptre.plan.actions as actions\n"
        "begun = time.monotonic()\n"
        "actions.time.sleep(30)\n"
        "print(started, round(time.monotonic() - begun, 1))\n"
    )
    env = quick_polls({"PATH": os.environ["PATH"]}, seconds=0.2)
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    imported_at_start_up, waited = done.stdout.split()
    assert imported_at_start_up == "False"
    assert float(waited) < 5
