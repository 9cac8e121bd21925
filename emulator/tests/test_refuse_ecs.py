"""emulator/refuse_ecs.py: RegisterTaskDefinition refuses what ECS refuses, by API and by stack.

Expected messages are ECS's own, as users quoted them (sources beside each case); the valid
Fargate sizes are the task size table of
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
"""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

CONTAINER = {"name": "app", "image": "public.ecr.aws/docker/library/nginx:latest"}


def family() -> str:
    return f"refuse-{uuid.uuid4().hex[:8]}"


def register(aws, name: str, **task):
    task.setdefault("containerDefinitions", [CONTAINER])
    return aws("ecs").register_task_definition(family=name, **task)


def registered(aws, name: str) -> list[str]:
    return aws("ecs").list_task_definitions(familyPrefix=name)["taskDefinitionArns"]


FARGATE = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc"}

REFUSED = [
    pytest.param(
        # A cpu the table has no row for (issue 10's cpu 300); message shape:
        # github.com/aws-games/cloud-game-development-toolkit/issues/737
        {**FARGATE, "cpu": "300", "memory": "512"},
        "No Fargate configuration exists for given values: 300 CPU, 512 memory. "
        "See the Amazon ECS documentation for the valid values.",
        id="cpu-300",
    ),
    pytest.param(
        # 512 CPU runs with 1-4 GB only; github.com/towardsthecloud/aws-cdk-examples/issues/1
        {**FARGATE, "cpu": "512", "memory": "512"},
        "No Fargate configuration exists for given values: 512 CPU, 512 memory. "
        "See the Amazon ECS documentation for the valid values.",
        id="512-cpu-512-memory",
    ),
    pytest.param(
        # 4096 CPU: 8-30 GB in 1 GB steps, so 31 GB is one step too many.
        {**FARGATE, "cpu": "4096", "memory": "31744"},
        "No Fargate configuration exists for given values: 4096 CPU, 31744 memory. "
        "See the Amazon ECS documentation for the valid values.",
        id="4096-cpu-31-gb",
    ),
    pytest.param(
        # 8192 CPU: 16-60 GB in 4 GB steps, so 18 GB is off the grid.
        {**FARGATE, "cpu": "8 vCPU", "memory": "18 GB"},
        "No Fargate configuration exists for given values: 8192 CPU, 18432 memory. "
        "See the Amazon ECS documentation for the valid values.",
        id="8-vcpu-18-gb",
    ),
    pytest.param(
        # github.com/mongodb/terraform-aws-ecs-task-definition/issues/38
        {**FARGATE, "memory": "512"},
        "Fargate requires that 'cpu' be defined at the task level.",
        id="no-task-cpu",
    ),
    pytest.param(
        # github.com/aws/amazon-ecs-cli/issues/982
        {**FARGATE, "cpu": "256"},
        "Fargate requires that 'memory' be defined at the task level.",
        id="no-task-memory",
    ),
    pytest.param(
        # awsvpc is required on Fargate (task_definition_parameters.html#network_mode);
        # message: github.com/aws/amazon-ecs-cli/issues/1145
        {
            "requiresCompatibilities": ["FARGATE"],
            "networkMode": "bridge",
            "cpu": "256",
            "memory": "512",
        },  # fmt: skip
        "Fargate only supports network mode \u2018awsvpc\u2019.",
        id="fargate-bridge",
    ),
    pytest.param(
        # No network mode means bridge, which Fargate does not run.
        {"requiresCompatibilities": ["EC2", "FARGATE"], "cpu": "256", "memory": "512"},
        "Fargate only supports network mode \u2018awsvpc\u2019.",
        id="fargate-default-mode",
    ),
    pytest.param(
        # docs.aws.amazon.com/AmazonECS/latest/userguide/task-cpu-memory-error.html
        {**FARGATE, "cpu": "a quarter", "memory": "512"},
        "Invalid 'cpu' setting for task.",
        id="unreadable-cpu",
    ),
    pytest.param(
        # API_PortMapping.html: under awsvpc hostPort is blank or equals containerPort;
        # message: github.com/pulumi/pulumi-awsx/issues/935
        {
            **FARGATE,
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": [
                {**CONTAINER, "portMappings": [{"containerPort": 3000, "hostPort": 80}]}
            ],
        },
        "When networkMode=awsvpc, the host ports and container ports in port mappings must match.",
        id="awsvpc-host-port",
    ),
]


