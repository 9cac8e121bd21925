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
- Resource-based policies (bucket, topic, key policies), permission boundaries, session
  policies passed to AssumeRole, SCPs: not evaluated. Same-account only.
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
from collections.abc import Mapping  # noqa: E402
from contextvars import ContextVar  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import unquote  # noqa: E402

from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.querying import local_policy_simulation as sim  # noqa: E402
from principalmapper.querying.query_interface import (  # noqa: E402
    _infer_condition_keys,
    _prepare_condition_context,
)
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

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
