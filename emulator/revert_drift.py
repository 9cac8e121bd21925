"""Drift-aware change sets (CreateChangeSet with DeploymentMode REVERT_DRIFT) for the emulator.

moto 5.2.5 ignores DeploymentMode: its change set compares templates only, and one with the
stack's own template and parameters fails as "didn't contain changes". This module answers
CreateChangeSet, DescribeChangeSet and ExecuteChangeSet for drift-aware change sets as
CloudFormation does, per "Using drift-aware change sets"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html),
the DescribeChangeSet / ResourceChange / ResourceChangeDetail API reference (botocore 1.44's
model carries it) and the launch post (https://aws.amazon.com/blogs/devops/
safely-handle-configuration-drift-with-cloudformation-drift-aware-change-sets/):

- CreateChangeSet with DeploymentMode REVERT_DRIFT reads every resource's live state when the
  change set is created (drift.py's readers and comparison) and plans to put each drifted
  property back to the template's value, "even if a resource was not explicitly changed in the
  template". The template may be the stack's own (UsePreviousTemplate, as in the post's
  security group scenario) or a new one; parameters may change as in any update.
- DescribeChangeSet answers DeploymentMode, StackDriftStatus (DRIFTED / IN_SYNC) and, per
  drifted resource, a change with ResourceDriftStatus MODIFIED, Action Modify, Replacement
  False, Scope, and one Detail per drifted property: Target.Path ``/Properties/...``,
  BeforeValue (the live value, BeforeValueFrom ACTUAL_STATE), AfterValue (the template's,
  AfterValueFrom TEMPLATE), Drift {PreviousValue, ActualValue, DriftDetectionTimestamp} and
  AttributeChangeType (Add / Remove / Modify of a list element or value). BeforeContext and
  AfterContext are ``{"Properties": {...}}`` JSON with scalars as text, the shape a real
  DescribeChangeSet answer with IncludePropertyValues shows; PreviousDeploymentContext is the
  same for the previous template. A resource in sync is not listed. A deleted resource is
  listed with ResourceDriftStatus DELETED and Action Add, and is created again (the post's
  third scenario).
- Not reverted, as the guide says: properties AWS manages ("the desired count of an Amazon
  Elastic Container Service" service whose ScalableTarget is in the stack; listed in
  ResourceDriftIgnoredAttributes with reason MANAGED_BY_AWS) and immutable properties ("do not
  support drift reconciliation for immutable properties": the type's createOnlyProperties).
- With no drift and the stack's template and parameters, the change set has nothing to do
  and fails as any such change set does: Status FAILED, ExecutionStatus UNAVAILABLE,
  StatusReason "The submitted information didn't contain changes. Submit different
  information to create a change set." (moto's wording of AWS's, for change sets without
  changes; the guide names no exception for drift-aware ones).
- ExecuteChangeSet: stack UPDATE_IN_PROGRESS, each reverted resource UPDATE_IN_PROGRESS and
  UPDATE_COMPLETE, stack UPDATE_COMPLETE; the change set EXECUTE_COMPLETE. The stack policy is
  honoured (protection.py): a resource whose revert it does not allow (Update:Modify) fails
  with CloudFormation's reason, and the stack rolls back "to their actual pre-deployment
  state" (the guide): reverted resources get their drifted values again, UPDATE_ROLLBACK_*,
  the change set EXECUTE_FAILED.

Writers (emulator/drift_writers.py) set the values through the emulator's own API, as the
readers read through it: security group rules, log retention, scaling limits, ECS service
settings, load balancer and target group attributes and health checks.

Emulator choices where AWS documents none: only ChangeSetType UPDATE (the API's default)
is accepted with REVERT_DRIFT (a new stack has nothing to drift); the refusal's wording is the
emulator's. Evaluation is Static; ChangeSource and CausingEntity are not given.

Gaps: a drifted property no writer sets (drift_writers.WRITABLE) is not reverted and not
listed; Tags are not compared by the readers, so tag drift is neither shown nor reverted; a
change set with a new template applies the template's changes after the reverts as UpdateStack
does (its own stack events), and drift is planned against the previous template's values for
resources whose definition the new template changes; the executions run synchronously in the
ExecuteChangeSet call; other change sets of the stack are not marked OBSOLETE.
"""

import json
import threading
from datetime import UTC, datetime
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import ChangeSet
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult, EmptyResult

from emulator import drift, drift_writers, protection, rollback

