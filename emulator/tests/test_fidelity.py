"""The fidelity layer, tested through the emulator's HTTP API as Sceptre and boto3 see it.

Each test creates its own uniquely named stack on the session emulator.
"""

import json
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from emulator.process import EMULATOR_PYTHON, ROOT

DIGEST = "sha256:" + "ab" * 32


def ecs_template(name: str, with_spot: bool = False) -> str:
    """A cluster, task definition and service declared the way templates/ does."""
    service = {
        "Cluster": {"Ref": "Cluster"},
        "TaskDefinition": {"Ref": "TaskDefinition"},
        "DesiredCount": 2,
        "DeploymentConfiguration": {
            "MinimumHealthyPercent": 100,
            "MaximumPercent": 200,
            "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
        },
        "NetworkConfiguration": {
            "AwsvpcConfiguration": {
                "AssignPublicIp": "DISABLED",
                "SecurityGroups": [{"Ref": "Group"}],
                "Subnets": {"Ref": "SubnetIds"},
            }
        },
    }
    if with_spot:
        service["CapacityProviderStrategy"] = [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    else:
        service["LaunchType"] = "FARGATE"
    return json.dumps(
        {
            "Parameters": {
                "Image": {"Type": "String"},
                "VpcId": {"Type": "AWS::EC2::VPC::Id"},
                "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>"},
            },
            "Resources": {
                "Cluster": {
                    "Type": "AWS::ECS::Cluster",
                    "Properties": {
                        "ClusterName": name,
                        "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}],
                        "CapacityProviders": ["FARGATE", "FARGATE_SPOT"],
                    },
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
                "TaskDefinition": {
                    "Type": "AWS::ECS::TaskDefinition",
                    "Properties": {
                        "Family": name,
                        "Cpu": "256",
                        "Memory": "512",
                        "NetworkMode": "awsvpc",
                        "RequiresCompatibilities": ["FARGATE"],
                        "ExecutionRoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                        "TaskRoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                        "ContainerDefinitions": [
                            {
                                "Name": "ProductService",
                                "Image": {"Ref": "Image"},
                                "Essential": True,
                                "PortMappings": [{"ContainerPort": 3000}],
                            }
                        ],
                    },
                },
                "Group": {
                    "Type": "AWS::EC2::SecurityGroup",
                    "Properties": {"GroupDescription": "test", "VpcId": {"Ref": "VpcId"}},
                },
                "Service": {"Type": "AWS::ECS::Service", "Properties": service},
            },
            "Outputs": {"ServiceName": {"Value": {"Fn::GetAtt": ["Service", "Name"]}}},
        }
    )


@pytest.fixture
def network(aws):
    return default_network(aws)


def default_network(aws) -> tuple[str, list[str]]:
    """The default VPC's id and two of its subnets."""
    ec2 = aws("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    return vpc["VpcId"], [s["SubnetId"] for s in subnets["Subnets"]][:2]


def parameters(image: str, network) -> list[dict]:
    vpc_id, subnet_ids = network
    return [
        {"ParameterKey": "Image", "ParameterValue": image},
        {"ParameterKey": "VpcId", "ParameterValue": vpc_id},
        {"ParameterKey": "SubnetIds", "ParameterValue": ",".join(subnet_ids)},
    ]


def create(aws, network, with_spot=False, image=f"repo@{DIGEST}"):
    name = f"fidelity-{uuid.uuid4().hex[:8]}"
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=ecs_template(name, with_spot),
        Parameters=parameters(image, network),
    )
    outputs = cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    service = aws("ecs").describe_services(cluster=name, services=[outputs[0]["OutputValue"]])
    return name, service["services"][0]


def group_id(aws, stack: str) -> str:
    resource = aws("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId="Group"
    )
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def test_cluster_keeps_settings_and_capacity_providers(aws, network):
    name, _ = create(aws, network)
    (cluster,) = aws("ecs").describe_clusters(clusters=[name])["clusters"]
    assert cluster["clusterName"] == name
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]


def test_task_definition_keeps_fargate_properties_and_roles(aws, network):
    name, service = create(aws, network)
    task = aws("ecs").describe_task_definition(taskDefinition=service["taskDefinition"])
    task = task["taskDefinition"]
    assert (task["cpu"], task["memory"], task["networkMode"]) == ("256", "512", "awsvpc")
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["executionRoleArn"].startswith("arn:aws:iam::") and task["taskRoleArn"]
    (container,) = task["containerDefinitions"]
    assert (container["name"], container["image"]) == ("ProductService", f"repo@{DIGEST}")
    assert container["portMappings"][0]["containerPort"] == 3000


