"""IAM enforced on the emulator for assumed roles, as AWS evaluates identity policies.

Who is judged: a request signed with credentials that moto's sts:AssumeRole returned (access
key ids starting ASIA) is evaluated against the assumed role's identity policies: its inline
policies and the default version of each attached managed policy, read from moto's IAM backend
of that account. Explicit deny first, then an allow is required. Any other credentials (the
tests' ``testing`` keys, moto's default user) stay all-powerful: nothing changes for them.

How: principalmapper 1.1.5's local policy simulation (a maintained evaluator that understands
resource ARNs with wildcards, policy variables and the String/Arn/Bool/Null condition
operators including ForAnyValue/ForAllValues) decides; this module only builds its inputs:
the principal, the IAM action, the resource ARN and the request context.

The seam in moto 5.2.5: every request's ``ActionAuthenticatorMixin.
_authenticate_and_authorize_action`` (``moto/core/authorization.py``), which BaseResponse.
call_action and S3's handlers call before any work. moto's own enforcement there stays off
(``INITIAL_NO_AUTH_ACTION_COUNT`` would refuse the ``testing`` keys, and it matches actions
only, against resource ``*``). The principal being served is kept in a context variable for
the duration of the request (``current_principal()``), so in-process CloudFormation work can
ask who acts.

Gaps (what is not judged):
- Resource-based policies: judged by cross_account.py for ECR repositories, S3 buckets and
  KMS keys under SSE-KMS (across accounts, and their explicit Deny for everyone); topic and
  other resource policies, permission boundaries, session policies passed to AssumeRole,
  SCPs: not evaluated.
- Resource ARNs are named for the calls this project's restricted roles make (see
  ``_NAMERS``); any other call is judged on its action only (``resource=None``: an allowing
  statement for the action whose conditions hold is enough; a Deny counts only if it names
  every resource).
- ``aws:ResourceTag`` is read only for ECS, ELBv2, EC2 security groups, Logs groups and
  Application Auto Scaling targets; elsewhere the key is absent (conditions on it fail closed
  as on AWS for an untagged resource).
- Side permissions AWS checks besides iam:PassRole (e.g. ecs:TagResource on tag-on-create,
  kms:* for encrypted resources) are not checked on the request path.
- Signatures are not verified (moto's own check is off with its enforcement).
"""

from __future__ import annotations

# principalmapper 1.1.5 (2022) still imports collections.Mapping/MutableMapping, aliases that
# Python 3.10 removed from ``collections``; restore them before it is imported.
import collections
import collections.abc

collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
collections.MutableMapping = collections.abc.MutableMapping  # type: ignore[attr-defined]

import json  # noqa: E402
import re  # noqa: E402
from collections.abc import Callable, Mapping  # noqa: E402
from contextvars import ContextVar  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import unquote  # noqa: E402

from moto.core.exceptions import AccessDeniedError, JsonRESTError  # noqa: E402
from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.querying import local_policy_simulation as sim  # noqa: E402
from principalmapper.querying.query_interface import (  # noqa: E402
    _infer_condition_keys,
    _prepare_condition_context,
)
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

from emulator import iam_reference  # noqa: E402

PARTITION = "aws"

# The message shapes AWS documents for an implicit and an explicit deny by an identity-based
# policy: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
_IMPLICIT = (
    "User: {arn} is not authorized to perform: {action} on resource: {resource} "
    "because no identity-based policy allows the {action} action"
)
_EXPLICIT = (
    "User: {arn} is not authorized to perform: {action} on resource: {resource} "
    "with an explicit deny in an identity-based policy"
)


@dataclass(frozen=True)
class Principal:
    """A restricted principal: a role session, as AWS names it in its messages."""

    arn: str  # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
    role_arn: str  # arn:aws:iam::ACCOUNT:role/PATH/ROLE
    account_id: str


_CURRENT: ContextVar[Principal | None] = ContextVar("emulator_iam_principal", default=None)


