"""Templates several emulator tests create stacks from, and what they share to read a refusal."""

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def denied(call: Callable[[], Any]) -> tuple[int, str, str]:
    """The HTTP status, error code and message of the ClientError the call must raise."""
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
    )


def fargate_service(subnet: str) -> dict[str, Any]:
    """A cluster, a Fargate task definition and a service of one task in the subnet. Its
    create lasts until the task starts (emulator/task_lifecycle.py): long enough, on an
    emulator with a slow start, for another client to act meanwhile."""
    return {
        "Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster"},
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Cpu": "256",
                    "Memory": "512",
                    "NetworkMode": "awsvpc",
                    "RequiresCompatibilities": ["FARGATE"],
                    "ContainerDefinitions": [{"Name": "app", "Image": "repo:1"}],
                },
            },
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "Cluster": {"Ref": "Cluster"},
                    "TaskDefinition": {"Ref": "Task"},
                    "DesiredCount": 1,
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet]}},
                },
            },
        },
        "Outputs": {
            "Cluster": {"Value": {"Ref": "Cluster"}},
            "Service": {"Value": {"Fn::GetAtt": ["Service", "Name"]}},
        },
    }


def until(check, timeout: float = 15, every: float = 0.05):
    """Poll check() until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s")


def until_created_meanwhile(cfn, name: str) -> None:
    """Wait until a create of ``name`` started in another thread has reached CloudFormation
    (a fixed sleep could end first on a busy machine); the create then lasts as long as the
    service's task takes to start."""
    until(lambda: any(s["StackName"] == name for s in cfn.list_stacks()["StackSummaries"]))
