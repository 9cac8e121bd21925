"""emulator/stack_answers.py: CloudFormation answers as AWS does, seen through boto3.

- DescribeStacks returns a list parameter as the comma-separated value that was passed and
  masks NoEcho parameters as "****"
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html);
- stack tags and aws:cloudformation:stack-name / stack-id / logical-id reach every taggable
  resource (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html);
- ValidateTemplate returns Parameters and Description
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ValidateTemplate.html).
"""

import json
import threading
import uuid

import pytest
from botocore.exceptions import ClientError

from emulator.tests.stacks import fargate_service, until_created_meanwhile

STACK_TAGS = [{"Key": "Project", "Value": "answers"}, {"Key": "Environment", "Value": "test"}]


@pytest.fixture
def network(aws):
    ec2 = aws("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    ordered = sorted(subnets["Subnets"], key=lambda s: s["AvailabilityZone"])
    return vpc["VpcId"], [s["SubnetId"] for s in ordered[:2]]


def template(name: str) -> dict:
    """One resource of each taggable type the project's templates declare."""
    return {
        "Description": "stack answers test",
        "Parameters": {
            "VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "the VPC"},
            "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>"},
            "Names": {"Type": "CommaDelimitedList", "Default": "a,b"},
            "Secret": {"Type": "String", "NoEcho": True},
            "Days": {"Type": "Number", "Default": 7},
        },
        "Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": name}},
            "TaskDefinition": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": name,
                    "ContainerDefinitions": [{"Name": "app", "Image": "nginx", "Memory": 128}],
                },
            },
            "LogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": name, "RetentionInDays": {"Ref": "Days"}},
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Group": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "g", "VpcId": {"Ref": "VpcId"}},
            },
            "LoadBalancer": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {"Subnets": {"Ref": "SubnetIds"}},
            },
            "TargetGroup": {
                "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                "Properties": {
                    "VpcId": {"Ref": "VpcId"},
                    "TargetType": "ip",
                    "Protocol": "HTTP",
                    "Port": 3000,
                },
            },
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    }
                },
            },
            "Topic": {"Type": "AWS::SNS::Topic"},
        },
    }


