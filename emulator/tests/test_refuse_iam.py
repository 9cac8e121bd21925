"""emulator/refuse_iam.py: policy documents validated and sized as IAM does, returned as JSON.

Quotas: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
(managed policy 6,144 characters, a role's inline policies together 10,240, a role trust
policy 2,048; white space not counted). Messages: as users quoted IAM (source beside each).
"""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def allow(actions: list[str], resource="*") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }


def padded(size: int) -> dict:
    """A valid policy whose size, white space not counted, is exactly ``size``."""
    base = allow(["logs:CreateLogStream"])
    base["Statement"][0]["Sid"] = ""
    length = len(json.dumps(base, separators=(",", ":")))
    base["Statement"][0]["Sid"] = "A" * (size - length)
    assert len(json.dumps(base, separators=(",", ":"))) == size
    return base


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.fixture
def role(aws):
    name = unique("refuse-role")
    aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    return name


# --- the API ------------------------------------------------------------------------------


def test_create_role_refuses_a_trust_policy_with_a_resource(aws):
    # github.com/kubernetes-sigs/external-dns/issues/3085: CreateRole answers
    # "MalformedPolicyDocument ... Has prohibited field Resource".
    name = unique("refuse-role")
    trust = {**TRUST, "Statement": [{**TRUST["Statement"][0], "Resource": "*"}]}
    with pytest.raises(ClientError) as raised:
        aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    assert error_of(raised) == ("MalformedPolicyDocument", "Has prohibited field Resource.")
    assert name not in [r["RoleName"] for r in aws("iam").list_roles()["Roles"]]


def test_create_role_refuses_a_trust_policy_over_2048_characters(aws):
    # github.com/kubeflow/dashboard/issues/29: "LimitExceeded: Cannot exceed quota for
    # ACLSizePerRole: 2048".
    statement = {**TRUST["Statement"][0], "Sid": ""}
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    statement["Sid"] = "S" * (2049 - len(json.dumps(trust, separators=(",", ":"))))
    with pytest.raises(ClientError) as raised:
        aws("iam").create_role(RoleName=unique("big"), AssumeRolePolicyDocument=json.dumps(trust))
    assert error_of(raised) == ("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048")


def test_inline_policies_of_a_role_are_limited_to_10240_characters_together(aws, role):
    # github.com/serverless/serverless/issues/7643: "Maximum policy size of 10240 bytes
    # exceeded for role ..." (Error Code: LimitExceeded).
    iam = aws("iam")
    iam.put_role_policy(RoleName=role, PolicyName="first", PolicyDocument=json.dumps(padded(6000)))
    iam.put_role_policy(RoleName=role, PolicyName="second", PolicyDocument=json.dumps(padded(4240)))
    with pytest.raises(ClientError) as raised:
        iam.put_role_policy(
            RoleName=role, PolicyName="third", PolicyDocument=json.dumps(padded(200))
        )
    assert error_of(raised) == (
        "LimitExceeded",
        f"Maximum policy size of 10240 bytes exceeded for role {role}",
    )
    assert sorted(iam.list_role_policies(RoleName=role)["PolicyNames"]) == ["first", "second"]


def test_replacing_an_inline_policy_counts_only_the_new_version(aws, role):
    iam = aws("iam")
    iam.put_role_policy(RoleName=role, PolicyName="only", PolicyDocument=json.dumps(padded(9000)))
    iam.put_role_policy(RoleName=role, PolicyName="only", PolicyDocument=json.dumps(padded(10240)))
    document = iam.get_role_policy(RoleName=role, PolicyName="only")["PolicyDocument"]
    assert document == padded(10240)


def test_white_space_does_not_count_toward_the_quota(aws):
    # reference_iam-quotas.html: "IAM doesn't count white space when calculating the size".
    text = json.dumps(padded(6144), indent=8)
    assert len(text) > 6144
    arn = aws("iam").create_policy(PolicyName=unique("spacious"), PolicyDocument=text)
    assert arn["Policy"]["Arn"]


def test_create_policy_refuses_a_document_over_6144_characters(aws):
    # github.com/LBHackney-IT/Data-Platform/pull/2116 (2025): "LimitExceeded: Cannot exceed
    # the quota for PolicySize: 6144."
    name = unique("too-big")
    with pytest.raises(ClientError) as raised:
        aws("iam").create_policy(PolicyName=name, PolicyDocument=json.dumps(padded(6145)))
    assert error_of(raised) == ("LimitExceeded", "Cannot exceed the quota for PolicySize: 6144.")
    names = [p["PolicyName"] for p in aws("iam").list_policies(Scope="Local")["Policies"]]
    assert name not in names


# --- through CloudFormation ---------------------------------------------------------------


