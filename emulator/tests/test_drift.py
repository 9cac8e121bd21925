"""The emulator's drift detection, through its HTTP API as Sceptre and boto3 see it.

Each test creates its own uniquely named stack on the session emulator, changes a
resource through the service's API as a person would, and asks CloudFormation.
"""

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from emulator.tests.test_fidelity import ecs_template, network, parameters  # noqa: F401

IMAGE = "repo@sha256:" + "ab" * 32


def drift_template(name: str) -> str:
    """The fidelity test's ECS stack plus a log group, an egress rule, an inline policy, a
    topic, and a type CloudFormation does not check (AWS::IAM::Policy)."""
    template = json.loads(ecs_template(name))
    resources = template["Resources"]
    resources["Logs"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": f"/test/{name}", "RetentionInDays": 7},
    }
    resources["Group"]["Properties"]["SecurityGroupEgress"] = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}
    ]
    resources["Role"]["Properties"]["Policies"] = [
        {
            "PolicyName": "write-logs",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:PutLogEvents"],
                        "Resource": {"Fn::GetAtt": ["Logs", "Arn"]},
                    }
                ],
            },
        }
    ]
    resources["Topic"] = {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "alerts"}}
    resources["ExtraPolicy"] = {
        # "This resource does not support drift detection" (docs.aws.amazon.com/
        # AWSCloudFormation/latest/TemplateReference/aws-resource-iam-policy.html)
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "extra",
            "Roles": [{"Ref": "Role"}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}],
            },
        },
    }
    return json.dumps(template)


@pytest.fixture
def stack(aws, network):  # noqa: F811
    name = f"drift-{uuid.uuid4().hex[:8]}"
    aws("cloudformation").create_stack(
        StackName=name, TemplateBody=drift_template(name), Parameters=parameters(IMAGE, network)
    )
    return name


def wait(aws, detection_id: str, limit: float = 30) -> dict:
    """The detection's status once it is no longer DETECTION_IN_PROGRESS."""
    cfn = aws("cloudformation")
    deadline = time.monotonic() + limit
    while True:
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS" or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def detect(aws, stack: str) -> tuple[dict, dict[str, dict]]:
    cfn = aws("cloudformation")
    detection_id = cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    status = wait(aws, detection_id)
    drifts = cfn.describe_stack_resource_drifts(StackName=stack)["StackResourceDrifts"]
    return status, {d["LogicalResourceId"]: d for d in drifts}


def physical_id(aws, stack: str, logical_id: str) -> str:
    resource = aws("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId=logical_id
    )
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def differences(drift: dict) -> list[tuple[str, str, str, str]]:
    return [
        (d["PropertyPath"], d["ExpectedValue"], d["ActualValue"], d["DifferenceType"])
        for d in drift["PropertyDifferences"]
    ]


def test_a_fresh_stack_is_in_sync_and_unknown_types_are_not_checked(aws, stack):
    status, drifts = detect(aws, stack)
    assert status["DetectionStatus"] == "DETECTION_COMPLETE"
    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == ("IN_SYNC", 0)
    statuses = {name: d["StackResourceDriftStatus"] for name, d in drifts.items()}
    assert statuses == {
        "Cluster": "IN_SYNC",
        "Role": "IN_SYNC",
        "TaskDefinition": "IN_SYNC",
        "Group": "IN_SYNC",
        "Service": "IN_SYNC",
        "Logs": "IN_SYNC",
        "Topic": "IN_SYNC",
        "ExtraPolicy": "NOT_CHECKED",
    }
    service = drifts["Service"]
    assert json.loads(service["ExpectedProperties"])["DesiredCount"] == 2
    assert json.loads(service["ActualProperties"])["DesiredCount"] == 2


def test_changed_retention_and_desired_count_are_reported_with_both_values(aws, stack):
    aws("logs").put_retention_policy(logGroupName=f"/test/{stack}", retentionInDays=14)
    service_arn = physical_id(aws, stack, "Service")
    aws("ecs").update_service(cluster=stack, service=service_arn, desiredCount=5)

    status, drifts = detect(aws, stack)

    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == ("DRIFTED", 2)
    assert differences(drifts["Logs"]) == [("/RetentionInDays", "7", "14", "NOT_EQUAL")]
    assert differences(drifts["Service"]) == [("/DesiredCount", "2", "5", "NOT_EQUAL")]
    assert drifts["Service"]["StackResourceDriftStatus"] == "MODIFIED"
    assert drifts["Cluster"]["StackResourceDriftStatus"] == "IN_SYNC"


def test_nested_policy_and_rule_changes_are_found(aws, stack):
    role = physical_id(aws, stack, "Role")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["logs:*"], "Resource": "*"}],
    }
    aws("iam").put_role_policy(
        RoleName=role, PolicyName="write-logs", PolicyDocument=json.dumps(document)
    )
    aws("ec2").authorize_security_group_egress(
        GroupId=physical_id(aws, stack, "Group"),
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            }
        ],
    )

    _, drifts = detect(aws, stack)

    paths = [d[0] for d in differences(drifts["Role"])]
    assert paths == [
        "/Policies/0/PolicyDocument/Statement/0/Action/0",
        "/Policies/0/PolicyDocument/Statement/0/Resource",
    ]
    # The added rule alone, as ADD at its index in the live list (API_PropertyDifference:
    # "ADD: A value has been added to a resource property that's an array or list data type").
    ((path, expected, actual, kind),) = differences(drifts["Group"])
    assert (path, expected, kind) == ("/SecurityGroupEgress/1", "null", "ADD")
    assert json.loads(actual) == {
        "IpProtocol": "tcp",
        "FromPort": 22,
        "ToPort": 22,
        "CidrIp": "10.0.0.0/8",
    }


def test_a_deleted_resource_is_reported_deleted(aws, stack):
    aws("logs").delete_log_group(logGroupName=f"/test/{stack}")
    status, drifts = detect(aws, stack)
    assert drifts["Logs"]["StackResourceDriftStatus"] == "DELETED"
    assert status["StackDriftStatus"] == "DRIFTED"


def test_status_filters_select_resources(aws, stack):
    aws("logs").put_retention_policy(logGroupName=f"/test/{stack}", retentionInDays=30)
    detect(aws, stack)
    filtered = aws("cloudformation").describe_stack_resource_drifts(
        StackName=stack, StackResourceDriftStatusFilters=["MODIFIED", "DELETED"]
    )["StackResourceDrifts"]
    assert [d["LogicalResourceId"] for d in filtered] == ["Logs"]


def test_unknown_stack_and_detection_are_refused_like_aws(aws):
    cfn = aws("cloudformation")
    with pytest.raises(ClientError, match="Stack with id no-such-stack does not exist"):
        cfn.detect_stack_drift(StackName="no-such-stack")
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stack_drift_detection_status(StackDriftDetectionId=str(uuid.uuid4()))


def test_detection_is_in_progress_before_it_completes(aws, stack):
    # "DETECTION_IN_PROGRESS: The stack drift detection operation is currently in progress";
    # DriftedStackResourceCount is given for DETECTION_COMPLETE only (docs.aws.amazon.com/
    # AWSCloudFormation/latest/APIReference/API_DescribeStackDriftDetectionStatus.html).
    cfn = aws("cloudformation")
    detection_id = cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    running = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
    assert running["DetectionStatus"] == "DETECTION_IN_PROGRESS"
    assert "DriftedStackResourceCount" not in running
    done = wait(aws, detection_id)
    assert (done["DetectionStatus"], done["DriftedStackResourceCount"]) == (
        "DETECTION_COMPLETE",
        0,
    )