def current_principal() -> Principal | None:
    """The restricted principal whose request is being served on this thread, None when
    the caller is all-powerful (not an assumed role)."""
    return _CURRENT.get()


def role_principal(account_id: str, role_arn: str, session: str = "AWSCloudFormation") -> Principal:
    """A role acting through a service, e.g. the stack's service role as CloudFormation uses it.

    AWS names such a session ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` (the role's
    path is not part of it).
    """
    role_name = role_arn.rsplit("/", 1)[-1]
    arn = f"arn:{PARTITION}:sts::{account_id}:assumed-role/{role_name}/{session}"
    return Principal(arn=arn, role_arn=role_arn, account_id=account_id)


def _iam_backend(account_id: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id][PARTITION]


def _document(text: Any) -> dict[str, Any]:
    """A policy document as moto stores it (a JSON string, sometimes URL-encoded) as a dict."""
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return json.loads(unquote(text))


def _role(account_id: str, role_arn: str) -> Any | None:
    from moto.iam.exceptions import NotFoundException

    try:
        return _iam_backend(account_id).get_role_by_arn(role_arn)
    except NotFoundException:
        return None


def _node(principal: Principal) -> Node:
    """principalmapper's view of the role: its inline and attached managed policies."""
    role = _role(principal.account_id, principal.role_arn)
    policies: list[Policy] = []
    trust: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
    role_id = "AROAEMULATORUNKNOWN"
    if role is not None:
        role_id = role.id
        trust = _document(role.assume_role_policy_document)
        for name, text in role.policies.items():
            policies.append(Policy(principal.role_arn, name, _document(text)))
        for managed in role.managed_policies.values():
            default = next(v for v in managed.versions if v.is_default)
            policies.append(Policy(managed.arn, managed.name, _document(default.document)))
    # principalmapper wants an IAM role ARN (role/...), not the session ARN.
    return Node(
        principal.role_arn, role_id, policies, [], trust, None, 0, False, False, None, False, None
    )


def _action_only(node: Node) -> Node:
    """A copy of node whose Allow statements ignore Resource/NotResource, and whose Deny
    statements keep only those that name every resource: for requests whose resource the
    emulator cannot name."""
    policies = []
    for policy in node.attached_policies:
        statements = policy.policy_doc.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        kept = []
        for statement in statements:
            statement = dict(statement)
            if statement.get("Effect") == "Allow":
                statement.pop("NotResource", None)
                statement["Resource"] = "*"
            else:
                resources = statement.get("Resource")
                if resources is None or "*" not in (
                    [resources] if isinstance(resources, str) else resources
                ):
                    continue
            kept.append(statement)
        doc = {"Version": "2012-10-17", "Statement": kept}
        policies.append(Policy(policy.arn, policy.name, doc))
    return Node(
        node.arn,
        node.id_value,
        policies,
        [],
        node.trust_policy,
        None,
        0,
        False,
        False,
        None,
        False,
        None,
    )


def denial(
    principal: Principal,
    action: str,
    resource: str | None = "*",
    context: Mapping[str, str | list[str]] | None = None,
) -> str | None:
    """None when the principal's identity policies allow action on resource, else AWS's message.

    The message is 'User: {principal.arn} is not authorized to perform: {action} on resource:
    {resource} because no identity-based policy allows the {action} action', or '... with an
    explicit deny in an identity-based policy' when a Deny statement matches (explicit deny is
    judged first). context holds the request's condition keys (e.g. aws:RequestTag/KEY,
    aws:TagKeys as a list, iam:PassedToService).

    resource=None means "the emulator cannot name the resource": the action alone is judged
    (any Allow statement for it whose conditions hold allows; only a Deny statement whose
    Resource is "*" denies), and the message names resource "*".
    """
    node = _node(principal)
    if resource is None:
        node, resource = _action_only(node), "*"
    keys: CaseInsensitiveDict = _prepare_condition_context(dict(context or {}))
    keys.update(_infer_condition_keys(node, keys))
    values = {"arn": principal.arn, "action": action, "resource": resource}
    if sim.has_matching_statement(node, "Deny", action, resource, keys):
        return _EXPLICIT.format(**values)
    if not sim.has_matching_statement(node, "Allow", action, resource, keys):
        return _IMPLICIT.format(**values)
    return None


