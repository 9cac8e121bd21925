"""emulator/iam.py: requests signed by an assumed role are judged as AWS judges them.

Every role here is created with the all-powerful ``testing`` keys, assumed through STS, and its
credentials then make the calls under test, over HTTP against one emulator for the module.
Expected codes and messages are AWS's, each with the page that documents it.
"""

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.process import REGION, Emulator
from emulator.tests.stacks import denied

ACCOUNT = "123456789012"  # moto's default account, the one the testing keys act in

# Message shapes for an implicit deny (no Allow) and an explicit deny by an identity-based
# policy: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
IMPLICIT = (
    "User: {who} is not authorized to perform: {action} on resource: {resource} "
    "because no identity-based policy allows the {action} action"
)
EXPLICIT = (
    "User: {who} is not authorized to perform: {action} on resource: {resource} "
    "with an explicit deny in an identity-based policy"
)

TEMPLATE = "Resources:\n  Group: {Type: AWS::Logs::LogGroup}\n"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One unseeded emulator for this module: the roles made here stay out of other tests."""
    with Emulator(seed=False) as running:
        yield running


@pytest.fixture(scope="module")
def admin(emulator: Emulator) -> Callable[[str], Any]:
    """Clients signed with the testing keys (not an assumed role: all-powerful)."""
    return emulator.client


def _statement(effect: str, action: Any, resource: Any = "*", **condition: Any) -> dict:
    statement = {"Effect": effect, "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Role:
    """A role made with the testing keys, and clients signed with its assumed credentials."""

    def __init__(
        self,
        emulator: Emulator,
        admin: Callable[[str], Any],
        *statements: dict,
        trusted: dict | None = None,
    ):
        self.name = f"role-{uuid.uuid4().hex[:8]}"
        self.session = "tester"
        trusted = trusted or {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
        trust = _policy({"Effect": "Allow", "Principal": trusted, "Action": "sts:AssumeRole"})
        iam = admin("iam")
        self.arn = iam.create_role(RoleName=self.name, AssumeRolePolicyDocument=trust)["Role"][
            "Arn"
        ]
        if statements:
            iam.put_role_policy(
                RoleName=self.name, PolicyName="inline", PolicyDocument=_policy(*statements)
            )
        self._emulator, self._admin = emulator, admin

    @property
    def who(self) -> str:
        """The principal as AWS names an assumed-role session in denials."""
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.name}/{self.session}"

    def client(self, service: str) -> Any:
        """A client signed with fresh credentials from sts:AssumeRole on this role."""
        creds = self._admin("sts").assume_role(RoleArn=self.arn, RoleSessionName=self.session)[
            "Credentials"
        ]
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self._emulator.url,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )


@pytest.fixture
def role(emulator: Emulator, admin: Callable[[str], Any]) -> Callable[..., Role]:
    """role(*statements): a new role whose inline policy holds these statements."""
    return lambda *statements: Role(emulator, admin, *statements)


def test_an_allowed_call_succeeds_and_the_assumed_role_is_who_acts(role):
    r = role(_statement("Allow", "sns:CreateTopic", f"arn:aws:sns:{REGION}:{ACCOUNT}:ok-*"))
    arn = r.client("sns").create_topic(Name="ok-topic")["TopicArn"]
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:ok-topic"
    # GetCallerIdentity needs no permission: "No permissions are required to perform this
    # operation." https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    assert r.client("sts").get_caller_identity()["Arn"] == r.who


def test_a_missing_action_is_denied_in_each_protocols_shape(role):
    r = role(_statement("Allow", "sns:ListTopics"))
    # Query protocol (CloudFormation, IAM, STS, SNS, ELBv2): HTTP 403, Code AccessDenied.
    status, code, message = denied(lambda: r.client("sns").create_topic(Name="nope"))
    resource = f"arn:aws:sns:{REGION}:{ACCOUNT}:nope"
    assert (status, code) == (403, "AccessDenied")
    assert message == IMPLICIT.format(who=r.who, action="sns:CreateTopic", resource=resource)

    # JSON protocol (ECS, Logs, Events, CodeBuild, ECR, ...): AccessDeniedException, e.g.
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html
    # ecs:ListClusters supports only resource "*" (Service Authorization Reference, ECS:
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html)
    status, code, message = denied(lambda: r.client("ecs").list_clusters())
    assert (status, code) == (403, "AccessDeniedException")
    assert message == IMPLICIT.format(who=r.who, action="ecs:ListClusters", resource="*")

    # EC2: UnauthorizedOperation, "You are not authorized to perform this operation." first:
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    status, code, message = denied(lambda: r.client("ec2").describe_vpcs())
    assert (status, code) == (403, "UnauthorizedOperation")
    assert message.startswith("You are not authorized to perform this operation. ")
    assert "ec2:DescribeVpcs" in message

    # The same role, allowed what it asked for, passes.
    assert "Topics" in r.client("sns").list_topics()


def test_the_testing_keys_stay_all_powerful(admin):
    """Credentials that are not an assumed role are not judged at all."""
    name = f"any-{uuid.uuid4().hex[:8]}"
    assert admin("ecs").create_cluster(clusterName=name)["cluster"]["clusterName"] == name
    assert admin("iam").list_roles()["Roles"] is not None
    admin("ecs").delete_cluster(cluster=name)


def test_cloudformation_calls_are_judged_on_the_stack_arn(role, admin):
    """DescribeStacks allowed on stack/a-*/* reads stack a-..., not b-...

    The stack resource ARN is arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID (Service
    Authorization Reference, CloudFormation: https://docs.aws.amazon.com/service-authorization/
    latest/reference/list_awscloudformation.html)."""
    suffix = uuid.uuid4().hex[:8]
    cfn = admin("cloudformation")
    a_id = cfn.create_stack(StackName=f"a-{suffix}", TemplateBody=TEMPLATE)["StackId"]
    b_id = cfn.create_stack(StackName=f"b-{suffix}", TemplateBody=TEMPLATE)["StackId"]
    allowed = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/a-*/*"
    r = role(_statement("Allow", "cloudformation:DescribeStacks", allowed))

    stacks = r.client("cloudformation").describe_stacks(StackName=f"a-{suffix}")["Stacks"]
    assert stacks[0]["StackId"] == a_id
    status, code, message = denied(
        lambda: r.client("cloudformation").describe_stacks(StackName=f"b-{suffix}")
    )
    assert (status, code) == (403, "AccessDenied")
    assert message == IMPLICIT.format(
        who=r.who, action="cloudformation:DescribeStacks", resource=b_id
    )


