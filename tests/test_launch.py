"""End to end on the emulator: the sceptre CLI launches dev as a user would.

The module has an emulator of its own: it creates, updates and deletes a whole environment.
Tests run in order and build on each other, like a user's session. prod's session is
tests/test_launch_prod.py, on an emulator of its own (two files, so parallel workers can run
them at once), which uses the helpers defined here.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from emulator.process import REGION, ROOT, Emulator
from emulator.seed import IMAGE_TAGS, REPOSITORY
from scripts import smoke_test
from tests.roles import Ran, python_module_in_process, quick, sceptre_in_process

SCEPTRE = Path(sys.executable).with_name("sceptre")


# Tasks take 3 s to start here: long enough for the smoke test (a second or two to start
# Python and Sceptre) to find a task still starting, as it would on ECS.
START_SECONDS = "3"


@pytest.fixture(scope="module")
def emulator():
    with Emulator(settings={"EMULATOR_TASK_START_SECONDS": START_SECONDS}) as running:
        yield running


@pytest.fixture(scope="module")
def aws(emulator):
    return emulator.client


def sceptre(emulator, *args: str, as_process: bool = False) -> Ran | subprocess.CompletedProcess:
    """sceptre ARGS on the emulator, in this process (tests/roles.py sceptre_in_process: a new
    process spends a second importing), or as the console script when as_process (dev's
    launch, as a user runs it)."""
    if not as_process:
        return sceptre_in_process(ROOT, quick(emulator.child_env()), *args)
    return subprocess.run(
        [str(SCEPTRE), *args],
        cwd=ROOT,
        env=quick(emulator.child_env()),
        capture_output=True,
        text=True,
        timeout=300,
    )


def image_reference(aws, digest: str) -> str:
    """A digest-pinned image of the project's repository, as ECR names it:
    ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY@sha256:... (registry URL:
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html; pulling by digest:
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-pull-ecr-image.html)."""
    account = aws("sts").get_caller_identity()["Account"]
    return f"{account}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}@{digest}"


def pushed_digest(aws, tag: str) -> str:
    """The digest ECR gave the image pushed under this tag (the seed pushed IMAGE_TAGS)."""
    found = aws("ecr").describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])
    return found["imageDetails"][0]["imageDigest"]


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


def first_subnet_per_zone(aws, vpc_id: str, tags: dict[str, str], zones: int) -> list[str]:
    """What !subnet_ids with max_azs picks: one subnet in each of the first zones."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    filters += [{"Name": f"tag:{k}", "Values": [v]} for k, v in tags.items()]
    subnets = aws("ec2").describe_subnets(Filters=filters)["Subnets"]
    first: dict[str, str] = {}
    for subnet in sorted(subnets, key=lambda s: (s["AvailabilityZone"], s["SubnetId"])):
        first.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    return [first[zone] for zone in sorted(first)[:zones]]


def default_vpc_id(aws) -> str:
    found = aws("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    return found["Vpcs"][0]["VpcId"]


def front_door(aws, env: str) -> dict:
    """The environment's load balancer as the ELB API describes it, with its listeners."""
    out = outputs(aws, f"product-service-{env}-load-balancer")
    elb = aws("elbv2")
    arn = out["LoadBalancerArn"]
    (balancer,) = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
    found = elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    balancer["Attributes"] = {a["Key"]: a["Value"] for a in found}
    found = elb.describe_listeners(LoadBalancerArn=arn)["Listeners"]
    balancer["Listeners"] = {listener["Port"]: listener for listener in found}
    balancer["Outputs"] = out
    return balancer


def target_group(aws, arn: str) -> dict:
    elb = aws("elbv2")
    (group,) = elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"]
    found = elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    group["Attributes"] = {a["Key"]: a["Value"] for a in found}
    return group


def forwarded_target_group(aws, listener_arn: str) -> str:
    """The target group the listener's rules forward to (the service stack's rule)."""
    rules = aws("elbv2").describe_rules(ListenerArn=listener_arn)["Rules"]
    (forward,) = [a for r in rules for a in r["Actions"] if a["Type"] == "forward"]
    return forward["TargetGroupArn"]


def scaling(aws, service: dict) -> tuple[dict, dict[str, dict]]:
    """The service's scalable target and its scaling policies by name."""
    resource_id = f"service/{service['clusterArn'].split('/')[-1]}/{service['serviceName']}"
    autoscaling = aws("application-autoscaling")
    (target,) = autoscaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource_id]
    )["ScalableTargets"]
    found = autoscaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)
    return target, {p["PolicyName"]: p for p in found["ScalingPolicies"]}