def role_trusts(account_id: str, role_arn: str, service: str) -> bool:
    """Whether the role exists and its trust policy lets the service principal (e.g.
    ``cloudformation.amazonaws.com``) perform sts:AssumeRole on it, with no Deny for it."""
    role = _role(account_id, role_arn)
    if role is None:
        return False
    result = sim.resource_policy_authorization(
        service,
        account_id,
        _document(role.assume_role_policy_document),
        "sts:AssumeRole",
        role_arn,
        {},
    )
    return result == sim.ResourcePolicyEvalResult.SERVICE_MATCH


# --- The request hook ---------------------------------------------------------------------


@dataclass
class _Request:
    """What the namers need from a request: who, where, which operation and its parameters."""

    service: str  # the IAM prefix, e.g. "ecs", "elasticloadbalancing"
    operation: str  # the API operation, e.g. "CreateService"
    account: str
    region: str
    params: dict[str, Any]

    def arn(self, service: str, rest: str, region: bool = True, account: bool = True) -> str:
        """arn:aws:SERVICE:REGION:ACCOUNT:REST for this request's region and account."""
        where = f"{self.region if region else ''}:{self.account if account else ''}"
        return f"arn:{PARTITION}:{service}:{where}:{rest}"


Resources = str | list[str] | None
Namer = Callable[[_Request], Resources]


def _flatten_query(querystring: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in querystring.items()}


def _members(params: Mapping[str, Any], prefix: str) -> list[str]:
    """Query-protocol list members: PREFIX.member.N (or PREFIX.N) in N order."""
    found = []
    for key, value in params.items():
        match = re.fullmatch(rf"{re.escape(prefix)}\.(?:member\.)?(\d+)", key)
        if match:
            found.append((int(match.group(1)), value))
    return [value for _, value in sorted(found)]


# CloudFormation ------------------------------------------------------------------------------


def _stack(req: _Request) -> Resources:
    name = req.params.get("StackName")
    if not name:
        change_set = req.params.get("ChangeSetName", "")
        return None if not change_set.startswith("arn:") else _change_set_stack(req, change_set)
    if name.startswith("arn:"):
        return name
    from moto.cloudformation.models import cloudformation_backends

    for stack in cloudformation_backends[req.account][req.region].stacks.values():
        if stack.name == name and stack.status != "DELETE_COMPLETE":
            return stack.stack_id
    return req.arn("cloudformation", f"stack/{name}/*")


def _change_set_stack(req: _Request, change_set_arn: str) -> Resources:
    from moto.cloudformation.models import cloudformation_backends

    change_set = cloudformation_backends[req.account][req.region].change_sets.get(change_set_arn)
    return getattr(change_set, "stack_id", None)


# IAM -----------------------------------------------------------------------------------------

# The names AWS gives the service-linked roles this project may need, from each service's
# "Using service-linked roles" page (e.g. https://docs.aws.amazon.com/AmazonECS/latest/
# developerguide/using-service-linked-roles.html).
_SERVICE_LINKED_ROLES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "ecs.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    ),
    "autoscaling.amazonaws.com": "AWSServiceRoleForAutoScaling",
}


def _role_arn(req: _Request, name: str, path: str | None = None) -> str:
    from moto.iam.exceptions import NotFoundException

    try:
        return _iam_backend(req.account).get_role(name).arn
    except NotFoundException:
        return req.arn("iam", f"role{path or '/'}{name}", region=False)


