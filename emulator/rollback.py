"""CloudFormation's resource events, failure states and rollback, for the emulator.

moto 5.2.5 has none: a resource that raises while its CloudFormation creates it leaves the
stack CREATE_IN_PROGRESS and the error goes back to the CreateStack caller
(``Stack.create_resources`` and ``ResourceMap.create`` in moto/cloudformation/models.py and
parsing.py catch nothing); an update that raises leaves UPDATE_IN_PROGRESS; a delete that
raises half-deletes the stack; DescribeStackEvents shows stack events only. This module
makes a failing resource behave as CloudFormation does
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html):

- every resource gets CREATE/UPDATE/DELETE _IN_PROGRESS and _COMPLETE events, newest first;
- create: the resource's CREATE_FAILED event carries the reason; then per OnFailure (default
  ROLLBACK; DisableRollback=true is DO_NOTHING): ROLLBACK -> ROLLBACK_IN_PROGRESS, what was
  created deleted newest first, ROLLBACK_COMPLETE (ROLLBACK_FAILED if a delete fails);
  DELETE -> the same deletions, stack DELETE_COMPLETE; DO_NOTHING -> CREATE_FAILED, what was
  created stays;
- update: UPDATE_FAILED on the resource, UPDATE_ROLLBACK_IN_PROGRESS, resources added by the
  update deleted, modified ones set back, the previous template and parameters restored,
  UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_ROLLBACK_COMPLETE;
- delete: DELETE_FAILED on the resource and on the stack, which stays listed.

Which exceptions take this path: any a resource raises while moto's CloudFormation creates,
updates or deletes it, except ``moto.cloudformation.exceptions.ValidationError``: template
errors (an undefined GetAtt target) and the emulator's own refusals (fidelity_lb's "cannot
replace") stay synchronous errors of the call, as AWS reports template errors.

A ``Check`` (handler_model.py installs one) is asked before each resource operation; a
message it returns fails the resource like an exception. Seams (all in moto 5.2.5):
``parsing.parse_and_create_resource`` / ``parse_and_update_resource`` (module functions that
``ResourceMap`` calls by name), ``ResourceMap._delete_resource``, ``Stack.create_resources`` /
``update`` / ``delete``, ``CloudFormationBackend.delete_stack`` and
``CloudFormationResponse.create_stack`` (for OnFailure / DisableRollback, which moto ignores).

Reads from other clients while an operation runs (a second launch polling the stack) neither
evaluate outputs nor list resources not yet created: moto's resource map creates a resource on
a lookup miss, so such a read made a second copy of a resource the operation had not reached
(seam: the ``Stack.outputs`` and ``Stack.stack_resources`` properties).

Gaps: moto deletes resources an update removes before it adds and modifies (AWS removes them
in the cleanup phase), so a rolled back update re-creates them with new physical ids; an
update's removal of a type moto skips runs no delete check; resources are handled one at a
time (no parallel creation, so no "Resource creation cancelled" events for siblings);
timeouts (TimeoutInMinutes) and ContinueUpdateRollback are not emulated.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Event, Stack
from moto.cloudformation.responses import CloudFormationResponse


class ResourceFailed(Exception):
    """A resource operation failed and its event is recorded; the stack operation stops."""


@dataclass
class Operation:
    """One stack operation (create, update, delete) being run on this thread."""

    stack: Any
    kind: str  # "create" | "update" | "delete"
    principal: Any  # whatever the Check understands; None = nobody to judge
    on_failure: str = "ROLLBACK"
    rolling_back: bool = False
    created: list[str] = field(default_factory=list)  # logical ids, in creation order
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # logical id -> reason
    errors: dict[str, str] = field(default_factory=dict)  # retried errors, by logical id


# check(operation, handler, logical_id, resource_type, model or None, properties) -> message
Check = Callable[[Operation, str, str, str, Any, dict[str, Any]], str | None]
# principal_of(stack) -> the principal that acts for the stack's operations
PrincipalOf = Callable[[Any], Any]

_local = threading.local()
_hooks: dict[str, Any] = {"check": None, "principal_of": None}


def current_operation() -> Operation | None:
    """The stack operation being run on this thread, if any."""
    return getattr(_local, "operation", None)


_in_progress: set[str] = set()  # stack ids with an operation running on some thread


class _Running:
    def __init__(self, operation: Operation) -> None:
        self.operation = operation

    def __enter__(self) -> Operation:
        self.previous = current_operation()
        _local.operation = self.operation
        self.stack_id = getattr(self.operation.stack, "stack_id", None)
        self.first = self.stack_id not in _in_progress
        _in_progress.add(self.stack_id)
        return self.operation

    def __exit__(self, *_: Any) -> None:
        _local.operation = self.previous
        if self.first:
            _in_progress.discard(self.stack_id)


# --- events -------------------------------------------------------------------------------


def resource_event(
    stack: Any,
    logical_id: str,
    resource_type: str,
    status: str,
    physical_id: str | None = "",
    reason: str | None = None,
) -> None:
    """Append a resource's event to the stack's events (DescribeStackEvents lists newest
    first) and publish it to the stack's notification topics, as moto does for stacks."""
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id or "",
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    event.sendToSns(stack.account_id, stack.region_name, stack.notification_arns)
    stack.events.append(event)


