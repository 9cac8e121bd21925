"""CloudFormation's handler model and rollback on the emulator, through its HTTP API.

A stack made of an SNS topic and a log group (created after it) is deployed through a
service role. Each expected value is what CloudFormation does, with the page that says so.
"""

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.tests.test_drift import wait

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"

# Only CloudFormation may assume a stack's service role:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
CLOUDFORMATION_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudformation.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def role(aws, statements: list[dict], trust: dict = CLOUDFORMATION_TRUST) -> str:
    """A role with one inline policy; its ARN."""
    name = unique("cfn-role")
    arn = aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    policy = {"Version": "2012-10-17", "Statement": statements}
    aws("iam").put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def everything_but(*actions: str) -> list[dict]:
    return [{"Effect": "Allow", "NotAction": list(actions), "Resource": "*"}]


EVERYTHING = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


def template(group: str, retention: int = 7, extra_topic: bool = False) -> str:
    resources = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{group}-topic"}},
        "Logs": {
            "Type": "AWS::Logs::LogGroup",
            "DependsOn": "Topic",
            "Properties": {"LogGroupName": f"/test/{group}", "RetentionInDays": retention},
        },
    }
    if extra_topic:
        resources["Added"] = {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": f"{group}-added"},
        }
    return json.dumps({"Resources": resources})


def status(aws, stack: str) -> tuple[str, str | None]:
    found = aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return found["StackStatus"], found.get("StackStatusReason")


def events(aws, stack: str) -> list[tuple[str, str, str | None]]:
    listed = aws("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    return [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in listed
    ]


def topics(aws, group: str) -> list[str]:
    arns = [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]]
    return [a for a in arns if a.split(":")[-1].startswith(group)]


def log_groups(aws, group: str) -> list[dict]:
    found = aws("logs").describe_log_groups(logGroupNamePrefix=f"/test/{group}")["logGroups"]
    return [g for g in found if g["logGroupName"] == f"/test/{group}"]


def denied_message(role_arn: str, action: str, resource: str) -> str:
    """CloudFormation's event reason for a handler IAM refuses: the service's AccessDenied
    message (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html)
    inside 'Resource handler returned message: "... (Service: ..., Status Code: ...,
    Request ID: ...)" (RequestToken: ..., HandlerErrorCode: ...)', as in
    https://github.com/awslabs/aws-well-architected-labs/pull/747. The session CloudFormation
    uses is named AWSCloudFormation."""
    name = role_arn.rsplit("/", 1)[-1]
    return (
        f'Resource handler returned message: "User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/'
        f"AWSCloudFormation is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action (Service: "
    )


def test_a_missing_handler_permission_fails_the_resource_and_rolls_back(aws):
    group, stack = unique("hm"), unique("hm-stack")
    role_arn = role(aws, everything_but("logs:PutRetentionPolicy"))
    aws("cloudformation").create_stack(
        StackName=stack, TemplateBody=template(group), RoleARN=role_arn
    )

    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html
    # and the reason CloudFormation gives (e.g. https://fixdevs.com/blog/
    # aws-cloudformation-rollback-complete/): "The following resource(s) failed to create:
    # [X]. Rollback requested by user."
    reason = "The following resource(s) failed to create: [Logs]. Rollback requested by user."
    assert status(aws, stack) == ("ROLLBACK_COMPLETE", reason)
    listed = events(aws, stack)
    assert listed[0] == (stack, "ROLLBACK_COMPLETE", reason)  # newest first
    (failed,) = [e for e in listed if e[1] == "CREATE_FAILED"]
    # The log-group ARN format of the IAM service reference for CloudWatch Logs:
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/test/{group}"
    assert failed[0] == "Logs"
    assert failed[2].startswith(denied_message(role_arn, "logs:PutRetentionPolicy", arn))
    assert failed[2].endswith("HandlerErrorCode: AccessDenied)")
    # The topic created before it is deleted by the rollback; nothing is left.
    assert ("Topic", "DELETE_COMPLETE", None) in listed
    assert (topics(aws, group), log_groups(aws, group)) == ([], [])


def test_on_failure_delete_deletes_the_stack(aws):
    group, stack = unique("hm"), unique("hm-stack")
    role_arn = role(aws, everything_but("logs:PutRetentionPolicy"))
    stack_id = aws("cloudformation").create_stack(
        StackName=stack, TemplateBody=template(group), RoleARN=role_arn, OnFailure="DELETE"
    )["StackId"]
    # OnFailure DELETE: the stack is deleted (CreateStack API reference,
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html);
    # a deleted stack is found by its id only.
    assert status(aws, stack_id)[0] == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="does not exist"):
        status(aws, stack)
    assert (topics(aws, group), log_groups(aws, group)) == ([], [])


def test_disable_rollback_keeps_what_was_created(aws):
    group, stack = unique("hm"), unique("hm-stack")
    role_arn = role(aws, everything_but("logs:PutRetentionPolicy"))
    aws("cloudformation").create_stack(
        StackName=stack, TemplateBody=template(group), RoleARN=role_arn, DisableRollback=True
    )
    # DisableRollback (= OnFailure DO_NOTHING): CREATE_FAILED, created resources kept
    # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html).
    assert status(aws, stack)[0] == "CREATE_FAILED"
    assert aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["DisableRollback"]
    assert len(topics(aws, group)) == 1
    assert log_groups(aws, group) == []