def _iam(req: _Request) -> Resources:
    p = req.params
    if req.operation == "CreateServiceLinkedRole":
        service = p.get("AWSServiceName", "")
        name = _SERVICE_LINKED_ROLES.get(service, "*")
        return req.arn("iam", f"role/aws-service-role/{service}/{name}", region=False)
    if "RoleName" in p:
        return _role_arn(req, p["RoleName"], p.get("Path"))
    if "PolicyArn" in p and "Policy" in req.operation:
        return p["PolicyArn"]
    if req.operation == "CreatePolicy":
        return req.arn("iam", f"policy{p.get('Path') or '/'}{p.get('PolicyName')}", region=False)
    if "InstanceProfileName" in p:
        return req.arn("iam", f"instance-profile/{p['InstanceProfileName']}", region=False)
    return None


# ECS -----------------------------------------------------------------------------------------


def _ecs_cluster(req: _Request, value: str | None) -> str:
    value = value or "default"
    return value if value.startswith("arn:") else req.arn("ecs", f"cluster/{value}")


def _ecs_cluster_name(req: _Request) -> str:
    return _ecs_cluster(req, req.params.get("cluster")).rsplit("/", 1)[-1]


def _ecs_service(req: _Request, value: str) -> str:
    if value.startswith("arn:"):
        return value
    return req.arn("ecs", f"service/{_ecs_cluster_name(req)}/{value}")


def _ecs_task_definition(req: _Request, value: str) -> str:
    if value.startswith("arn:"):
        return value
    return req.arn("ecs", f"task-definition/{value if ':' in value else value + ':*'}")


def _next_revision(req: _Request) -> int:
    """The revision RegisterTaskDefinition will create: one more than the family's last."""
    from moto.ecs.models import ecs_backends

    revisions = ecs_backends[req.account][req.region].task_definitions.get(req.params.get("family"))
    return max(revisions or {0: None}) + 1


def _ecs(req: _Request) -> Resources:
    p, op = req.params, req.operation
    if "resourceArn" in p:
        return p["resourceArn"]
    if op == "CreateCluster":
        return _ecs_cluster(req, p.get("clusterName"))
    if op == "DescribeClusters":
        return [_ecs_cluster(req, c) for c in p.get("clusters") or ["default"]]
    if op == "CreateService":
        return _ecs_service(req, p["serviceName"])
    if op == "DescribeServices":
        return [_ecs_service(req, s) for s in p.get("services", [])]
    if "service" in p:
        return _ecs_service(req, p["service"])
    if op == "RegisterTaskDefinition":
        return req.arn("ecs", f"task-definition/{p.get('family')}:{_next_revision(req)}")
    if "taskDefinition" in p:
        return _ecs_task_definition(req, p["taskDefinition"])
    if op in ("DescribeTasks", "StopTask"):
        tasks = p.get("tasks") or [p.get("task")]
        return [
            t if t.startswith("arn:") else req.arn("ecs", f"task/{_ecs_cluster_name(req)}/{t}")
            for t in tasks
            if t
        ]
    if "cluster" in p:
        return _ecs_cluster(req, p["cluster"])
    return None


# Logs, SNS, ECR, CodeBuild, Events, ELBv2, EC2, ACM, Application Auto Scaling, STS -----------


def _logs(req: _Request) -> Resources:
    # AWS evaluates log-group actions against "log-group:NAME:log-stream:" (so policies name
    # "log-group:NAME:*"): hashicorp/terraform-provider-aws#8804 quotes AWS's denial
    # "logs:DescribeLogGroups ... on resource: arn:aws:logs:REGION:ACCOUNT:log-group::log-stream:".
    p = req.params
    if "resourceArn" in p:
        return p["resourceArn"]
    group = p.get("logGroupName")
    if group is None and req.operation == "DescribeLogGroups":
        group = ""
    if group is None:
        return None
    stream = p.get("logStreamName", "") if req.operation in ("PutLogEvents", "GetLogEvents") else ""
    return req.arn("logs", f"log-group:{group}:log-stream:{stream}")