REVERT_DRIFT = "REVERT_DRIFT"
NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)

_lock = threading.Lock()
# change set id -> the drift-aware plan: {"stack_drift_status", "changes", "reverts"}
_plans: dict[str, dict[str, Any]] = {}


# --- planning -----------------------------------------------------------------------------


def _texts(value: Any) -> Any:
    """A property value as CloudFormation's contexts show it: scalars as text."""
    if isinstance(value, dict):
        return {k: _texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_texts(v) for v in value]
    return None if value is None else drift._scalar(value)


def _context(properties: dict[str, Any]) -> str:
    return json.dumps({"Properties": _texts(properties)}, separators=(",", ":"))


def _managed_by_aws(resource_map: Any, logical_id: str, physical_id: str) -> set[str]:
    """Properties of this resource that a ScalableTarget of the stack manages: an ECS
    service's DesiredCount (the guide's AWS-managed properties)."""
    if not physical_id.startswith("arn:") or ":service/" not in physical_id:
        return set()
    cluster, name = physical_id.split(":service/", 1)[1].split("/", 1)
    for other_id, resource in resource_map._resource_json_map.items():
        if resource.get("Type") != "AWS::ApplicationAutoScaling::ScalableTarget":
            continue
        model = resource_map._parsed_resources.get(other_id)
        target_id = getattr(model, "physical_resource_id", "") or ""
        if target_id.startswith(f"service/{cluster}/{name}|ecs:service:DesiredCount"):
            return {"DesiredCount"}
    return set()


def _change_type(difference: dict[str, str]) -> str:
    """What the revert does to the value: the live list's extra element is removed, the
    missing one added, a different value modified."""
    return {"ADD": "Remove", "REMOVE": "Add"}.get(difference["DifferenceType"], "Modify")


def _known(key: str, value: str) -> dict[str, str]:
    return {} if value == "null" else {key: value}


def _detail(difference: dict[str, str], when: datetime) -> dict[str, Any]:
    name = difference["PropertyPath"].split("/")[1]
    target: dict[str, Any] = {
        "Attribute": "Tags" if name == "Tags" else "Properties",
        "Name": name,
        "RequiresRecreation": "Never",
        "Path": "/Properties" + difference["PropertyPath"],
        "BeforeValueFrom": "ACTUAL_STATE",
        "AfterValueFrom": "TEMPLATE",
        "Drift": {  # a side without the value (an element added by hand) is left out
            **_known("PreviousValue", difference["ExpectedValue"]),
            **_known("ActualValue", difference["ActualValue"]),
            "DriftDetectionTimestamp": when,
        },
        "AttributeChangeType": _change_type(difference),
    }
    target.update(_known("BeforeValue", difference["ActualValue"]))
    target.update(_known("AfterValue", difference["ExpectedValue"]))
    return {"Target": target, "Evaluation": "Static"}


