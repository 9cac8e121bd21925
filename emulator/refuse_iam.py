"""IAM policy documents validated as IAM validates them, and kept as the JSON IAM returns.

moto 5.2.5 validates documents on PutRolePolicy, CreatePolicy and CreatePolicyVersion
(``moto/iam/policy_validation.py``: unknown top-level or statement keys, missing Effect or
Action, a Version other than 2012-10-17, Resource missing, each with IAM's
MalformedPolicyDocument message), but:

- AWS::IAM::Role's ``Policies`` go straight to ``Role.put_policy`` unvalidated and are stored
  as the template's dict, so GetRolePolicy returns a Python repr instead of the URL-encoded
  JSON IAM sends (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html:
  "The policy document returned in this structure is URL-encoded compliant with RFC 3986");
- CreateRole (API and AWS::IAM::Role's AssumeRolePolicyDocument) does not validate the trust
  policy at all, though IAM answers MalformedPolicyDocument there too
  (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html, Errors);
- no size quota is enforced
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length:
  a managed policy 6,144 characters, a role's inline policies together 10,240, a role trust
  policy 2,048; "IAM doesn't count white space");
- AWS::IAM::Role updates change only the description: a new trust policy or inline policy in
  the template never reaches the role.

This module makes each of those as IAM does. Messages (error code LimitExceeded, HTTP 409):
"Maximum policy size of 10240 bytes exceeded for role NAME"
(github.com/serverless/serverless/issues/7643, github.com/aws/aws-cdk/issues/12403);
"Cannot exceed the quota for PolicySize: 6144." (2025:
github.com/LBHackney-IT/Data-Platform/pull/2116; older wording "Cannot exceed quota for
PolicySize: ..." in github.com/docker/docs/issues/4685);
"Cannot exceed quota for ACLSizePerRole: 2048" (github.com/kubeflow/dashboard/issues/29).
Malformed documents get moto's validators and their messages.

Seams (moto 5.2.5): ``IAMBackend.create_role``, ``put_role_policy``, ``create_policy``,
``create_policy_version`` and ``create_inline_policy`` wrapped; ``Role.create_from_
cloudformation_json`` wrapped (documents checked before anything is created, inline policies
stored as JSON text) and ``Role.update_from_cloudformation_json`` replaced (trust policy and
inline policies follow the template, after the same checks).

Gaps: users' and groups' inline quotas (2,048 / 5,120) are not enforced; the trust policy quota
is the default 2,048 (raisable to 4,096 on request); ManagedPolicyArns, Tags, Path and
PermissionsBoundary of AWS::IAM::Role are not applied on update (moto ignores
ManagedPolicyArns on create too).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from moto.iam.exceptions import LimitExceededException
from moto.iam.models import IAMBackend, Role, iam_backends
from moto.iam.policy_validation import IAMPolicyDocumentValidator, IAMTrustPolicyDocumentValidator
from moto.utilities.utils import get_partition

MANAGED_POLICY_SIZE = 6144
ROLE_INLINE_SIZE = 10240
TRUST_POLICY_SIZE = 2048


def policy_text(document: Any) -> str:
    """A policy document as the JSON text IAM keeps (a dict from a template is serialised)."""
    return document if isinstance(document, str) else json.dumps(document)


def size(document: Any) -> int:
    """A document's size as IAM counts it against its quotas: characters, white space not
    counted."""
    return sum(1 for char in policy_text(document) if not char.isspace())


def _inline_size_error(role_name: str) -> LimitExceededException:
    return LimitExceededException(
        f"Maximum policy size of {ROLE_INLINE_SIZE} bytes exceeded for role {role_name}"
    )


def check_trust_policy(document: Any) -> str:
    """The trust policy as JSON text, or IAM's refusal raised."""
    text = policy_text(document)
    IAMTrustPolicyDocumentValidator(text).validate()
    if size(text) > TRUST_POLICY_SIZE:
        raise LimitExceededException(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}")
    return text


def check_managed_policy(document: Any) -> None:
    """Raise IAM's refusal of a managed policy document larger than the quota."""
    if size(document) > MANAGED_POLICY_SIZE:
        raise LimitExceededException(
            f"Cannot exceed the quota for PolicySize: {MANAGED_POLICY_SIZE}."
        )


