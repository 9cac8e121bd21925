# ruff: noqa: F811  (tests take the imported emulator and aws fixtures as arguments)
"""drift-check end to end on the emulator: launch dev, check, change it by hand, check again.

The module has an emulator of its own (it launches an environment and changes it); its
tests run in order and build on each other, like a user's session.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from drift.detect import DRIFTED, FAILED, IN_SYNC, MISSING, Difference, StackDrift
from drift.report import exit_code, headline
from emulator.process import ROOT
from tests.roles import quick
from tests.templates import stack_config
from tests.test_launch import aws, emulator  # noqa: F401  (this module gets its own emulator)

DEV_STACKS = len([name for name in stack_config("dev") if name.startswith("dev/")])
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


def run(emulator, command: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {**quick(emulator.child_env("DRIFT_TOPIC_ARN")), **extra_env}
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
    assert statuses == {name: IN_SYNC for name in stack_config("dev") if name.startswith("dev/")}
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


def test_sceptre_drift_commands_work_offline_too(emulator):
    detect = run(emulator, "sceptre", "drift", "detect", "dev")
    assert detect.returncode == 0, detect.stderr
    assert "DRIFTED" in detect.stdout
    show = run(emulator, "sceptre", "drift", "show", "--drifted", "dev")
    assert show.returncode == 0, show.stderr
    assert "PropertyPath: /RetentionInDays" in show.stdout
    assert "PropertyPath: /MaxCapacity" in show.stdout


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