def _sns(req: _Request) -> Resources:
    p = req.params
    if req.operation == "CreateTopic":
        return req.arn("sns", p.get("Name", ""))
    return p.get("TopicArn") or p.get("ResourceArn")


def _ecr(req: _Request) -> Resources:
    p = req.params
    if "resourceArn" in p:
        return p["resourceArn"]
    name = p.get("repositoryName")
    if not name:
        return None
    # registryId names the account whose repository it is (cross_account.py serves it there).
    registry = p.get("registryId") or req.account
    return f"arn:{PARTITION}:ecr:{req.region}:{registry}:repository/{name}"


def _codebuild(req: _Request) -> Resources:
    p = req.params

    def project(name: str) -> str:
        return name if name.startswith("arn:") else req.arn("codebuild", f"project/{name}")

    if req.operation == "BatchGetProjects":
        return [project(n) for n in p.get("names", [])]
    if req.operation == "BatchGetBuilds":
        return [
            project(i.split(":", 1)[0]) if not i.startswith("arn:") else i for i in p.get("ids", [])
        ]
    name = p.get("projectName") or p.get("name")
    return project(name) if name else None


def _events(req: _Request) -> Resources:
    p = req.params
    if "ResourceARN" in p:
        return p["ResourceARN"]
    name = p.get("Rule") or p.get("Name")
    if not name or req.operation in ("CreateEventBus", "DescribeEventBus", "DeleteEventBus"):
        return None
    bus = p.get("EventBusName") or "default"
    return req.arn("events", f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}")


def _elbv2(req: _Request) -> Resources:
    p, op = req.params, req.operation
    if op == "CreateLoadBalancer":
        kind = {"network": "net", "gateway": "gwy"}.get(p.get("Type", ""), "app")
        return req.arn("elasticloadbalancing", f"loadbalancer/{kind}/{p.get('Name')}/*")
    if op == "CreateTargetGroup":
        return req.arn("elasticloadbalancing", f"targetgroup/{p.get('Name')}/*")
    if op == "CreateListener":
        return p["LoadBalancerArn"].replace(":loadbalancer/", ":listener/") + "/*"
    if op == "CreateRule":
        return p["ListenerArn"].replace(":listener/", ":listener-rule/") + "/*"
    for many in ("ResourceArns", "LoadBalancerArns", "TargetGroupArns", "ListenerArns", "RuleArns"):
        if _members(p, many):
            return _members(p, many)
    for one in ("RuleArn", "ListenerArn", "TargetGroupArn", "LoadBalancerArn"):
        if one in p:
            return p[one]
    return None


def _ec2(req: _Request) -> Resources:
    p, op = req.params, req.operation
    if op == "CreateSecurityGroup":
        # CreateSecurityGroup is authorized on the new group and on the VPC it goes in.
        vpc = req.arn("ec2", f"vpc/{p['VpcId']}") if "VpcId" in p else None
        return [r for r in (req.arn("ec2", "security-group/*"), vpc) if r]
    if "GroupId" in p:
        return req.arn("ec2", f"security-group/{p['GroupId']}")
    return None


def _application_autoscaling(req: _Request) -> Resources:
    p = req.params
    if "ResourceARN" in p:
        return p["ResourceARN"]
    if "ResourceId" not in p or "ScalableDimension" not in p:
        return None
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    backend = applicationautoscaling_backends[req.account][req.region]
    target = backend.targets.get(p["ScalableDimension"], {}).get(p["ResourceId"])
    return target.arn if target else req.arn("application-autoscaling", "scalable-target/*")


