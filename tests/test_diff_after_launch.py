"""`sceptre diff dev` right after `sceptre launch -y dev` finds no difference on any stack.

On AWS, DescribeStacks returns each parameter as it was passed (a List<...> parameter as
"subnet-a,subnet-b") and GetTemplate the template as it was sent, so a diff of what was just
launched is empty (DescribeStacks' Parameter.ParameterValue:
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Parameter.html).
Sceptre 4.7 prints "No difference to deployed stack NAME" for each such stack
(sceptre/diffing/diff_writer.py, DiffWriter.write) and exits 0 whatever it finds, so the test
reads that line per stack. One launch, on an emulator of the module's own.
"""

import pytest

from emulator.process import ROOT, Emulator
from tests.roles import Ran, quick, sceptre_in_process
from tests.templates import rendered, stack_config

# Every stack of dev that a launch creates (the network stack is skipped unless created).
LAUNCHED = {n: s for n, s in stack_config("dev").items() if not s.ignore}
STACKS = sorted(name.split("/")[1] for name in LAUNCHED)


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def diff(emulator) -> Ran:
    # In this process (tests/roles.py sceptre_in_process): a sceptre process spends a second
    # of CPU importing before it starts.
    env = quick(emulator.child_env())
    launched = sceptre_in_process(ROOT, env, "launch", "-y", "dev")
    assert launched.returncode == 0, launched.stdout + launched.stderr
    return sceptre_in_process(ROOT, env, "diff", "dev")


def test_the_stacks_are_the_dev_stacks():
    assert STACKS == ["cluster", "drift-monitor", "load-balancer", "pipeline", "service"]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("stack", STACKS)
def test_no_stack_differs_right_after_launch(diff, stack):
    assert diff.returncode == 0, diff.stdout + diff.stderr
    name = f"product-service-dev-{stack}"
    assert f"No difference to deployed stack {name}" in diff.stdout, diff.stdout
    assert f"Difference detected for stack {name}!" not in diff.stdout


def test_every_role_reads_back_its_policies_as_json(diff, emulator):
    """IAM returns policy documents as URL-encoded JSON, which boto3 decodes to a dict
    (docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html, PolicyDocument:
    "The policy document ... is URL-encoded compliant with RFC 3986"); each role has the inline
    policies its template declares, by name."""
    cfn, iam = emulator.client("cloudformation"), emulator.client("iam")
    checked = 0
    for stack, found in rendered("dev").items():
        if stack not in LAUNCHED:
            continue
        resources = found["template"]["Resources"]
        name = f"product-service-{stack.replace('/', '-')}"
        for live in cfn.describe_stack_resources(StackName=name)["StackResources"]:
            if live["ResourceType"] != "AWS::IAM::Role":
                continue
            declared = resources[live["LogicalResourceId"]]["Properties"]
            role = iam.get_role(RoleName=live["PhysicalResourceId"])["Role"]
            assert isinstance(role["AssumeRolePolicyDocument"], dict)
            assert role["AssumeRolePolicyDocument"]["Statement"]
            names = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
            # Its Policies, and every AWS::IAM::Policy of the stack naming it in Roles (an
            # inline policy of the role: docs.aws.amazon.com/AWSCloudFormation/latest/
            # TemplateReference/aws-resource-iam-policy.html).
            expected = [p["PolicyName"] for p in declared.get("Policies", [])]
            expected += [
                r["Properties"]["PolicyName"]
                for r in resources.values()
                if r["Type"] == "AWS::IAM::Policy"
                and {"Ref": live["LogicalResourceId"]} in r["Properties"].get("Roles", [])
            ]
            assert sorted(names) == sorted(expected)
            for policy in names:
                document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy)
                assert isinstance(document["PolicyDocument"], dict), (role["RoleName"], policy)
                assert document["PolicyDocument"]["Statement"]
            checked += 1
    assert checked >= 6  # execution, task, pipeline, build, deploy, CloudFormation roles...