@pytest.fixture
def stack(aws, network):
    vpc_id, subnet_ids = network
    name = f"answers-{uuid.uuid4().hex[:8]}"
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template(name)),
        Parameters=[
            {"ParameterKey": "VpcId", "ParameterValue": vpc_id},
            {"ParameterKey": "SubnetIds", "ParameterValue": ",".join(subnet_ids)},
            {"ParameterKey": "Secret", "ParameterValue": "hunter2"},
        ],
        Tags=STACK_TAGS,
    )
    described = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return name, described, {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def test_describe_stacks_returns_parameters_as_passed(stack, network):
    _, described, _ = stack
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    assert parameters == {
        "VpcId": network[0],
        "SubnetIds": ",".join(network[1]),  # as passed, not a Python list
        "Names": "a,b",
        "Secret": "****",  # NoEcho
        "Days": "7",
    }


def expected_tags(name: str, stack_id: str, logical_id: str) -> dict[str, str]:
    return {
        "Project": "answers",
        "Environment": "test",
        "aws:cloudformation:stack-name": name,
        "aws:cloudformation:stack-id": stack_id,
        "aws:cloudformation:logical-id": logical_id,
    }


def live_tags(aws, logical_id: str, physical: str) -> dict[str, str]:
    """The tags each service reports for the resource, through its own API."""
    if logical_id in ("Cluster", "TaskDefinition"):
        ecs = aws("ecs")
        if logical_id == "Cluster":
            arn = ecs.describe_clusters(clusters=[physical])["clusters"][0]["clusterArn"]
        else:
            arn = physical
        tags = ecs.list_tags_for_resource(resourceArn=arn)["tags"]
        return {t["key"]: t["value"] for t in tags}
    if logical_id == "LogGroup":
        return aws("logs").list_tags_log_group(logGroupName=physical)["tags"]
    if logical_id == "Role":
        return {t["Key"]: t["Value"] for t in aws("iam").list_role_tags(RoleName=physical)["Tags"]}
    if logical_id == "Group":
        group = aws("ec2").describe_security_groups(GroupIds=[physical])["SecurityGroups"][0]
        return {t["Key"]: t["Value"] for t in group.get("Tags", [])}
    if logical_id in ("LoadBalancer", "TargetGroup"):
        described = aws("elbv2").describe_tags(ResourceArns=[physical])["TagDescriptions"][0]
        return {t["Key"]: t["Value"] for t in described["Tags"]}
    if logical_id == "Bucket":
        tags = aws("s3").get_bucket_tagging(Bucket=physical)["TagSet"]
        return {t["Key"]: t["Value"] for t in tags}
    if logical_id == "Topic":
        tags = aws("sns").list_tags_for_resource(ResourceArn=physical)["Tags"]
        return {t["Key"]: t["Value"] for t in tags}
    raise AssertionError(logical_id)


@pytest.mark.parametrize(
    "logical_id",
    [
        "Cluster",
        "TaskDefinition",
        "LogGroup",
        "Role",
        "Group",
        "LoadBalancer",
        "TargetGroup",
        "Bucket",
        "Topic",
    ],
)
def test_stack_tags_reach_every_taggable_resource(aws, stack, logical_id):
    name, described, physical = stack
    tags = live_tags(aws, logical_id, physical[logical_id])
    expected = expected_tags(name, described["StackId"], logical_id)
    assert {k: tags.get(k) for k in expected} == expected


def test_changed_stack_tags_reach_the_resources_on_update(aws, stack):
    name, described, physical = stack
    # Only the tags change: CloudFormation updates the stack for that alone (UpdateStack's
    # Tags, docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html).
    cfn = aws("cloudformation")
    cfn.update_stack(
        StackName=name,
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            for p in described["Parameters"]
            if p["ParameterKey"] in ("VpcId", "SubnetIds", "Secret")
        ],
        Tags=[{"Key": "Project", "Value": "answers"}, {"Key": "Environment", "Value": "prod"}],
    )
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert live_tags(aws, "TaskDefinition", physical["TaskDefinition"])["Environment"] == "prod"


def test_validate_template_returns_parameters_and_description(aws):
    # The template has an unused parameter (Names): a linter's warning, not a template error.
    answer = aws("cloudformation").validate_template(TemplateBody=json.dumps(template("v")))
    assert answer["Description"] == "stack answers test"
    assert {p["ParameterKey"]: p for p in answer["Parameters"]} == {
        "VpcId": {"ParameterKey": "VpcId", "NoEcho": False, "Description": "the VPC"},
        "SubnetIds": {"ParameterKey": "SubnetIds", "NoEcho": False},
        "Names": {"ParameterKey": "Names", "NoEcho": False, "DefaultValue": "a,b"},
        "Secret": {"ParameterKey": "Secret", "NoEcho": True},
        "Days": {"ParameterKey": "Days", "NoEcho": False, "DefaultValue": "7"},
    }


def test_a_second_create_of_a_stack_being_created_is_refused(slow_aws):
    aws = slow_aws
    # CreateStack of a name that exists fails with AlreadyExistsException
    # (docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html, Errors),
    # also while the first create is still running. A service's create takes as long as its
    # tasks take to start (emulator/task_lifecycle.py; 2 s here), time for a second call.
    subnet = aws("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    name = f"twice-{uuid.uuid4().hex[:8]}"
    body = json.dumps(fargate_service(subnet))
    cfn = aws("cloudformation")
    first = threading.Thread(
        target=cfn.create_stack, kwargs={"StackName": name, "TemplateBody": body}
    )
    first.start()
    until_created_meanwhile(aws("cloudformation"), name)
    with pytest.raises(ClientError) as refused:
        aws("cloudformation").create_stack(StackName=name, TemplateBody=body)
    first.join()
    assert refused.value.response["Error"]["Code"] == "AlreadyExistsException"
    assert refused.value.response["Error"]["Message"] == f"Stack [{name}] already exists"
    stacks = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == name]
    assert len(stacks) == 1