_NAMERS: dict[str, Namer] = {
    "cloudformation": _stack,
    "iam": _iam,
    "ecs": _ecs,
    "logs": _logs,
    "sns": _sns,
    "ecr": _ecr,
    "codebuild": _codebuild,
    "events": _events,
    "elasticloadbalancing": _elbv2,
    "ec2": _ec2,
    "application-autoscaling": _application_autoscaling,
    "acm": lambda req: req.params.get("CertificateArn"),
    "sts": lambda req: req.params.get("RoleArn"),
}


# moto names S3 requests by REST operation; IAM authorizes some under another action name
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
_S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject",
    "DeleteObjects": "DeleteObject",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketCors": "GetBucketCORS",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
}

# --- Condition keys --------------------------------------------------------------------------


def _request_tags(req: _Request) -> dict[str, str]:
    """The tags a request attaches, whatever the protocol spells them as."""
    p = req.params
    tags: dict[str, str] = {}
    for key in ("tags", "Tags"):
        value = p.get(key)
        if isinstance(value, dict):
            tags.update({str(k): str(v) for k, v in value.items()})
        elif isinstance(value, list):
            for tag in value:
                if isinstance(tag, dict):
                    k, v = tag.get("key", tag.get("Key")), tag.get("value", tag.get("Value", ""))
                    if k is not None:
                        tags[str(k)] = str(v)
    # Query protocols: Tags.member.N.Key / Value; EC2: TagSpecification.N.Tag.M.Key / Value.
    for key, value in p.items():
        match = re.fullmatch(r"(Tags\.member\.\d+|TagSpecification\.\d+\.Tag\.\d+)\.Key", key)
        if match:
            tags[str(value)] = str(p.get(f"{match.group(1)}.Value", ""))
    return tags


def _tag_context(tags: Mapping[str, str], kind: str) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {f"aws:{kind}/{k}": v for k, v in tags.items()}
    if kind == "RequestTag" and tags:
        context["aws:TagKeys"] = list(tags)
    return context


def _resource_tags(req: _Request, arn: str) -> dict[str, str]:
    """The existing resource's tags, for the services where that is cheap; {} otherwise."""
    try:
        if arn.startswith(f"arn:{PARTITION}:ecs:"):
            from moto.ecs.models import ecs_backends

            tags = ecs_backends[req.account][req.region].list_tags_for_resource(arn)
            return {t["key"]: t["value"] for t in tags or []}
        if arn.startswith(f"arn:{PARTITION}:elasticloadbalancing:"):
            from moto.elbv2.models import elbv2_backends

            return dict(elbv2_backends[req.account][req.region].describe_tags([arn])[arn])
        if arn.startswith(f"arn:{PARTITION}:ec2:") and ":security-group/sg-" in arn:
            from moto.ec2.models import ec2_backends

            group = ec2_backends[req.account][req.region].get_security_group_from_id(
                arn.rsplit("/", 1)[-1]
            )
            return {t["key"]: t["value"] for t in group.get_tags()} if group else {}
        if arn.startswith(f"arn:{PARTITION}:logs:") and ":log-group:" in arn:
            from moto.logs.models import logs_backends

            backend = logs_backends[req.account][req.region]
            name = arn.split(":log-group:", 1)[1].split(":log-stream:", 1)[0]
            group = backend.groups.get(name)
            return dict(backend.list_tags_for_resource(group.arn)) if group else {}
        if arn.startswith(f"arn:{PARTITION}:application-autoscaling:"):
            from moto.applicationautoscaling.models import applicationautoscaling_backends

            backend = applicationautoscaling_backends[req.account][req.region]
            return dict(backend.list_tags_for_resource(arn))
    except Exception:  # noqa: BLE001 - a resource that is not there has no tags
        return {}
    return {}


# --- Side checks: iam:PassRole and tag-on-create ---------------------------------------------