def _stack_status(stack: Any, status: str, reason: str | None = None) -> None:
    stack.status = status
    stack.status_reason = reason
    stack._add_stack_event(status, resource_status_reason=reason)


def _failure_reason(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return str(message)


# --- properties as the handler sees them --------------------------------------------------


class ParsedOnly(Mapping[str, Any]):
    """A resource map that never creates: moto's creates a resource on a lookup miss."""

    def __init__(self, resource_map: Any) -> None:
        self._map = resource_map

    def __getitem__(self, key: str) -> Any:
        return self._map._parsed_resources[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map._parsed_resources)

    def __len__(self) -> int:
        return len(self._map._parsed_resources)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._map, name)


def properties(resource_json: dict[str, Any], resource_map: Any, lazy: bool) -> dict[str, Any]:
    """The resource's Properties with intrinsics resolved; lazy=True may create what they
    reference (as CloudFormation creates dependencies first). Unresolvable: as written."""
    raw = copy.deepcopy(resource_json.get("Properties") or {})
    try:
        resolved = parsing.clean_json(raw, resource_map if lazy else ParsedOnly(resource_map))
    except ResourceFailed:
        raise
    except Exception:
        return raw
    return resolved if isinstance(resolved, dict) else raw


def skipped_by_moto(resource_type: str) -> bool:
    """Whether moto's CloudFormation creates nothing for this type (it warns and skips)."""
    if resource_type in parsing.NULL_MODELS:
        return True
    return not resource_type.startswith("Custom::") and (
        resource_type not in parsing.get_model_map()
    )


def _check(
    operation: Operation,
    handler: str,
    logical_id: str,
    resource_type: str,
    model: Any,
    props: dict[str, Any],
) -> str | None:
    check = _hooks["check"]
    if check is None or operation.principal is None:
        return None
    return check(operation, handler, logical_id, resource_type, model, props)


def _fail(operation: Operation, logical_id: str, resource_type: str, status: str, reason: str):
    operation.failed[logical_id] = reason
    resource_event(operation.stack, logical_id, resource_type, status, reason=reason)
    raise ResourceFailed(reason)


# --- per resource -------------------------------------------------------------------------