def _resource_plan(
    found: dict[str, Any], resource_map: Any, when: datetime
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the change DescribeChangeSet lists, what ExecuteChangeSet does) for one resource's
    StackResourceDrift, or (None, None) when there is nothing to revert."""
    logical_id = found["LogicalResourceId"]
    resource_type = found["ResourceType"]
    status = found["StackResourceDriftStatus"]
    base = {
        "Action": "Modify",
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": found["PhysicalResourceId"],
        "ResourceType": resource_type,
        "ResourceDriftStatus": status,
    }
    if status == "DELETED":
        change = {**base, "Action": "Add"}
        change.pop("PhysicalResourceId")
        return change, {"kind": "create", "logical_id": logical_id, "type": resource_type}
    if status != "MODIFIED":
        return None, None
    expected = json.loads(found["ExpectedProperties"])
    actual = json.loads(found["ActualProperties"])
    managed = _managed_by_aws(resource_map, logical_id, found["PhysicalResourceId"])
    immutable = protection.create_only_properties(resource_type)
    writable = drift_writers.WRITABLE.get(resource_type, frozenset())
    reverted = [
        d
        for d in found["PropertyDifferences"]
        if (name := d["PropertyPath"].split("/")[1]) in writable
        and name not in managed
        and name not in immutable
    ]
    if not reverted:
        return None, None
    names = list(dict.fromkeys(d["PropertyPath"].split("/")[1] for d in reverted))
    scope = sorted({"Tags" if n == "Tags" else "Properties" for n in names})
    after = {**actual, **{n: expected.get(n) for n in names}}
    change = {
        **base,
        "Replacement": "False",
        "Scope": scope,
        "Details": [_detail(d, when) for d in reverted],
        "BeforeContext": _context(actual),
        "AfterContext": _context({k: v for k, v in after.items() if v is not None}),
        "PreviousDeploymentContext": _context(expected),
    }
    ignored = sorted(
        managed & {d["PropertyPath"].split("/")[1] for d in found["PropertyDifferences"]}
    )
    if ignored:
        change["ResourceDriftIgnoredAttributes"] = [
            {"Path": f"/Properties/{n}", "Reason": "MANAGED_BY_AWS"} for n in ignored
        ]
    revert = {
        "kind": "write",
        "logical_id": logical_id,
        "type": resource_type,
        "physical_id": found["PhysicalResourceId"],
        "wanted": {n: expected.get(n) for n in names},
        "before": {n: actual.get(n) for n in names},
    }
    return change, revert


def plan(aws: drift.Aws, stack: Any) -> dict[str, Any]:
    """What a drift-aware change set of the stack would revert, read now: StackDriftStatus,
    the changes DescribeChangeSet lists, and the writes ExecuteChangeSet makes."""
    resource_map = stack.resource_map
    when = datetime.now(UTC)
    changes, reverts = [], []
    drifted = False
    for logical_id, resource_json in resource_map._resource_json_map.items():
        found = drift.check_resource(aws, logical_id, resource_json, resource_map)
        drifted = drifted or found["StackResourceDriftStatus"] in ("MODIFIED", "DELETED")
        change, revert = _resource_plan(found, resource_map, when)
        if change is not None:
            changes.append({"Type": "Resource", "ResourceChange": change})
            reverts.append(revert)
    return {
        "stack_drift_status": "DRIFTED" if drifted else "IN_SYNC",
        "changes": changes,
        "reverts": reverts,
    }


# --- the three calls ----------------------------------------------------------------------


def _template_and_parameters(self: CloudFormationResponse, stack: Any) -> tuple[str, dict]:
    """The change set's template and parameters, as UpdateStack takes them."""
    if self._get_bool_param("UsePreviousTemplate", False):
        template = stack.template
    elif self._get_param("TemplateURL"):
        template = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
    else:
        template = self._get_param("TemplateBody")
    if not template:
        raise ValidationError(
            message="Either Template URL or Template Body must be specified, or "
            "UsePreviousTemplate must be true."
        )
    parameters = {
        p["ParameterKey"]: (
            stack.stack_parameters[p["ParameterKey"]]
            if p.get("UsePreviousValue", False)
            else p["ParameterValue"]
        )
        for p in self._get_param("Parameters", [])
    }
    return template, parameters


def _create_drift_aware(self: CloudFormationResponse) -> ActionResult:
    change_set_type = self._get_param("ChangeSetType") or "UPDATE"
    if change_set_type != "UPDATE":
        raise ValidationError(
            message=f"DeploymentMode {REVERT_DRIFT} is supported only for change sets of "
            f"type UPDATE, not {change_set_type}: a new stack has no drift to revert."
        )
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    if not stack.status.endswith("_COMPLETE") or stack.status.startswith(("DELETE", "REVIEW")):
        raise ValidationError(
            message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        )
    template, parameters = _template_and_parameters(self, stack)
    found = plan(drift._emulator_clients(self), stack)
    change_set_id, stack_id = self.cloudformation_backend.create_change_set(
        stack_name=stack.name,
        change_set_name=self._get_param("ChangeSetName"),
        template=template,
        parameters=parameters or dict(stack.stack_parameters),
        description=self._get_param("Description"),
        notification_arns=self._get_param("NotificationARNs", []),
        tags={t["Key"]: t["Value"] for t in self._get_param("Tags", [])},
        role_arn=self._get_param("RoleARN"),
        change_set_type="UPDATE",
    )
    change_set = self.cloudformation_backend.change_sets[change_set_id]
    if change_set.status == "FAILED" and found["changes"]:  # same template: drift to revert
        change_set.status = "CREATE_COMPLETE"
        change_set.execution_status = "AVAILABLE"
        change_set.status_reason = None
    elif change_set.status == "FAILED":
        change_set.status_reason = NO_CHANGES
    with _lock:
        _plans[change_set_id] = found
    return ActionResult({"Id": change_set_id, "StackId": stack_id})


