"""What a launch needs that an AWS account would already have.

- The account-level registry stack (templates/registry.yaml, as `sceptre launch shared`
  creates it) with two images in its ECR repository, as builds would have pushed them.
- A VPC named for prod with private subnets in two availability zones (the default VPC,
  which moto creates in every region, serves dev), and public subnets in the same zones
  for its load balancer.
- An issued ACM certificate for prod's domain, as if it had been requested and validated.
  Its key is ECDSA (P-256), which ACM lists only to a caller that asks for that key type:
  !certificate_arn must ask, as it must on AWS.
- The secrets config/<env>/config.yaml names for the container (sceptre_user_data.secrets):
  dev's SSM SecureString parameter and prod's Secrets Manager secret, a JSON document with
  the key the config reads. Their values are made up.
"""

import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

import boto3

REPOSITORY = "product-service"
# The stack Sceptre names for config/shared/registry.yaml, with the same template and
# parameters, so that `sceptre launch shared` on the emulator finds nothing to change.
REGISTRY_STACK = "product-service-shared-registry"
REGISTRY_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "registry.yaml"
# The stack tags Sceptre sends for it (config/config.yaml merged with config/shared/config.yaml).
REGISTRY_TAGS = {"Project": "product-service", "ManagedBy": "sceptre", "Environment": "shared"}
IMAGE_TAGS = ("1.0.0", "1.1.0")  # pushed in this order: 1.1.0 is the newest
PROD_VPC_NAME = "product-service-prod"
PROD_SUBNETS = (("10.20.1.0/24", "a"), ("10.20.2.0/24", "b"))
# The load balancer's subnets: Tier=public, in the same zones as the private ones (an ALB
# sends traffic only to targets in zones it has a subnet in).
PROD_PUBLIC_SUBNETS = (("10.20.101.0/24", "a"), ("10.20.102.0/24", "b"))
PROD_DOMAIN = "product-service.example.com"  # load_balancer.domain_name in config/prod
# sceptre_user_data.secrets of config/dev and config/prod.
DEV_PARAMETER = "/product-service/dev/api-token"
PROD_SECRET = "product-service/prod/database"


def fake_manifest(tag: str) -> str:
    """A minimal Docker image manifest; its one layer, and so its digest, differ per tag."""
    layer = hashlib.sha256(tag.encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1,
                "digest": f"sha256:{layer}",
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 1,
                    "digest": f"sha256:{layer}",
                }
            ],
        }
    )


# ACM's names of the key algorithms it imports
# (https://docs.aws.amazon.com/acm/latest/userguide/import-certificate-prerequisites.html).
KEY_ALGORITHMS = (
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
)


def self_signed_certificate(
    domain: str,
    days: float = 365,
    sans: tuple[str, ...] = (),
    key_algorithm: str = "EC_prime256v1",
) -> tuple[bytes, bytes]:
    """A PEM certificate and key for ``domain``, valid for ``days`` from now.

    The certificate names ``domain`` as its subject and, with ``sans``, as its subject
    alternative names; its key is of ``key_algorithm``, one of KEY_ALGORITHMS.
    """
    # Imported here: the project's tests import this module's constants from .venv, which
    # has no cryptography; only the emulator's environment calls this.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    if key_algorithm not in KEY_ALGORITHMS:
        raise ValueError(f"key_algorithm {key_algorithm!r}: one of {', '.join(KEY_ALGORITHMS)}")
    family, _, size = key_algorithm.partition("_")
    key: Any
    if family == "RSA":
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(size))
    else:
        curves = {"prime256v1": ec.SECP256R1, "secp384r1": ec.SECP384R1, "secp521r1": ec.SECP521R1}
        key = ec.generate_private_key(curves[size]())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    names = list(dict.fromkeys((domain, *sans)))
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _push_times_one_second_apart(sts: Any, region: str) -> None:
    """ECR keeps push times to the second: the images were pushed in IMAGE_TAGS' order, a
    second apart, so "newest" is unambiguous (set in the emulator's model, not slept for).
    Runs in the emulator's process, which has moto."""
    from moto.ecr.models import ecr_backends

    account = sts.get_caller_identity()["Account"]
    images = ecr_backends[account][region].repositories[REPOSITORY].images
    newest = max(image.image_pushed_at for image in images)
    order = {tag: i for i, tag in enumerate(IMAGE_TAGS)}
    for image in images:
        image.image_pushed_at = newest - (len(IMAGE_TAGS) - 1 - order[image.image_tag])


