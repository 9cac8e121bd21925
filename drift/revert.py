"""Put drifted stacks back to their templates with CloudFormation's drift-aware change sets.

For each drifted stack: CreateChangeSet with ``DeploymentMode=REVERT_DRIFT`` and the stack's
own template, parameters, capabilities and role, so the only change is the drift put back
(docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html); then
DescribeChangeSet with ``IncludePropertyValues`` for the preview (each ResourceTargetDefinition
gives BeforeValue, the value now when BeforeValueFrom is ACTUAL_STATE, and AfterValue, the
template's: docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/
API_ResourceTargetDefinition.html); ExecuteChangeSet, or DeleteChangeSet when the revert is
not wanted. Every call goes through an AwsCall (resolvers.AwsCall): the stack's connection
manager, so its profile, region and endpoint apply.

Safety rules: a change set that would replace or delete a resource is refused unless the
caller allows it (ResourceChange ``Replacement`` True or Conditional, or ``Action`` Remove:
docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html); the stack
policy is never overridden (ExecuteChangeSet takes no policy of its own, so the stack's
applies: docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/protect-stack-resources.html).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from hooks.outcome import first_failure
from resolvers import AwsCall

# CreateChangeSet answers a change set without changes with status FAILED and this reason
# (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
# using-cfn-updating-stacks-changesets-create.html).
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
PROPERTIES = "/Properties/"


@dataclass(frozen=True)
class Reversal:
    """One property (or resource) the change set puts back: a row of the preview."""

    stack: str  # Sceptre name, e.g. dev/service
    resource: str  # logical id
    property: str  # e.g. RetentionInDays, SecurityGroupIngress; "-" for the whole resource
    now: str  # the live value, or what the resource's fate is now
    after: str  # the template's value
    action: str  # the ResourceChange's Action: Modify, Add, Remove, ...
    replacement: str = ""  # the ResourceChange's Replacement: True, False, Conditional or ""


@dataclass
class RevertPlan:
    """The drift-aware change set of one stack, and what became of it."""

    stack: str
    stack_name: str
    change_set: str = ""  # its ARN, "" when none was created
    reversals: list[Reversal] = field(default_factory=list)
    refused: str = ""  # why the change set will not be executed (replacement or deletion)
    empty: bool = False  # CloudFormation found nothing it could put back
    error: str = ""  # creation or execution failed
    executed: bool = False


def change_set_name(now: float | None = None) -> str:
    """A change set name CloudFormation accepts ([a-zA-Z][-a-zA-Z0-9]*) that says what it is."""
    return time.strftime("drift-revert-%Y%m%d-%H%M%S", time.gmtime(now))


def create_request(stack: dict[str, Any], name: str) -> dict[str, Any]:
    """CreateChangeSet's arguments for a revert of a described stack (DescribeStacks' Stacks
    entry): its template and every parameter as they are, its capabilities and role, nothing
    new. Tags and notification ARNs are left out: CloudFormation keeps them as they are."""
    request: dict[str, Any] = {
        "StackName": stack["StackName"],
        "ChangeSetName": name,
        "ChangeSetType": "UPDATE",
        "DeploymentMode": "REVERT_DRIFT",
        "UsePreviousTemplate": True,
        "Parameters": [
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            for p in stack.get("Parameters", [])
        ],
        "Description": "drift-check --revert: put drifted resources back to the template",
    }
    if stack.get("Capabilities"):
        request["Capabilities"] = stack["Capabilities"]
    if stack.get("RoleARN"):
        # The role CloudFormation already uses for this stack; a caller may operate with it
        # without iam:PassRole (CreateChangeSet, RoleARN: docs.aws.amazon.com/
        # AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html).
        request["RoleARN"] = stack["RoleARN"]
    return request


def _message(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return f"{error.response['Error'].get('Code')}: {error.response['Error'].get('Message')}"
    return str(error)


def _wait(check: Callable[[], tuple[bool, Any]], timeout: float, poll: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        done, value = check()
        if done:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} still in progress after {timeout:.0f} s")
        time.sleep(poll)


def changes(call: AwsCall, change_set: str) -> dict[str, Any]:
    """DescribeChangeSet with property values, every page's Changes in one answer."""
    kwargs: dict[str, Any] = {"ChangeSetName": change_set, "IncludePropertyValues": True}
    found: dict[str, Any] = {}
    while True:
        page = call("cloudformation", "describe_change_set", kwargs)
        if not found:
            found = {**page, "Changes": []}
        found["Changes"] += page.get("Changes", [])
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def _property(target: dict[str, Any]) -> str:
    path = target.get("Path") or ""
    if path.startswith(PROPERTIES):
        return path[len(PROPERTIES) :]
    return path.lstrip("/") or target.get("Name") or target.get("Attribute") or "-"