@pytest.mark.parametrize(("task", "message"), REFUSED)
def test_the_api_refuses_what_ecs_refuses(aws, task, message):
    name = family()
    with pytest.raises(ClientError) as raised:
        register(aws, name, **task)
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ClientException", message)
    assert registered(aws, name) == []


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        ("256", "512"),  # the smallest Fargate task
        ("256", "2048"),
        ("512", "4096"),
        ("1024", "8192"),
        ("2048", "16384"),
        ("4096", "30720"),  # 30 GB: the top of the 4 vCPU range
        ("8192", "20480"),  # 20 GB: on the 4 GB grid
        ("16384", "122880"),  # 120 GB
        ("1 vCPU", "2 GB"),  # vCPU and GB are converted (task-cpu-memory-error.html)
    ],
)
def test_every_size_in_the_fargate_table_registers(aws, cpu, memory):
    name = family()
    register(aws, name, **FARGATE, cpu=cpu, memory=memory)
    assert len(registered(aws, name)) == 1


def test_awsvpc_accepts_a_host_port_left_blank_or_equal(aws):
    name = family()
    mappings = [{"containerPort": 3000}, {"containerPort": 3001, "hostPort": 3001}]
    register(
        aws,
        name,
        **FARGATE,
        cpu="256",
        memory="512",
        containerDefinitions=[{**CONTAINER, "portMappings": mappings}],
    )
    assert len(registered(aws, name)) == 1


def test_bridge_mode_on_ec2_may_map_any_host_port(aws):
    # Only awsvpc and host tie hostPort to containerPort (API_PortMapping.html).
    name = family()
    container = {
        **CONTAINER,
        "memory": 128,
        "portMappings": [{"containerPort": 80, "hostPort": 8080}],
    }
    register(aws, name, networkMode="bridge", containerDefinitions=[container])
    assert len(registered(aws, name)) == 1


def stack_template(name: str, cpu: str) -> str:
    return json.dumps(
        {
            "Resources": {
                "TaskDefinition": {
                    "Type": "AWS::ECS::TaskDefinition",
                    "Properties": {
                        "Family": name,
                        "Cpu": cpu,
                        "Memory": "512",
                        "NetworkMode": "awsvpc",
                        "RequiresCompatibilities": ["FARGATE"],
                        "ContainerDefinitions": [
                            {
                                "Name": "app",
                                "Image": CONTAINER["image"],
                                "PortMappings": [{"ContainerPort": 3000}],
                            }  # fmt: skip
                        ],
                    },
                }
            }
        }
    )


def test_a_stack_with_cpu_300_fails_the_task_definition_and_rolls_back(aws):
    # CloudFormation fails the resource with the service's message and, OnFailure defaulting
    # to ROLLBACK, ends in ROLLBACK_COMPLETE
    # (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html).
    name = family()
    cloudformation = aws("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=stack_template(name, "300"))
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    failed = [e for e in events if e.get("ResourceStatus") == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["TaskDefinition"]
    assert (
        "No Fargate configuration exists for given values: 300 CPU, 512 memory. "
        "See the Amazon ECS documentation for the valid values."
    ) in failed[0]["ResourceStatusReason"]
    assert registered(aws, name) == []


def test_a_stack_with_a_fargate_size_creates_the_task_definition(aws):
    name = family()
    cloudformation = aws("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=stack_template(name, "256"))
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert len(registered(aws, name)) == 1
