# ruff: noqa: F811  (tests take the module's emulator and aws fixtures as arguments)
"""drift-check --revert and the launch's drift preview, end to end on the emulator.

dev and prod are launched once (in-process Sceptre: tests/roles.py); then dev is changed by
hand as the issue says (SSH open to the world on the tasks' security group, log retention,
the scaling range), and the tests run in order like a user's session: the launch warns, a
dry run and a "no" change nothing, --revert --yes puts everything back and prod is untouched;
last, a stack policy that denies the revert fails it (exit 2).

What AWS does, and where it says so:
- a drift-aware change set (CreateChangeSet DeploymentMode REVERT_DRIFT) with the stack's
  own template "brings drifted resources in line with their template definitions"
  (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html): the
  values after the revert are the template's, i.e. config/dev/config.yaml's;
- DescribeChangeSet with IncludePropertyValues gives each property's BeforeValue (the live
  value, BeforeValueFrom ACTUAL_STATE) and AfterValue (the template's) (docs.aws.amazon.com/
  AWSCloudFormation/latest/APIReference/API_ResourceTargetDefinition.html);
- ExecuteChangeSet takes no stack policy of its own, so the stack's applies, and an update
  the policy denies fails and rolls back (docs.aws.amazon.com/AWSCloudFormation/latest/
  UserGuide/protect-stack-resources.html).
"""

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emulator.process import ROOT, Emulator
from tests.roles import Ran, assume, drift_check_in_process, quick, sceptre_in_process
from tests.test_drift_roles import runner_role

BIN = Path(sys.executable).parent
DEV = yaml.safe_load((ROOT / "config/dev/config.yaml").read_text())["sceptre_user_data"]
PROD_TAG = "1.0.0"
SERVICE = "product-service-dev-service"
LOG_GROUP = "/ecs/product-service-dev"
ANYWHERE_SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}


@pytest.fixture(scope="module")
def emulator():
    # Detection answers at once: these tests wait for results, not for the polling itself
    # (tests/test_drift_check.py tests a detection still in progress).
    with Emulator(settings={"EMULATOR_DRIFT_SECONDS": "0"}) as running:
        yield running


@pytest.fixture(scope="module")
def aws(emulator):
    return emulator.client


@pytest.fixture(scope="module")
def launched(emulator) -> dict[str, str]:
    """dev and prod launched; what each launch printed."""
    env = quick(emulator.child_env())
    outputs = {}
    for env_name, args in (("dev", ()), ("prod", ("--var", f"image_tag={PROD_TAG}"))):
        result = sceptre_in_process(ROOT, env, *args, "launch", "-y", env_name)
        assert result.returncode == 0, result.stdout + result.stderr
        outputs[env_name] = result.stdout + result.stderr
    return outputs