def test_the_same_role_with_the_permission_creates_the_stack(aws):
    group, stack = unique("hm"), unique("hm-stack")
    role_arn = role(aws, EVERYTHING)
    aws("cloudformation").create_stack(
        StackName=stack, TemplateBody=template(group), RoleARN=role_arn
    )
    assert status(aws, stack)[0] == "CREATE_COMPLETE"
    assert [g["retentionInDays"] for g in log_groups(aws, group)] == [7]
    # The stack keeps its service role (DescribeStacks RoleARN).
    assert aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["RoleARN"] == (
        role_arn
    )


def test_an_update_the_role_may_not_make_rolls_back_to_the_old_value(aws):
    group, stack = unique("hm"), unique("hm-stack")
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=stack, TemplateBody=template(group), RoleARN=role(aws, EVERYTHING))
    weaker = role(aws, everything_but("logs:PutRetentionPolicy"))
    cfn.update_stack(
        StackName=stack,
        TemplateBody=template(group, retention=14, extra_topic=True),
        RoleARN=weaker,
    )
    # UPDATE_FAILED on the resource, then UPDATE_ROLLBACK_COMPLETE with the previous
    # configuration (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
    # using-cfn-updating-stacks-monitor-stack.html); the reason names the resource.
    assert status(aws, stack)[0] == "UPDATE_ROLLBACK_COMPLETE"
    listed = events(aws, stack)
    (failed,) = [e for e in listed if e[1] == "UPDATE_FAILED"]
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/test/{group}"
    assert failed[0] == "Logs"
    assert failed[2].startswith(denied_message(weaker, "logs:PutRetentionPolicy", arn))
    assert (
        stack,
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to update: [Logs]. ",
    ) in listed
    assert [g["retentionInDays"] for g in log_groups(aws, group)] == [7]
    # The topic the update added is gone again; the template is the old one.
    assert topics(aws, group) == [f"arn:aws:sns:{REGION}:{ACCOUNT}:{group}-topic"]
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    body = json.loads(body) if isinstance(body, str) else body
    assert body == json.loads(template(group))


@pytest.mark.parametrize(
    "trust",
    [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        None,  # no such role
    ],
    ids=["not-trusting-cloudformation", "missing"],
)
def test_a_role_cloudformation_cannot_assume_is_refused(aws, trust):
    role_arn = (
        role(aws, EVERYTHING, trust)
        if trust
        else f"arn:aws:iam::{ACCOUNT}:role/{unique('missing')}"
    )
    stack = unique("hm-stack")
    # https://repost.aws/knowledge-center/cloudformation-role-arn-error
    with pytest.raises(ClientError) as raised:
        aws("cloudformation").create_stack(
            StackName=stack, TemplateBody=template(unique("hm")), RoleARN=role_arn
        )
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert raised.value.response["Error"]["Message"] == (
        f"Role {role_arn} is invalid or cannot be assumed"
    )
    with pytest.raises(ClientError, match="does not exist"):
        status(aws, stack)


def assumed(aws_env, statements: list[dict]):
    """A boto3 session of a role assumed by the tests' account, with these rights."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    session = boto3.Session(region_name=REGION)
    arn = role(lambda s: session.client(s), statements, trust)
    credentials = session.client("sts").assume_role(RoleArn=arn, RoleSessionName="drift")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def test_drift_by_a_caller_who_may_not_read_a_resource_fails_for_it(aws, aws_env):
    group, stack = unique("hm"), unique("hm-stack")
    aws("cloudformation").create_stack(StackName=stack, TemplateBody=template(group))
    # Reads every resource but the log group's tags.
    caller = assumed(aws_env, everything_but("logs:ListTagsForResource"))
    cfn = caller.client("cloudformation")
    detection = cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    found = wait(lambda _: cfn, detection)  # detection takes time, as on AWS
    # DETECTION_FAILED: "failed for at least one resource ... Results will be available for
    # resources on which CloudFormation successfully completed drift detection"
    # (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/
    # API_DescribeStackDriftDetectionStatus.html); the reason names the resources
    # ("Failed to detect drift on resources [...]", as quoted in
    # https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/801).
    assert found["DetectionStatus"] == "DETECTION_FAILED"
    reason = json.loads(found["DetectionStatusReason"])
    assert reason["Summary"] == "Failed to detect drift on resources [Logs]"
    (failure,) = reason["Failures"]
    assert failure["Resource"] == "Logs"
    assert "is not authorized to perform: logs:ListTagsForResource" in failure["FailureReason"]
    drifts = cfn.describe_stack_resource_drifts(StackName=stack)["StackResourceDrifts"]
    assert [d["LogicalResourceId"] for d in drifts] == ["Topic"]


def test_the_testing_keys_are_not_judged(aws):
    group, stack = unique("hm"), unique("hm-stack")
    aws("cloudformation").create_stack(StackName=stack, TemplateBody=template(group))
    assert status(aws, stack)[0] == "CREATE_COMPLETE"
    assert [e[1] for e in events(aws, stack)][:3] == [
        "CREATE_COMPLETE",
        "CREATE_COMPLETE",
        "CREATE_IN_PROGRESS",
    ]