# (service, operation) -> (parameters naming roles the call hands over, receiving service).
# iam:PassRole is not an API call: AWS checks it when a call hands a role to a service
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html), with the
# condition key iam:PassedToService.
_PASSES_ROLE = {
    ("cloudformation", "CreateStack"): (("RoleARN",), "cloudformation.amazonaws.com"),
    ("cloudformation", "UpdateStack"): (("RoleARN",), "cloudformation.amazonaws.com"),
    ("cloudformation", "CreateChangeSet"): (("RoleARN",), "cloudformation.amazonaws.com"),
    ("cloudformation", "DeleteStack"): (("RoleARN",), "cloudformation.amazonaws.com"),
    ("ecs", "RegisterTaskDefinition"): (
        ("executionRoleArn", "taskRoleArn"),
        "ecs-tasks.amazonaws.com",
    ),
    ("codebuild", "CreateProject"): (("serviceRole",), "codebuild.amazonaws.com"),
    ("codebuild", "UpdateProject"): (("serviceRole",), "codebuild.amazonaws.com"),
}


def _side_checks(req: _Request, resources: list[str | None]) -> list[tuple[str, str | None, dict]]:
    """Further (action, resource, context) checks AWS makes for this call."""
    checks: list[tuple[str, str | None, dict]] = []
    passes = _PASSES_ROLE.get((req.service, req.operation))
    if passes:
        params, service = passes
        for param in params:
            role = req.params.get(param)
            if role:
                arn = role if role.startswith("arn:") else _role_arn(req, role)
                checks.append(("iam:PassRole", arn, {"iam:PassedToService": service}))
    tags = _request_tags(req)
    if tags and req.service == "ec2" and any(k.startswith("TagSpecification") for k in req.params):
        # Tag-on-create needs ec2:CreateTags, with ec2:CreateAction naming the creating call:
        # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
        context = {"ec2:CreateAction": req.operation, **_tag_context(tags, "RequestTag")}
        for resource in resources:
            checks.append(("ec2:CreateTags", resource, context))
    if tags and req.service == "ecs" and req.operation in _ECS_CREATES:
        # ECS tag-on-create also needs ecs:TagResource on the new resource, with
        # ecs:CreateAction: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/
        # supported-iam-actions-tagging.html
        context = {"ecs:CreateAction": req.operation, **_tag_context(tags, "RequestTag")}
        for resource in resources:
            checks.append(("ecs:TagResource", resource, context))
    return checks


_ECS_CREATES = {
    "CreateCluster",
    "CreateService",
    "RegisterTaskDefinition",
    "CreateCapacityProvider",
    "RunTask",
    "StartTask",
    "CreateTaskSet",
    "RegisterContainerInstance",
}


# --- Denials in each protocol's shape ---------------------------------------------------------


class _QueryAccessDenied(AccessDeniedError):
    """HTTP 403, Code AccessDenied, in the query protocol's XML (CloudFormation, IAM, STS, SNS,
    ELBv2): moto's own AccessDeniedError with AWS's full message."""

    def __init__(self, message: str, code: str = "AccessDenied") -> None:
        super(AccessDeniedError, self).__init__(code, message)


class _JsonAccessDenied(JsonRESTError):
    """HTTP 403, __type AccessDeniedException (ECS, Logs, Events, CodeBuild, ECR, ACM, ...)."""

    code = 403

    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


def _refuse(response: Any, req: _Request, message: str) -> None:
    """Raise AWS's denial for this request's protocol."""
    if req.service == "s3":
        from moto.s3.exceptions import S3ClientError

        raise S3ClientError("AccessDenied", message)
    if req.service == "ec2":
        # EC2 answers UnauthorizedOperation, "You are not authorized to perform this operation."
        # then the details: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
        raise _QueryAccessDenied(
            f"You are not authorized to perform this operation. {message}",
            code="UnauthorizedOperation",
        )
    target = response.headers.get("X-Amz-Target") or ""
    content_type = response.headers.get("Content-Type") or ""
    if target or "json" in content_type:
        raise _JsonAccessDenied(message)
    raise _QueryAccessDenied(message)


# --- The hook ---------------------------------------------------------------------------------


