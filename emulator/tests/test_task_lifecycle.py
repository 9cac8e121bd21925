"""emulator/task_lifecycle.py: service tasks start over time, fail health checks on request,
and CloudFormation waits for a service to be stable, as ECS and CloudFormation do.

Expected values come from AWS's documentation, cited where used; the emulator runs with a
short start period (0.4 s) so the waiting is quick.
"""

import json
import uuid

import pytest

from emulator.process import Emulator
from emulator.tests.stacks import until

START = 0.4
HEALTH_TAG = {"key": "emulator:health-checks", "value": "fail"}
# rolloutStateReason when the breaker trips, as ECS writes it:
# https://github.com/aws/containers-roadmap/issues/1488
BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
# CloudFormation's reason when the breaker trips under a stack operation:
# https://github.com/aws-cloudformation/rain/issues/458
STACK_REASON = "Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'."


@pytest.fixture(scope="module")
def emulator():
    with Emulator(seed=False, settings={"EMULATOR_TASK_START_SECONDS": str(START)}) as running:
        yield running


@pytest.fixture(scope="module")
def ecs(emulator):
    return emulator.client("ecs")


def service(ecs, cluster: str, name: str = "s") -> dict:
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def tasks(ecs, cluster: str, status: str = "RUNNING") -> list[dict]:
    arns = ecs.list_tasks(cluster=cluster, serviceName="s", desiredStatus=status)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


@pytest.fixture
def cluster(ecs):
    name = f"c-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=name)
    for _ in range(2):  # revisions 1 and 2
        ecs.register_task_definition(
            family=name, containerDefinitions=[{"name": "app", "image": "repo:1", "memory": 128}]
        )
    return name


@pytest.fixture
def target_group(emulator):
    ec2, elb = emulator.client("ec2"), emulator.client("elbv2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    group = elb.create_target_group(
        Name=f"tg-{uuid.uuid4().hex[:8]}", Protocol="HTTP", Port=3000, VpcId=vpc["VpcId"]
    )
    return group["TargetGroups"][0]["TargetGroupArn"]


def test_tasks_are_pending_before_they_run_and_the_rollout_then_completes(ecs, cluster):
    ecs.create_service(
        cluster=cluster, serviceName="s", taskDefinition=f"{cluster}:1", desiredCount=2
    )
    # Deployment fields: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html
    first = service(ecs, cluster)
    assert (first["desiredCount"], first["runningCount"], first["pendingCount"]) == (2, 0, 2)
    (deployment,) = first["deployments"]
    assert (deployment["status"], deployment["rolloutState"]) == ("PRIMARY", "IN_PROGRESS")
    # A task goes PROVISIONING -> PENDING -> RUNNING:
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html
    assert {t["lastStatus"] for t in tasks(ecs, cluster)} <= {"PROVISIONING", "PENDING"}

    done = until(lambda: (s := service(ecs, cluster))["runningCount"] == 2 and s)
    assert done["pendingCount"] == 0
    assert done["deployments"][0]["rolloutState"] == "COMPLETED"
    assert [t["lastStatus"] for t in tasks(ecs, cluster)] == ["RUNNING", "RUNNING"]
    assert all(t["group"] == "service:s" for t in tasks(ecs, cluster))
    assert done["events"][0]["message"] == "(service s) has reached a steady state."


def test_a_new_task_definition_keeps_the_old_tasks_until_the_new_ones_run(ecs, cluster):
    ecs.create_service(
        cluster=cluster, serviceName="s", taskDefinition=f"{cluster}:1", desiredCount=1
    )
    until(lambda: service(ecs, cluster)["runningCount"] == 1)
    ecs.update_service(cluster=cluster, service="s", taskDefinition=f"{cluster}:2")

    rolling = service(ecs, cluster)
    primary, old = rolling["deployments"]
    assert (primary["status"], primary["rolloutState"]) == ("PRIMARY", "IN_PROGRESS")
    assert primary["taskDefinition"].endswith(f"{cluster}:2")
    # Minimum healthy 100 %: the old task serves until the new one runs.
    assert (old["status"], old["runningCount"]) == ("ACTIVE", 1)

    until(lambda: len(service(ecs, cluster)["deployments"]) == 1)
    (only,) = service(ecs, cluster)["deployments"]
    assert only["rolloutState"] == "COMPLETED" and only["taskDefinition"].endswith(f"{cluster}:2")
    (stopped,) = tasks(ecs, cluster, "STOPPED")
    assert stopped["taskDefinitionArn"].endswith(f"{cluster}:1")