def drift_check(
    emulator, *args: str, answer: str | None = None
) -> Ran | subprocess.CompletedProcess:
    """drift-check as a user runs it: with no terminal (as in CI), in this process
    (tests/roles.py drift_check_in_process: a new process spends a second importing); with
    answer, as the console script on a terminal that types it."""
    env = quick(emulator.child_env("DRIFT_TOPIC_ARN"))
    command = [str(BIN / "drift-check"), *args]
    if answer is None:
        return drift_check_in_process(ROOT, env, *args)
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        return subprocess.run(
            command, cwd=ROOT, env=env, stdin=terminal, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(controller)


def physical_id(aws, stack: str, logical_id: str) -> str:
    return aws("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId=logical_id
    )["StackResourceDetail"]["PhysicalResourceId"]


def ssh_open(aws) -> bool:
    group = physical_id(aws, SERVICE, "ServiceSecurityGroup")
    (found,) = aws("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"]
    return any(
        rule.get("FromPort") == 22 and {"CidrIp": "0.0.0.0/0"} in rule.get("IpRanges", [])
        for rule in found["IpPermissions"]
    )


def retention(aws, name: str = LOG_GROUP) -> int:
    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return group["retentionInDays"]


def scaling_range(aws, stack: str = SERVICE) -> tuple[int, int]:
    resource_id, dimension, namespace = physical_id(aws, stack, "ScalableTarget").split("|")
    (target,) = aws("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=namespace, ResourceIds=[resource_id], ScalableDimension=dimension
    )["ScalableTargets"]
    return target["MinCapacity"], target["MaxCapacity"]


def change_sets(aws, environment: str) -> list[str]:
    stacks = aws("cloudformation").describe_stacks()["Stacks"]
    return [
        summary["ChangeSetName"]
        for stack in stacks
        if stack["StackName"].startswith(f"product-service-{environment}-")
        for summary in aws("cloudformation").list_change_sets(StackName=stack["StackId"])[
            "Summaries"
        ]
    ]


def prod_state(aws) -> list[tuple]:
    """What a revert of prod would change: each stack's status and last update."""
    stacks = aws("cloudformation").describe_stacks()["Stacks"]
    return sorted(
        (s["StackName"], s["StackStatus"], str(s.get("LastUpdatedTime")))
        for s in stacks
        if s["StackName"].startswith("product-service-prod-")
    )


def preview(text: str) -> list[tuple[str, ...]]:
    """The preview table's rows: (stack, resource, property, now, after)."""
    lines = text.splitlines()
    start = next(
        i for i, line in enumerate(lines) if re.match(r"STACK +RESOURCE +PROPERTY +NOW", line)
    )
    header = lines[start]
    cuts = [header.index(c) for c in ("RESOURCE", "PROPERTY", "NOW", "AFTER")]
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        bounds = [0, *cuts, len(line)]
        rows.append(tuple(line[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False)))
    return rows


def test_a_first_launch_has_nothing_to_preview(launched):
    # A stack that does not exist yet cannot have drifted: the hook says nothing.
    assert "drift_preview" not in launched["dev"]
    assert "drift_preview" not in launched["prod"]


def test_dev_changed_by_hand_drifts(emulator, aws, launched):
    group = physical_id(aws, SERVICE, "ServiceSecurityGroup")
    aws("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )  # fmt: skip
    aws("logs").put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=14)
    resource_id, dimension, namespace = physical_id(aws, SERVICE, "ScalableTarget").split("|")
    aws("application-autoscaling").register_scalable_target(
        ServiceNamespace=namespace, ResourceId=resource_id, ScalableDimension=dimension,
        MinCapacity=1, MaxCapacity=5,
    )  # fmt: skip
    assert ssh_open(aws) and retention(aws) == 14 and scaling_range(aws) == (1, 5)


def test_a_launch_warns_which_hand_changes_it_overwrites_and_goes_on(emulator, aws):
    env = quick(emulator.child_env())
    result = sceptre_in_process(ROOT, env, "launch", "-y", "dev/service.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    printed = result.stdout + result.stderr
    warnings = [line for line in printed.splitlines() if "drift_preview" in line]
    # Only the drifted stack warns; its in-sync dependencies (cluster, load balancer) do not.
    assert len(warnings) == 1 and "dev/service - drift_preview: 3 hand change(s)" in warnings[0]
    assert re.search(r"LogGroup\s+RetentionInDays\s+14\s+7", printed)
    assert re.search(r"ScalableTarget\s+MaxCapacity\s+5\s+2", printed)
    assert "drift-check dev --revert" in warnings[0]


def test_without_a_terminal_revert_refuses_to_ask_and_changes_nothing(emulator, aws):
    result = drift_check(emulator, "dev", "--revert")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "drift-check: --revert asks before it changes a stack, but there is no terminal to "
        "ask on; pass --yes to revert without asking, or --dry-run to preview only"
    )
    assert retention(aws) == 14 and change_sets(aws, "dev") == []


def test_a_dry_run_previews_the_revert_and_changes_nothing(emulator, aws):
    result = drift_check(emulator, "dev", "--revert", "--dry-run")
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.match(r"DRIFTED: \d+ stacks of dev; 3 differences in 1 stack\n", result.stdout)
    rows = preview(result.stdout)
    assert ("dev/service", "LogGroup", "RetentionInDays", "14", "7") in rows
    assert ("dev/service", "ScalableTarget", "MaxCapacity", "5", "2") in rows
    ssh = [r for r in rows if r[1] == "ServiceSecurityGroup"]
    assert ssh and all(r[2].startswith("SecurityGroupIngress") for r in ssh)
    # The rule added by hand: now the live rule, after the revert removed (AttributeChangeType
    # Remove, "The item will be removed": API_ResourceTargetDefinition.html).
    assert any("0.0.0.0/0" in r[3] and r[4] == "(removed)" for r in ssh)
    assert {r[0] for r in rows} == {"dev/service"}  # the stacks in sync are not touched
    assert "dev/service: dry run: not reverted (its change set is deleted)" in result.stdout
    assert ssh_open(aws) and retention(aws) == 14 and scaling_range(aws) == (1, 5)
    assert change_sets(aws, "dev") == []


def test_answering_no_changes_nothing(emulator, aws):
    result = drift_check(emulator, "dev", "--revert", answer="n\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Revert 1 stack as shown? [y/N]" in result.stdout
    assert "dev/service: not reverted: not confirmed (nothing changed)" in result.stdout
    assert ssh_open(aws) and retention(aws) == 14 and scaling_range(aws) == (1, 5)
    assert change_sets(aws, "dev") == []


def test_revert_yes_puts_dev_back_and_leaves_prod_alone(emulator, aws):
    prod_before = prod_state(aws)
    prod_retention = retention(aws, "/ecs/product-service-prod")

    result = drift_check(emulator, "dev", "--revert", "--yes")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "dev/service: reverted, in sync" in result.stdout
    assert "After the revert:" in result.stdout
    again = drift_check(emulator, "dev")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("IN_SYNC: ")
    # The template's values, from config/dev/config.yaml.
    assert not ssh_open(aws)
    assert retention(aws) == DEV["log_retention_days"]
    assert scaling_range(aws) == (DEV["autoscaling"]["min"], DEV["autoscaling"]["max"])
    assert prod_state(aws) == prod_before
    assert retention(aws, "/ecs/product-service-prod") == prod_retention


def test_devs_scheduled_runner_may_revert_with_its_own_role(emulator, aws):
    # auto_revert: the runner's buildspec runs this command as its role (test_auto_revert.py);
    # the emulator enforces the role's policies on each call and on CloudFormation's handlers.
    aws("logs").put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=30)
    env = {
        k: v
        for k, v in assume(emulator, runner_role(emulator), "codebuild-drift").items()
        if k != "DRIFT_TOPIC_ARN"
    }
    result = drift_check_in_process(ROOT, env, "dev", "--revert", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert retention(aws) == DEV["log_retention_days"]


def test_prods_runner_only_reports_and_may_not_revert(emulator, aws):
    # auto_revert is false in prod: its runner's role has no change-set rights, so even run
    # with --revert by mistake it changes nothing (AccessDenied, exit 2).
    aws("logs").put_retention_policy(logGroupName="/ecs/product-service-prod", retentionInDays=14)
    resources = aws("cloudformation").describe_stack_resources(
        StackName="product-service-prod-drift-monitor"
    )["StackResources"]
    (name,) = [r["PhysicalResourceId"] for r in resources
               if r["LogicalResourceId"].startswith("RunnerRole")
               and r["ResourceType"] == "AWS::IAM::Role"]  # fmt: skip
    arn = aws("iam").get_role(RoleName=name)["Role"]["Arn"]
    env = {k: v for k, v in assume(emulator, arn, "codebuild-drift").items()
           if k != "DRIFT_TOPIC_ARN"}  # fmt: skip
    result = drift_check_in_process(ROOT, env, "prod", "--revert", "--yes")
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("prod/service: FAILED:")]
    assert "could not create the revert change set" in line and "AccessDenied" in line
    assert retention(aws, "/ecs/product-service-prod") == 14


def test_a_revert_the_stack_policy_denies_fails_and_says_so(emulator, aws):
    # An operator locks prod's log group against any update; the revert must not override it.
    stack = "product-service-prod-service"
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "Update:*", "Principal": "*",
             "Resource": "LogicalResourceId/LogGroup"},
        ]
    }  # fmt: skip
    aws("cloudformation").set_stack_policy(StackName=stack, StackPolicyBody=json.dumps(policy))
    aws("logs").put_retention_policy(logGroupName="/ecs/product-service-prod", retentionInDays=7)

    result = drift_check(emulator, "prod", "--revert", "--yes")

    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("prod/service: FAILED:")]
    assert "the revert failed (UPDATE_ROLLBACK_COMPLETE)" in line
    assert "Action denied by stack policy" in line
    assert "forbids this change" in line
    # Rolled back to the state before the revert: the hand change stays.
    assert retention(aws, "/ecs/product-service-prod") == 7
