"""drift-check under the roles that run it on a schedule, with IAM enforced by the emulator.

The drift monitor's CodeBuild runner and the GitHub Actions workflow each run
`drift-check ENV` with their own role. Detection reads every resource with the caller's
rights (the emulator checks each type's read handler permissions), so a missing read right
would end in DETECTION_FAILED and exit 2 on every scheduled run.
"""

import json

import pytest

from emulator.process import ROOT, Emulator
from emulator.seed import IMAGE_TAGS
from tests.roles import Ran, assume, drift_check_in_process, quick, sceptre_in_process


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:  # launches and changes dev: an emulator of its own
        yield running


@pytest.fixture(scope="module")
def dev(emulator):
    """dev launched by hand, drift monitor included (in this process, status polls of 0.25 s:
    how the launch waits is not what this module tests)."""
    result = sceptre_in_process(
        ROOT,
        quick(emulator.child_env()),
        "--var",
        f"image_tag={IMAGE_TAGS[0]}",
        "launch",
        "-y",
        "dev",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def runner_role(emulator) -> str:
    """The drift monitor's runner role (the role its CodeBuild project runs as)."""
    resources = emulator.client("cloudformation").describe_stack_resources(
        StackName="product-service-dev-drift-monitor"
    )["StackResources"]
    (name,) = [
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::IAM::Role" and r["LogicalResourceId"].startswith("RunnerRole")
    ]
    return emulator.client("iam").get_role(RoleName=name)["Role"]["Arn"]


def drift_check(env: dict[str, str], *groups: str) -> Ran:
    """drift-check GROUPS under env (its credentials: the role's), in this process
    (tests/roles.py drift_check_in_process: a new process spends over a second importing)."""
    return drift_check_in_process(
        ROOT, {k: v for k, v in env.items() if k != "DRIFT_TOPIC_ARN"}, *groups
    )


def test_the_runner_role_finds_dev_in_sync(emulator, dev):
    result = drift_check(assume(emulator, runner_role(emulator), "codebuild-drift"), "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("IN_SYNC")


def test_the_runner_role_reports_a_change_by_hand_as_drift(emulator, dev):
    emulator.client("logs").put_retention_policy(
        logGroupName="/ecs/product-service-dev", retentionInDays=14
    )
    result = drift_check(assume(emulator, runner_role(emulator), "codebuild-drift"), "dev")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "RetentionInDays" in result.stdout


def test_the_github_actions_policy_checks_dev_too(emulator, dev):
    # The role .github/workflows/drift.yml assumes through OIDC carries this one policy
    # (README, "Drift detection"). Here the role is made as a user would, then assumed.
    iam = emulator.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(
        RoleName="github-drift-check", AssumeRolePolicyDocument=json.dumps(trust)
    )
    iam.put_role_policy(
        RoleName="github-drift-check",
        PolicyName="drift-check",
        PolicyDocument=(ROOT / "policies/generated/github-drift-check.json").read_text(),
    )
    result = drift_check(assume(emulator, role["Role"]["Arn"], "github-actions"), "dev")
    # Still drifted from the change above: exit 1, never 2 for want of a permission.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "RetentionInDays" in result.stdout
