"""ECS RegisterTaskDefinition refuses what ECS refuses: Fargate sizes and awsvpc port mappings.

moto 5.2.5's ``EC2ContainerServiceBackend.register_task_definition`` checks only that each
container has a name, an image and some memory, and that Fargate tasks use pidMode ``task``
("TODO need more validation for Fargate"). It registers a Fargate task of 300 CPU units, or a
Fargate task in ``bridge`` mode, where ECS answers ``ClientException``. This module wraps that
one backend method, so the RegisterTaskDefinition API and AWS::ECS::TaskDefinition (which
emulator/fidelity.py hands to the same method) are refused alike; through CloudFormation the
refusal fails the resource and emulator/rollback.py rolls the stack back.

What is refused, each with ECS's message (``ClientException``, HTTP 400):

- ``requiresCompatibilities`` containing FARGATE (even with EC2 also listed) without a
  task-level ``cpu`` or ``memory``: "Fargate requires that 'cpu' be defined at the task level."
  (github.com/mongodb/terraform-aws-ecs-task-definition/issues/38,
  github.com/hashicorp/terraform-provider-aws/issues/6879) and "Fargate requires that 'memory'
  be defined at the task level." (github.com/aws/amazon-ecs-cli/issues/982);
- FARGATE with a network mode other than ``awsvpc`` (the default is ``bridge``): "Fargate only
  supports network mode ‘awsvpc’." (typographic quotes as ECS prints them:
  github.com/aws/amazon-ecs-cli/issues/1145, github.com/awslabs/ecs-nginx-reverse-proxy/issues/1;
  requirement: docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
  #network_mode);
- FARGATE with a cpu/memory pair outside the table of
  docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
  (the same table: .../userguide/task-cpu-memory-error.html): "No Fargate configuration exists
  for given values: 1024 CPU, 1024 memory. See the Amazon ECS documentation for the valid
  values." (github.com/aws-games/cloud-game-development-toolkit/issues/737, 2025;
  github.com/towardsthecloud/aws-cdk-examples/issues/1 shows the same through CloudFormation);
- a task ``cpu`` that is neither CPU units nor vCPUs ("1 vCPU"): "Invalid 'cpu' setting for
  task." (docs.aws.amazon.com/AmazonECS/latest/userguide/task-cpu-memory-error.html);
- network mode ``awsvpc`` with a port mapping whose ``hostPort`` differs from its
  ``containerPort``: "When networkMode=awsvpc, the host ports and container ports in port
  mappings must match." (github.com/aws/amazon-ecs-cli/issues/1014,
  github.com/pulumi/pulumi-awsx/issues/935; rule: docs.aws.amazon.com/AmazonECS/latest/
  APIReference/API_PortMapping.html, "The hostPort can be left blank or it must be the same
  value as the containerPort").

Values are read as ECS reads them: cpu in CPU units or "N vCPU" (x1024), memory in MiB or
"N GB" (x1024) (task-cpu-memory-error.html: "It's converted to an integer ...").

Gaps: a ``hostPort`` of 0 under awsvpc is taken as left blank; an unparsable ``memory`` is left
to moto (no public ECS message found); ECS's other RegisterTaskDefinition checks (execution
role for awslogs on Fargate, 8192/16384 CPU needing platform 1.4.0, Windows sizes) are not
emulated. The order of checks when several apply is this module's, not known from ECS.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

from moto.ecs import models as ecs
from moto.ecs.exceptions import EcsClientException

_GIB = 1024


# Task cpu (CPU units) -> the memory (MiB) Fargate runs it with: the task size table of
# fargate-tasks-services.html#fargate-tasks-size (256 takes 0.5, 1 or 2 GB; then ranges).
FARGATE_SIZES: dict[int, frozenset[int]] = {
    256: frozenset((512, 1 * _GIB, 2 * _GIB)),
    512: frozenset(range(1 * _GIB, 4 * _GIB + 1, _GIB)),
    1024: frozenset(range(2 * _GIB, 8 * _GIB + 1, _GIB)),
    2048: frozenset(range(4 * _GIB, 16 * _GIB + 1, _GIB)),
    4096: frozenset(range(8 * _GIB, 30 * _GIB + 1, _GIB)),
    8192: frozenset(range(16 * _GIB, 60 * _GIB + 1, 4 * _GIB)),
    16384: frozenset(range(32 * _GIB, 120 * _GIB + 1, 8 * _GIB)),
}

_UNITS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb)?\s*$", re.IGNORECASE)


def task_units(value: Any, unit: str) -> int | None:
    """A task-level cpu ("256", "0.25 vCPU") or memory ("512", "1 GB") as an integer, or None
    if it cannot be read. ``unit`` is the word ECS multiplies by 1024: "vcpu" or "gb"."""
    match = _UNITS.match(str(value))
    if not match:
        return None
    number, suffix = float(match.group(1)), (match.group(2) or "").lower()
    if suffix and suffix != unit:
        return None
    if suffix:
        number *= 1024
    return int(number) if number == int(number) else None


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _mappings(container_definitions: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for container in container_definitions or []:
        yield from container.get("portMappings") or container.get("PortMappings") or []


def refusal(
    container_definitions: list[dict[str, Any]],
    network_mode: str | None,
    requires_compatibilities: list[str] | None,
    cpu: str | None,
    memory: str | None,
) -> str | None:
    """ECS's ClientException message for this task definition, or None if ECS accepts it."""
    cpu_units = task_units(cpu, "vcpu") if cpu is not None else None
    if cpu is not None and cpu_units is None:
        return "Invalid 'cpu' setting for task."
    if requires_compatibilities and "FARGATE" in requires_compatibilities:
        if cpu is None:
            return "Fargate requires that 'cpu' be defined at the task level."
        if memory is None:
            return "Fargate requires that 'memory' be defined at the task level."
        if (network_mode or "bridge") != "awsvpc":
            return "Fargate only supports network mode \u2018awsvpc\u2019."
        memory_mib = task_units(memory, "gb")
        if memory_mib is not None and memory_mib not in FARGATE_SIZES.get(cpu_units, ()):
            return (
                f"No Fargate configuration exists for given values: {cpu_units} CPU, "
                f"{memory_mib} memory. See the Amazon ECS documentation for the valid values."
            )
    if network_mode == "awsvpc":
        for mapping in _mappings(container_definitions):
            host = _port(mapping.get("hostPort", mapping.get("HostPort")))
            container = _port(mapping.get("containerPort", mapping.get("ContainerPort")))
            if host not in (None, 0) and host != container:
                return (
                    "When networkMode=awsvpc, the host ports and container ports in port "
                    "mappings must match."
                )
    return None


def _refusing(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def register_task_definition(*args: Any, **kwargs: Any) -> Any:
        given = signature.bind(*args, **kwargs).arguments
        message = refusal(
            given["container_definitions"],
            given.get("network_mode"),
            given.get("requires_compatibilities"),
            given.get("cpu"),
            given.get("memory"),
        )
        if message:
            raise EcsClientException(message)
        return original(*args, **kwargs)

    register_task_definition._emulator_refuses = True  # type: ignore[attr-defined]
    return register_task_definition


def install() -> None:
    """Make moto's ECS backend refuse task definitions ECS refuses. Idempotent."""
    backend = ecs.EC2ContainerServiceBackend
    if getattr(backend.register_task_definition, "_emulator_refuses", False):
        return
    backend.register_task_definition = _refusing(backend.register_task_definition)