def stack_names(aws) -> set[str]:
    summaries = aws("cloudformation").list_stacks()["StackSummaries"]
    return {s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"}


SEEDED = {"product-service-shared-registry"}  # the emulator's account-level stack


def script(emulator, module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=emulator.child_env(),
        capture_output=True,
        text=True,
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
    result = sceptre(emulator, "launch", "-y", "dev", as_process=True)
    assert result.returncode == 0, result.stdout + result.stderr
    newest = image_reference(aws, pushed_digest(aws, IMAGE_TAGS[-1]))  # pushed last
    assert "most recently pushed image" in result.stderr
    assert "Deployed dev/service:" in result.stdout
    assert "1 running / 1 desired" in result.stdout
    url = outputs(aws, "product-service-dev-load-balancer")["Url"]
    assert url.startswith("http://") and url.endswith(".elb.amazonaws.com")
    assert f"url              {url}" in result.stdout
    assert "product-service-dev:1" in result.stdout
    assert newest in result.stdout
    service, task = live_service(aws, "dev")
    assert task["containerDefinitions"][0]["image"] == newest
    # The pipeline stack launched too (how many of its resources the emulator models changes
    # as the emulator grows: tests/test_stack_resources.py owns that count).
    assert "product-service-dev-pipeline:" in result.stdout


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
    # The first two zones' subnets: the load balancer's zones, where it can reach tasks.
    two_zones = first_subnet_per_zone(aws, default_vpc_id(aws), {}, zones=2)
    assert network["subnets"] == two_zones
    assert network["assignPublicIp"] == "ENABLED"
    # CloudFormation completes a service only once it is stable, so its task runs:
    # https://github.com/aws/copilot-cli/issues/1879 (a failing service holds the stack).
    assert (service["desiredCount"], service["runningCount"]) == (1, 1)
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"


def test_dev_is_served_over_http_by_its_load_balancer(aws):
    balancer = front_door(aws, "dev")
    assert (balancer["Scheme"], balancer["Type"]) == ("internet-facing", "application")
    zones = sorted(z["SubnetId"] for z in balancer["AvailabilityZones"])
    assert zones == sorted(first_subnet_per_zone(aws, default_vpc_id(aws), {}, zones=2))
    assert balancer["SecurityGroups"] == [balancer["Outputs"]["SecurityGroupId"]]
    assert balancer["Attributes"]["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert balancer["Attributes"]["access_logs.s3.enabled"] == "false"
    assert list(balancer["Listeners"]) == [80]  # no certificate: plain HTTP only
    assert balancer["Listeners"][80]["Protocol"] == "HTTP"

    service, _ = live_service(aws, "dev")
    (registration,) = service["loadBalancers"]
    assert (registration["containerName"], registration["containerPort"]) == (
        "ProductService",
        3000,
    )
    listener = balancer["Listeners"][80]["ListenerArn"]
    assert forwarded_target_group(aws, listener) == registration["targetGroupArn"]
    group = target_group(aws, registration["targetGroupArn"])
    assert (group["TargetType"], group["Port"], group["HealthCheckPath"]) == ("ip", 3000, "/hello")
    assert (group["HealthCheckIntervalSeconds"], group["HealthyThresholdCount"]) == (5, 2)
    assert group["Attributes"]["deregistration_delay.timeout_seconds"] == "5"
    assert group["LoadBalancerArns"] == [balancer["LoadBalancerArn"]]
    assert service["healthCheckGracePeriodSeconds"] == 30


def test_dev_tasks_admit_only_the_load_balancer(aws):
    service, _ = live_service(aws, "dev")
    (group_id,) = service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    (group,) = aws("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    (rule,) = group["IpPermissions"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 3000, 3000)
    assert rule["IpRanges"] == []
    load_balancer_group = front_door(aws, "dev")["SecurityGroups"][0]
    assert [pair["GroupId"] for pair in rule["UserIdGroupPairs"]] == [load_balancer_group]


def test_dev_scales_between_one_and_two_tasks(aws):
    service, _ = live_service(aws, "dev")
    target, policies = scaling(aws, service)
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)
    assert set(policies) == {"cpu", "requests"}
    label = policies["requests"]["TargetTrackingScalingPolicyConfiguration"][
        "PredefinedMetricSpecification"
    ]["ResourceLabel"]
    balancer, group = label.split("/targetgroup/")
    assert balancer == outputs(aws, "product-service-dev-load-balancer")["LoadBalancerFullName"]
    assert f"targetgroup/{group}" == service["loadBalancers"][0]["targetGroupArn"].split(":")[-1]


def smoke(emulator, env: str, *args: str) -> Ran:
    """python -m scripts.smoke_test ENV ARGS, in this process (tests/roles.py
    python_module_in_process: a new Python spends over a second importing). The pipeline's
    smoke-test step runs it as a process in tests/test_deploy_environment.py."""
    return python_module_in_process(
        ROOT, emulator.child_env(), "scripts.smoke_test", env, "--interval", "0.2", *args
    )


def dev_service_ids(aws) -> dict[str, str]:
    out = outputs(aws, "product-service-dev-service")
    return {"cluster": out["ClusterName"], "service": out["ServiceName"]}


def test_the_smoke_test_waits_for_tasks_that_are_still_starting(emulator, aws, monkeypatch, capsys):
    aws("ecs").update_service(**dev_service_ids(aws), desiredCount=2)
    # Its main() called here, so its first look comes at once, while the new task still starts
    # (a new Python process may take longer than the task's 3 s on a loaded machine).
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    returncode = smoke_test.main(["dev", "--timeout", "30", "--interval", "0.2"])
    printed = capsys.readouterr()
    assert returncode == 0, printed.err
    # A new task is PENDING before it is RUNNING:
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html
    assert "waiting: 1 of 2 tasks running" in printed.err
    assert "2 running / 2 desired" in printed.out
    aws("ecs").update_service(**dev_service_ids(aws), desiredCount=1)


def test_the_smoke_test_times_out_on_a_rollout_still_in_progress(emulator, aws):
    aws("ecs").update_service(**dev_service_ids(aws), forceNewDeployment=True)
    result = smoke(emulator, "dev", "--timeout", "0")
    assert result.returncode == 1
    assert "rollout IN_PROGRESS after 0 s" in result.stderr
    assert smoke(emulator, "dev", "--timeout", "30").returncode == 0


def test_the_smoke_test_fails_when_tasks_fail_their_health_checks(emulator, aws):
    ecs, ids = aws("ecs"), dev_service_ids(aws)
    arn = ecs.describe_services(cluster=ids["cluster"], services=[ids["service"]])["services"][0][
        "serviceArn"
    ]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "emulator:health-checks", "value": "fail"}])
    try:
        ecs.update_service(**ids, forceNewDeployment=True)
        # Polls once a second: the breaker trips some 20 s in, and each poll makes the
        # emulator describe the service and its tasks (0.2 s polls: 6.8 -> 2.8 s of CPU).
        result = smoke(emulator, "dev", "--timeout", "120", "--interval", "1")
    finally:
        ecs.untag_resource(resourceArn=arn, tagKeys=["emulator:health-checks"])
    assert result.returncode == 1
    # dev enables the circuit breaker; its reason as ECS writes it:
    # https://github.com/aws/containers-roadmap/issues/1488
    assert "ECS deployment circuit breaker: tasks failed to start." in result.stderr
    # The service event ECS writes for an unhealthy Fargate task:
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-unhealthy-event-messages.html
    assert "is unhealthy in (target-group arn:aws:elasticloadbalancing:" in result.stderr
    # The breaker rolled back to the last completed deployment, which serves again.
    assert smoke(emulator, "dev", "--timeout", "30").returncode == 0


def test_dev_deletes_plainly(emulator, aws):
    result = sceptre(emulator, "delete", "-y", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert stack_names(aws) == SEEDED
    groups = {g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]}
    assert "/ecs/product-service-dev" not in groups  # DeletionPolicy: Delete
    assert aws("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert aws("elbv2").describe_target_groups()["TargetGroups"] == []