def check_inline_policies(role_name: str, policies: dict[str, Any]) -> dict[str, str]:
    """A role's inline policies (name -> document) as JSON text, or IAM's refusal raised."""
    texts = {name: policy_text(document) for name, document in policies.items()}
    for text in texts.values():
        IAMPolicyDocumentValidator(text).validate()
    if sum(size(text) for text in texts.values()) > ROLE_INLINE_SIZE:
        raise _inline_size_error(role_name)
    return texts


def _declared_policies(properties: dict[str, Any]) -> dict[str, Any]:
    return {p["PolicyName"]: p["PolicyDocument"] for p in properties.get("Policies") or []}


# --- the backend: API calls and what CloudFormation does through them ---------------------


def _wrap_create_role(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_role(self, role_name, assume_role_policy_document, *args, **kwargs):
        text = check_trust_policy(assume_role_policy_document)
        return original(self, role_name, text, *args, **kwargs)

    return create_role


def _wrap_put_role_policy(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_role_policy(self, role_name, policy_name, policy_json):
        role = self.get_role(role_name)
        text = policy_text(policy_json)
        IAMPolicyDocumentValidator(text).validate()
        others = [doc for name, doc in role.policies.items() if name != policy_name]
        if size(text) + sum(size(doc) for doc in others) > ROLE_INLINE_SIZE:
            raise _inline_size_error(role_name)
        original(self, role_name, policy_name, text)

    return put_role_policy


def _wrap_create_policy(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_policy(self, description, path, policy_document, *args, **kwargs):
        check_managed_policy(policy_document)
        return original(self, description, path, policy_document, *args, **kwargs)

    return create_policy


def _wrap_create_policy_version(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_policy_version(self, policy_arn, policy_document, set_as_default):
        check_managed_policy(policy_document)
        return original(self, policy_arn, policy_document, set_as_default)

    return create_policy_version


def _wrap_create_inline_policy(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_inline_policy(self, resource_name, *args, **kwargs):
        try:
            return original(self, resource_name, *args, **kwargs)
        except Exception:
            # moto registers the policy before applying it: a refused one must not linger.
            self.inline_policies.pop(resource_name, None)
            raise

    return create_inline_policy


# --- AWS::IAM::Role ---------------------------------------------------------------------

_original_role_create = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_role(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = dict(cloudformation_json.get("Properties") or {})
    role_name = properties.get("RoleName", resource_name)
    properties["AssumeRolePolicyDocument"] = check_trust_policy(
        properties["AssumeRolePolicyDocument"]
    )
    texts = check_inline_policies(role_name, _declared_policies(properties))
    properties["Policies"] = [
        {"PolicyName": name, "PolicyDocument": text} for name, text in texts.items()
    ]
    return _original_role_create(
        cls,
        resource_name,
        {**cloudformation_json, "Properties": properties},
        account_id,
        region_name,
        **kwargs,
    )


def _update_role(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    backend = iam_backends[account_id][get_partition(region_name)]
    properties = cloudformation_json["Properties"]
    role = original_resource
    trust = check_trust_policy(properties["AssumeRolePolicyDocument"])
    texts = check_inline_policies(role.name, _declared_policies(properties))
    backend.update_role(
        role.name,
        properties.get("Description", ""),
        properties.get("MaxSessionDuration", 3600),
    )
    role.assume_role_policy_document = trust
    for name in set(role.policies) - set(texts):
        role.delete_policy(name)
    for name, text in texts.items():
        role.put_policy(name, text)
    return role


def install() -> None:
    """Validate IAM policy documents and quotas as IAM does; keep CloudFormation's as JSON.
    Idempotent."""
    if getattr(IAMBackend.create_role, "_emulator_refuses", False):
        return
    wraps = {
        "create_role": _wrap_create_role,
        "put_role_policy": _wrap_put_role_policy,
        "create_policy": _wrap_create_policy,
        "create_policy_version": _wrap_create_policy_version,
        "create_inline_policy": _wrap_create_inline_policy,
    }
    for name, wrap in wraps.items():
        setattr(IAMBackend, name, wrap(getattr(IAMBackend, name)))
    IAMBackend.create_role._emulator_refuses = True  # type: ignore[attr-defined]
    Role.create_from_cloudformation_json = classmethod(_create_role)
    Role.update_from_cloudformation_json = classmethod(_update_role)
