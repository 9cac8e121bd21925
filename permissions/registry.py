"""CloudFormation's handler permissions per resource type, from the registry schemas.

The schemas ship with cfn-lint (``cfnlint/data/schemas``): ``providers/<region>.json`` maps a
resource type to a hash, ``resources/<hash>.json`` is that type's schema, whose
``handlers.{create,update,delete,read,list}.permissions`` list the IAM actions CloudFormation
calls to manage it (https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html).
"""

import functools
import json
from pathlib import Path
from typing import Any

import cfnlint

SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"
REGION = "us-east-1"  # the project's region (config/config.yaml); schemas differ little by region

# What a CloudFormation stack operation runs: create, update and delete of resources, plus
# the read handler CloudFormation calls after them and for drift detection.
DEPLOY_HANDLERS = ("create", "update", "delete", "read")
READ_HANDLERS = ("read",)


class UnknownResourceTypeError(KeyError):
    """A resource type the registry schemas do not describe."""


@functools.cache
def _providers() -> dict[str, str]:
    return json.loads((SCHEMAS / "providers" / f"{REGION}.json").read_text())


@functools.cache
def schema(resource_type: str) -> dict[str, Any]:
    """The registry schema of one resource type, e.g. ``AWS::ECS::Service``."""
    try:
        digest = _providers()[resource_type]
    except KeyError:
        raise UnknownResourceTypeError(
            f"{resource_type}: not in the CloudFormation registry schemas of {REGION}"
        ) from None
    return json.loads((SCHEMAS / "resources" / f"{digest}.json").read_text())


def handler_permissions(resource_type: str, handler: str) -> list[str]:
    """The IAM action names one handler of a resource type declares (as written, unvalidated)."""
    handlers = schema(resource_type).get("handlers", {})
    return list(handlers.get(handler, {}).get("permissions", []))


def permissions(resource_type: str, handlers: tuple[str, ...]) -> set[str]:
    """The union of several handlers' declared permissions."""
    return {a for h in handlers for a in handler_permissions(resource_type, h)}


def taggable(resource_type: str) -> bool:
    """Whether CloudFormation tags this type at creation (so stack tags reach it).

    Stack tags are propagated to resources that support tagging
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html).
    """
    tagging = schema(resource_type).get("tagging") or {}
    return bool(tagging.get("taggable")) and bool(tagging.get("tagOnCreate", True))


def tagging_permissions(resource_type: str) -> set[str]:
    """The actions CloudFormation tags (and untags) this type with, per its schema."""
    tagging = schema(resource_type).get("tagging") or {}
    return {a.lower() for a in tagging.get("permissions", [])}
