"""emulator/cross_account.py: several accounts on one emulator, cross-account access judged.

Accounts as the issue-15 design names them: tools 123456789012 (moto's default, the
``testing`` keys), dev 111111111111, prod 222222222222. Each member account gets the role AWS
Organizations creates (seed.member_account); its sessions create the roles under test there.

What AWS does, and where it says so:
- a principal of one account reaches a resource of another only when its identity policies
  allow it AND the resource's policy allows that principal; an explicit deny in either wins
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html);
- the denial names the policy type: "... because no resource-based policy allows the ACTION
  action", "... because no identity-based policy allows ...", "... with an explicit deny in a
  resource-based policy" (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html);
- the ARN of a role includes its path, and aws:PrincipalArn of a role session is the role's
  ARN (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn);
- cross-account use of a KMS key needs the key policy and the caller's IAM policy
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html);
  an AWS managed key cannot be used across accounts
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html);
- a Fargate task whose image cannot be pulled stops with CannotPullContainerError
  (https://docs.aws.amazon.com/AmazonECS/latest/userguide/stopped-task-error-codes.html),
  stopCode TaskFailedToStart (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html).
"""

import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from emulator import seed
from emulator.process import REGION, Emulator
from emulator.tests.stacks import denied, until

TOOLS, DEV, PROD = "123456789012", "111111111111", "222222222222"
REPOSITORY = "product-service"
REPOSITORY_ARN = f"arn:aws:ecr:{REGION}:{TOOLS}:repository/{REPOSITORY}"
BUCKET = f"product-service-releases-{TOOLS}-{REGION}"
START = 0.2

IMPLICIT_RESOURCE = (
    "User: {who} is not authorized to perform: {action} on resource: {resource} "
    "because no resource-based policy allows the {action} action"
)
EXPLICIT_RESOURCE = (
    "User: {who} is not authorized to perform: {action} on resource: {resource} "
    "with an explicit deny in a resource-based policy"
)
IMPLICIT_IDENTITY = (
    "User: {who} is not authorized to perform: {action} on resource: {resource} "
    "because no identity-based policy allows the {action} action"
)
PULL = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PUSH = (
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:BatchCheckLayerAvailability",
)


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: Any, resource: Any = "*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _roles_under(account: str, purpose: str) -> dict:
    """The design's condition: roles of that account under /product-service/PURPOSE/."""
    arn = f"arn:aws:iam::{account}:role/product-service/{purpose}/*"
    return {"ArnLike": {"aws:PrincipalArn": arn}}


def _clients(emulator: Emulator, credentials: dict | None = None) -> Callable[[str], Any]:
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if credentials:
        keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
    return lambda service: boto3.client(
        service, region_name=REGION, endpoint_url=emulator.url, **keys
    )


class Role:
    """A role created in an account through that account's admin session, and its sessions."""

    def __init__(self, emulator: Emulator, admin: Callable[[str], Any], path: str, *statements):
        self.name = f"role-{uuid.uuid4().hex[:8]}"
        trust = _doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        )
        iam = admin("iam")
        role = iam.create_role(RoleName=self.name, Path=path, AssumeRolePolicyDocument=trust)
        self.arn = role["Role"]["Arn"]
        self.account = self.arn.split(":")[4]
        if statements:
            iam.put_role_policy(
                RoleName=self.name, PolicyName="inline", PolicyDocument=_doc(*statements)
            )
        self._emulator = emulator

    @property
    def who(self) -> str:
        """The session as AWS names it in denials (no path: arn:aws:sts::ACCT:assumed-role/N/S)."""
        return f"arn:aws:sts::{self.account}:assumed-role/{self.name}/tester"

    def client(self, service: str) -> Any:
        testing = _clients(self._emulator)
        creds = testing("sts").assume_role(RoleArn=self.arn, RoleSessionName="tester")
        return _clients(self._emulator, creds["Credentials"])(service)


@pytest.fixture(scope="module")
def emulator():
    with Emulator(seed=False, settings={"EMULATOR_TASK_START_SECONDS": str(START)}) as running:
        yield running


