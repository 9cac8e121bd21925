"""Termination protection and stack policies in the emulator, as CloudFormation enforces them.

moto 5.2.5 keeps a stack's EnableTerminationProtection from CreateStack but has no
UpdateTerminationProtection call and deletes protected stacks anyway; it stores stack policies
(SetStackPolicy, GetStackPolicy, StackPolicyBody on CreateStack) but never evaluates them.
This module adds the call, makes DeleteStack refuse a protected stack with AWS's message, and
evaluates the stack policy during UpdateStack
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/protect-stack-resources.html):

- each resource the update modifies is checked for ``Update:Modify``, or ``Update:Replace``
  when a property that requires replacement changes (the type's ``createOnlyProperties`` in
  CloudFormation's registry schema, shipped with cfn-lint); each resource the update removes
  for ``Update:Delete``;
- statements match on Action/NotAction, Resource/NotResource (``LogicalResourceId/ID``,
  ``*`` wildcards) and the ``ResourceType`` condition (StringEquals, StringLike); an explicit
  Deny wins; a policy without a matching Allow denies (once a policy is set, everything not
  allowed is protected);
- a denied resource fails with CloudFormation's reason, e.g. ``Action denied by stack policy:
  Statement [#1] does not allow [Update:*] for resource [*];`` (stack events of a real
  update quoted in awscfncli's README; the statement's own Action and Resource lists, as in
  "does not allow [Update:Replace, Update:Delete]" in stas's feature tests run against AWS;
  wording page: protect-stack-resources.html above), and the stack rolls back (rollback.py).
  Statements are numbered from 1 (inferred: a one-statement policy reports "#1"). An
  update no statement allows fails with ``Action not allowed by stack policy`` (the prefix
  localstack's tests match against AWS; the rest of that reason is the emulator's).

Seams: ``parsing.parse_and_update_resource`` and ``ResourceMap._delete_resource`` are wrapped
here before rollback.py wraps them (server.py installs this module before handler_model), so
a refusal raised here fails the resource as any handler error does; ``ResourceMap.update``
keeps the resolved properties from before the update for the comparison.
StackPolicyDuringUpdateBody on UpdateStack is honoured in place of the stack's policy.

Gaps: the checks run only for an update by UpdateStack or an executed change set (moto's
change sets go through the same update); replacement that a handler decides at run time
(beyond createOnlyProperties) is not detected.
"""

import fnmatch
import functools
import json
import threading
from pathlib import Path
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

from emulator import rollback
from emulator.handler_model import SCHEMAS

_local = threading.local()


class StackPolicyDenied(Exception):
    """An update action the stack policy does not allow; fails the resource."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _update_termination_protection(self) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
    return ActionResult({"StackId": stack.stack_id})


# --- stack policies -----------------------------------------------------------------------


@functools.cache
def create_only_properties(resource_type: str) -> frozenset[str]:
    """Top-level properties whose change replaces a resource of this type (registry schema)."""
    providers = json.loads((SCHEMAS / "providers/us-east-1.json").read_text())
    schema_hash = providers.get(resource_type)
    if schema_hash is None:
        return frozenset()
    schema = json.loads((Path(SCHEMAS) / f"resources/{schema_hash}.json").read_text())
    return frozenset(
        p.split("/")[2] for p in schema.get("createOnlyProperties", []) if p.count("/") >= 2
    )


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _matches(patterns: list[str], text: str) -> bool:
    return any(fnmatch.fnmatchcase(text, pattern) for pattern in patterns)


def _applies(statement: dict[str, Any], action: str, logical_id: str, resource_type: str) -> bool:
    if "Action" in statement and not _matches(_listed(statement["Action"]), action):
        return False
    if "NotAction" in statement and _matches(_listed(statement["NotAction"]), action):
        return False
    resource = f"LogicalResourceId/{logical_id}"
    if "Resource" in statement and not _matches(_listed(statement["Resource"]), resource):
        return False
    if "NotResource" in statement and _matches(_listed(statement["NotResource"]), resource):
        return False
    for operator, tests in (statement.get("Condition") or {}).items():
        wanted = _listed((tests or {}).get("ResourceType"))
        if operator == "StringEquals" and resource_type not in wanted:
            return False
        if operator == "StringLike" and not _matches(wanted, resource_type):
            return False
    return True


def policy_refusal(policy: str, action: str, logical_id: str, resource_type: str) -> str | None:
    """CloudFormation's reason when the stack policy does not allow this update action."""
    if not policy:
        return None
    statements = json.loads(policy).get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    allowed = False
    for number, statement in enumerate(statements, start=1):
        if not _applies(statement, action, logical_id, resource_type):
            continue
        if statement.get("Effect") == "Deny":
            actions = ", ".join(_listed(statement.get("Action") or statement.get("NotAction")))
            resources = ", ".join(
                _listed(statement.get("Resource") or statement.get("NotResource"))
            )
            return (
                f"Action denied by stack policy: Statement [#{number}] does not allow "
                f"[{actions}] for resource [{resources}];"
            )
        allowed = True
    if allowed:
        return None
    return (
        f"Action not allowed by stack policy: no statement allows [{action}] for resource "
        f"[LogicalResourceId/{logical_id}];"
    )