def _wrap_create(original: Any) -> Any:
    def create_change_set(self: CloudFormationResponse) -> ActionResult:
        if self._get_param("DeploymentMode") == REVERT_DRIFT:
            return _create_drift_aware(self)
        return original(self)

    return create_change_set


def _find(backend: Any, name: str, stack_name: str | None = None) -> ChangeSet | None:
    if name in backend.change_sets:
        return backend.change_sets[name]
    named = [
        change_set
        for change_set in backend.change_sets.values()
        if change_set.change_set_name == name
        and (not stack_name or stack_name in (change_set.stack_name, change_set.stack_id))
    ]
    return named[-1] if named else None


def _plan_of(change_set: ChangeSet | None) -> dict[str, Any] | None:
    if change_set is None:
        return None
    with _lock:
        return _plans.get(change_set.change_set_id)


def _template_change(change_set: ChangeSet, change: Any) -> dict[str, Any]:
    """One change the new template makes (moto's diff); a Modify says whether it replaces
    the resource: a changed createOnlyProperty does (API_ResourceChange.html, Replacement)."""
    answer = {
        "Action": change.action,
        "LogicalResourceId": change.logical_resource_id,
        "ResourceType": change.resource_type,
    }
    if change.action == "Modify":
        old = (change_set.stack.template_dict.get("Resources") or {}).get(
            change.logical_resource_id, {}
        )
        new = (change_set.template_dict.get("Resources") or {}).get(change.logical_resource_id, {})
        before, after = old.get("Properties") or {}, new.get("Properties") or {}
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        replaced = changed & protection.create_only_properties(change.resource_type)
        answer["Replacement"] = "True" if replaced else "False"
        answer["Scope"] = ["Properties"]
    return answer


def _describe(change_set: ChangeSet, found: dict[str, Any]) -> dict[str, Any]:
    drifted = {c["ResourceChange"]["LogicalResourceId"] for c in found["changes"]}
    template_changes = [
        {"Type": "Resource", "ResourceChange": _template_change(change_set, c)}
        for c in change_set.changes
        if c.logical_resource_id not in drifted
    ]
    answer = {
        "ChangeSetName": change_set.change_set_name,
        "ChangeSetId": change_set.change_set_id,
        "StackId": change_set.stack_id,
        "StackName": change_set.stack_name,
        "Description": change_set.description,
        # moto's serializer turns these two into the API's lists (ParameterKey/Value, and
        # {"Type": "Resource", "ResourceChange": ...} around each change).
        "Parameters": dict(change_set.parameters),
        "CreationTime": change_set.creation_time,
        "ExecutionStatus": change_set.execution_status,
        "Status": change_set.status,
        "StatusReason": change_set.status_reason,
        "NotificationARNs": change_set.notification_arns or [],
        "Tags": [{"Key": k, "Value": v} for k, v in (change_set.tags or {}).items()],
        "Changes": [c["ResourceChange"] for c in found["changes"] + template_changes],
        "IncludeNestedStacks": False,
        "DeploymentMode": REVERT_DRIFT,
        "StackDriftStatus": found["stack_drift_status"],
    }
    return {k: v for k, v in answer.items() if v is not None}


def _wrap_describe(original: Any) -> Any:
    def describe_change_set(self: CloudFormationResponse) -> ActionResult:
        change_set = _find(
            self.cloudformation_backend,
            self._get_param("ChangeSetName"),
            self._get_param("StackName"),
        )
        found = _plan_of(change_set)
        if found is None:
            return original(self)
        return ActionResult(_describe(change_set, found))

    return describe_change_set


def _status(stack: Any, status: str, reason: str | None = None) -> None:
    stack.status = status
    stack.status_reason = reason
    stack._add_stack_event(status, resource_status_reason=reason)


def _revert(aws: drift.Aws, stack: Any, revert: dict[str, Any], values: str) -> None:
    """Apply one planned revert: ``values`` "wanted" (the template's) or "before" (the live
    values from before the execution, for a rollback)."""
    if revert["kind"] == "create":
        resource_map = stack.resource_map
        resource_map._parsed_resources.pop(revert["logical_id"], None)
        _ = resource_map[revert["logical_id"]]  # moto's map creates the resource on a miss
        return
    now = "before" if values == "wanted" else "wanted"  # what the resource has meanwhile
    writer = drift_writers.WRITERS[revert["type"]]
    writer(aws, revert["physical_id"], revert[values], revert[now])


