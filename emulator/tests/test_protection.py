"""emulator/protection.py: termination protection and stack policies enforced as CloudFormation
enforces them."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from emulator.process import ROOT

TEMPLATE = "Resources:\n  Group: {Type: AWS::Logs::LogGroup}\n"


def test_a_protected_stack_is_not_deleted_until_protection_is_off(aws):
    cfn = aws("cloudformation")
    name = f"protected-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE)
    cfn.update_termination_protection(StackName=name, EnableTerminationProtection=True)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["EnableTerminationProtection"]

    with pytest.raises(ClientError, match="cannot be deleted while TerminationProtection"):
        cfn.delete_stack(StackName=name)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    cfn.update_termination_protection(StackName=name, EnableTerminationProtection=False)
    cfn.delete_stack(StackName=name)
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=name)


# --- stack policies -----------------------------------------------------------------------
# The project's prod policy: allow every update, deny replacing or deleting data stores.
POLICY = (ROOT / "policies/keep-stateful-resources.json").read_text()
LOG_TEMPLATE = """
Parameters:
  Name: {Type: String}
  Days: {Type: Number, Default: 7}
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Ref Name, RetentionInDays: !Ref Days}
  Topic: {Type: AWS::SNS::Topic}
"""
# CloudFormation's reason names the denying statement (the second, counted from 1) with its
# own Action and Resource lists; https://docs.aws.amazon.com/AWSCloudFormation/latest/
# UserGuide/protect-stack-resources.html describes the evaluation.
DENIED = (
    "Action denied by stack policy: Statement [#2] does not allow "
    "[Update:Replace, Update:Delete] for resource [*];"
)


def protected_stack(aws) -> tuple[str, str]:
    cfn, name = aws("cloudformation"), f"policy-{uuid.uuid4().hex[:8]}"
    group = f"/test/{name}"
    cfn.create_stack(
        StackName=name,
        TemplateBody=LOG_TEMPLATE,
        Parameters=[{"ParameterKey": "Name", "ParameterValue": group}],
    )
    cfn.set_stack_policy(StackName=name, StackPolicyBody=POLICY)
    return name, group


def log_groups(aws, prefix: str) -> dict[str, dict]:
    found = aws("logs").describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    return {g["logGroupName"]: g for g in found}


def failure(aws, name: str) -> tuple[str, str]:
    events = aws("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
    (event,) = [e for e in events if e["ResourceStatus"] == "UPDATE_FAILED"]
    return event["LogicalResourceId"], event["ResourceStatusReason"]


def status(aws, name: str) -> str:
    return aws("cloudformation").describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]


def test_a_policy_denies_replacing_a_log_group_and_the_update_rolls_back(aws):
    name, group = protected_stack(aws)
    # LogGroupName requires replacement: Update:Replace, which the policy denies.
    aws("cloudformation").update_stack(
        StackName=name,
        TemplateBody=LOG_TEMPLATE,
        Parameters=[{"ParameterKey": "Name", "ParameterValue": group + "-renamed"}],
    )
    assert status(aws, name) == "UPDATE_ROLLBACK_COMPLETE"
    assert failure(aws, name) == ("Logs", DENIED)
    assert set(log_groups(aws, group)) == {group}  # the data is still there


def test_a_policy_allows_modifying_a_log_group_in_place(aws):
    name, group = protected_stack(aws)
    aws("cloudformation").update_stack(
        StackName=name,
        TemplateBody=LOG_TEMPLATE,
        Parameters=[
            {"ParameterKey": "Name", "ParameterValue": group},
            {"ParameterKey": "Days", "ParameterValue": "14"},
        ],
    )
    assert status(aws, name) == "UPDATE_COMPLETE"
    assert log_groups(aws, group)[group]["retentionInDays"] == 14


def test_a_policy_denies_deleting_a_log_group_by_removing_it(aws):
    name, group = protected_stack(aws)
    without = LOG_TEMPLATE.replace(
        "  Logs:\n    Type: AWS::Logs::LogGroup\n"
        "    Properties: {LogGroupName: !Ref Name, RetentionInDays: !Ref Days}\n",
        "",
    )
    aws("cloudformation").update_stack(
        StackName=name,
        TemplateBody=without,
        Parameters=[{"ParameterKey": "Name", "ParameterValue": group}],
    )
    assert status(aws, name) == "UPDATE_ROLLBACK_COMPLETE"
    assert failure(aws, name) == ("Logs", DENIED)
    assert set(log_groups(aws, group)) == {group}


def test_a_policy_without_an_allow_protects_everything(aws):
    name, group = protected_stack(aws)
    deny_nothing = json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "Update:Delete",
                    "Principal": "*",
                    "Resource": "LogicalResourceId/Topic",
                }
            ]
        }
    )
    aws("cloudformation").set_stack_policy(StackName=name, StackPolicyBody=deny_nothing)
    aws("cloudformation").update_stack(
        StackName=name,
        TemplateBody=LOG_TEMPLATE,
        Parameters=[
            {"ParameterKey": "Name", "ParameterValue": group},
            {"ParameterKey": "Days", "ParameterValue": "14"},
        ],
    )
    # "After you set a stack policy, all of the resources in the stack are protected by
    # default" (protect-stack-resources.html).
    assert status(aws, name) == "UPDATE_ROLLBACK_COMPLETE"
    logical_id, reason = failure(aws, name)
    assert logical_id == "Logs" and reason.startswith("Action not allowed by stack policy")
    assert log_groups(aws, group)[group]["retentionInDays"] == 7
