"""End to end on the emulator: the sceptre CLI launches both environments as a user would.

The module has an emulator of its own: it creates, updates and deletes whole environments.
Tests run in order and build on each other, like a user's session.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from emulator.process import REGION, ROOT, Emulator
from emulator.seed import PROD_VPC_NAME, fake_manifest
from resolvers.image_url import find_image

SCEPTRE = Path(sys.executable).with_name("sceptre")


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def aws(emulator):
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return lambda service: session.client(service, endpoint_url=emulator.url)


def sceptre(emulator, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "IMAGE_TAG")}
    env.update(emulator.env())
    return subprocess.run(
        [str(SCEPTRE), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def call_with(aws):
    return lambda service, command, kwargs: getattr(aws(service), command)(**kwargs)


def outputs(aws, stack: str) -> dict[str, str]:
    described = aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


def live_service(aws, env: str) -> tuple[dict, dict]:
    out = outputs(aws, f"product-service-{env}-service")
    ecs = aws("ecs")
    (service,) = ecs.describe_services(cluster=out["ClusterName"], services=[out["ServiceName"]])[
        "services"
    ]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    return service, task


def physical_id(aws, stack: str, logical_id: str) -> str:
    resource = aws("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId=logical_id
    )
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def stack_names(aws) -> set[str]:
    summaries = aws("cloudformation").list_stacks()["StackSummaries"]
    return {s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"}


def test_a_missing_image_tag_stops_the_launch_before_any_stack_exists(emulator, aws):
    result = sceptre(emulator, "--var", "image_tag=no-such-tag", "launch", "-y", "dev")
    assert result.returncode != 0
    assert "no image tagged 'no-such-tag'" in result.stdout + result.stderr
    assert stack_names(aws) == set()


def test_prod_refuses_to_launch_without_an_explicit_tag(emulator, aws):
    result = sceptre(emulator, "launch", "-y", "prod")
    assert result.returncode != 0
    assert "--var image_tag=TAG" in result.stdout + result.stderr
    assert stack_names(aws) == set()


def test_dev_launches_with_the_newest_image_and_prints_a_summary(emulator, aws):
    result = sceptre(emulator, "launch", "-y", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    newest = find_image(call_with(aws), "product-service")
    assert "most recently pushed image" in result.stderr
    assert "Deployed dev/service:" in result.stdout
    assert "1 running / 1 desired" in result.stdout
    assert "product-service-dev:1" in result.stdout
    assert newest.url in result.stdout
    service, task = live_service(aws, "dev")
    assert task["containerDefinitions"][0]["image"] == newest.url


def test_dev_service_is_live_as_declared(aws):
    service, task = live_service(aws, "dev")
    assert service["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1}
    ]
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    default_vpc = aws("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    subnets = aws("ec2").describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [default_vpc["Vpcs"][0]["VpcId"]]}]
    )["Subnets"]
    assert sorted(network["subnets"]) == sorted(s["SubnetId"] for s in subnets)
    assert network["assignPublicIp"] == "ENABLED"
    assert (service["desiredCount"], service["runningCount"]) == (1, 1)


def test_prod_launches_the_named_image_in_its_private_subnets(emulator, aws):
    result = sceptre(emulator, "--var", "image_tag=1.0.0", "launch", "-y", "prod")
    assert result.returncode == 0, result.stdout + result.stderr
    service, task = live_service(aws, "prod")
    stack = "product-service-prod-service"

    assert service["launchType"] == "FARGATE"
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    vpc = aws("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [PROD_VPC_NAME]}])
    private = aws("ec2").describe_subnets(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc["Vpcs"][0]["VpcId"]]},
            {"Name": "tag:Tier", "Values": ["private"]},
        ]
    )["Subnets"]
    assert sorted(network["subnets"]) == sorted(s["SubnetId"] for s in private)
    assert network["securityGroups"] == [physical_id(aws, stack, "ServiceSecurityGroup")]
    assert network["assignPublicIp"] == "DISABLED"
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    assert (service["desiredCount"], service["runningCount"]) == (2, 2)

    assert (task["cpu"], task["memory"], task["networkMode"]) == ("256", "512", "awsvpc")
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["executionRoleArn"].endswith("/" + physical_id(aws, stack, "ExecutionRole"))
    assert task["taskRoleArn"].endswith("/" + physical_id(aws, stack, "TaskRole"))
    assert task["executionRoleArn"] != task["taskRoleArn"]
    image = find_image(call_with(aws), "product-service", tag="1.0.0")
    assert task["containerDefinitions"][0]["image"] == image.url
    assert "@sha256:" in image.url


def test_relaunch_with_nothing_changed_updates_nothing(emulator, aws):
    before = live_service(aws, "prod")[1]["revision"]
    result = sceptre(emulator, "--var", "image_tag=1.0.0", "launch", "-y", "prod")
    assert result.returncode == 0, result.stdout + result.stderr
    # cluster, service and drift-monitor (its CDK synth is deterministic)
    assert result.stderr.count("No updates to perform") == 3
    assert "UPDATE_IN_PROGRESS" not in result.stderr
    assert live_service(aws, "prod")[1]["revision"] == before


def test_a_new_image_becomes_a_new_revision(emulator, aws):
    time.sleep(1)  # ECR keeps push times to the second
    aws("ecr").put_image(
        repositoryName="product-service", imageManifest=fake_manifest("2.0.0"), imageTag="2.0.0"
    )
    old_service, old_task = live_service(aws, "prod")
    result = sceptre(emulator, "--var", "image_tag=2.0.0", "launch", "-y", "prod")
    assert result.returncode == 0, result.stdout + result.stderr
    service, task = live_service(aws, "prod")
    assert task["revision"] == old_task["revision"] + 1
    new_image = find_image(call_with(aws), "product-service", tag="2.0.0").url
    assert task["containerDefinitions"][0]["image"] == new_image
    assert task["containerDefinitions"][0]["name"] == "ProductService"
    assert f"product-service-prod:{task['revision']}" in result.stdout
    assert service["serviceArn"] == old_service["serviceArn"]  # updated in place


def test_delete_removes_both_environments_but_keeps_prod_logs(emulator, aws):
    for env in ("dev", "prod"):
        result = sceptre(emulator, "delete", "-y", env)
        assert result.returncode == 0, result.stdout + result.stderr
    assert stack_names(aws) == set()
    groups = {g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]}
    assert "/ecs/product-service-prod" in groups  # DeletionPolicy: Retain
    assert "/ecs/product-service-dev" not in groups
