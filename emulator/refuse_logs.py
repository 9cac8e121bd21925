"""CloudWatch Logs retention only from the values AWS allows, by API and by CloudFormation.

moto 5.2.5 stores any ``retentionInDays`` (PutRetentionPolicy of 31 days succeeds), and its
AWS::Logs::LogGroup keeps any RetentionInDays, as given (a string stays a string), and has no
CloudFormation update at all: a changed LogGroup makes moto's ResourceMap store ``None`` for
the resource and the new retention is never applied.

AWS allows 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
2557, 2922, 3288 and 3653 days
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html;
the same enum is in CloudFormation's AWS::Logs::LogGroup schema, RetentionInDays).

- PutRetentionPolicy with another value: ``InvalidParameterException`` (the error that page
  lists for "A parameter is specified incorrectly") with AWS's request-validation message
  shape "1 validation error detected: Value '31' at 'retentionInDays' failed to satisfy
  constraint: Member must satisfy enum value set: [1, 3, ...]". No first-hand AWS quote of
  this exact text was found; the shape is the one AWS's validation uses for enums and the one
  moto's own Logs exceptions build for other parameters.
- AWS::Logs::LogGroup with another value (create or update): the resource fails with the
  handler's schema-validation message "Model validation failed (#/RetentionInDays: failed
  validation constraint for keyword [enum])" (github.com/aws/copilot-cli/issues/3946,
  github.com/aws-cloudformation/aws-cloudformation-resource-providers-logs/issues/94), and
  emulator/rollback.py rolls the stack back.

Seams: ``LogsBackend.put_retention_policy`` and ``LogGroup.create_from_cloudformation_json``
are wrapped; ``LogGroup.update_from_cloudformation_json`` is added (a new LogGroupName
replaces the group, as CloudFormation does; otherwise the retention is set, or removed when
the property is gone, and declared tags are applied). RetentionInDays is stored as an integer.

Gaps: on update, tags removed from the template stay on the group; a replaced group's log
streams are not carried over (CloudFormation does not either); KmsKeyId, DataProtectionPolicy
and LogGroupClass changes are ignored.
"""

from __future__ import annotations

from typing import Any

from moto.logs.exceptions import InvalidParameterException
from moto.logs.models import LogGroup, LogsBackend, logs_backends

RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip

CLOUDFORMATION_MESSAGE = (
    "Model validation failed (#/RetentionInDays: failed validation constraint for keyword [enum])"
)


def api_message(value: Any) -> str:
    """The message PutRetentionPolicy answers a value outside the allowed set with."""
    allowed = ", ".join(str(days) for days in RETENTION_DAYS)
    return (
        f"1 validation error detected: Value '{value}' at 'retentionInDays' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{allowed}]"
    )


def allowed_days(value: Any) -> int | None:
    """The retention as an integer if AWS allows it, else None."""
    try:
        days = int(str(value))
    except ValueError:
        return None
    return days if days in RETENTION_DAYS else None


def _declared_retention(properties: dict[str, Any]) -> int | None:
    """RetentionInDays of a LogGroup's properties, checked; None when not declared."""
    if properties.get("RetentionInDays") is None:
        return None
    days = allowed_days(properties["RetentionInDays"])
    if days is None:
        raise InvalidParameterException(msg=CLOUDFORMATION_MESSAGE)
    return days


_original_put = LogsBackend.put_retention_policy
_original_create = LogGroup.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _put_retention_policy(self, log_group_name: str, retention_in_days: Any) -> None:
    days = allowed_days(retention_in_days)
    if days is None:
        raise InvalidParameterException(msg=api_message(retention_in_days))
    _original_put(self, log_group_name, days)


def _create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json.get("Properties") or {}
    days = _declared_retention(properties)
    if days is not None:
        cloudformation_json = {**cloudformation_json, "Properties": {**properties}}
        cloudformation_json["Properties"]["RetentionInDays"] = days
    return _original_create(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )


def _update(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    properties = cloudformation_json.get("Properties") or {}
    days = _declared_retention(properties)
    backend = logs_backends[account_id][region_name]
    name = properties.get("LogGroupName") or original_resource.name
    if name != original_resource.name:  # LogGroupName: "Update requires: Replacement"
        new = _create(cls, name, cloudformation_json, account_id, region_name)
        backend.delete_log_group(original_resource.name)
        return new
    original_resource.set_retention_policy(days)
    tags = {tag["Key"]: tag["Value"] for tag in properties.get("Tags") or []}
    if tags:
        backend.tag_resource(original_resource.arn, tags)
    return original_resource


def install() -> None:
    """Refuse retention values AWS refuses and give LogGroup a CloudFormation update.
    Idempotent."""
    if getattr(LogsBackend.put_retention_policy, "_emulator_refuses", False):
        return
    _put_retention_policy._emulator_refuses = True  # type: ignore[attr-defined]
    LogsBackend.put_retention_policy = _put_retention_policy
    LogGroup.create_from_cloudformation_json = classmethod(_create)
    LogGroup.update_from_cloudformation_json = classmethod(_update)
