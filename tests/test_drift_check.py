"""drift-check end to end on the emulator: launch dev, check, change it by hand, check again.

The module has an emulator of its own (it launches an environment and changes it); its
tests run in order and build on each other, like a user's session.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from drift.detect import DRIFTED, FAILED, IN_SYNC, MISSING, Difference, StackDrift
from drift.report import exit_code, headline
from emulator import drift_support
from emulator.process import ROOT, Emulator
from tests.roles import Ran, assume, in_process, quick
from tests.templates import rendered, stack_config

# The dev stacks drift-check checks: those Sceptre launches, not those marked ignore or
# obsolete (the network stack is ignored unless network.create is true).
DEV_CHECKED = sorted(
    name
    for name, stack in stack_config("dev").items()
    if name.startswith("dev/") and not (stack.ignore or stack.obsolete)
)
DEV_STACKS = len(DEV_CHECKED)
GROUPS = ", ".join(sorted(p.name for p in (ROOT / "config").iterdir() if p.is_dir()))

BIN = Path(sys.executable).parent
CHANGED = [
    ("dev/service", "LogGroup", "RetentionInDays", "7", "14"),
    ("dev/service", "ScalableTarget", "MaxCapacity", "2", "5"),
]
# The service declares no DesiredCount (autoscaling owns it, so its changes are no drift);
# the change by hand that matters is to the scaling range.


@pytest.fixture(scope="module")
def alerts(aws) -> tuple[str, str]:
    """An SNS topic with an SQS queue subscribed, to see what drift-check publishes."""
    topic = aws("sns").create_topic(Name="drift-alerts")["TopicArn"]
    queue = aws("sqs").create_queue(QueueName="drift-alerts")["QueueUrl"]
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    aws("sns").subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"]
    )
    return topic, queue


@pytest.fixture(scope="module")
def emulator():
    """This module's emulator: it launches dev and changes it by hand. Its detections take
    1 s, not the suite's 0.2 s (conftest.py), so one is still running when a drift-check
    with no time to wait looks at it, even with the other stacks' detections running."""
    with Emulator(settings={"EMULATOR_DRIFT_SECONDS": "1"}) as running:
        yield running


@pytest.fixture(scope="module")
def aws(emulator):
    return emulator.client


