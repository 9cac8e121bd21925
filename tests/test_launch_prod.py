"""End to end on the emulator: the sceptre CLI launches prod as a user would.

prod's session, on an emulator of its own (tests/test_launch.py is dev's, and holds the
fixtures and helpers both use). Tests run in order and build on each other.
"""

import time

import pytest

from emulator.process import ROOT, Emulator
from emulator.seed import PROD_DOMAIN, PROD_VPC_NAME, fake_manifest
from tests.roles import Ran, python_module_in_process
from tests.test_launch import (
    SEEDED,
    START_SECONDS,
    first_subnet_per_zone,
    forwarded_target_group,
    front_door,
    image_reference,
    live_service,
    physical_id,
    pushed_digest,
    scaling,
    sceptre,
    script,
    stack_names,
    target_group,
)


@pytest.fixture(scope="module")
def emulator():
    with Emulator(settings={"EMULATOR_TASK_START_SECONDS": START_SECONDS}) as running:
        yield running


@pytest.fixture(scope="module")
def aws(emulator):
    return emulator.client


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
        # A deploy that trips either alarm rolls back (issue 13).
        "alarms": {
            "alarmNames": [
                "product-service-prod-target-5xx-rate",
                "product-service-prod-response-time-p90",
            ],
            "enable": True,
            "rollback": True,
        },
    }
    # No DesiredCount is declared: registering the scalable target raised it to its minimum.
    # Application Auto Scaling does that after the service is stable, and CloudFormation does
    # not wait for the second task: it may still be starting (the smoke test waits for it).
    assert service["desiredCount"] == 2
    assert service["runningCount"] + service["pendingCount"] == 2
    target, _ = scaling(aws, service)
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)

    assert (task["cpu"], task["memory"], task["networkMode"]) == ("256", "512", "awsvpc")
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["executionRoleArn"].endswith("/" + physical_id(aws, stack, "ExecutionRole"))
    assert task["taskRoleArn"].endswith("/" + physical_id(aws, stack, "TaskRole"))
    assert task["executionRoleArn"] != task["taskRoleArn"]
    assert task["containerDefinitions"][0]["image"] == image_reference(
        aws, pushed_digest(aws, "1.0.0")
    )
    prod = aws("codepipeline").get_pipeline(name="product-service-prod")["pipeline"]
    assert [s["name"] for s in prod["stages"]] == ["Source", "Approve", "Deploy", "SmokeTest"]


def in_process(emulator, module: str, *args: str) -> Ran:
    """python -m MODULE ARGS on the emulator, in this process (tests/roles.py
    python_module_in_process: a new Python spends over a second importing). The scripts run
    as processes in tests/test_deploy_environment.py, from the pipeline's buildspecs."""
    return python_module_in_process(ROOT, emulator.child_env(), module, *args)


def test_release_verify_and_smoke_test_pass_on_what_runs(emulator, aws, tmp_path):
    digest = pushed_digest(aws, "1.0.0")
    release = tmp_path / "release.json"
    written = in_process(
        emulator,
        "scripts.release",
        "write",
        "--tag",
        "1.0.0",
        "--digest",
        digest,
        "--commit",
        "c0ffee",
    )
    release.write_text(written.stdout)
    verified = in_process(emulator, "scripts.release", "verify", str(release), "prod")
    assert verified.returncode == 0, verified.stderr
    assert "prod runs release 1.0.0" in verified.stdout

    other = pushed_digest(aws, "1.1.0")
    release.write_text(release.read_text().replace(digest, other))
    refused = in_process(emulator, "scripts.release", "verify", str(release), "prod")
    assert refused.returncode == 1
    assert f"but the release is {other}" in refused.stderr

    smoke = in_process(
        emulator, "scripts.smoke_test", "prod", "--timeout", "30", "--interval", "0.2"
    )
    assert smoke.returncode == 0, smoke.stderr
    assert "2 running / 2 desired" in smoke.stdout


