"""Find an environment's stacks as Sceptre names them, and call AWS the way hooks do."""

from pathlib import Path
from typing import Any

import boto3
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

from resolvers import AwsCall

ROOT = Path(__file__).resolve().parent.parent


def stack_names(environment: str) -> dict[str, str]:
    """Stack path ("service") -> CloudFormation stack name, for the stacks a launch of the
    environment creates (not those Sceptre skips: ``ignore`` or ``obsolete``, such as the
    network stack unless network.create is set)."""
    plan = SceptrePlan(SceptreContext(project_path=str(ROOT), command_path=environment))
    return {
        stack.name.removeprefix(f"{environment}/"): stack.external_name
        for stack in plan.graph
        if stack.name.startswith(f"{environment}/") and not (stack.ignore or stack.obsolete)
    }


def boto_call(region: str | None = None) -> AwsCall:
    """A call(service, command, kwargs) function over a plain boto3 session."""
    session = boto3.Session(region_name=region)

    def call(service: str, command: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        return getattr(session.client(service), command)(**kwargs)

    return call