@pytest.fixture(scope="module")
def tools(emulator) -> Callable[[str], Any]:
    return _clients(emulator)


@pytest.fixture(scope="module")
def admin(emulator) -> Callable[[str], Callable[[str], Any]]:
    """admin(account): clients of that account's OrganizationAccountAccessRole session."""
    made: dict[str, Callable[[str], Any]] = {}

    def clients(account: str) -> Callable[[str], Any]:
        if account not in made:
            arn = seed.member_account(emulator.url, REGION, account)
            creds = _clients(emulator)("sts").assume_role(RoleArn=arn, RoleSessionName="admin")
            made[account] = _clients(emulator, creds["Credentials"])
        return made[account]

    return clients


@pytest.fixture
def role(emulator, admin, tools) -> Callable[..., Role]:
    """role(account, path, *statements): a role in that account with this inline policy."""

    def make(account: str, path: str, *statements: dict) -> Role:
        return Role(emulator, tools if account == TOOLS else admin(account), path, *statements)

    return make


@pytest.fixture(scope="module")
def registry(tools) -> str:
    """The tools repository with the design's policy and image 1.0.0; its digest."""
    ecr = tools("ecr")
    ecr.create_repository(repositoryName=REPOSITORY)
    ecr.set_repository_policy(
        repositoryName=REPOSITORY,
        policyText=_doc(
            {
                "Sid": "Pull",
                "Effect": "Allow",
                "Principal": {"AWS": [DEV, PROD]},
                "Action": list(PULL),
                "Condition": {
                    "ArnLike": {
                        "aws:PrincipalArn": [
                            f"arn:aws:iam::{DEV}:role/product-service/execution/*",
                            f"arn:aws:iam::{PROD}:role/product-service/execution/*",
                        ]
                    }
                },
            },
            {
                "Sid": "Describe",
                "Effect": "Allow",
                "Principal": {"AWS": [DEV, PROD]},
                "Action": "ecr:DescribeImages",
            },
            {
                "Sid": "Push",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"},
                "Action": list(PUSH),
                "Condition": _roles_under(DEV, "build"),
            },
            {
                "Sid": "NoDeletes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "ecr:BatchDeleteImage",
            },
        ),
    )
    image = ecr.put_image(
        repositoryName=REPOSITORY, imageManifest=seed.fake_manifest("1.0.0"), imageTag="1.0.0"
    )
    return image["image"]["imageId"]["imageDigest"]


# --- Member accounts ---------------------------------------------------------------------


def test_member_account_has_the_organizations_role_trusting_the_management_account(emulator):
    arn = seed.member_account(emulator.url, REGION, PROD)
    assert arn == f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole"
    assert seed.member_account(emulator.url, REGION, PROD) == arn  # idempotent
    creds = _clients(emulator)("sts").assume_role(RoleArn=arn, RoleSessionName="admin")
    prod = _clients(emulator, creds["Credentials"])
    assert prod("sts").get_caller_identity()["Account"] == PROD
    role = prod("iam").get_role(RoleName="OrganizationAccountAccessRole")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{TOOLS}:root"}
    # Administrator rights: it acts in its own account (creates a role there).
    trust = _doc({"Effect": "Allow", "Principal": {"AWS": PROD}, "Action": "sts:AssumeRole"})
    prod("iam").create_role(RoleName="made-by-admin", AssumeRolePolicyDocument=trust)
    assert prod("iam").get_role(RoleName="made-by-admin")["Role"]["Arn"].split(":")[4] == PROD
    with pytest.raises(ValueError, match="12 digits"):
        seed.member_account(emulator.url, REGION, "dev")


# --- ECR ---------------------------------------------------------------------------------