def _policy_in_force(operation: Any) -> str:
    override = getattr(_local, "during_update", None)
    return override if override is not None else (operation.stack.policy or "")


def _judged(operation: Any) -> bool:
    return operation is not None and operation.kind == "update" and not operation.rolling_back


def _wrap_resource_map_update(original: Any) -> Any:
    def update(self, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
        operation = rollback.current_operation()
        if _judged(operation) and _policy_in_force(operation):
            self._properties_before = {
                name: rollback.properties(resource_json, self, lazy=False)
                for name, resource_json in self._resource_json_map.items()
            }
        return original(self, template, parameters)

    return update


def _wrap_update(original: Any) -> Any:
    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region):
        operation = rollback.current_operation()
        before = getattr(resources_map, "_properties_before", {})
        policy = _policy_in_force(operation) if _judged(operation) else ""
        if policy and logical_id in before:
            after = rollback.properties(resource_json, resources_map, lazy=False)
            resource_type = resource_json["Type"]
            changed = {
                k
                for k in set(before[logical_id]) | set(after)
                if before[logical_id].get(k) != after.get(k)
            }
            if changed:
                replace = changed & create_only_properties(resource_type)
                action = "Update:Replace" if replace else "Update:Modify"
                refusal = policy_refusal(policy, action, logical_id, resource_type)
                if refusal:
                    raise StackPolicyDenied(refusal)
        return original(logical_id, resource_json, resources_map, account_id, region)

    return parse_and_update_resource


def _wrap_delete_resource(original: Any) -> Any:
    def _delete_resource(self, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        operation = rollback.current_operation()
        if _judged(operation):
            policy = _policy_in_force(operation)
            logical_id = getattr(parsed_resource, "logical_resource_id", None)
            if policy and logical_id:
                refusal = policy_refusal(policy, "Update:Delete", logical_id, resource_json["Type"])
                if refusal:
                    raise StackPolicyDenied(refusal)
        return original(self, parsed_resource, resource_json)

    return _delete_resource


def _wrap_update_stack_call(original: Any) -> Any:
    def update_stack(self) -> Any:
        _local.during_update = self._get_param("StackPolicyDuringUpdateBody")
        try:
            return original(self)
        finally:
            _local.during_update = None

    return update_stack


def install() -> None:
    """Add UpdateTerminationProtection, enforce it on DeleteStack and stack policies on
    UpdateStack. Install before handler_model (rollback.py). Idempotent."""
    CloudFormationResponse.update_termination_protection = _update_termination_protection
    delete = CloudFormationBackend.delete_stack
    if getattr(delete, "_enforces_protection", False):
        return
    if getattr(parsing.parse_and_update_resource, "_emulator_rollback", False):
        raise RuntimeError("install emulator/protection.py before rollback.py (handler_model)")

    def delete_stack(self, name_or_stack_id: str) -> None:
        for stack in self.stacks.values():
            if name_or_stack_id in (stack.name, stack.stack_id) and (
                stack.enable_termination_protection
            ):
                raise ValidationError(
                    message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection "
                    "is enabled"
                )
        delete(self, name_or_stack_id)

    delete_stack._enforces_protection = True
    CloudFormationBackend.delete_stack = delete_stack
    parsing.parse_and_update_resource = _wrap_update(parsing.parse_and_update_resource)
    parsing.ResourceMap._delete_resource = _wrap_delete_resource(
        parsing.ResourceMap._delete_resource
    )
    parsing.ResourceMap.update = _wrap_resource_map_update(parsing.ResourceMap.update)
    CloudFormationResponse.update_stack = _wrap_update_stack_call(
        CloudFormationResponse.update_stack
    )
