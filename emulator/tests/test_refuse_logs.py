"""emulator/refuse_logs.py: log retention only from AWS's allowed values, by API and by stack.

The allowed values are those of
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
(and of RetentionInDays in
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html).
"""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

ALLOWED = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
           2557, 2922, 3288, 3653]  # fmt: skip
# The CloudFormation handler's schema-validation failure, as users quoted it:
# github.com/aws/copilot-cli/issues/3946
MODEL_VALIDATION = (
    "Model validation failed (#/RetentionInDays: failed validation constraint for keyword [enum])"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def retention(aws, group: str) -> int | None:
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    [found] = [g for g in groups if g["logGroupName"] == group]
    return found.get("retentionInDays")  # absent: never expire


@pytest.fixture
def group(aws):
    name = unique("/refuse/logs")
    aws("logs").create_log_group(logGroupName=name)
    return name


@pytest.mark.parametrize("days", [0, 2, 10, 31, 730, 3650, 4000])
def test_put_retention_policy_refuses_a_value_outside_the_set(aws, group, days):
    with pytest.raises(ClientError) as raised:
        aws("logs").put_retention_policy(logGroupName=group, retentionInDays=days)
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterException"
    assert f"Value '{days}' at 'retentionInDays' failed to satisfy constraint" in error["Message"]
    assert retention(aws, group) is None  # unchanged: still never expires


def test_the_refusal_lists_the_allowed_values(aws, group):
    with pytest.raises(ClientError) as raised:
        aws("logs").put_retention_policy(logGroupName=group, retentionInDays=31)
    expected = ", ".join(str(d) for d in ALLOWED)
    assert raised.value.response["Error"]["Message"].endswith(
        f"Member must satisfy enum value set: [{expected}]"
    )


@pytest.mark.parametrize("days", ALLOWED)
def test_put_retention_policy_accepts_every_allowed_value(aws, group, days):
    aws("logs").put_retention_policy(logGroupName=group, retentionInDays=days)
    assert retention(aws, group) == days


def template(group: str, days) -> str:
    properties = {"LogGroupName": group}
    if days is not None:
        properties["RetentionInDays"] = days
    return json.dumps(
        {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": properties}}}
    )


def failed_events(aws, stack: str, status: str) -> list[dict]:
    events = aws("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    return [e for e in events if e.get("ResourceStatus") == status]


def test_a_stack_with_retention_31_fails_the_log_group_and_rolls_back(aws):
    stack, group = unique("logs"), unique("/refuse/stack")
    cloudformation = aws("cloudformation")
    cloudformation.create_stack(StackName=stack, TemplateBody=template(group, 31))
    status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    assert status == "ROLLBACK_COMPLETE"
    [failed] = failed_events(aws, stack, "CREATE_FAILED")
    assert failed["LogicalResourceId"] == "Logs"
    assert MODEL_VALIDATION in failed["ResourceStatusReason"]
    assert aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []


def test_a_stack_keeps_an_allowed_retention_as_a_number(aws):
    # A template parameter arrives as the string "30"; the log group's retentionInDays is an
    # integer (API_LogGroup.html: "retentionInDays ... Type: Integer").
    stack, group = unique("logs"), unique("/refuse/stack")
    aws("cloudformation").create_stack(StackName=stack, TemplateBody=template(group, "30"))
    assert retention(aws, group) == 30


def test_a_stack_update_changes_the_retention_and_refuses_a_bad_one(aws):
    # RetentionInDays updates without interruption (aws-resource-logs-loggroup.html); a refused
    # update rolls back to the previous value
    # (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html).
    stack, group = unique("logs"), unique("/refuse/stack")
    cloudformation = aws("cloudformation")
    cloudformation.create_stack(StackName=stack, TemplateBody=template(group, 30))
    cloudformation.update_stack(StackName=stack, TemplateBody=template(group, 90))
    assert retention(aws, group) == 90

    cloudformation.update_stack(StackName=stack, TemplateBody=template(group, 100))
    status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    assert status == "UPDATE_ROLLBACK_COMPLETE"
    [failed] = failed_events(aws, stack, "UPDATE_FAILED")
    assert MODEL_VALIDATION in failed["ResourceStatusReason"]
    assert retention(aws, group) == 90

    cloudformation.update_stack(StackName=stack, TemplateBody=template(group, None))
    assert retention(aws, group) is None  # property removed: never expire