def test_prod_is_served_over_https_and_redirects_http(aws):
    balancer = front_door(aws, "prod")
    vpc = aws("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [PROD_VPC_NAME]}])
    public = first_subnet_per_zone(aws, vpc["Vpcs"][0]["VpcId"], {"Tier": "public"}, zones=3)
    assert sorted(z["SubnetId"] for z in balancer["AvailabilityZones"]) == sorted(public)
    assert sorted(balancer["Listeners"]) == [80, 443]
    https, http = balancer["Listeners"][443], balancer["Listeners"][80]
    assert (https["Protocol"], https["SslPolicy"]) == (
        "HTTPS",
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
    )
    # ListCertificates lists RSA keys unless asked for others; the seeded one is EC P-256:
    # https://docs.aws.amazon.com/acm/latest/APIReference/API_ListCertificates.html
    issued = aws("acm").list_certificates(
        CertificateStatuses=["ISSUED"], Includes={"keyTypes": ["EC_prime256v1"]}
    )["CertificateSummaryList"]
    seeded = next(c["CertificateArn"] for c in issued if c["DomainName"] == PROD_DOMAIN)
    assert https["Certificates"] == [{"CertificateArn": seeded}]
    assert http["DefaultActions"] == [
        {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
    ]
    assert balancer["Outputs"]["Url"] == f"https://{PROD_DOMAIN}"

    service, _ = live_service(aws, "prod")
    group_arn = service["loadBalancers"][0]["targetGroupArn"]
    assert forwarded_target_group(aws, https["ListenerArn"]) == group_arn
    group = target_group(aws, group_arn)
    assert (group["HealthCheckIntervalSeconds"], group["HealthyThresholdCount"]) == (10, 2)
    assert group["Attributes"]["deregistration_delay.timeout_seconds"] == "30"


def test_prod_access_logs_go_to_an_encrypted_bucket(aws):
    attributes = front_door(aws, "prod")["Attributes"]
    assert attributes["access_logs.s3.enabled"] == "true"
    encryption = aws("s3").get_bucket_encryption(Bucket=attributes["access_logs.s3.bucket"])
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_prod_runs_with_its_alarms_dashboard_and_no_shell(aws):
    """Issue 13 in prod as launched: its variables, no ECS Exec, six alarms at prod's
    thresholds (config/prod/config.yaml) and a dashboard (deployment alarms: above)."""
    service, task = live_service(aws, "prod")
    (container,) = task["containerDefinitions"]
    assert container["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert "secrets" not in container or container["secrets"] == []  # none shipped
    assert service["enableExecuteCommand"] is False
    alarms = aws("cloudwatch").describe_alarms(AlarmNamePrefix="product-service-prod-")
    thresholds = {a["AlarmName"]: a["Threshold"] for a in alarms["MetricAlarms"]}
    assert thresholds == {
        "product-service-prod-target-5xx-rate": 2.0,
        "product-service-prod-response-time-p90": 1.0,
        "product-service-prod-unhealthy-hosts": 1.0,
        "product-service-prod-cpu-high": 80.0,
        "product-service-prod-memory-high": 80.0,
        "product-service-prod-tasks-below-desired": 0.0,
    }
    dashboards = aws("cloudwatch").list_dashboards()["DashboardEntries"]
    assert "product-service-prod" in [d["DashboardName"] for d in dashboards]


def test_relaunch_with_nothing_changed_updates_nothing(emulator, aws):
    before = live_service(aws, "prod")[1]["revision"]
    result = sceptre(emulator, "--var", "image_tag=1.0.0", "launch", "-y", "prod")
    assert result.returncode == 0, result.stdout + result.stderr
    # cluster, load balancer, service, pipeline and drift-monitor (its CDK synth is deterministic)
    assert result.stderr.count("No updates to perform") == 5
    assert "UPDATE_IN_PROGRESS" not in result.stderr
    assert live_service(aws, "prod")[1]["revision"] == before


def test_a_new_image_becomes_a_new_revision(emulator, aws):
    time.sleep(1)  # ECR keeps push times to the second
    pushed = aws("ecr").put_image(
        repositoryName="product-service", imageManifest=fake_manifest("2.0.0"), imageTag="2.0.0"
    )
    new_image = image_reference(aws, pushed["image"]["imageId"]["imageDigest"])
    old_service, old_task = live_service(aws, "prod")
    result = sceptre(emulator, "--var", "image_tag=2.0.0", "launch", "-y", "prod")
    assert result.returncode == 0, result.stdout + result.stderr
    service, task = live_service(aws, "prod")
    assert task["revision"] == old_task["revision"] + 1
    assert task["containerDefinitions"][0]["image"] == new_image
    assert task["containerDefinitions"][0]["name"] == "ProductService"
    assert f"product-service-prod:{task['revision']}" in result.stdout
    assert service["serviceArn"] == old_service["serviceArn"]  # updated in place
    assert service["desiredCount"] == 2  # what autoscaling set, not ECS's default
    # CloudFormation waited for the new revision's deployment to complete.
    (deployment,) = service["deployments"]
    assert (deployment["rolloutState"], deployment["taskDefinition"]) == (
        "COMPLETED",
        task["taskDefinitionArn"],
    )
    assert service["runningCount"] == 2


def test_prod_is_protected_and_torn_down_only_on_purpose(emulator, aws):
    cfn = aws("cloudformation")
    for name in ("cluster", "load-balancer", "service", "pipeline", "drift-monitor"):
        described = cfn.describe_stacks(StackName=f"product-service-prod-{name}")["Stacks"][0]
        assert described["EnableTerminationProtection"] is True
    # The stack policy's effect: an update that would replace the log group (LogGroupName
    # requires replacement) fails and rolls back, and the logs stay. CloudFormation's reason
    # names the denying statement (the policy's second) with its Action and Resource lists:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/protect-stack-resources.html
    stack = "product-service-prod-service"
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    assert "LogGroupName: /ecs/product-service-prod\n" in body
    previous = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Parameters"]
    cfn.update_stack(
        StackName=stack,
        TemplateBody=body.replace(
            "LogGroupName: /ecs/product-service-prod\n", "LogGroupName: /ecs/renamed\n"
        ),
        Parameters=[
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in previous
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == (
        "UPDATE_ROLLBACK_COMPLETE"
    )
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    (denied,) = [e for e in events if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert denied["ResourceType"] == "AWS::Logs::LogGroup"
    assert denied["ResourceStatusReason"] == (
        "Action denied by stack policy: Statement [#2] does not allow "
        "[Update:Replace, Update:Delete] for resource [*];"
    )
    groups = {g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]}
    assert "/ecs/product-service-prod" in groups and "/ecs/renamed" not in groups
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

    log_bucket = front_door(aws, "prod")["Attributes"]["access_logs.s3.bucket"]
    done = script(emulator, "scripts.teardown", "prod", "--confirm", "product-service-prod")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "AWS::Logs::LogGroup /ecs/product-service-prod" in done.stdout
    assert f"AWS::S3::Bucket {log_bucket}" in done.stdout  # access logs: DeletionPolicy Retain
    buckets = {b["Name"] for b in aws("s3").list_buckets()["Buckets"]}
    assert log_bucket in buckets


def test_prod_logs_outlive_prod(aws):
    # After the teardown above: no prod stack, load balancer or target group is left, and
    # the log group (DeletionPolicy: Retain) still holds prod's logs.
    assert stack_names(aws) == SEEDED
    groups = {g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]}
    assert "/ecs/product-service-prod" in groups
    assert aws("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert aws("elbv2").describe_target_groups()["TargetGroups"] == []