def test_ecr_pull_across_accounts_needs_identity_and_repository_policy(role, registry):
    pull = _allow(list(PULL) + ["ecr:DescribeImages"], REPOSITORY_ARN)
    allowed = role(DEV, "/product-service/execution/", pull)
    images = allowed.client("ecr").batch_get_image(
        registryId=TOOLS, repositoryName=REPOSITORY, imageIds=[{"imageTag": "1.0.0"}]
    )["images"]
    assert [i["imageId"]["imageDigest"] for i in images] == [registry]
    assert images[0]["registryId"] == TOOLS
    described = allowed.client("ecr").describe_images(registryId=TOOLS, repositoryName=REPOSITORY)
    assert [d["imageDigest"] for d in described["imageDetails"]] == [registry]

    # Same identity policy, a path the repository policy does not name: refused by ECR.
    elsewhere = role(DEV, "/product-service/build/", pull)
    status, code, message = denied(
        lambda: elsewhere.client("ecr").batch_get_image(
            registryId=TOOLS, repositoryName=REPOSITORY, imageIds=[{"imageTag": "1.0.0"}]
        )
    )
    assert (status, code) == (403, "AccessDeniedException")
    assert message == IMPLICIT_RESOURCE.format(
        who=elsewhere.who, action="ecr:BatchGetImage", resource=REPOSITORY_ARN
    )

    # The right path, no identity policy: refused by the caller's own account.
    bare = role(DEV, "/product-service/execution/")
    status, code, message = denied(
        lambda: bare.client("ecr").batch_get_image(
            registryId=TOOLS, repositoryName=REPOSITORY, imageIds=[{"imageTag": "1.0.0"}]
        )
    )
    assert message == IMPLICIT_IDENTITY.format(
        who=bare.who, action="ecr:BatchGetImage", resource=REPOSITORY_ARN
    )


def test_describe_repositories_across_accounts_needs_the_repository_policy(role, registry):
    """DescribeRepositories takes a registryId too (docs.aws.amazon.com/AmazonECR/latest/
    APIReference/API_DescribeRepositories.html); the fixture's policy grants other accounts
    ecr:DescribeImages only, so DescribeRepositories across accounts is refused by ECR."""
    look = _allow(["ecr:DescribeImages", "ecr:DescribeRepositories"], REPOSITORY_ARN)
    caller = role(DEV, "/product-service/deploy/", look)
    status, code, message = denied(
        lambda: caller.client("ecr").describe_repositories(
            registryId=TOOLS, repositoryNames=[REPOSITORY]
        )
    )
    assert (status, code) == (403, "AccessDeniedException")
    assert message == IMPLICIT_RESOURCE.format(
        who=caller.who, action="ecr:DescribeRepositories", resource=REPOSITORY_ARN
    )
    # What the policy grants is served from the tools registry, not the caller's (empty) one.
    described = caller.client("ecr").describe_images(registryId=TOOLS, repositoryName=REPOSITORY)
    assert [d["imageDigest"] for d in described["imageDetails"]] == [registry]


def test_ecr_push_across_accounts_lands_in_the_tools_registry(role, registry, tools):
    push = _allow(list(PUSH), REPOSITORY_ARN)
    build = role(DEV, "/product-service/build/", push)
    manifest = seed.fake_manifest("2.0.0")
    pushed = build.client("ecr").put_image(
        registryId=TOOLS, repositoryName=REPOSITORY, imageManifest=manifest, imageTag="2.0.0"
    )["image"]
    assert pushed["registryId"] == TOOLS
    tags = tools("ecr").describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": "2.0.0"}])
    assert tags["imageDetails"][0]["imageDigest"] == pushed["imageId"]["imageDigest"]

    pipeline = role(DEV, "/product-service/pipeline/", push)
    status, code, message = denied(
        lambda: pipeline.client("ecr").put_image(
            registryId=TOOLS, repositoryName=REPOSITORY, imageManifest=manifest, imageTag="2.0.1"
        )
    )
    assert (status, code) == (403, "AccessDeniedException")
    assert message == IMPLICIT_RESOURCE.format(
        who=pipeline.who, action="ecr:PutImage", resource=REPOSITORY_ARN
    )