def run(
    emulator, command: str, *args: str, as_process: bool = False, **extra_env: str
) -> Ran | subprocess.CompletedProcess:
    """COMMAND (sceptre or drift-check) ARGS on the emulator, in this process (tests/roles.py
    in_process: a new process spends a second importing), or as the console script in a new
    process when as_process (the tests of its exit codes keep one such run)."""
    env = {**quick(emulator.child_env("DRIFT_TOPIC_ARN")), **extra_env}
    if not as_process:
        return in_process(command, ROOT, env, *args)
    return subprocess.run(
        [str(BIN / command), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def table_rows(text: str, first_column: str) -> list[tuple[str, ...]]:
    """Rows of the plain-text table whose header starts with first_column."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(first_column))
    rows = []
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        rows.append(tuple(re.split(r"\s{2,}", line.strip())))
    return rows


def markdown_rows(text: str, header: str) -> list[tuple[str, ...]]:
    """Rows of the Markdown table whose header row starts with header."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(tuple(c.strip().strip("`") for c in line.strip("|").split(" | ")))
    return rows


def received(aws, queue: str) -> list[dict]:
    messages = aws("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_dev_launches_with_its_drift_monitor(emulator, aws):
    result = run(emulator, "sceptre", "launch", "-y", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = aws("cloudformation").describe_stacks(StackName="product-service-dev-drift-monitor")
    names = {o["OutputKey"]: o["OutputValue"] for o in outputs["Stacks"][0]["Outputs"]}
    assert names["RunnerProjectName"] == "product-service-dev-drift-check"
    (project,) = aws("codebuild").batch_get_projects(names=[names["RunnerProjectName"]])["projects"]
    assert project["source"]["type"] == "GITHUB"


def test_a_fresh_environment_is_in_sync_and_nobody_is_alerted(emulator, aws, alerts):
    topic, queue = alerts
    result = run(emulator, "drift-check", "dev", DRIFT_TOPIC_ARN=topic)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"IN_SYNC: {DEV_STACKS} stacks of dev\n")
    statuses = {row[0]: row[1] for row in table_rows(result.stdout, "STACK  ")}
    assert statuses == {name: IN_SYNC for name in DEV_CHECKED}
    assert "RESOURCE" not in result.stdout  # no difference table
    assert received(aws, queue) == []


def test_a_stack_that_was_never_launched_fails_the_check_with_one_clear_line(emulator):
    result = run(emulator, "drift-check", "dev", "prod")
    assert result.returncode == 2
    assert (
        "drift-check: prod/service: MISSING: stack product-service-prod-service does not "
        "exist; launch it first (sceptre launch prod)"
    ) in result.stderr.splitlines()
    statuses = {row[0]: row[1] for row in table_rows(result.stdout, "STACK  ")}
    assert statuses["dev/service"] == IN_SYNC and statuses["prod/cluster"] == MISSING


def test_an_unknown_group_is_named_with_the_known_ones(emulator):
    result = run(emulator, "drift-check", "staging")
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "no StackGroup 'staging' in " + str(ROOT / "config") + f" (known: {GROUPS})"
    )


def test_changes_made_by_hand_are_reported_in_table_json_and_markdown(
    emulator, aws, alerts, tmp_path
):
    aws("logs").put_retention_policy(logGroupName="/ecs/product-service-dev", retentionInDays=14)
    target = aws("cloudformation").describe_stack_resource(
        StackName="product-service-dev-service", LogicalResourceId="ScalableTarget"
    )["StackResourceDetail"]["PhysicalResourceId"]
    resource_id, dimension, namespace = target.split("|")
    aws("application-autoscaling").register_scalable_target(
        ServiceNamespace=namespace,
        ResourceId=resource_id,
        ScalableDimension=dimension,
        MaxCapacity=5,
    )
    topic, queue = alerts

    report_json, report_md = tmp_path / "report.json", tmp_path / "report.md"
    result = run(
        emulator,
        "drift-check",
        "dev",
        "--json",
        str(report_json),
        "--markdown",
        str(report_md),
        as_process=True,  # the console script itself: its exit code for drift
        DRIFT_TOPIC_ARN=topic,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(
        f"DRIFTED: {DEV_STACKS} stacks of dev; 2 differences in 1 stack\n"
    )
    assert table_rows(result.stdout, "STACK        RESOURCE") == CHANGED

    report = json.loads(report_json.read_text())
    assert (report["status"], report["exit_code"]) == (DRIFTED, 1)
    assert [
        (d["stack"], d["resource"], d["property"], d["expected"], d["actual"])
        for d in report["differences"]
    ] == CHANGED
    assert {d["resource_type"] for d in report["differences"]} == {
        "AWS::Logs::LogGroup",
        "AWS::ApplicationAutoScaling::ScalableTarget",
    }
    json_statuses = [(s["stack"], s["status"]) for s in report["stacks"]]
    table_statuses = [row[:2] for row in table_rows(result.stdout, "STACK  ")]
    assert json_statuses == table_statuses

    markdown = report_md.read_text()
    assert markdown_rows(markdown, "Stack | Resource") == CHANGED
    assert [row[:2] for row in markdown_rows(markdown, "Stack | Status")] == table_statuses

    (alert,) = received(aws, queue)
    assert alert["Subject"].startswith("Drift check dev: DRIFTED")
    assert table_rows(alert["Message"], "STACK        RESOURCE") == CHANGED


def test_a_lost_alert_fails_the_check_with_a_clear_message(emulator):
    # SNS Publish to a topic that does not exist answers NotFound ("Topic does not exist",
    # docs.aws.amazon.com/sns/latest/api/API_Publish.html#API_Publish_Errors); drift was
    # found, but nobody was told: exit 2 (drift-check: "2: detection failed or ..."), one line.
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    result = run(emulator, "drift-check", "dev", DRIFT_TOPIC_ARN=missing)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith("DRIFTED: ")  # the report is still printed
    (line,) = [x for x in result.stderr.splitlines() if "could not publish" in x]
    assert line.startswith("drift-check: could not publish to the drift topic (")
    assert "NotFound" in line and line.endswith("; check drift_topic_arn")


def test_a_detection_still_running_at_the_timeout_fails_the_stack(emulator):
    # Detection is asynchronous: DescribeStackDriftDetectionStatus answers
    # DETECTION_IN_PROGRESS until it completes (docs.aws.amazon.com/AWSCloudFormation/latest/
    # APIReference/API_DescribeStackDriftDetectionStatus.html); the emulator's take 1 s. With
    # no time to wait, every stack's drift is unknown: FAILED, exit 2.
    result = run(emulator, "drift-check", "dev", "--timeout", "0")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith(f"FAILED: {DEV_STACKS} stacks of dev; {DEV_STACKS} stacks")
    statuses = {row[0]: row[1:] for row in table_rows(result.stdout, "STACK  ")}
    assert set(statuses) == set(DEV_CHECKED)
    assert all(v == (FAILED, "detection still running after 0 s") for v in statuses.values())


def test_a_caller_who_may_not_read_a_resource_gets_detection_failed(emulator, aws):
    # Detection reads each resource with the caller's rights; one it may not read fails the
    # detection (DETECTION_FAILED: "The stack drift detection operation has failed for at
    # least one resource in the stack", docs.aws.amazon.com/AWSCloudFormation/latest/
    # UserGuide/using-cfn-stack-drift.html), naming it ("Failed to detect drift on resources
    # [...]", quoted in github.com/aws-cloudformation/cloudformation-coverage-roadmap/
    # issues/801). drift-check: FAILED, exit 2, the reason on stderr.
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    rights = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        ],
    }
    iam = aws("iam")
    arn = iam.create_role(RoleName="no-log-reads", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName="no-log-reads", PolicyName="rights", PolicyDocument=json.dumps(rights)
    )
    env = {k: v for k, v in assume(emulator, arn, "drift").items() if k != "DRIFT_TOPIC_ARN"}
    result = in_process("drift-check", ROOT, env, "dev")
    assert result.returncode == 2, result.stdout + result.stderr
    statuses = {row[0]: row[1] for row in table_rows(result.stdout, "STACK  ")}
    assert statuses["dev/service"] == FAILED  # its log group
    assert statuses["dev/cluster"] != FAILED  # nothing to read there is denied
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("drift-check: dev/service:")]
    reason = json.loads(line.split(": FAILED: ", 1)[1])
    assert reason["Summary"] == "Failed to detect drift on resources [LogGroup]"


def test_sceptre_drift_commands_work_offline_too(emulator):
    detect = run(emulator, "sceptre", "drift", "detect", "dev")
    assert detect.returncode == 0, detect.stderr
    assert "DRIFTED" in detect.stdout
    show = run(emulator, "sceptre", "drift", "show", "--drifted", "dev")
    assert show.returncode == 0, show.stderr
    assert "PropertyPath: /RetentionInDays" in show.stdout
    assert "PropertyPath: /MaxCapacity" in show.stdout


# --- what the emulator compares, against what CloudFormation compares ---


def emulator_readers() -> set[str]:
    """The resource types the emulator's drift detection has a reader for: the keys of the
    READERS mappings of emulator/drift.py and emulator/drift_readers.py, read from their
    source (importing them needs moto, which only the emulator's environment has; starting
    that Python costs 3 s of CPU)."""
    found = set()
    for module in ("drift", "drift_readers"):
        tree = ast.parse((ROOT / "emulator" / f"{module}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "READERS":
                assert isinstance(node.value, ast.Dict), f"emulator/{module}.py: READERS"
                found |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    return found


def test_every_type_cloudformation_checks_in_the_templates_has_a_reader():
    # CloudFormation checks a type when its registry schema has a read handler, except types
    # documented as unchecked (emulator/drift_support.py cites both); for every such type
    # the rendered dev and prod templates declare, the emulator must read live state, or it
    # would report NOT_CHECKED where AWS reports drift.
    declared = {
        resource["Type"]
        for env in ("dev", "prod")
        for stack in rendered(env).values()
        for resource in stack["template"]["Resources"].values()
    }
    checked = {t for t in declared if drift_support.checked(t)}
    assert checked - emulator_readers() == set()
    # AWS::IAM::Policy: "This resource does not support drift detection" (docs.aws.amazon.com/
    # AWSCloudFormation/latest/TemplateReference/aws-resource-iam-policy.html).
    assert "AWS::IAM::Policy" in declared - checked


# --- the exit code and headline rules, on results built by hand (no AWS involved) ---


def result(stack: str, status: str, differences: int = 0) -> StackDrift:
    found = [Difference(stack, "R", "AWS::X::Y", "P", "1", "2", "NOT_EQUAL")] * differences
    return StackDrift(stack, stack.replace("/", "-"), stack.split("/")[0], status, found)


def test_an_unknown_stack_outweighs_drift_in_the_exit_code():
    assert exit_code([result("dev/a", IN_SYNC)]) == 0
    assert exit_code([result("dev/a", IN_SYNC), result("dev/b", DRIFTED, 1)]) == 1
    assert exit_code([result("dev/a", DRIFTED, 1), result("dev/b", FAILED)]) == 2
    assert exit_code([result("dev/a", MISSING)]) == 2


def test_headline_counts_what_it_found():
    results = [result("dev/a", DRIFTED, 2), result("prod/a", MISSING), result("prod/b", IN_SYNC)]
    assert headline(["dev", "prod"], results) == (
        "FAILED: 3 stacks of dev, prod; 2 differences in 1 stack; 1 stack not checked"
    )
