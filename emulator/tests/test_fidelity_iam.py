"""emulator/fidelity_iam.py: a managed policy follows its template, and goes with its stack."""

import json
import uuid

import pytest


def template(actions: list[str]) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return json.dumps(
        {
            "Resources": {
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {"AssumeRolePolicyDocument": trust},
                },
                "Policy": {
                    "Type": "AWS::IAM::ManagedPolicy",
                    "Properties": {
                        "Roles": [{"Ref": "Role"}],
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
                        },
                    },
                },
            }
        }
    )


@pytest.fixture
def stack(aws):
    name = f"managed-{uuid.uuid4().hex[:8]}"
    aws("cloudformation").create_stack(StackName=name, TemplateBody=template(["ecs:ListClusters"]))
    return name


def physical(aws, stack: str, logical: str) -> str:
    found = aws("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId=logical
    )
    return found["StackResourceDetail"]["PhysicalResourceId"]


def test_an_updated_document_becomes_the_default_version(aws, stack):
    # CloudFormation updates a managed policy's document in place, as a new default version
    # (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    # aws-resource-iam-managedpolicy.html).
    aws("cloudformation").update_stack(StackName=stack, TemplateBody=template(["ecs:ListServices"]))
    arn = physical(aws, stack, "Policy")
    iam = aws("iam")
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document["Statement"][0]["Action"] == ["ecs:ListServices"]
    role = physical(aws, stack, "Role")
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]


def test_deleting_the_stack_detaches_and_deletes_the_policy_and_its_role(aws, stack):
    arn, role = physical(aws, stack, "Policy"), physical(aws, stack, "Role")
    aws("cloudformation").delete_stack(StackName=stack)
    iam = aws("iam")
    assert role not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert arn not in [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]