def reversals(stack: str, described: dict[str, Any]) -> list[Reversal]:
    """The preview rows of a described drift-aware change set."""
    rows = []
    for change in described.get("Changes", []):
        resource = change.get("ResourceChange") or {}
        action, logical = resource.get("Action", ""), resource.get("LogicalResourceId", "-")
        replacement = resource.get("Replacement", "")
        details = [d.get("Target") or {} for d in resource.get("Details") or []]
        if action in ("Add", "Remove") or not details:
            fate = {"Add": ("deleted", "re-created"), "Remove": ("exists", "deleted")}
            now, after = fate.get(action, ("-", action.lower() or "-"))
            rows.append(Reversal(stack, logical, "-", now, after, action, replacement))
            continue
        for target in details:
            drift = target.get("Drift") or {}
            # AttributeChangeType Add / Remove: the item will be added / removed, so one side
            # has no value (API_ResourceTargetDefinition.html).
            change = target.get("AttributeChangeType", "")
            now = target.get("BeforeValue", drift.get("ActualValue"))
            after = target.get("AfterValue")
            rows.append(
                Reversal(
                    stack,
                    logical,
                    _property(target),
                    now if now is not None else ("(none)" if change == "Add" else "-"),
                    after if after is not None else ("(removed)" if change == "Remove" else "-"),
                    action,
                    replacement,
                )
            )
    return rows


def refusal(described: dict[str, Any]) -> str:
    """Why a change set must not run without --allow-replacement, or "" when it may."""
    harmful = []
    for change in described.get("Changes", []):
        resource = change.get("ResourceChange") or {}
        logical = resource.get("LogicalResourceId", "?")
        if resource.get("Action") == "Remove":
            harmful.append(f"delete {logical}")
        elif resource.get("Replacement") == "True":
            harmful.append(f"replace {logical}")
        elif resource.get("Replacement") == "Conditional":
            harmful.append(f"maybe replace {logical}")
    if not harmful:
        return ""
    return (
        f"the revert would {', '.join(harmful)} (a new resource, new identifiers, data lost); "
        "run again with --allow-replacement to accept that"
    )


def plan_revert(
    call: AwsCall,
    stack: str,
    stack_name: str,
    allow_replacement: bool = False,
    timeout: float = 300,
    poll: float = 1,
) -> RevertPlan:
    """Create the drift-aware change set of one stack and wait for it; never raises for AWS
    errors. A change set that is refused or has no changes is deleted again."""
    plan = RevertPlan(stack, stack_name)
    try:
        described = call("cloudformation", "describe_stacks", {"StackName": stack_name})
        request = create_request(described["Stacks"][0], change_set_name())
        plan.change_set = call("cloudformation", "create_change_set", request)["Id"]

        def created() -> tuple[bool, dict[str, Any]]:
            page = call("cloudformation", "describe_change_set", {"ChangeSetName": plan.change_set})
            return page["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"), page

        status = _wait(created, timeout, poll, "the change set's creation")
        if status["Status"] == "FAILED":
            reason = status.get("StatusReason", "no reason given")
            if any(text in reason for text in NO_CHANGES):
                plan.empty = True
            else:
                plan.error = f"CloudFormation could not create the revert change set: {reason}"
            discard(call, plan)
            return plan
        found = changes(call, plan.change_set)
        plan.reversals = reversals(stack, found)
        if not allow_replacement:
            plan.refused = refusal(found)
            if plan.refused:
                discard(call, plan)
    except (ClientError, BotoCoreError) as error:
        plan.error = f"could not create the revert change set ({_message(error)})"
    except TimeoutError as error:
        plan.error = str(error)
    return plan


def discard(call: AwsCall, plan: RevertPlan) -> None:
    """Delete the plan's change set, if it has one (a FAILED one too: it would linger)."""
    if not plan.change_set:
        return
    try:
        call("cloudformation", "delete_change_set", {"ChangeSetName": plan.change_set})
    except ClientError as error:
        if "does not exist" not in str(error) and not plan.error:
            plan.error = f"could not delete change set {plan.change_set} ({_message(error)})"
    plan.change_set = ""


def execute(call: AwsCall, plan: RevertPlan, timeout: float = 1800, poll: float = 2) -> None:
    """Execute the plan's change set and wait for the stack's update to end; a failure (a stack
    policy that denies the update, a handler error) lands in plan.error with its first cause."""
    try:
        call("cloudformation", "execute_change_set", {"ChangeSetName": plan.change_set})
        plan.executed = True

        def ended() -> tuple[bool, str]:
            stack = call("cloudformation", "describe_stacks", {"StackName": plan.stack_name})
            status = stack["Stacks"][0]["StackStatus"]
            return not status.endswith("_IN_PROGRESS"), status

        status = _wait(ended, timeout, poll, f"the update of {plan.stack_name}")
        if status != "UPDATE_COMPLETE":
            cause = first_failure(call, plan.stack_name)
            plan.error = f"the revert failed ({status}): {cause}"
            if "stack policy" in cause:
                plan.error += (
                    "; the stack policy (protection.stack_policy in the environment's "
                    "config.yaml) forbids this change: revert it by hand or change the policy"
                )
    except (ClientError, BotoCoreError) as error:
        plan.error = f"could not execute the revert ({_message(error)})"
    except TimeoutError as error:
        plan.error = str(error)


PREVIEW_COLUMNS = ("STACK", "RESOURCE", "PROPERTY", "NOW", "AFTER")


def preview_rows(plans: list[RevertPlan]) -> list[tuple[str, str, str, str, str]]:
    """(stack, resource, property, now, after) per reversal, in the plans' order."""
    return [(r.stack, r.resource, r.property, r.now, r.after) for p in plans for r in p.reversals]
