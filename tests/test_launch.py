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


SEEDED = {"product-service-shared-registry"}  # the emulator's account-level stack


def script(emulator, module: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
    env.update(emulator.env())
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_the_seeded_registry_is_what_sceptre_launch_shared_would_create(emulator):
    result = sceptre(emulator, "launch", "-y", "shared")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No updates to perform" in result.stderr


def test_a_missing_image_tag_stops_the_launch_before_any_stack_exists(emulator, aws):
    result = sceptre(emulator, "--var", "image_tag=no-such-tag", "launch", "-y", "dev")
    assert result.returncode != 0
    assert "no image tagged 'no-such-tag'" in result.stdout + result.stderr
    assert stack_names(aws) == SEEDED


def test_prod_refuses_to_launch_without_an_explicit_tag(emulator, aws):
    result = sceptre(emulator, "launch", "-y", "prod")
    assert result.returncode != 0
    assert "--var image_tag=TAG" in result.stdout + result.stderr
    assert stack_names(aws) == SEEDED


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
    # The pipeline stack launched too, and the summary names what the emulator skipped.
    assert "product-service-dev-pipeline: 10 of 11 declared resources exist" in result.stdout
    assert "ArtifactBucketPolicy (AWS::S3::BucketPolicy)" in result.stdout


def test_both_pipelines_show_their_stages(aws):
    pipelines = aws("codepipeline")
    dev = pipelines.get_pipeline(name="product-service-dev")["pipeline"]
    assert [s["name"] for s in dev["stages"]] == [
        "Source",
        "Build",
        "Deploy",
        "SmokeTest",
        "Promote",
    ]


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
    prod = aws("codepipeline").get_pipeline(name="product-service-prod")["pipeline"]
    assert [s["name"] for s in prod["stages"]] == ["Source", "Approve", "Deploy", "SmokeTest"]


def test_release_verify_and_smoke_test_pass_on_what_runs(emulator, aws, tmp_path):
    image = find_image(call_with(aws), "product-service", tag="1.0.0")
    release = tmp_path / "release.json"
    written = script(
        emulator,
        "scripts.release",
        "write",
        "--tag",
        "1.0.0",
        "--digest",
        image.digest,
        "--commit",
        "c0ffee",
    )
    release.write_text(written.stdout)
    verified = script(emulator, "scripts.release", "verify", str(release), "prod")
    assert verified.returncode == 0, verified.stderr
    assert "prod runs release 1.0.0" in verified.stdout

    other = find_image(call_with(aws), "product-service", tag="1.1.0")
    release.write_text(release.read_text().replace(image.digest, other.digest))
    refused = script(emulator, "scripts.release", "verify", str(release), "prod")
    assert refused.returncode == 1
    assert f"but the release is {other.digest}" in refused.stderr

    smoke = script(emulator, "scripts.smoke_test", "prod", "--timeout", "5")
    assert smoke.returncode == 0, smoke.stderr
    assert "2 running / 2 desired" in smoke.stdout


def test_relaunch_with_nothing_changed_updates_nothing(emulator, aws):
    before = live_service(aws, "prod")[1]["revision"]
    result = sceptre(emulator, "--var", "image_tag=1.0.0", "launch", "-y", "prod")
    assert result.returncode == 0, result.stdout + result.stderr
    # cluster, service, pipeline and drift-monitor (its CDK synth is deterministic)
    assert result.stderr.count("No updates to perform") == 4
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


def test_prod_is_protected_and_torn_down_only_on_purpose(emulator, aws):
    cfn = aws("cloudformation")
    for name in ("cluster", "service", "pipeline"):
        described = cfn.describe_stacks(StackName=f"product-service-prod-{name}")["Stacks"][0]
        assert described["EnableTerminationProtection"] is True
        policy = cfn.get_stack_policy(StackName=f"product-service-prod-{name}")
        assert "Update:Replace" in policy["StackPolicyBody"]
    refused = sceptre(emulator, "delete", "-y", "prod")
    assert refused.returncode != 0
    assert (
        "cannot be deleted while TerminationProtection is enabled"
        in refused.stdout + refused.stderr
    )
    assert "product-service-prod-cluster" in stack_names(aws)

    wrong = script(emulator, "scripts.teardown", "prod", "--confirm", "prod")
    assert wrong.returncode == 2
    assert "--confirm must be 'product-service-prod'" in wrong.stderr

    done = script(emulator, "scripts.teardown", "prod", "--confirm", "product-service-prod")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "AWS::Logs::LogGroup /ecs/product-service-prod" in done.stdout


def test_dev_deletes_plainly_and_prod_logs_outlive_prod(emulator, aws):
    result = sceptre(emulator, "delete", "-y", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert stack_names(aws) == SEEDED
    groups = {g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]}
    assert "/ecs/product-service-prod" in groups  # DeletionPolicy: Retain
    assert "/ecs/product-service-dev" not in groups