def test_ecr_explicit_deny_in_the_repository_policy_applies_in_the_same_account(role, registry):
    same = role(TOOLS, "/", _allow("ecr:*"))
    status, code, message = denied(
        lambda: same.client("ecr").batch_delete_image(
            repositoryName=REPOSITORY, imageIds=[{"imageTag": "1.0.0"}]
        )
    )
    assert message == EXPLICIT_RESOURCE.format(
        who=same.who, action="ecr:BatchDeleteImage", resource=REPOSITORY_ARN
    )
    # Same account without a repository policy statement for it: identity policies decide,
    # as before (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html).
    listed = same.client("ecr").list_images(repositoryName=REPOSITORY)["imageIds"]
    assert {"imageTag": "1.0.0", "imageDigest": registry} in listed


def test_a_registry_id_of_another_account_is_served_from_it_for_the_testing_keys(tools, admin):
    # The testing keys stay all-powerful: they read dev's repository by its registry id.
    dev_ecr = admin(DEV)("ecr")
    dev_ecr.create_repository(repositoryName="dev-only")
    dev_ecr.put_image(
        repositoryName="dev-only", imageManifest=seed.fake_manifest("d"), imageTag="d"
    )
    images = tools("ecr").list_images(registryId=DEV, repositoryName="dev-only")["imageIds"]
    assert [i["imageTag"] for i in images] == ["d"]