def test_tasks_failing_health_checks_trip_the_breaker_and_roll_back(ecs, cluster, target_group):
    ecs.create_service(
        cluster=cluster,
        serviceName="s",
        taskDefinition=f"{cluster}:1",
        desiredCount=1,
        loadBalancers=[
            {"targetGroupArn": target_group, "containerName": "app", "containerPort": 3000}
        ],
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )
    until(lambda: service(ecs, cluster)["deployments"][0]["rolloutState"] == "COMPLETED")
    arn = service(ecs, cluster)["serviceArn"]
    ecs.tag_resource(resourceArn=arn, tags=[HEALTH_TAG])
    ecs.update_service(cluster=cluster, service="s", taskDefinition=f"{cluster}:2")

    failed = until(
        lambda: [d for d in service(ecs, cluster)["deployments"] if d["rolloutState"] == "FAILED"]
    )
    (deployment,) = failed
    assert deployment["rolloutStateReason"] == BREAKER_REASON
    assert deployment["taskDefinition"].endswith(f"{cluster}:2")
    # The threshold is 0.5 x desired, at least 3:
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html
    assert deployment["failedTasks"] == 3
    unhealthy = [t for t in tasks(ecs, cluster, "STOPPED") if t["healthStatus"] == "UNHEALTHY"]
    assert len(unhealthy) == 3
    for task in unhealthy:
        # https://repost.aws/knowledge-center/ecs-task-stopped; ECS names the target group:
        # https://gist.github.com/efekarakus/fe4afc1ab8b54835d27e47e253f46254
        assert (
            task["stoppedReason"]
            == f"Task failed ELB health checks in (target-group {target_group})"
        )
        assert task["taskDefinitionArn"].endswith(f"{cluster}:2")

    # Rollback: back to the last completed deployment's task definition, which completes.
    until(lambda: len(service(ecs, cluster)["deployments"]) == 1)
    back = service(ecs, cluster)
    assert back["taskDefinition"].endswith(f"{cluster}:1")
    assert back["deployments"][0]["rolloutState"] == "COMPLETED"
    assert back["runningCount"] == 1


def test_without_the_breaker_failing_tasks_are_replaced_and_the_rollout_never_completes(
    ecs, cluster, target_group
):
    ecs.create_service(
        cluster=cluster,
        serviceName="s",
        taskDefinition=f"{cluster}:1",
        desiredCount=1,
        loadBalancers=[
            {"targetGroupArn": target_group, "containerName": "app", "containerPort": 3000}
        ],
        tags=[HEALTH_TAG],
    )
    until(lambda: len(tasks(ecs, cluster, "STOPPED")) >= 4)
    (deployment,) = service(ecs, cluster)["deployments"]
    assert deployment["rolloutState"] == "IN_PROGRESS"
    assert deployment["failedTasks"] >= 4  # no breaker: ECS keeps trying

    ecs.untag_resource(resourceArn=service(ecs, cluster)["serviceArn"], tagKeys=[HEALTH_TAG["key"]])
    until(lambda: service(ecs, cluster)["deployments"][0]["rolloutState"] == "COMPLETED")


def stack_template(cluster: str, target_group_vpc: str, fail: bool) -> str:
    tags = [{"Key": HEALTH_TAG["key"], "Value": HEALTH_TAG["value"]}] if fail else []
    return json.dumps(
        {
            "Resources": {
                "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": cluster}},
                "Group": {
                    "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                    "Properties": {"Port": 3000, "Protocol": "HTTP", "VpcId": target_group_vpc},
                },
                "Task": {
                    "Type": "AWS::ECS::TaskDefinition",
                    "Properties": {
                        "Family": cluster,
                        "ContainerDefinitions": [{"Name": "app", "Image": "repo:1", "Memory": 128}],
                    },
                },
                "Service": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "Cluster": {"Ref": "Cluster"},
                        "ServiceName": "s",
                        "TaskDefinition": {"Ref": "Task"},
                        "DesiredCount": 2,
                        "LoadBalancers": [
                            {
                                "TargetGroupArn": {"Ref": "Group"},
                                "ContainerName": "app",
                                "ContainerPort": 3000,
                            }
                        ],
                        "DeploymentConfiguration": {
                            "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}
                        },
                        "Tags": tags,
                    },
                },
            }
        }
    )


@pytest.fixture
def vpc(emulator):
    ec2 = emulator.client("ec2")
    return ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0][
        "VpcId"
    ]


def test_a_stack_completes_only_once_its_service_runs_its_tasks(emulator, ecs, vpc):
    # CloudFormation waits for a service to be stable: a failing one holds the stack
    # in progress (https://github.com/aws/copilot-cli/issues/1879).
    cluster = f"c-{uuid.uuid4().hex[:8]}"
    cfn = emulator.client("cloudformation")
    cfn.create_stack(StackName=cluster, TemplateBody=stack_template(cluster, vpc, fail=False))
    assert cfn.describe_stacks(StackName=cluster)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    running = service(ecs, cluster)
    assert (running["desiredCount"], running["runningCount"]) == (2, 2)


def test_a_stack_whose_tasks_fail_health_checks_fails_and_rolls_back(emulator, ecs, vpc):
    cluster = f"c-{uuid.uuid4().hex[:8]}"
    cfn = emulator.client("cloudformation")
    cfn.create_stack(StackName=cluster, TemplateBody=stack_template(cluster, vpc, fail=True))
    stack = cfn.describe_stacks(StackName=cluster)["Stacks"][0]
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=cluster)["StackEvents"]
    (failure,) = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert (failure["LogicalResourceId"], failure["ResourceStatusReason"]) == (
        "Service",
        STACK_REASON,
    )


def test_an_awsvpc_service_without_security_groups_gets_the_vpc_default(emulator, ecs):
    # "If you don't specify a security group, the default security group for the VPC is used"
    # (docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html).
    ec2 = emulator.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]
    (default,) = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [subnet["VpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    name = f"c-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(
        family=name,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "repo:1"}],
    )
    awsvpc = {"subnets": [subnet["SubnetId"]]}
    ecs.create_service(
        cluster=name,
        serviceName="s",
        taskDefinition=f"{name}:1",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": awsvpc},
    )
    configured = service(ecs, name)["networkConfiguration"]["awsvpcConfiguration"]
    assert configured["securityGroups"] == [default["GroupId"]]