def seed(endpoint_url: str, region: str) -> dict[str, Any]:
    """Create the seed resources through the emulator's own API; return what was created."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    ecr = session.client("ecr", endpoint_url=endpoint_url)
    ec2 = session.client("ec2", endpoint_url=endpoint_url)

    # What `sceptre launch shared` leaves besides its stack: its !service_linked_roles hook.
    session.client("iam", endpoint_url=endpoint_url).create_service_linked_role(
        AWSServiceName="ecs.amazonaws.com"
    )
    session.client("cloudformation", endpoint_url=endpoint_url).create_stack(
        StackName=REGISTRY_STACK,
        TemplateBody=REGISTRY_TEMPLATE.read_text(),
        Parameters=[
            {"ParameterKey": "RepositoryName", "ParameterValue": REPOSITORY},
            # One account: config/shared/registry.yaml passes these from accounts: "".
            {"ParameterKey": "PullAccountIds", "ParameterValue": ""},
            {"ParameterKey": "PublishAccountId", "ParameterValue": ""},
            {"ParameterKey": "ReleaseAccountId", "ParameterValue": ""},
        ],
        Tags=[{"Key": k, "Value": v} for k, v in REGISTRY_TAGS.items()],
    )
    for tag in IMAGE_TAGS:
        ecr.put_image(repositoryName=REPOSITORY, imageManifest=fake_manifest(tag), imageTag=tag)
    _push_times_one_second_apart(session.client("sts", endpoint_url=endpoint_url), region)

    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": PROD_VPC_NAME}])
    subnets = []
    for tier, layout in (("private", PROD_SUBNETS), ("public", PROD_PUBLIC_SUBNETS)):
        for cidr, zone in layout:
            subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=region + zone)
            subnet_id = subnet["Subnet"]["SubnetId"]
            ec2.create_tags(
                Resources=[subnet_id],
                Tags=[{"Key": "Tier", "Value": tier}, {"Key": "Name", "Value": f"{tier}-{zone}"}],
            )
            subnets.append(subnet_id)

    parameter = ssm_parameter(session, endpoint_url)
    secret_arn = session.client("secretsmanager", endpoint_url=endpoint_url).create_secret(
        Name=PROD_SECRET,
        SecretString=json.dumps({"username": "product_service", "password": "emulated-secret"}),
    )["ARN"]

    certificate, key = self_signed_certificate(PROD_DOMAIN)
    acm = session.client("acm", endpoint_url=endpoint_url)
    certificate_arn = acm.import_certificate(Certificate=certificate, PrivateKey=key)
    return {
        "repository": REPOSITORY,
        "tags": IMAGE_TAGS,
        "prod_vpc": vpc_id,
        "subnets": subnets,
        "certificate": certificate_arn["CertificateArn"],
        "parameter": parameter,
        "secret": secret_arn,
    }


# The role AWS Organizations creates in every account it creates, with full administrative
# permissions, trusted by the management account: https://docs.aws.amazon.com/organizations/
# latest/userguide/orgs_manage_accounts_access-cross-account-role.html
ORGANIZATION_ROLE = "OrganizationAccountAccessRole"
# moto has no AWS managed policies loaded: AdministratorAccess's document, inline.
ADMINISTRATOR_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def in_account(client: Any, account_id: str) -> Any:
    """The boto3 client, its every request served in account_id: moto serves a request in the
    account its ``x-moto-account-id`` header names (moto/core/responses.py)."""

    def header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    client.meta.events.register("before-send", header)
    return client


def member_account(
    endpoint_url: str, region: str, account_id: str, management_account: str = "123456789012"
) -> str:
    """Create in account_id what AWS Organizations creates in an account it creates: the role
    OrganizationAccountAccessRole, trusting management_account, with administrator rights.
    Return its ARN. Idempotent: an existing role is left as it is.

    Assume it with the ``testing`` keys (sts:AssumeRole) to act in that account.
    """
    for name, value in (("account_id", account_id), ("management_account", management_account)):
        if not (len(value) == 12 and value.isdigit()):
            raise ValueError(f"{name} must be an AWS account id of 12 digits, not {value!r}")
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    client = in_account(session.client("iam", endpoint_url=endpoint_url), account_id)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{management_account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    try:
        return client.get_role(RoleName=ORGANIZATION_ROLE)["Role"]["Arn"]
    except client.exceptions.NoSuchEntityException:
        pass
    arn = client.create_role(
        RoleName=ORGANIZATION_ROLE, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    client.put_role_policy(
        RoleName=ORGANIZATION_ROLE,
        PolicyName="AdministratorAccess",
        PolicyDocument=json.dumps(ADMINISTRATOR_ACCESS),
    )
    return arn


def ssm_parameter(session: Any, endpoint_url: str) -> str:
    """dev's SecureString parameter (under the AWS managed key, as config names no key)."""
    ssm = session.client("ssm", endpoint_url=endpoint_url)
    ssm.put_parameter(Name=DEV_PARAMETER, Value="emulated-api-token", Type="SecureString")
    return ssm.get_parameter(Name=DEV_PARAMETER)["Parameter"]["ARN"]
