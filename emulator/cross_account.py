"""Several accounts on one emulator, and cross-account access judged as AWS judges it.

A principal of account A acting on a resource of account B is allowed only when A's identity
policies allow the request (emulator/iam.py, already judged for assumed roles) AND B's
resource-based policy allows that principal; an explicit Deny in either wins ("Cross-account
policy evaluation logic": https://docs.aws.amazon.com/IAM/latest/UserGuide/
reference_policies_evaluation-logic-cross-account.html). The resource-based policy is matched
by principalmapper 1.1.5 (as iam.py does for identity policies): a Principal naming the
account id, its root ARN or the role's ARN matches, and ``aws:PrincipalArn`` is the ROLE's ARN
with its path (arn:aws:iam::ACCOUNT:role/PATH/NAME), never the session's.

Who is judged: assumed-role sessions only (``iam.current_principal()``); the ``testing`` keys
stay all-powerful, as in iam.py. Same-account requests are judged as before, plus one rule
AWS applies to everyone: an explicit Deny in the bucket or repository policy refuses.

What is covered:
- ECR: a request whose ``registryId`` names another account (DescribeImages,
  DescribeRepositories, ListImages, BatchGetImage, BatchCheckLayerAvailability, PutImage,
  the layer uploads, ...) is served from that account's ECR backend (moto 5.2.5 looks only
  in the caller's and answers RepositoryNotFoundException), after the repository policy is
  judged.
- S3: moto already finds a bucket of another account (``s3_backends.bucket_accounts``); the
  bucket policy is judged for the S3 action of the request (GetObject with a versionId is
  s3:GetObjectVersion here).
- KMS under S3 (SSE-KMS) across accounts: PutObject needs kms:GenerateDataKey, GetObject and
  HeadObject need kms:Decrypt, on the object's key (the request's
  x-amz-server-side-encryption-aws-kms-key-id, else the bucket's default, as moto records it
  on the object): the caller's identity policies and the key's policy must both allow it.
  SSE-KMS without a key id means the AWS managed key aws/s3, which cannot be used from another
  account (its policy is AWS's own and admits only its account: "you can't use the AWS managed
  key ... for cross-account access", https://docs.aws.amazon.com/secretsmanager/latest/
  userguide/auth-and-access_examples_cross.html; S3's own page on SSE-KMS,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
- ECS: ``pull_problem`` tells task_lifecycle.py why a task whose image is in another
  account's registry cannot be pulled by its execution role (identity policy + repository
  policy, then the image's existence): CannotPullContainerError, as listed on
  https://docs.aws.amazon.com/AmazonECS/latest/userguide/stopped-task-error-codes.html.
  Same-account images are not checked (as before).

Denials: HTTP 403, the protocol's AccessDenied code (iam.py's ``_refuse``), with AWS's message
for a resource-based policy (https://docs.aws.amazon.com/IAM/latest/UserGuide/
troubleshoot_access-denied.html): 'User: SESSION_ARN is not authorized to perform: ACTION on
resource: ARN because no resource-based policy allows the ACTION action', or '... with an
explicit deny in a resource-based policy'.

aws:SecureTransport: the emulator serves HTTP on loopback only, standing in for AWS's HTTPS
endpoints; every request is judged as sent over TLS (``aws:SecureTransport`` = "true", as
principalmapper infers and iam.py already uses), so a DenyPlainHttp statement (Bool
aws:SecureTransport "false") never matches, on AWS as here, for clients that use HTTPS.

Gaps (what is not judged):
- Same-account requests are still judged by identity policies alone: a resource policy that
  grants a same-account role what its identity policies do not is not honoured (AWS would).
- KMS API calls naming another account's key (kms:Decrypt with a key ARN) are not served
  across accounts (moto looks in the caller's account); only S3's implicit use is judged.
- Other resource policies (SNS topics, Secrets Manager, EventBridge buses, IAM trust policies
  on sts:AssumeRole) are not judged; moto's AssumeRole lets anyone assume any role.
- ECR GetDownloadUrlForLayer is not implemented by moto; the ECS pull check judges it.
  CreateRepository and repository-policy calls are not redirected (DescribeRepositories
  with a registryId is, like the image operations).
- CloudFormation: AWS::ECR::Repository's RepositoryPolicyText is applied here (moto 5.2.5
  drops it); ECR's own validation of the policy's principals is not done.
- Object ACLs, S3 Object Ownership, access points, SCPs and RCPs are not evaluated; a
  missing key named by SSE-KMS is not refused.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from typing import Any

from emulator import iam  # it makes principalmapper importable on Python 3.10+; use its imports

sim = iam.sim

PARTITION = iam.PARTITION

# AWS's message shapes for a resource-based policy that does not allow, or explicitly denies:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
NO_RESOURCE_ALLOW = (
    "User: {arn} is not authorized to perform: {action} on resource: {resource} "
    "because no resource-based policy allows the {action} action"
)
RESOURCE_DENY = (
    "User: {arn} is not authorized to perform: {action} on resource: {resource} "
    "with an explicit deny in a resource-based policy"
)

# ECR operations served from the registry a request's registryId names: those ECR lets a
# repository policy grant to another account (the image and layer operations).
ECR_CROSS_ACCOUNT = frozenset(
    {
        "BatchCheckLayerAvailability",
        "BatchDeleteImage",
        "BatchGetImage",
        "CompleteLayerUpload",
        "DescribeImages",
        "DescribeRepositories",  # with registryId: the repository policy may grant it too
        "GetDownloadUrlForLayer",
        "InitiateLayerUpload",
        "ListImages",
        "PutImage",
        "UploadLayerPart",
    }
)
_ACCOUNT = re.compile(r"\d{12}")
# The S3 operations that write an object (so use kms:GenerateDataKey under SSE-KMS) and read
# one (kms:Decrypt): https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
_S3_WRITES = frozenset({"PutObject", "CreateMultipartUpload", "CopyObject"})
_S3_READS = frozenset({"GetObject", "HeadObject"})


def _policy(text: Any) -> dict[str, Any] | None:
    if not text:
        return None
    if isinstance(text, bytes):
        text = text.decode()
    return iam._document(text)


def resource_denial(
    principal: iam.Principal,
    owner: str,
    policy: dict[str, Any] | None,
    action: str,
    resource: str,
    context: dict[str, str | list[str]] | None = None,
) -> str | None:
    """None when the resource-based policy of a resource in account ``owner`` lets the
    principal perform action on it, else AWS's message.

    Explicit Deny statements that match refuse anyone. Across accounts an Allow statement
    naming the principal (account id, account root ARN, role ARN, or "*") whose conditions
    hold is required; in the same account none is (identity policies decide, iam.py).
    """
    node = iam._node(principal)
    keys = iam._prepare_condition_context(dict(context or {}))
    keys.update(iam._infer_condition_keys(node, keys))
    result = sim.ResourcePolicyEvalResult.NO_MATCH
    if policy is not None:
        result = sim.resource_policy_authorization(node, owner, policy, action, resource, keys)
    values = {"arn": principal.arn, "action": action, "resource": resource}
    if result == sim.ResourcePolicyEvalResult.DENY_MATCH:
        return RESOURCE_DENY.format(**values)
    if principal.account_id != owner and result == sim.ResourcePolicyEvalResult.NO_MATCH:
        return NO_RESOURCE_ALLOW.format(**values)
    return None


def denial(
    principal: iam.Principal,
    owner: str,
    policy: dict[str, Any] | None,
    action: str,
    resource: str,
    context: dict[str, str | list[str]] | None = None,
) -> str | None:
    """Both halves of a cross-account decision: the principal's identity policies (iam.py),
    then the resource's policy. None when allowed, else the first denial's message."""
    return iam.denial(principal, action, resource, context) or resource_denial(
        principal, owner, policy, action, resource, context
    )


# --- ECR ---------------------------------------------------------------------------------


def _ecr_repository(registry: str, region: str, name: str) -> Any | None:
    from moto.ecr.models import ecr_backends

    if registry not in ecr_backends:
        return None
    return ecr_backends[registry][region].repositories.get(name)


def _judge_ecr(response: Any, principal: iam.Principal, operation: str) -> None:
    params = iam._params(response)
    # One repository per request, or DescribeRepositories' list of names.
    names = [params["repositoryName"]] if params.get("repositoryName") else []
    names += params.get("repositoryNames") or []
    registry = params.get("registryId") or response.current_account
    if not _ACCOUNT.fullmatch(str(registry)):
        return
    for name in names:
        repository = _ecr_repository(registry, response.region, name)
        if repository is None:
            continue  # moto answers RepositoryNotFoundException
        action = f"ecr:{operation}"
        message = resource_denial(
            principal, registry, _policy(repository.policy), action, repository.arn
        )
        if message:
            req = iam._Request("ecr", operation, response.current_account, response.region, params)
            iam._refuse(response, req, message)


def _serve_ecr_from_registry() -> None:
    """ECRResponse.ecr_backend: the backend of the account a registryId names, for the
    operations in ECR_CROSS_ACCOUNT."""
    from moto.ecr import responses as ecr_responses
    from moto.ecr.models import ecr_backends

    response_cls = ecr_responses.ECRResponse
    if getattr(response_cls.ecr_backend.fget, "_cross_account", False):
        return
    original = response_cls.ecr_backend.fget

    def ecr_backend(self: Any) -> Any:
        registry = self._get_param("registryId")
        if (
            registry
            and registry != self.current_account
            and _ACCOUNT.fullmatch(str(registry))
            and self._get_action() in ECR_CROSS_ACCOUNT
        ):
            return ecr_backends[registry][self.region]
        return original(self)

    ecr_backend._cross_account = True  # type: ignore[attr-defined]
    response_cls.ecr_backend = property(ecr_backend)


def _repository_policy_from_cloudformation() -> None:
    """AWS::ECR::Repository's RepositoryPolicyText becomes the repository's policy (moto 5.2.5
    ignores the property, so a repository a stack made would admit no other account)."""
    from moto.ecr.models import Repository

    if getattr(Repository.create_from_cloudformation_json, "_cross_account", False):
        return
    create = Repository.create_from_cloudformation_json.__func__
    update = Repository.update_from_cloudformation_json.__func__

    def _apply(repository: Any, cloudformation_json: dict[str, Any]) -> Any:
        text = (cloudformation_json.get("Properties") or {}).get("RepositoryPolicyText")
        # A dict in a template (JSON or YAML), or a JSON string; absent: no policy.
        repository.policy = (json.dumps(text) if isinstance(text, dict) else text) or None
        return repository

    def create_(cls: Any, resource_name: str, cloudformation_json: Any, *args: Any, **kw: Any):
        return _apply(
            create(cls, resource_name, cloudformation_json, *args, **kw), cloudformation_json
        )

    def update_(cls: Any, *args: Any, **kw: Any):
        # moto calls it with keywords (original_resource=..., cloudformation_json=...).
        cloudformation_json = kw.get("cloudformation_json", args[2] if len(args) > 2 else None)
        return _apply(update(cls, *args, **kw), cloudformation_json or {})

    for name, function in (
        ("create_from_cloudformation_json", create_),
        ("update_from_cloudformation_json", update_),
    ):
        function._cross_account = True  # type: ignore[attr-defined]
        setattr(Repository, name, classmethod(function))


# --- S3 and SSE-KMS ----------------------------------------------------------------------


def _bucket(name: str) -> Any | None:
    from moto.s3.models import s3_backends

    where = s3_backends.bucket_accounts.get(name)
    if where is None:
        return None
    partition, account = where
    return s3_backends[account][partition].buckets.get(name)


def _s3_action(response: Any, operation: str) -> str:
    action = iam._S3_ACTIONS.get(operation, operation)
    query = getattr(response, "querystring", {}) or {}
    if action == "GetObject" and query.get("versionId"):
        # Reading a version needs s3:GetObjectVersion (S3's action-to-permission table:
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
        return "GetObjectVersion"
    return action


def _kms_key(account: str, region: str, key_id: str) -> Any | None:
    from moto.kms.models import kms_backends

    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        account, region = parts[4], parts[3]
    if account not in kms_backends:
        return None
    backend = kms_backends[account][region]
    try:
        return backend.keys.get(backend.any_id_to_key_id(key_id))
    except Exception:  # noqa: BLE001 - an unknown alias: no key to judge
        return None


def _sse_kms(response: Any, bucket: Any, operation: str, key_name: str) -> tuple[bool, str | None]:
    """(whether SSE-KMS applies, its key id or None for aws/s3) for this write or read."""
    if operation in _S3_WRITES:
        headers = response.headers
        algorithm = headers.get("x-amz-server-side-encryption")
        key_id = headers.get("x-amz-server-side-encryption-aws-kms-key-id")
        default = ((bucket.encryption or {}).get("Rule") or {}).get(
            "ApplyServerSideEncryptionByDefault"
        ) or {}
        algorithm = algorithm or default.get("SSEAlgorithm")
        key_id = key_id or default.get("KMSMasterKeyID")
        return algorithm in ("aws:kms", "aws:kms:dsse"), key_id
    query = getattr(response, "querystring", {}) or {}
    version = (query.get("versionId") or [None])[0]
    key = bucket.keys.get(key_name)
    if version and key is not None:
        key = next((k for k in bucket.keys.getlist(key_name) if k.version_id == version), key)
    if key is None:
        return False, None
    return getattr(key, "encryption", None) in ("aws:kms", "aws:kms:dsse"), key.kms_key_id


def _judge_kms_under_s3(
    response: Any, principal: iam.Principal, bucket: Any, operation: str, key_name: str
) -> str | None:
    if operation not in _S3_WRITES and operation not in _S3_READS:
        return None
    applies, key_id = _sse_kms(response, bucket, operation, key_name)
    if not applies:
        return None
    action = "kms:GenerateDataKey" if operation in _S3_WRITES else "kms:Decrypt"
    if not key_id:
        # The bucket account's AWS managed key: its policy admits its own account only.
        alias = f"arn:{PARTITION}:kms:{response.region}:{bucket.account_id}:alias/aws/s3"
        return NO_RESOURCE_ALLOW.format(arn=principal.arn, action=action, resource=alias)
    key = _kms_key(bucket.account_id, response.region, key_id)
    if key is None:
        return None  # gap: a missing key is not refused
    # S3 calls KMS for the caller: kms:ViaService names S3 in the bucket's region, and
    # kms:CallerAccount the caller's account (https://docs.aws.amazon.com/kms/latest/
    # developerguide/conditions-kms.html).
    context: dict[str, str | list[str]] = {
        "kms:ViaService": f"s3.{response.region}.amazonaws.com",
        "kms:CallerAccount": principal.account_id,
    }
    return denial(principal, key.account_id, _policy(key.policy), action, key.arn, context)


def _judge_s3(response: Any, principal: iam.Principal, operation: str, resource: str) -> None:
    path = resource.split(":::", 1)[-1]
    bucket_name, _, key_name = path.partition("/")
    if not bucket_name or bucket_name == "*":
        return
    bucket = _bucket(bucket_name)
    if bucket is None:
        return
    action = f"s3:{_s3_action(response, operation)}"
    message = resource_denial(
        principal, bucket.account_id, _policy(bucket.policy), action, resource
    )
    if not message and bucket.account_id != principal.account_id and key_name:
        message = _judge_kms_under_s3(response, principal, bucket, operation, key_name)
    if message:
        req = iam._Request("s3", operation, response.current_account, response.region, {})
        iam._refuse(response, req, message)


# moto 5.2.5 checks a bucket policy's Deny statements itself before a key operation
# (S3Response._key_response, FakeBucket.get_permission), ignoring their Principal and most
# conditions, and answers 403 with an empty body. For an assumed-role session this module
# judges the bucket policy instead, principal and conditions included, with AWS's message;
# for everyone else moto's check stays as it was.
_SESSION_REQUEST: ContextVar[bool] = ContextVar("emulator_s3_session_request", default=False)


def _bucket_policy_judged_here() -> None:
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    if getattr(FakeBucket.get_permission, "_cross_account", False):
        return
    get_permission, key_response = FakeBucket.get_permission, S3Response._key_response

    def _get_permission(self: Any, action: str, resource: str) -> Any:
        if _SESSION_REQUEST.get():
            from moto.iam.access_control import PermissionResult

            return PermissionResult.NEUTRAL
        return get_permission(self, action, resource)

    def _key_response(self: Any, request: Any, full_url: str) -> Any:
        key = self.get_access_key()
        session = key.startswith("ASIA") and iam._assumed_role(self.current_account, key)
        token = _SESSION_REQUEST.set(bool(session))
        try:
            return key_response(self, request, full_url)
        finally:
            _SESSION_REQUEST.reset(token)

    _get_permission._cross_account = True  # type: ignore[attr-defined]
    FakeBucket.get_permission = _get_permission
    S3Response._key_response = _key_response


# --- The request hook --------------------------------------------------------------------


def _judge(response: Any, moto_resource: str) -> None:
    """After iam.py judged the caller's identity policies: the resource's policy."""
    principal = iam.current_principal()
    if principal is None:
        return  # the testing keys, or a request iam.py does not judge
    operation = response._get_action()
    operation = operation[0] if isinstance(operation, list) else operation
    service = iam._service_prefix(response)
    if service == "ecr":
        _judge_ecr(response, principal, operation)
    elif service == "s3":
        _judge_s3(response, principal, operation, moto_resource)


# --- ECS: images in another account's registry -------------------------------------------

_IMAGE = re.compile(
    r"(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[^:@]+)(?:@(?P<digest>sha256:[0-9a-f]{64})|:(?P<tag>[\w.-]+))?"
)
# Fargate's reason for an image it may not pull (HTTP 403 from the registry) and for one that
# is not there; their prefix is listed on https://docs.aws.amazon.com/AmazonECS/latest/
# userguide/stopped-task-error-codes.html, the rest is containerd's wording.
PULL_FORBIDDEN = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
    "resolve ref {image}: pulling from host {host} failed with status code "
    "[manifests {reference}]: 403 Forbidden"
)
PULL_NOT_FOUND = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
    "resolve ref {image}: {image}: not found"
)
# What a task execution role needs to pull from ECR: https://docs.aws.amazon.com/AmazonECR/
# latest/userguide/ECR_on_ECS.html (GetAuthorizationToken has resource "*" only).
_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def pull_problem(definition: Any, account_id: str, region: str, task_id: str) -> str | None:
    """Why Fargate could not pull a container image of the task definition from another
    account's ECR registry with the task execution role, or None (same-account images and
    other registries are not checked)."""
    for container in definition.container_definitions or []:
        image = container.get("image") or ""
        match = _IMAGE.fullmatch(image)
        if not match or match["registry"] == account_id:
            continue
        problem = _image_problem(
            image, match, getattr(definition, "execution_role_arn", None), account_id, task_id
        )
        if problem:
            return problem
    return None


def _image_problem(
    image: str, match: re.Match[str], role: str | None, account_id: str, task_id: str
) -> str | None:
    registry, region, name = match["registry"], match["region"], match["repository"]
    reference = match["digest"] or match["tag"] or "latest"
    forbidden = PULL_FORBIDDEN.format(
        image=image, host=f"{registry}.dkr.ecr.{region}.amazonaws.com", reference=reference
    )
    if not role:
        return forbidden  # no credentials to ask ECR with
    principal = iam.role_principal(account_id, role, session=task_id)
    if iam.denial(principal, "ecr:GetAuthorizationToken", "*"):
        return forbidden
    repository = _ecr_repository(registry, region, name)
    arn = f"arn:{PARTITION}:ecr:{region}:{registry}:repository/{name}"
    policy = _policy(repository.policy) if repository is not None else None
    for action in _PULL_ACTIONS:
        if denial(principal, registry, policy, action, arn):
            return forbidden
    if repository is None or not any(
        (match["digest"] and i.get_image_digest() == match["digest"])
        or (not match["digest"] and reference in i.image_tags)
        for i in repository.images
    ):
        return PULL_NOT_FOUND.format(image=image)
    return None


def install() -> None:
    """Judge resource policies across accounts after iam.py's identity check, and serve ECR
    requests naming another registry from it. Install after iam.install(). Idempotent."""
    from moto.core.authorization import ActionAuthenticatorMixin

    _serve_ecr_from_registry()
    _repository_policy_from_cloudformation()
    _bucket_policy_judged_here()
    authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action
    if getattr(authorize, "_emulator_cross_account", False):
        return

    def _authenticate_and_authorize_action(
        self: Any, iam_request_cls: type, resource: str = "*"
    ) -> None:
        authorize(self, iam_request_cls, resource)  # iam.py's identity check, then moto's
        _judge(self, resource)

    _authenticate_and_authorize_action._emulator_cross_account = True  # type: ignore[attr-defined]
    # iam.install() stays idempotent: it sees its own hook in place (inside this one).
    _authenticate_and_authorize_action._emulator_iam = True  # type: ignore[attr-defined]
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize_action