def _wrap_create(original: Callable[..., Any]) -> Callable[..., Any]:
    def parse_and_create_resource(
        logical_id, resource_json, resources_map, account_id, region_name
    ):
        operation = current_operation()
        if operation is None:
            return original(logical_id, resource_json, resources_map, account_id, region_name)
        if operation.failed and not operation.rolling_back:
            raise ResourceFailed("Resource creation cancelled")
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        resource_type = resource_json["Type"]
        stack = operation.stack
        props = properties(resource_json, resources_map, lazy=True)  # dependencies first
        resource_event(stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
        if skipped_by_moto(resource_type):  # CloudFormation would still call its handler
            message = _check(operation, "create", logical_id, resource_type, None, props)
            if message:
                _fail(operation, logical_id, resource_type, "CREATE_FAILED", message)
            if not operation.rolling_back:
                operation.created.append(logical_id)
            resource_event(stack, logical_id, resource_type, "CREATE_COMPLETE")
            return original(logical_id, resource_json, resources_map, account_id, region_name)
        try:
            model = original(logical_id, resource_json, resources_map, account_id, region_name)
        except (ResourceFailed, ValidationError):
            raise
        except Exception as error:
            _fail(operation, logical_id, resource_type, "CREATE_FAILED", _failure_reason(error))
        props = properties(resource_json, resources_map, lazy=False)
        message = _check(operation, "create", logical_id, resource_type, model, props)
        if message:  # the handler made the resource, then was refused: CloudFormation cleans up
            with contextlib.suppress(Exception):  # the refusal is what is reported
                resources_map._delete_resource_unchecked(model, resource_json)
            _fail(operation, logical_id, resource_type, "CREATE_FAILED", message)
        if not operation.rolling_back:
            operation.created.append(logical_id)
        physical_id = getattr(model, "physical_resource_id", "")
        resource_event(stack, logical_id, resource_type, "CREATE_COMPLETE", physical_id)
        return model

    return parse_and_create_resource


def _wrap_update(original: Callable[..., Any]) -> Callable[..., Any]:
    def parse_and_update_resource(
        logical_id, resource_json, resources_map, account_id, region_name
    ):
        operation = current_operation()
        if operation is None:
            return original(logical_id, resource_json, resources_map, account_id, region_name)
        if operation.failed and not operation.rolling_back:
            raise ResourceFailed("Resource update cancelled")
        resource_type = resource_json["Type"]
        stack = operation.stack
        model = resources_map._parsed_resources.get(logical_id)
        physical_id = getattr(model, "physical_resource_id", "")
        if logical_id not in operation.errors:  # moto retries a raising update: one event
            resource_event(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS", physical_id)
        props = properties(resource_json, resources_map, lazy=False)
        message = _check(operation, "update", logical_id, resource_type, model, props)
        if message:
            _fail(operation, logical_id, resource_type, "UPDATE_FAILED", message)
        try:
            new = original(logical_id, resource_json, resources_map, account_id, region_name)
        except (ResourceFailed, ValidationError):
            raise
        except Exception as error:  # moto retries (dependency order); reported if it gives up
            operation.errors[logical_id] = _failure_reason(error)
            raise
        operation.errors.pop(logical_id, None)
        if not operation.rolling_back:
            operation.updated.append(logical_id)
        physical_id = getattr(new, "physical_resource_id", physical_id)
        resource_event(stack, logical_id, resource_type, "UPDATE_COMPLETE", physical_id)
        return new

    return parse_and_update_resource


def _delete_one(
    operation: Operation, resource_map: Any, logical_id: str, resource_json: dict, model: Any
) -> None:
    """Delete one resource of the operation's stack, with its events and check."""
    resource_type = resource_json["Type"]
    stack = operation.stack
    if logical_id in operation.failed:
        raise ResourceFailed(operation.failed[logical_id])
    physical_id = getattr(model, "physical_resource_id", "")
    if logical_id not in operation.errors:
        resource_event(stack, logical_id, resource_type, "DELETE_IN_PROGRESS", physical_id)
    props = properties(resource_json, resource_map, lazy=False)
    message = _check(operation, "delete", logical_id, resource_type, model, props)
    if message:
        _fail(operation, logical_id, resource_type, "DELETE_FAILED", message)
    if model is not None:
        try:
            resource_map._delete_resource_unchecked(model, resource_json)
        except (ResourceFailed, ValidationError):
            raise
        except Exception as error:  # moto retries (dependency order); reported if it gives up
            operation.errors[logical_id] = _failure_reason(error)
            raise
    operation.errors.pop(logical_id, None)
    operation.deleted.append(logical_id)
    resource_event(stack, logical_id, resource_type, "DELETE_COMPLETE", physical_id)


def _delete_resource(self, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
    operation = current_operation()
    logical_id = getattr(parsed_resource, "logical_resource_id", None)
    if operation is None or logical_id is None:
        return self._delete_resource_unchecked(parsed_resource, resource_json)
    _delete_one(operation, self, logical_id, resource_json, parsed_resource)


# --- per stack ----------------------------------------------------------------------------


def _principal(stack: Any) -> Any:
    principal_of = _hooks["principal_of"]
    return principal_of(stack) if principal_of else None


def _report_errors(operation: Operation, status: str) -> None:
    """Resources whose (retried) errors made moto give up: their failure events."""
    for logical_id, reason in operation.errors.items():
        if logical_id not in operation.failed:
            resource_json = operation.stack.resource_map._resource_json_map.get(logical_id, {})
            operation.failed[logical_id] = reason
            resource_event(
                operation.stack, logical_id, resource_json.get("Type", ""), status, reason=reason
            )
    operation.errors.clear()


def _unwind_created(operation: Operation) -> bool:
    """Delete what the operation created, newest first. True when all went."""
    resource_map = operation.stack.resource_map
    operation.rolling_back = True
    failed_before = set(operation.failed)
    for logical_id in reversed(operation.created):
        resource_json = resource_map._resource_json_map.get(logical_id)
        if resource_json is None or resource_json.get("DeletionPolicy") == "Retain":
            continue
        model = resource_map._parsed_resources.get(logical_id)
        try:
            _delete_one(operation, resource_map, logical_id, resource_json, model)
        except ValidationError:
            raise
        except Exception:  # noqa: BLE001 - recorded below; the rest is still deleted
            _report_errors(operation, "DELETE_FAILED")
            continue
        resource_map._parsed_resources.pop(logical_id, None)
    return set(operation.failed) == failed_before


def _failed_names(operation: Operation) -> str:
    return ", ".join(operation.failed)


class _NoOutputs(dict):
    """A failed create's outputs: none (CloudFormation sets outputs only when a create or
    update completes; moto would evaluate them and fail on a GetAtt of a deleted resource)."""

    exports: list[Any] = []


def _after_failed_create(stack: Any, operation: Operation) -> None:
    _report_errors(operation, "CREATE_FAILED")
    stack.output_map = _NoOutputs()
    names = _failed_names(operation)
    if operation.on_failure == "DO_NOTHING":
        _stack_status(
            stack, "CREATE_FAILED", f"The following resource(s) failed to create: [{names}]. "
        )
        return
    if operation.on_failure == "DELETE":
        reason = f"The following resource(s) failed to create: [{names}]. Delete requested by user."
        _stack_status(stack, "DELETE_IN_PROGRESS", reason)
        if not _unwind_created(operation):
            _stack_status(stack, "DELETE_FAILED", reason)
            return
        _stack_status(stack, "DELETE_COMPLETE")
        backend = _backend(stack)
        backend.stacks.pop(stack.stack_id, None)
        backend.deleted_stacks[stack.stack_id] = stack
        for export in stack.exports:
            backend.exports.pop(export.name, None)
        return
    reason = f"The following resource(s) failed to create: [{names}]. Rollback requested by user."
    _stack_status(stack, "ROLLBACK_IN_PROGRESS", reason)
    if not _unwind_created(operation):
        _stack_status(stack, "ROLLBACK_FAILED", reason)
        return
    _stack_status(stack, "ROLLBACK_COMPLETE", reason)


def _backend(stack: Any) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[stack.account_id][stack.region_name]


def _wrap_create_resources(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def create_resources(self) -> None:
        pending = getattr(_local, "on_failure", None) or "ROLLBACK"
        operation = Operation(stack=self, kind="create", principal=_principal(self))
        operation.on_failure = pending
        with _Running(operation):
            try:
                original(self)
            except ValidationError:
                raise
            except Exception as error:  # noqa: BLE001 - reported through the stack's events
                if not operation.failed and not operation.errors:
                    operation.errors[self.name] = _failure_reason(error)
                _after_failed_create(self, operation)

    return create_resources


def _restore(stack: Any, operation: Operation, before: dict[str, Any]) -> bool:
    """Set the stack back to its template and parameters from before the update."""
    resource_map = stack.resource_map
    ok = _unwind_created(operation)
    resource_map._template = before["template_dict"]
    resource_map.input_parameters = before["input_parameters"]
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = before["template_dict"].get("Resources", {})
    for logical_id in list(operation.updated):
        resource_json = resource_map._resource_json_map[logical_id]
        try:
            new = parsing.parse_and_update_resource(
                logical_id, resource_json, resource_map, stack.account_id, stack.region_name
            )
        except Exception:  # noqa: BLE001 - recorded; the rollback fails
            _report_errors(operation, "UPDATE_FAILED")
            ok = False
            continue
        resource_map._parsed_resources[logical_id] = new
    for logical_id in list(operation.deleted):  # removed by the update: made again
        if logical_id in resource_map._resource_json_map:
            resource_map._parsed_resources.pop(logical_id, None)
            try:
                _ = resource_map[logical_id]
            except Exception:  # noqa: BLE001 - recorded; the rollback fails
                ok = False
    stack.template = before["template"]
    stack._parse_template()
    stack.parameters = before["parameters"]
    stack.output_map = stack._create_output_map()
    return ok


def _wrap_update_stack(original_update: Callable[..., None]) -> Callable[..., None]:
    def update(self, template, role_arn=None, parameters=None, tags=None) -> None:
        # UpdateStack without RoleARN keeps the stack's role (moto would clear it):
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html
        role_arn = role_arn or self.role_arn
        self.role_arn = role_arn
        before = {
            "template": self.template,
            "template_dict": copy.deepcopy(self.template_dict),
            "parameters": copy.deepcopy(self.parameters),
            "input_parameters": copy.deepcopy(self.resource_map.input_parameters),
        }
        operation = Operation(stack=self, kind="update", principal=_principal(self))
        with _Running(operation):
            try:
                original_update(self, template, role_arn, parameters=parameters, tags=tags)
                return
            except ValidationError:
                raise
            except Exception as error:  # noqa: BLE001 - reported through the stack's events
                if not operation.failed and not operation.errors:
                    operation.errors[self.name] = _failure_reason(error)
                _report_errors(operation, "UPDATE_FAILED")
            names = _failed_names(operation)
            _stack_status(
                self,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                f"The following resource(s) failed to update: [{names}]. ",
            )
            if not _restore(self, operation, before):
                _stack_status(self, "UPDATE_ROLLBACK_FAILED")
                return
            _stack_status(self, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
            _stack_status(self, "UPDATE_ROLLBACK_COMPLETE")

    return update


class StackDeleteFailed(Exception):
    """The stack's deletion stopped at a resource; the stack stays, DELETE_FAILED."""


def _delete_skipped(operation: Operation, resource_map: Any) -> None:
    """Types moto skipped have no model to delete, but CloudFormation calls their handler."""
    for logical_id, resource_json in resource_map._resource_json_map.items():
        if not skipped_by_moto(resource_json["Type"]):
            continue
        if resource_json.get("DeletionPolicy") == "Retain":
            continue
        condition = resource_json.get("Condition")
        if condition and not resource_map.lazy_condition_map[condition]:
            continue
        try:
            _delete_one(operation, resource_map, logical_id, resource_json, None)
        except ResourceFailed:
            continue


def _wrap_delete(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def delete(self) -> None:
        operation = Operation(stack=self, kind="delete", principal=_principal(self))
        with _Running(operation):
            if self.status in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE"):
                return original(self)  # nothing left to delete
            self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
            self.status = "DELETE_IN_PROGRESS"
            _delete_skipped(operation, self.resource_map)
            try:
                if not operation.failed:
                    self.resource_map.delete()
            except ValidationError:
                raise
            except Exception as error:  # noqa: BLE001 - reported through the stack's events
                if not operation.failed and not operation.errors:
                    operation.errors[self.name] = _failure_reason(error)
            _report_errors(operation, "DELETE_FAILED")
            if operation.failed:
                names = _failed_names(operation)
                reason = f"The following resource(s) failed to delete: [{names}]. "
                _stack_status(self, "DELETE_FAILED", reason)
                raise StackDeleteFailed(reason)
            _stack_status(self, "DELETE_COMPLETE")

    return delete


def _wrap_backend_delete(original: Callable[..., None]) -> Callable[..., None]:
    def delete_stack(self, name_or_stack_id: str) -> None:
        stacks = dict(self.stacks)
        try:
            original(self, name_or_stack_id)
        except StackDeleteFailed:
            # moto took the stack off the list before deleting it: put it back, as AWS keeps a
            # DELETE_FAILED stack.
            for stack_id, stack in stacks.items():
                if stack.status == "DELETE_FAILED":
                    self.stacks.setdefault(stack_id, stack)
                    self.deleted_stacks.pop(stack_id, None)

    return delete_stack


def _wrap_create_stack_call(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def create_stack(self) -> Any:
        on_failure = self._get_param("OnFailure")
        disable = self._get_param("DisableRollback")
        if on_failure and disable is not None:
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
            raise ValidationError(
                message="You can specify either DisableRollback or OnFailure, but not both."
            )
        if str(disable).lower() == "true":
            on_failure = "DO_NOTHING"
        _local.on_failure = on_failure or "ROLLBACK"
        try:
            result = original(self)
        finally:
            _local.on_failure = None
        stack = self.cloudformation_backend.get_stack(result.result["StackId"])  # type: ignore[index]
        stack.disable_rollback = on_failure == "DO_NOTHING"
        return result

    return create_stack


# --- reads while an operation runs ---------------------------------------------------------


def _outputs_when_settled(original: property) -> property:
    def outputs(self: Stack) -> Any:
        # Outputs appear when an operation completes; evaluating them mid-operation would make
        # moto's map create a resource the operation has not reached yet (a second copy).
        if self.stack_id in _in_progress and current_operation() is None:
            return None
        return original.fget(self)  # type: ignore[misc]

    return property(outputs)


def _resources_so_far(original: property) -> property:
    def stack_resources(self: Stack) -> Any:
        # DescribeStackResources mid-operation lists what exists so far, never creating.
        if self.stack_id in _in_progress and current_operation() is None:
            return list(ParsedOnly(self.resource_map).values())
        # A resource whose Condition is false is neither created nor listed; moto 5.2.5's map
        # yields None for it, which DescribeStackResources listed as an entry with no ids.
        return [r for r in original.fget(self) if r is not None]  # type: ignore[misc]

    return property(stack_resources)


def install(check: Check | None = None, principal_of: PrincipalOf | None = None) -> None:
    """Give moto's CloudFormation resource events, failure states and rollback; check and
    principal_of plug in a judge of each resource operation. Idempotent."""
    _hooks["check"] = check or _hooks["check"]
    _hooks["principal_of"] = principal_of or _hooks["principal_of"]
    if getattr(parsing.parse_and_create_resource, "_emulator_rollback", False):
        return
    wrapped = {
        (parsing, "parse_and_create_resource"): _wrap_create,
        (parsing, "parse_and_update_resource"): _wrap_update,
        (Stack, "create_resources"): _wrap_create_resources,
        (Stack, "update"): _wrap_update_stack,
        (Stack, "delete"): _wrap_delete,
        (CloudFormationBackend, "delete_stack"): _wrap_backend_delete,
        (CloudFormationResponse, "create_stack"): _wrap_create_stack_call,
    }
    for (owner, name), wrap in wrapped.items():
        new = wrap(getattr(owner, name))
        new._emulator_rollback = True
        setattr(owner, name, new)
    parsing.ResourceMap._delete_resource_unchecked = parsing.ResourceMap._delete_resource
    parsing.ResourceMap._delete_resource = _delete_resource
    Stack.outputs = _outputs_when_settled(Stack.outputs)  # type: ignore[method-assign]
    Stack.stack_resources = _resources_so_far(Stack.stack_resources)  # type: ignore[method-assign]