def test_request_tags_are_judged_with_aws_requesttag(role):
    """CreateCluster allowed only with aws:RequestTag/Environment = dev (condition keys:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
    #condition-keys-requesttag). Tagging on create also needs ecs:TagResource:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
    """
    dev = {"StringEquals": {"aws:RequestTag/Environment": "dev"}}
    r = role(
        _statement("Allow", "ecs:CreateCluster", "*", **dev),
        _statement("Allow", "ecs:TagResource", "*", **dev),
    )
    name = f"dev-{uuid.uuid4().hex[:8]}"
    created = r.client("ecs").create_cluster(
        clusterName=name, tags=[{"key": "Environment", "value": "dev"}]
    )
    assert created["cluster"]["clusterName"] == name

    prod = f"prod-{uuid.uuid4().hex[:8]}"
    status, code, message = denied(
        lambda: r.client("ecs").create_cluster(
            clusterName=prod, tags=[{"key": "Environment", "value": "prod"}]
        )
    )
    cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{prod}"
    assert (status, code) == (403, "AccessDeniedException")
    assert message == IMPLICIT.format(who=r.who, action="ecs:CreateCluster", resource=cluster)


def test_tagging_on_create_needs_ecs_tagresource(role):
    """Allowed CreateCluster but not ecs:TagResource: a tagged create is denied on TagResource.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
    """
    r = role(_statement("Allow", "ecs:CreateCluster"))
    name = f"tagged-{uuid.uuid4().hex[:8]}"
    status, code, message = denied(
        lambda: r.client("ecs").create_cluster(
            clusterName=name, tags=[{"key": "Environment", "value": "dev"}]
        )
    )
    cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"
    assert (status, code) == (403, "AccessDeniedException")
    assert message == IMPLICIT.format(who=r.who, action="ecs:TagResource", resource=cluster)