def _assumed_role(account: str, access_key: str) -> Any | None:
    from moto.sts.models import sts_backends

    for account_id in [account, *[a for a in list(sts_backends) if a != account]]:
        for assumed in sts_backends[account_id][PARTITION].assumed_roles:
            if assumed.access_key_id == access_key:
                return assumed
    return None


def _params(response: Any) -> dict[str, Any]:
    target = response.headers.get("X-Amz-Target")
    body = getattr(response, "body", None)
    if target or "json" in (response.headers.get("Content-Type") or ""):
        try:
            loaded = json.loads(body or "{}")
            return loaded if isinstance(loaded, dict) else {}
        except ValueError:
            return {}
    return _flatten_query(getattr(response, "querystring", {}) or {})


def _service_prefix(response: Any) -> str:
    """The IAM prefix: the signing name in the Authorization header's credential scope."""
    scope = (response.headers.get("Authorization") or "").partition("Credential=")[2]
    parts = scope.partition(",")[0].split("/")
    return parts[3] if len(parts) > 3 else (response.service_name or "")


def _judge(response: Any, moto_resource: str) -> None:
    """Evaluate the request being served when it is signed by an assumed role; raise AWS's
    denial if the role's identity policies do not allow it."""
    _CURRENT.set(None)
    access_key = getattr(response, "access_key", None) or response.get_access_key()
    if not access_key.startswith("ASIA"):
        return
    assumed = _assumed_role(response.current_account, access_key)
    if assumed is None:
        return
    principal = Principal(arn=assumed.arn, role_arn=assumed.role_arn, account_id=assumed.account_id)
    _CURRENT.set(principal)
    operation = response._get_action()
    operation = operation[0] if isinstance(operation, list) else operation
    service = _service_prefix(response)
    req = _Request(service, operation, response.current_account, response.region, {})
    if service == "s3":
        operation = _S3_ACTIONS.get(operation, operation)
        named: Resources = moto_resource
    else:
        req.params = _params(response)
        action = f"{service}:{operation}"
        if action == "sts:GetCallerIdentity":
            # "No permissions are required to perform this operation":
            # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
            return
        if iam_reference.star_only(action):
            named = "*"
        else:
            namer = _NAMERS.get(service)
            named = namer(req) if namer else None
    action = f"{service}:{operation}"
    resources = named if isinstance(named, list) else [named]
    request_context = _tag_context(_request_tags(req), "RequestTag")
    if service == "iam" and operation == "CreateServiceLinkedRole":
        request_context["iam:AWSServiceName"] = req.params.get("AWSServiceName", "")
    if service == "iam" and "PolicyArn" in req.params and "RolePolic" in operation:
        request_context["iam:PolicyARN"] = req.params["PolicyArn"]
    checks = [(action, r, request_context) for r in resources or [None]]
    checks += _side_checks(req, resources)
    for check_action, resource, context in checks:
        if resource is not None and resource != "*":
            context = {**context, **_tag_context(_resource_tags(req, resource), "ResourceTag")}
        message = denial(principal, check_action, resource, context)
        if message:
            _refuse(response, req, message)


def install() -> None:
    """Judge assumed-role requests before moto serves them; keep current_principal() for the
    duration of each request. moto's own enforcement stays off. Idempotent."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action
    if getattr(authorize, "_emulator_iam", False):
        return

    def _authenticate_and_authorize_action(
        self: Any, iam_request_cls: type, resource: str = "*"
    ) -> None:
        _judge(self, resource)
        authorize(self, iam_request_cls, resource)

    _authenticate_and_authorize_action._emulator_iam = True  # type: ignore[attr-defined]
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize_action

    serve = DomainDispatcherApplication.__call__

    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        token = _CURRENT.set(None)
        try:
            return serve(self, environ, start_response)
        finally:
            _CURRENT.reset(token)

    DomainDispatcherApplication.__call__ = __call__
