"""!drift_preview's argument and message (offline); tests/test_drift_revert.py runs it in a
launch on the emulator (silent for new stacks and in-sync stacks, a warning for drift)."""

import pytest
from sceptre.exceptions import InvalidHookArgumentTypeError

from drift.detect import DRIFTED, FAILED, IN_SYNC, Difference, StackDrift
from hooks.drift_preview import DEFAULT_TIMEOUT, DriftPreview, timeout_of, warning
from tests.templates import ENVIRONMENTS, stack_config


def test_the_timeout_is_bounded_by_default_and_configurable():
    assert timeout_of(None) == DEFAULT_TIMEOUT == 30
    assert timeout_of({"timeout": 5}) == 5.0


def test_a_zero_timeout_turns_the_preview_off_without_calling_aws():
    hook = DriftPreview(argument={"timeout": 0})
    hook.stack = None  # any AWS call would fail on it
    assert hook.run() is None


@pytest.mark.parametrize("bad", [{"timeout": -1}, {"timeout": "soon"}, {"timeout": True}, [1]])
def test_a_bad_timeout_names_what_the_hook_takes(bad):
    with pytest.raises(InvalidHookArgumentTypeError, match=r"takes nothing or \{timeout: "):
        timeout_of(bad)


def test_drift_is_listed_with_the_value_now_and_the_templates():
    found = [Difference("dev/service", "LogGroup", "AWS::Logs::LogGroup", "RetentionInDays",
                        "7", "14", "NOT_EQUAL")]  # fmt: skip
    text = warning(StackDrift("dev/service", "s", "dev", DRIFTED, found))
    assert text.startswith("1 hand change(s); the launch overwrites those on the resources it")
    assert "drift-check dev --revert" in text
    header, row = text.splitlines()[-2:]
    assert header.split() == ["RESOURCE", "PROPERTY", "NOW", "(BY", "HAND)", "TEMPLATE"]
    assert row.split() == ["LogGroup", "RetentionInDays", "14", "7"]


def test_a_check_that_could_not_run_says_so_and_the_launch_goes_on():
    text = warning(StackDrift("dev/service", "s", "dev", FAILED, error="AccessDenied"))
    assert (
        text
        == "could not check for hand changes before the launch (AccessDenied); launching anyway"
    )
    assert warning(StackDrift("dev/service", "s", "dev", IN_SYNC)) == ""


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("stack", ["cluster", "load-balancer", "service"])
def test_every_workload_stack_previews_drift_before_it_launches(env, stack):
    hooks = stack_config(env)[f"{env}/{stack}"].hooks["before_launch"]
    assert [type(h).__name__ for h in hooks][-1] == "DriftPreview"