def test_existing_resources_are_judged_with_aws_resourcetag(role, admin):
    """PutRetentionPolicy allowed where aws:ResourceTag/Environment = dev: the dev log group
    yes, the prod one no (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_condition-keys.html#condition-keys-resourcetag)."""
    suffix = uuid.uuid4().hex[:8]
    logs = admin("logs")
    logs.create_log_group(logGroupName=f"/dev/{suffix}", tags={"Environment": "dev"})
    logs.create_log_group(logGroupName=f"/prod/{suffix}", tags={"Environment": "prod"})
    r = role(
        _statement(
            "Allow",
            "logs:PutRetentionPolicy",
            "*",
            StringEquals={"aws:ResourceTag/Environment": "dev"},
        )
    )
    r.client("logs").put_retention_policy(logGroupName=f"/dev/{suffix}", retentionInDays=30)
    group = logs.describe_log_groups(logGroupNamePrefix=f"/dev/{suffix}")["logGroups"][0]
    assert group["retentionInDays"] == 30

    status, code, message = denied(
        lambda: r.client("logs").put_retention_policy(
            logGroupName=f"/prod/{suffix}", retentionInDays=30
        )
    )
    assert (status, code) == (403, "AccessDeniedException")
    assert "logs:PutRetentionPolicy" in message and f"/prod/{suffix}" in message
    assert message.endswith(
        "because no identity-based policy allows the logs:PutRetentionPolicy action"
    )


def test_an_explicit_deny_beats_an_allow(role, admin):
    """An explicit Deny overrides any Allow:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    name = f"kept-{uuid.uuid4().hex[:8]}"
    admin("ecs").create_cluster(clusterName=name)
    r = role(_statement("Allow", "ecs:*"), _statement("Deny", "ecs:DeleteCluster"))
    status, code, message = denied(lambda: r.client("ecs").delete_cluster(cluster=name))
    cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"
    assert (status, code) == (403, "AccessDeniedException")
    assert message == EXPLICIT.format(who=r.who, action="ecs:DeleteCluster", resource=cluster)
    described = admin("ecs").describe_clusters(clusters=[name])["clusters"]
    assert described[0]["status"] == "ACTIVE"


def test_passing_a_role_to_cloudformation_needs_passrole_to_that_service(role, admin, emulator):
    """CreateStack with RoleARN needs iam:PassRole on that role, judged with
    iam:PassedToService (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    id_roles_use_passrole.html; https://docs.aws.amazon.com/AWSCloudFormation/latest/
    UserGuide/using-iam-servicerole.html)."""
    service_role = Role(emulator, admin, trusted={"Service": "cloudformation.amazonaws.com"})
    create = _statement("Allow", "cloudformation:CreateStack")

    def pass_to(service: str) -> dict:
        return _statement(
            "Allow",
            "iam:PassRole",
            service_role.arn,
            StringEquals={"iam:PassedToService": service},
        )

    suffix = uuid.uuid4().hex[:8]
    passes = role(create, pass_to("cloudformation.amazonaws.com"))
    stack_id = passes.client("cloudformation").create_stack(
        StackName=f"passed-{suffix}", TemplateBody=TEMPLATE, RoleARN=service_role.arn
    )["StackId"]
    assert f":stack/passed-{suffix}/" in stack_id

    wrong_service = role(create, pass_to("ecs-tasks.amazonaws.com"))
    status, code, message = denied(
        lambda: wrong_service.client("cloudformation").create_stack(
            StackName=f"not-passed-{suffix}", TemplateBody=TEMPLATE, RoleARN=service_role.arn
        )
    )
    assert (status, code) == (403, "AccessDenied")
    assert message == IMPLICIT.format(
        who=wrong_service.who, action="iam:PassRole", resource=service_role.arn
    )
    with pytest.raises(ClientError, match="does not exist"):
        admin("cloudformation").describe_stacks(StackName=f"not-passed-{suffix}")


def test_an_attached_managed_policy_counts(role, admin):
    """Identity-based policies are inline and managed alike:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html"""
    r = role()
    status, code, _ = denied(lambda: r.client("sns").list_topics())
    assert (status, code) == (403, "AccessDenied")
    managed = admin("iam").create_policy(
        PolicyName=f"list-topics-{uuid.uuid4().hex[:8]}",
        PolicyDocument=_policy(_statement("Allow", "sns:ListTopics")),
    )["Policy"]["Arn"]
    admin("iam").attach_role_policy(RoleName=r.name, PolicyArn=managed)
    assert "Topics" in r.client("sns").list_topics()