def _physical_id(stack: Any, logical_id: str) -> str:
    model = stack.resource_map._parsed_resources.get(logical_id)
    return getattr(model, "physical_resource_id", "") or ""


def execute(aws: drift.Aws, stack: Any, change_set: ChangeSet, found: dict[str, Any]) -> None:
    """Run a drift-aware change set: revert, honouring the stack policy; roll back to the
    pre-deployment state on a failure; then the template's own changes, if any."""
    _status(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    done: list[dict[str, Any]] = []
    for revert in found["reverts"]:
        logical_id, resource_type = revert["logical_id"], revert["type"]
        physical_id = _physical_id(stack, logical_id)
        refusal = None
        if revert["kind"] == "write":
            refusal = protection.policy_refusal(
                stack.policy or "", "Update:Modify", logical_id, resource_type
            )
        if refusal is None:
            status = "UPDATE" if revert["kind"] == "write" else "CREATE"
            rollback.resource_event(
                stack, logical_id, resource_type, f"{status}_IN_PROGRESS", physical_id
            )
            try:
                _revert(aws, stack, revert, "wanted")
            except Exception as error:  # noqa: BLE001 - reported through the stack's events
                refusal = getattr(error, "message", None) or str(error)
            else:
                done.append(revert)
                rollback.resource_event(
                    stack,
                    logical_id,
                    resource_type,
                    f"{status}_COMPLETE",
                    _physical_id(stack, logical_id),
                )
                continue
        rollback.resource_event(
            stack, logical_id, resource_type, "UPDATE_FAILED", physical_id, refusal
        )
        _status(
            stack,
            "UPDATE_ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to update: [{logical_id}]. ",
        )
        ok = True
        for undone in reversed(done):
            if undone["kind"] != "write":
                continue
            rollback.resource_event(
                stack,
                undone["logical_id"],
                undone["type"],
                "UPDATE_IN_PROGRESS",
                undone["physical_id"],
            )
            try:
                _revert(aws, stack, undone, "before")
            except Exception as error:  # noqa: BLE001 - the rollback fails
                ok = False
                rollback.resource_event(
                    stack,
                    undone["logical_id"],
                    undone["type"],
                    "UPDATE_FAILED",
                    undone["physical_id"],
                    str(error),
                )
                continue
            rollback.resource_event(
                stack,
                undone["logical_id"],
                undone["type"],
                "UPDATE_COMPLETE",
                undone["physical_id"],
            )
        change_set.execution_status = "EXECUTE_FAILED"
        if not ok:
            _status(stack, "UPDATE_ROLLBACK_FAILED")
            return
        _status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        _status(stack, "UPDATE_ROLLBACK_COMPLETE")
        return
    if change_set.template != stack.template or (
        change_set.parameters and change_set.parameters != dict(stack.stack_parameters)
    ):
        stack.update(change_set.template, stack.role_arn, parameters=change_set.parameters)
        change_set.execution_status = (
            "EXECUTE_COMPLETE" if stack.status == "UPDATE_COMPLETE" else "EXECUTE_FAILED"
        )
        return
    _status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    _status(stack, "UPDATE_COMPLETE")
    change_set.execution_status = "EXECUTE_COMPLETE"


def _wrap_execute(original: Any) -> Any:
    def execute_change_set(self: CloudFormationResponse) -> Any:
        backend = self.cloudformation_backend
        change_set = _find(backend, self._get_param("ChangeSetName"), self._get_param("StackName"))
        found = _plan_of(change_set)
        if found is None:
            return original(self)
        if change_set.execution_status != "AVAILABLE":
            raise ValidationError(
                message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its "
                f"current execution status of [{change_set.execution_status}]"
            )
        stack = backend.stacks[change_set.stack_id]
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        execute(drift._emulator_clients(self), stack, change_set, found)
        return EmptyResult()

    return execute_change_set


def install() -> None:
    """Answer drift-aware change sets; other change sets stay moto's. Idempotent."""
    if getattr(CloudFormationResponse.create_change_set, "_revert_drift", False):
        return
    create = _wrap_create(CloudFormationResponse.create_change_set)
    create._revert_drift = True
    CloudFormationResponse.create_change_set = create
    CloudFormationResponse.describe_change_set = _wrap_describe(
        CloudFormationResponse.describe_change_set
    )
    CloudFormationResponse.execute_change_set = _wrap_execute(
        CloudFormationResponse.execute_change_set
    )
