"""The !validate_config hook: real configs pass; each kind of bad value is named precisely."""

import copy

import pytest

from hooks.validate_config import InvalidConfigError, ValidateConfig, find_problems, format_problems
from tests.templates import ENVIRONMENTS, ROOT, stack_config


def config(env: str) -> dict:
    stack = stack_config(env)[f"{env}/cluster"]
    return copy.deepcopy({k: v for k, v in stack.config.items() if k != "hooks"})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_shipped_configuration_is_valid(env):
    assert find_problems(config(env), env) == []


def test_every_problem_names_file_key_value_and_what_is_allowed():
    bad = config("dev")
    bad["sceptre_user_data"]["log_retention_days"] = 8
    bad["region"] = "mars-1"
    report = format_problems(ROOT, "dev", find_problems(bad, "dev"))
    assert (
        "config/dev/config.yaml: sceptre_user_data.log_retention_days = 8; allowed: one of 1, 3"
        in report
    )
    assert "config/config.yaml: region = 'mars-1'; allowed: a string matching" in report


def test_a_fargate_size_that_does_not_exist_is_refused_with_the_pairs_it_could_be():
    bad = config("prod")
    bad["sceptre_user_data"].update(cpu=1024, memory=512)
    ((key, value, allowed),) = find_problems(bad, "prod")
    assert (key, value) == ("sceptre_user_data.memory", 512)
    assert allowed == "with cpu 1024 Fargate accepts memory 2048 to 8192 in steps of 1024"


def test_a_typo_in_a_key_is_reported_with_the_known_keys():
    bad = config("dev")
    bad["sceptre_user_data"]["deregistration_dela"] = 1
    ((key, value, allowed),) = find_problems(bad, "dev")
    assert key == "sceptre_user_data.deregistration_dela"
    assert "deregistration_delay" in allowed


def test_names_must_agree_with_the_folder():
    bad = config("dev")
    bad["environment"] = "staging"
    assert find_problems(bad, "dev") == [("environment", "staging", "the folder's name, 'dev'")]


def test_the_hook_stops_the_launch_with_the_first_problem(capsys):
    stack = stack_config("dev")["dev/cluster"]
    stack.config["sceptre_user_data"]["deregistration_delay"] = -1
    with pytest.raises(InvalidConfigError, match="deregistration_delay = -1; allowed: at least 0"):
        ValidateConfig(stack=stack).run()
    assert "1 problem(s) in the dev configuration; nothing was changed" in capsys.readouterr().err


def test_the_hook_is_first_before_launch():
    for env in ENVIRONMENTS:
        hooks = stack_config(env)[f"{env}/cluster"].hooks["before_launch"]
        assert [type(h).__name__ for h in hooks] == ["ValidateConfig", "Preflight", "DriftPreview"]


def test_cross_field_problems_are_reported_alongside_schema_problems():
    # The hook promises every problem at once: a schema problem (cpu) must not hide an
    # unrelated cross-field one (autoscaling.min above max).
    bad = config("dev")
    bad["sceptre_user_data"]["cpu"] = 300
    bad["sceptre_user_data"]["autoscaling"].update(min=3, max=2)
    bad["sceptre_user_data"]["name"] = "product-service-qa"
    keys = [key for key, _, _ in find_problems(bad, "dev")]
    assert keys == [
        "sceptre_user_data.cpu",
        "sceptre_user_data.autoscaling.min",
        "sceptre_user_data.name",
    ]


def test_a_cross_field_rule_whose_input_is_faulty_is_skipped():
    # cpu 300 is no Fargate size at all (https://docs.aws.amazon.com/AmazonECS/latest/
    # developerguide/fargate-tasks-services.html#fargate-tasks-size): which memory goes
    # with it has no answer, so the cpu/memory pair rule says nothing.
    bad = config("dev")
    bad["sceptre_user_data"].update(cpu=300, memory=4096)
    assert [key for key, _, _ in find_problems(bad, "dev")] == ["sceptre_user_data.cpu"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # An unknown key beside a sound one: the sound one's rule still runs.
        (
            lambda c: c["sceptre_user_data"]["health_check"].update(timeout=9, typo=1),
            ["sceptre_user_data.health_check.typo", "sceptre_user_data.health_check.timeout"],
        ),
        # A missing key: the rules reading it are skipped, the others run.
        (
            lambda c: (c["sceptre_user_data"].pop("memory"), c.update(environment="qa")),
            ["sceptre_user_data.memory", "environment"],
        ),
        # A whole section of the wrong type: no rule reads inside it.
        (
            lambda c: c["sceptre_user_data"].update(health_check="fast"),
            ["sceptre_user_data.health_check"],
        ),
    ],
    ids=["unknown-key", "missing-key", "wrong-type"],
)
def test_only_rules_reading_a_faulty_value_are_skipped(change, expected):
    bad = config("dev")
    change(bad)
    assert [key for key, _, _ in find_problems(bad, "dev")] == expected
