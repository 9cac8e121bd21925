"""Run CloudFormation drift detection on Sceptre stacks, in parallel, and collect the result."""

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan
from sceptre.stack import Stack

# Stack-level outcomes. MISSING and FAILED mean the stack's drift is unknown.
IN_SYNC, DRIFTED, MISSING, FAILED = "IN_SYNC", "DRIFTED", "MISSING", "FAILED"
# The first look again comes this soon: a small stack's detection can be done in well under a
# second; later looks back off to the caller's interval, which suits minutes-long detections.
FIRST_POLL = 0.25  # seconds


@dataclass(frozen=True)
class Difference:
    """One drifted property (or a deleted resource) of one stack."""

    stack: str  # Sceptre name, e.g. dev/service
    resource: str  # logical id
    resource_type: str
    property: str  # path in the template, e.g. RetentionInDays or ContainerDefinitions/0/Image
    expected: str
    actual: str
    kind: str  # NOT_EQUAL, ADD, REMOVE, or DELETED for a resource that is gone


@dataclass
class StackDrift:
    """The drift detection result of one stack."""

    stack: str
    stack_name: str  # the CloudFormation stack
    group: str
    status: str = IN_SYNC
    differences: list[Difference] = field(default_factory=list)
    checked: int = 0  # resources CloudFormation compared
    not_checked: list[str] = field(default_factory=list)
    error: str = ""


def load_stacks(groups: Iterable[str], project: Path) -> list[Stack]:
    """Every stack of the named StackGroups (config/<group>), in a stable order."""
    stacks: dict[str, Stack] = {}
    for group in groups:
        plan = SceptrePlan(SceptreContext(project_path=str(project), command_path=group))
        for stack in plan.command_stacks:
            if not (stack.ignore or stack.obsolete):
                stacks[stack.name] = stack
    return [stacks[name] for name in sorted(stacks)]


def _group(stack: Stack) -> str:
    return stack.name.rsplit("/", 1)[0]


def poll_intervals(poll: float) -> Iterator[float]:
    """Seconds to wait before each look at a detection's status: FIRST_POLL, doubling up to
    ``poll``, then ``poll`` each time (never more than ``poll``)."""
    wait = min(FIRST_POLL, poll)
    while True:
        yield wait
        wait = min(wait * 2, poll)


def detect(stack: Stack, timeout: float = 300, poll: float = 2) -> StackDrift:
    """Detect drift on one stack and wait for the result; never raises for AWS errors."""
    result = StackDrift(stack.name, stack.external_name, _group(stack))

    def call(command: str, **kwargs: Any) -> dict[str, Any]:
        return stack.connection_manager.call("cloudformation", command, kwargs)

    try:
        started = call("detect_stack_drift", StackName=stack.external_name)
        detection_id = started["StackDriftDetectionId"]
        deadline = time.monotonic() + timeout
        intervals = poll_intervals(poll)
        while True:
            status = call(
                "describe_stack_drift_detection_status", StackDriftDetectionId=detection_id
            )
            if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
                break
            if time.monotonic() > deadline:
                result.status, result.error = (
                    FAILED,
                    f"detection still running after {timeout:.0f} s",
                )
                return result
            time.sleep(next(intervals))
        drifts = _resource_drifts(call, stack.external_name)
    except ClientError as error:
        message = error.response["Error"].get("Message", str(error))
        if "does not exist" in message:
            result.status = MISSING
            result.error = (
                f"stack {stack.external_name} does not exist; "
                f"launch it first (sceptre launch {result.group})"
            )
        else:
            result.status, result.error = FAILED, message
        return result
    except BotoCoreError as error:  # no credentials, no endpoint, ...
        result.status, result.error = FAILED, str(error)
        return result

    for drift in drifts:
        _add(result, drift)
    if status["DetectionStatus"] == "DETECTION_FAILED":
        # CloudFormation compared what it could; the rest is unknown, so the check failed.
        result.status = FAILED
        result.error = status.get("DetectionStatusReason", "drift detection failed")
    elif result.differences:
        result.status = DRIFTED
    return result


def _resource_drifts(call: Any, stack_name: str) -> list[dict[str, Any]]:
    drifts: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StackName": stack_name}
    while True:
        page = call("describe_stack_resource_drifts", **kwargs)
        drifts += page["StackResourceDrifts"]
        if not page.get("NextToken"):
            return drifts
        kwargs["NextToken"] = page["NextToken"]


def _add(result: StackDrift, drift: dict[str, Any]) -> None:
    """Fold one StackResourceDrift into the stack's result."""
    status = drift["StackResourceDriftStatus"]
    resource, resource_type = drift["LogicalResourceId"], drift["ResourceType"]
    if status in ("NOT_CHECKED", "UNKNOWN"):
        result.not_checked.append(resource)
        return
    result.checked += 1
    if status == "DELETED":
        result.differences.append(
            Difference(result.stack, resource, resource_type, "-", "exists", "deleted", "DELETED")
        )
    for difference in drift.get("PropertyDifferences") or []:
        result.differences.append(
            Difference(
                stack=result.stack,
                resource=resource,
                resource_type=resource_type,
                property=difference["PropertyPath"].lstrip("/"),
                expected=difference["ExpectedValue"],
                actual=difference["ActualValue"],
                kind=difference["DifferenceType"],
            )
        )


def detect_all(stacks: list[Stack], timeout: float = 300, poll: float = 2) -> list[StackDrift]:
    """Detect drift on every stack at once (CloudFormation runs detections in parallel)."""
    if not stacks:
        return []
    with ThreadPoolExecutor(max_workers=min(len(stacks), 8)) as pool:
        return list(pool.map(lambda stack: detect(stack, timeout, poll), stacks))