def test_service_keeps_network_deployment_and_launch_type(aws, network):
    name, service = create(aws, network)
    assert service["launchType"] == "FARGATE"
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    awsvpc = service["networkConfiguration"]["awsvpcConfiguration"]
    assert awsvpc["subnets"] == network[1]
    assert awsvpc["securityGroups"] == [group_id(aws, name)]
    assert awsvpc["assignPublicIp"] == "DISABLED"
    assert (service["desiredCount"], service["runningCount"]) == (2, 2)


def test_service_with_capacity_providers_has_no_launch_type(aws, network):
    _, service = create(aws, network, with_spot=True)
    assert "launchType" not in service
    assert service["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1}
    ]


def test_image_change_registers_a_new_revision_and_moves_the_service(aws, network):
    name, service = create(aws, network)
    new_image = "repo@sha256:" + "cd" * 32
    cfn, ecs = aws("cloudformation"), aws("ecs")
    cfn.update_stack(
        StackName=name,
        TemplateBody=ecs_template(name),
        Parameters=parameters(new_image, network),
    )
    (updated,) = ecs.describe_services(cluster=name, services=[service["serviceName"]])["services"]
    task = ecs.describe_task_definition(taskDefinition=updated["taskDefinition"])["taskDefinition"]
    assert task["revision"] == 2
    assert task["containerDefinitions"][0]["name"] == "ProductService"
    assert task["containerDefinitions"][0]["image"] == new_image
    old = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert old["status"] == "INACTIVE"
    assert updated["networkConfiguration"] == service["networkConfiguration"]


def test_update_with_nothing_changed_is_refused_like_aws(aws, network):
    name, _ = create(aws, network)
    cfn = aws("cloudformation")
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(
            StackName=name,
            TemplateBody=ecs_template(name),
            Parameters=parameters(f"repo@{DIGEST}", network),
        )
    bare = f"bare-{uuid.uuid4().hex[:8]}"
    template = json.dumps({"Resources": {"Cluster": {"Type": "AWS::ECS::Cluster"}}})
    cfn.create_stack(StackName=bare, TemplateBody=template)
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName=bare, TemplateBody=template)


def test_a_template_that_differs_only_in_layout_is_no_change(aws):
    name = f"layout-{uuid.uuid4().hex[:8]}"
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody="Resources:\n  C: {Type: AWS::ECS::Cluster}\n")
    relaid = "# a comment\nResources:\n  C:\n    Type: AWS::ECS::Cluster\n"
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName=name, TemplateBody=relaid)
    changed = "Resources:\n  C: {Type: AWS::ECS::Cluster}\n  D: {Type: AWS::ECS::Cluster}\n"
    cfn.update_stack(StackName=name, TemplateBody=changed)  # a real change still updates


def test_stack_delete_removes_service_cluster_and_task_definition(aws, network):
    name, service = create(aws, network)
    aws("cloudformation").delete_stack(StackName=name)
    ecs = aws("ecs")
    # As on AWS, deleted clusters and services stay visible for a while as INACTIVE.
    assert [c["status"] for c in ecs.describe_clusters(clusters=[name])["clusters"]] == ["INACTIVE"]
    (gone,) = ecs.describe_services(cluster=name, services=[service["serviceName"]])["services"]
    assert gone["status"] != "ACTIVE"
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert task["status"] == "INACTIVE"


def test_layer_refuses_a_moto_version_it_was_not_written_for():
    script = (
        "import moto; moto.__version__ = '0.0.0'; from emulator import fidelity; fidelity.install()"
    )
    result = subprocess.run(
        [str(EMULATOR_PYTHON), "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "written against moto 5.2.5, found 0.0.0" in result.stderr


def test_declared_egress_replaces_the_default_allow_all_rule(aws, network):
    name = f"egress-{uuid.uuid4().hex[:8]}"
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}
    group = {"GroupDescription": "test", "VpcId": network[0], "SecurityGroupEgress": [rule]}
    template = {"Resources": {"Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": group}}}
    aws("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    (described,) = aws("ec2").describe_security_groups(GroupIds=[group_id(aws, name)])[
        "SecurityGroups"
    ]
    egress = [
        (p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), [r["CidrIp"] for r in p["IpRanges"]])
        for p in described["IpPermissionsEgress"]
    ]
    assert egress == [("tcp", 443, 443, ["0.0.0.0/0"])]