# --- S3 ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bucket(tools) -> str:
    """The release bucket: versioned, its policy as the design's, with DenyPlainHttp."""
    s3 = tools("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    arn = f"arn:aws:s3:::{BUCKET}"
    s3.put_bucket_policy(
        Bucket=BUCKET,
        Policy=_doc(
            {
                "Sid": "DenyPlainHttp",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "Publish",
                "Effect": "Allow",
                "Principal": {"AWS": DEV},
                "Action": "s3:PutObject",
                "Resource": f"{arn}/release.zip",
                "Condition": _roles_under(DEV, "pipeline"),
            },
            {
                "Sid": "Release",
                "Effect": "Allow",
                "Principal": {"AWS": PROD},
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{arn}/release.zip",
                "Condition": _roles_under(PROD, "pipeline"),
            },
            {
                "Sid": "ReleaseBucket",
                "Effect": "Allow",
                "Principal": {"AWS": PROD},
                "Action": ["s3:GetBucketVersioning", "s3:GetBucketLocation"],
                "Resource": arn,
                "Condition": _roles_under(PROD, "pipeline"),
            },
            {
                "Sid": "NoOneReadsPrivate",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{arn}/private/*",
            },
        ),
    )
    return BUCKET


S3_RIGHTS = _allow(["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:GetBucket*"])


def test_s3_write_across_accounts_needs_the_bucket_policy(role, bucket, tools):
    writer = role(DEV, "/product-service/pipeline/", S3_RIGHTS)
    put = writer.client("s3").put_object(Bucket=bucket, Key="release.zip", Body=b"v1")
    body = tools("s3").get_object(Bucket=bucket, Key="release.zip", VersionId=put["VersionId"])
    assert body["Body"].read() == b"v1"

    other = role(DEV, "/product-service/deploy/", S3_RIGHTS)
    status, code, message = denied(
        lambda: other.client("s3").put_object(Bucket=bucket, Key="release.zip", Body=b"x")
    )
    assert (status, code) == (403, "AccessDenied")
    assert message == IMPLICIT_RESOURCE.format(
        who=other.who, action="s3:PutObject", resource=f"arn:aws:s3:::{bucket}/release.zip"
    )


def test_s3_read_across_accounts_needs_the_bucket_policy(role, bucket, tools):
    version = tools("s3").put_object(Bucket=bucket, Key="release.zip", Body=b"v2")["VersionId"]
    reader = role(PROD, "/product-service/pipeline/", S3_RIGHTS)
    s3 = reader.client("s3")
    got = s3.get_object(Bucket=bucket, Key="release.zip", VersionId=version)
    assert got["Body"].read() == b"v2"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    # dev may write the release, not read it back.
    writer = role(DEV, "/product-service/pipeline/", S3_RIGHTS)
    status, code, message = denied(
        lambda: writer.client("s3").get_object(Bucket=bucket, Key="release.zip", VersionId=version)
    )
    assert (status, code) == (403, "AccessDenied")
    assert message == IMPLICIT_RESOURCE.format(
        who=writer.who,
        action="s3:GetObjectVersion",
        resource=f"arn:aws:s3:::{bucket}/release.zip",
    )


def test_s3_explicit_deny_in_the_bucket_policy_applies_to_everyone(role, bucket, tools):
    tools("s3").put_object(Bucket=bucket, Key="private/notes", Body=b"p")
    tools("s3").put_object(Bucket=bucket, Key="public/notes", Body=b"x")
    same = role(TOOLS, "/", _allow("s3:*"))
    status, code, message = denied(
        lambda: same.client("s3").get_object(Bucket=bucket, Key="private/notes")
    )
    assert (status, code) == (403, "AccessDenied")
    assert message == EXPLICIT_RESOURCE.format(
        who=same.who, action="s3:GetObject", resource=f"arn:aws:s3:::{bucket}/private/notes"
    )
    # Same account, no statement for it: allowed by identity policy as before (DenyPlainHttp
    # does not match: the emulator's requests count as HTTPS, see cross_account.py).
    got = same.client("s3").get_object(Bucket=bucket, Key="public/notes")
    assert got["Body"].read() == b"x"


# --- KMS under S3 ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kms_bucket(tools) -> tuple[str, str]:
    """A bucket whose default encryption is a tools customer key that admits dev to encrypt
    only and prod to decrypt; the bucket lets both accounts' pipeline roles read and write."""
    key_policy = _doc(
        {
            "Sid": "Owner",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{TOOLS}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Publish",
            "Effect": "Allow",
            "Principal": {"AWS": DEV},
            "Action": ["kms:GenerateDataKey", "kms:Encrypt"],
            "Resource": "*",
            # Only through S3 (S3 calls KMS for the caller, kms:ViaService):
            # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
            "Condition": {
                **_roles_under(DEV, "pipeline"),
                "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"},
            },
        },
        {
            "Sid": "Release",
            "Effect": "Allow",
            "Principal": {"AWS": PROD},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": _roles_under(PROD, "pipeline"),
        },
    )
    key = tools("kms").create_key(Policy=key_policy)["KeyMetadata"]["Arn"]
    name = f"kms-releases-{uuid.uuid4().hex[:6]}"
    s3 = tools("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key,
                    }
                }
            ]
        },
    )
    s3.put_bucket_policy(
        Bucket=name,
        Policy=_doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": [DEV, PROD]},
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": f"arn:aws:s3:::{name}/*",
            }
        ),
    )
    return name, key


KMS_RIGHTS = _allow(["kms:GenerateDataKey", "kms:Decrypt"])


def test_sse_kms_write_across_accounts_needs_generate_data_key_from_both(role, kms_bucket):
    name, key = kms_bucket
    writer = role(DEV, "/product-service/pipeline/", S3_RIGHTS, KMS_RIGHTS)
    put = writer.client("s3").put_object(Bucket=name, Key="release.zip", Body=b"k1")
    assert put["SSEKMSKeyId"] == key

    # The key policy admits dev's pipeline roles only.
    other = role(DEV, "/product-service/deploy/", S3_RIGHTS, KMS_RIGHTS)
    _, code, message = denied(
        lambda: other.client("s3").put_object(Bucket=name, Key="release.zip", Body=b"x")
    )
    assert code == "AccessDenied"
    assert message == IMPLICIT_RESOURCE.format(
        who=other.who, action="kms:GenerateDataKey", resource=key
    )
    # The key admits it, its own identity policy does not.
    no_kms = role(DEV, "/product-service/pipeline/", S3_RIGHTS)
    _, code, message = denied(
        lambda: no_kms.client("s3").put_object(Bucket=name, Key="release.zip", Body=b"x")
    )
    assert message == IMPLICIT_IDENTITY.format(
        who=no_kms.who, action="kms:GenerateDataKey", resource=key
    )


def test_sse_kms_read_across_accounts_needs_decrypt_from_both(role, kms_bucket, tools):
    name, key = kms_bucket
    tools("s3").put_object(Bucket=name, Key="release.zip", Body=b"k2")
    reader = role(PROD, "/product-service/pipeline/", S3_RIGHTS, KMS_RIGHTS)
    assert reader.client("s3").get_object(Bucket=name, Key="release.zip")["Body"].read() == b"k2"

    # dev may encrypt with the key, not decrypt.
    writer = role(DEV, "/product-service/pipeline/", S3_RIGHTS, KMS_RIGHTS)
    _, code, message = denied(
        lambda: writer.client("s3").get_object(Bucket=name, Key="release.zip")
    )
    assert code == "AccessDenied"
    assert message == IMPLICIT_RESOURCE.format(who=writer.who, action="kms:Decrypt", resource=key)


def test_the_aws_managed_key_refuses_other_accounts(role, tools):
    name = f"managed-{uuid.uuid4().hex[:6]}"
    s3 = tools("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_bucket_policy(
        Bucket=name,
        Policy=_doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": PROD},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/*",
            }
        ),
    )
    s3.put_object(Bucket=name, Key="release.zip", Body=b"m")
    reader = role(PROD, "/product-service/pipeline/", S3_RIGHTS, KMS_RIGHTS)
    _, code, message = denied(
        lambda: reader.client("s3").get_object(Bucket=name, Key="release.zip")
    )
    assert code == "AccessDenied"
    assert "kms:Decrypt" in message and f":{TOOLS}:alias/aws/s3" in message
    # In the bucket's own account the managed key serves, as before.
    same = role(TOOLS, "/", _allow("s3:GetObject"))
    assert same.client("s3").get_object(Bucket=name, Key="release.zip")["Body"].read() == b"m"


# --- ECS: a task pulling from another account's registry -----------------------------------

EXECUTION = (
    _allow("ecr:GetAuthorizationToken"),
    _allow(
        ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        REPOSITORY_ARN,
    ),
)


def _start_task(dev: Callable[[str], Any], execution_role: str, image: str) -> dict:
    """A one-task Fargate service in dev's default VPC; the task once it ran or stopped."""
    ecs = dev("ecs")
    name = f"svc-{uuid.uuid4().hex[:6]}"
    ecs.create_cluster(clusterName=name)
    definition = ecs.register_task_definition(
        family=name,
        executionRoleArn=execution_role,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": image}],
    )["taskDefinition"]["taskDefinitionArn"]
    subnet = dev("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    ecs.create_service(
        cluster=name,
        serviceName=name,
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )

    def settled() -> dict | None:
        arns = ecs.list_tasks(cluster=name, desiredStatus="STOPPED")["taskArns"]
        arns += ecs.list_tasks(cluster=name)["taskArns"]
        tasks = ecs.describe_tasks(cluster=name, tasks=arns)["tasks"] if arns else []
        done = [t for t in tasks if t["lastStatus"] in ("RUNNING", "STOPPED")]
        return done[0] if done else None

    return until(settled)


def test_a_task_pulls_from_the_tools_registry_when_its_execution_role_may(role, admin, registry):
    allowed = role(DEV, "/product-service/execution/", *EXECUTION)
    image = f"{TOOLS}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}@{registry}"
    task = _start_task(admin(DEV), allowed.arn, image)
    assert task["lastStatus"] == "RUNNING"


def test_a_task_whose_execution_role_may_not_pull_stops(role, admin, registry):
    elsewhere = role(DEV, "/product-service/other/", *EXECUTION)
    image = f"{TOOLS}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:1.0.0"
    task = _start_task(admin(DEV), elsewhere.arn, image)
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("CannotPullContainerError: ")
    assert task["stoppedReason"].endswith("[manifests 1.0.0]: 403 Forbidden")
    assert image in task["stoppedReason"]


def test_a_task_whose_image_is_not_in_the_tools_registry_stops(role, admin, registry):
    allowed = role(DEV, "/product-service/execution/", *EXECUTION)
    image = f"{TOOLS}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:9.9.9"
    task = _start_task(admin(DEV), allowed.arn, image)
    assert task["lastStatus"] == "STOPPED"
    assert task["stoppedReason"].startswith("CannotPullContainerError: ")
    assert task["stoppedReason"].endswith(f"{image}: not found")


def test_a_same_account_image_is_not_checked_as_before(role, admin):
    # dev's own registry has no such repository; today's emulator starts the task anyway.
    bare = role(DEV, "/product-service/execution/")
    image = f"{DEV}.dkr.ecr.{REGION}.amazonaws.com/nothing-here:1"
    assert _start_task(admin(DEV), bare.arn, image)["lastStatus"] == "RUNNING"


def test_a_repository_policy_from_cloudformation_admits_the_accounts_it_names(role, tools):
    # RepositoryPolicyText is the repository's policy on AWS::ECR::Repository:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ecr-repository.html
    name = f"stacked-{uuid.uuid4().hex[:6]}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [PROD]},
                "Action": list(PULL),
                "Condition": _roles_under(PROD, "execution"),
            }
        ],
    }
    template = {
        "Resources": {
            "Repository": {
                "Type": "AWS::ECR::Repository",
                "Properties": {"RepositoryName": name, "RepositoryPolicyText": policy},
            }
        }
    }
    tools("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    arn = f"arn:aws:ecr:{REGION}:{TOOLS}:repository/{name}"
    assert json.loads(tools("ecr").get_repository_policy(repositoryName=name)["policyText"]) == (
        policy
    )
    tools("ecr").put_image(repositoryName=name, imageManifest=seed.fake_manifest("s"), imageTag="s")
    pull = _allow(list(PULL), arn)
    allowed = role(PROD, "/product-service/execution/", pull)
    got = allowed.client("ecr").batch_get_image(
        registryId=TOOLS, repositoryName=name, imageIds=[{"imageTag": "s"}]
    )
    assert len(got["images"]) == 1
    refused = role(DEV, "/product-service/execution/", pull)
    _, _, message = denied(
        lambda: refused.client("ecr").batch_get_image(
            registryId=TOOLS, repositoryName=name, imageIds=[{"imageTag": "s"}]
        )
    )
    assert message == IMPLICIT_RESOURCE.format(
        who=refused.who, action="ecr:BatchGetImage", resource=arn
    )


def test_an_update_of_the_repository_policy_replaces_it(tools):
    # RepositoryPolicyText: "Update requires: No interruption" (the same type reference page).
    name = f"updated-{uuid.uuid4().hex[:6]}"

    def template(accounts: list[str]) -> str:
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": accounts}, "Action": "ecr:*"}],
        }
        properties = {"RepositoryName": name, "RepositoryPolicyText": policy}
        repository = {"Type": "AWS::ECR::Repository", "Properties": properties}
        return json.dumps({"Resources": {"Repository": repository}})

    cfn = tools("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=template([DEV]))
    cfn.update_stack(StackName=name, TemplateBody=template([DEV, PROD]))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    policy = json.loads(tools("ecr").get_repository_policy(repositoryName=name)["policyText"])
    assert policy["Statement"][0]["Principal"] == {"AWS": [DEV, PROD]}


def test_a_yaml_condition_reference_is_read_as_cloudformation_reads_it(tools):
    # "!Condition NAME" is the short form of {"Condition": NAME} inside Fn::Or/And/Not:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-conditions.html
    name = f"cond-{uuid.uuid4().hex[:6]}"
    template = f"""
Parameters:
  Account: {{Type: String, Default: "{DEV}"}}
  Other: {{Type: String, Default: ""}}
Conditions:
  HasAccount: !Not [!Equals [!Ref Account, ""]]
  HasOther: !Not [!Equals [!Ref Other, ""]]
  EitherOne: !Or [!Condition HasAccount, !Condition HasOther]
Resources:
  Repository:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: {name}
      RepositoryPolicyText: !If
        - EitherOne
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {{AWS: !Ref Account}}
              Action: ecr:BatchGetImage
        - !Ref AWS::NoValue
"""
    tools("cloudformation").create_stack(StackName=name, TemplateBody=template)
    text = tools("ecr").get_repository_policy(repositoryName=name)["policyText"]
    assert json.loads(text)["Statement"][0]["Principal"] == {"AWS": DEV}