def role_template(policies: dict[str, dict], trust: dict = TRUST) -> str:
    properties = {
        "AssumeRolePolicyDocument": trust,
        "Policies": [{"PolicyName": n, "PolicyDocument": d} for n, d in policies.items()],
    }
    return json.dumps({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": properties}}})


def stack_role(aws, stack: str) -> str:
    found = aws("cloudformation").describe_stack_resource(StackName=stack, LogicalResourceId="Role")
    return found["StackResourceDetail"]["PhysicalResourceId"]


def status(aws, stack: str) -> str:
    return aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def failed_reason(aws, stack: str, state: str) -> str:
    events = aws("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    [failed] = [e for e in events if e.get("ResourceStatus") == state]
    assert failed["LogicalResourceId"] == "Role"
    return failed["ResourceStatusReason"]


def test_a_stack_roles_inline_policies_come_back_as_the_templates_documents(aws):
    # GetRolePolicy returns the document as URL-encoded JSON, which boto3 decodes to a dict
    # (docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html); so does GetRole's
    # AssumeRolePolicyDocument (API_Role.html).
    stack = unique("iam")
    policies = {
        "logs": allow(["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:*:*:*"),
        "ecr": allow(["ecr:GetAuthorizationToken"]),
    }
    aws("cloudformation").create_stack(StackName=stack, TemplateBody=role_template(policies))
    iam, name = aws("iam"), stack_role(aws, stack)
    for policy, document in policies.items():
        answer = iam.get_role_policy(RoleName=name, PolicyName=policy)
        assert answer["PolicyDocument"] == document
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == TRUST


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(
            # A statement without Effect; github.com/kubernetes/kops/issues/13095 and
            # github.com/aws-cloudformation/cfn-lint/issues/2021 quote "Syntax errors in policy."
            {"Version": "2012-10-17", "Statement": [{"Action": "s3:GetObject", "Resource": "*"}]},
            "Syntax errors in policy.",
            id="no-effect",
        ),
        pytest.param(
            # An element IAM does not know at the top level.
            {**allow(["s3:GetObject"]), "Statements": []},
            "Syntax errors in policy.",
            id="unknown-top-level-key",
        ),
        pytest.param(
            # github.com/hashicorp/terraform/issues/17987: "MalformedPolicyDocument: Policy
            # statement must contain resources."
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]},
            "Policy statement must contain resources.",
            id="no-resource",
        ),
    ],
)
def test_a_stack_with_a_malformed_inline_policy_fails_the_role_and_rolls_back(
    aws, document, message
):
    stack = unique("iam")
    aws("cloudformation").create_stack(
        StackName=stack, TemplateBody=role_template({"bad": document})
    )
    assert status(aws, stack) == "ROLLBACK_COMPLETE"
    assert message in failed_reason(aws, stack, "CREATE_FAILED")
    roles = [r["RoleName"] for r in aws("iam").list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith(stack)]  # nothing left behind


def test_a_stack_with_inline_policies_over_the_quota_fails_the_role(aws):
    stack = unique("iam")
    policies = {"one": padded(6000), "two": padded(5000)}
    aws("cloudformation").create_stack(StackName=stack, TemplateBody=role_template(policies))
    assert status(aws, stack) == "ROLLBACK_COMPLETE"
    assert "Maximum policy size of 10240 bytes exceeded for role" in failed_reason(
        aws, stack, "CREATE_FAILED"
    )


def test_a_stack_update_changes_inline_policies_and_refuses_a_malformed_one(aws):
    # Policies and AssumeRolePolicyDocument update without interruption
    # (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html);
    # a refused update rolls back to the previous documents.
    stack = unique("iam")
    cloudformation, iam = aws("cloudformation"), aws("iam")
    first = {"logs": allow(["logs:PutLogEvents"])}
    cloudformation.create_stack(StackName=stack, TemplateBody=role_template(first))
    name = stack_role(aws, stack)

    second = {"ecr": allow(["ecr:GetAuthorizationToken"])}
    statement = {**TRUST["Statement"][0], "Principal": {"Service": "ecs.amazonaws.com"}}
    trust = {**TRUST, "Statement": [statement]}
    cloudformation.update_stack(StackName=stack, TemplateBody=role_template(second, trust))
    assert status(aws, stack) == "UPDATE_COMPLETE"
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["ecr"]
    assert iam.get_role_policy(RoleName=name, PolicyName="ecr")["PolicyDocument"] == second["ecr"]
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust

    bad = {"ecr": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}}
    cloudformation.update_stack(StackName=stack, TemplateBody=role_template(bad, trust))
    assert status(aws, stack) == "UPDATE_ROLLBACK_COMPLETE"
    assert "Policy statement must contain resources." in failed_reason(aws, stack, "UPDATE_FAILED")
    assert iam.get_role_policy(RoleName=name, PolicyName="ecr")["PolicyDocument"] == second["ecr"]


def test_a_managed_policy_over_the_quota_fails_its_resource(aws):
    stack = unique("iam")
    template = {
        "Resources": {
            "Policy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": padded(6145)},
            }
        }
    }
    aws("cloudformation").create_stack(StackName=stack, TemplateBody=json.dumps(template))
    assert status(aws, stack) == "ROLLBACK_COMPLETE"
    events = aws("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    [failed] = [e for e in events if e.get("ResourceStatus") == "CREATE_FAILED"]
    assert "Cannot exceed the quota for PolicySize: 6144." in failed["ResourceStatusReason"]
