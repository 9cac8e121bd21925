"""The generated least-privilege policies: current, covering, scoped, within IAM's limits.

The expected values come from AWS's published data (the CloudFormation registry schemas and
the IAM service reference) and AWS's documentation, cited where used.
"""

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from permissions import coverage, generate
from permissions.render import Rendered
from tests.templates import ENVIRONMENTS, ROOT, copy_project, render, resources, stack_config

WORKLOAD = yaml.safe_load((ROOT / "config/config.yaml").read_text())["workload_stacks"]
GITHUB = json.loads((ROOT / "policies/generated/github-drift-check.json").read_text())


def stacks(env: str) -> dict[str, Rendered]:
    """The environment's rendered stacks (cached by tests.templates), as the generator takes."""
    names = {n: s.external_name for n, s in stack_config(env).items()}
    return {
        n.split("/")[1]: Rendered(n, names[n], found["template"])
        for n, found in render(env).items()
    }


def templates(env: str) -> dict[str, dict]:
    return {n.split("/")[1]: found["template"] for n, found in render(env).items()}


def pipeline(env: str) -> dict:
    return templates(env)["pipeline"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def cloudformation_statements(env: str) -> list[dict]:
    return [
        s
        for p in resources(pipeline(env), "AWS::IAM::ManagedPolicy").values()
        if {"Ref": "CloudFormationRole"} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


# --- generated files are current ---


def test_committed_policies_are_what_the_templates_generate():
    files = generate.expected({env: stacks(env) for env in ENVIRONMENTS})
    stale = [
        name
        for name, content in files.items()
        if (ROOT / generate.GENERATED / name).read_text() != content
    ]
    assert stale == [], "run python -m permissions.generate"


# --- coverage: the table ---


def test_no_role_lacks_a_handler_permission():
    rows, dropped = coverage.table({e: templates(e) for e in ENVIRONMENTS}, WORKLOAD, GITHUB)
    assert {r.role: len(r.lacks) for r in rows} == {r.role: 0 for r in rows}
    # dev's deploy handlers need 132 actions (the least-privilege issue's measure), and 6 more
    # since the alarms and dashboard (issue 13): CloudWatch's alarm tagging and dashboards.
    assert len(rows[0].needs) == 138
    # A schema name that is no IAM action is dropped and listed, e.g. this one of LogGroup.
    assert "AWS::Logs::LogGroup: s3:REST.PUT.OBJECT" in dropped


def test_a_template_that_gains_a_resource_type_is_reported_lacking(tmp_path):
    project = copy_project(tmp_path)
    service = project / "templates" / "service.yaml.j2"
    text = service.read_text()
    service.write_text(
        text.replace("\nResources:\n", "\nResources:\n  Jobs:\n    Type: AWS::SQS::Queue\n", 1)
    )
    found = {
        n.split("/")[1]: render(f"dev/{n.split('/')[1]}.yaml", project)[n]["template"]
        for n in (f"dev/{s}" for s in [*WORKLOAD, "pipeline"])
    }
    row, _ = coverage.service_role_row("dev", [found[s] for s in WORKLOAD], found["pipeline"])
    # AWS::SQS::Queue's create handler calls sqs:CreateQueue (its registry schema).
    assert "sqs:CreateQueue" in row.lacks


# --- scoping ---

# Actions that create the resource they act on, per each API's reference: it has no tags
# yet, so aws:ResourceTag can never match (the request's tags are aws:RequestTag)
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html#access_tags_control-requests
CREATING = {
    "application-autoscaling:RegisterScalableTarget",
    "ec2:CreateSecurityGroup",
    "ecs:CreateCluster",
    "ecs:CreateService",
    "ecs:RegisterTaskDefinition",
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:CreateLoadBalancer",
    "elasticloadbalancing:CreateRule",
    "elasticloadbalancing:CreateTargetGroup",
    "iam:CreateRole",
    "logs:CreateLogGroup",
    "s3:CreateBucket",
}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_creating_actions_are_never_conditioned_on_resource_tags(env):
    for statement in cloudformation_statements(env):
        keys = json.dumps(statement.get("Condition", {}))
        if "aws:ResourceTag" in keys:
            assert not CREATING & set(statement["Action"]), statement


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_unnamed_resources_are_created_with_this_environments_tag(env):
    """Security groups, load balancers and target groups have no name CloudFormation sets: the
    Environment stack tag, which CloudFormation passes at creation, scopes their creation."""
    for action in (
        "ec2:CreateSecurityGroup",
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:CreateTargetGroup",
    ):
        conditions = [
            s.get("Condition")
            for s in cloudformation_statements(env)
            if action in s["Action"] and ":vpc/" not in json.dumps(s["Resource"])
        ]
        assert conditions == [{"StringEquals": {"aws:RequestTag/Environment": env}}], action


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_named_resources_are_this_environments(env):
    by_action = {}
    for statement in cloudformation_statements(env):
        for action in statement["Action"]:
            by_action.setdefault(action, []).extend(statement["Resource"])
    arn = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}"
    assert [r["Fn::Sub"] for r in by_action["ecs:CreateCluster"]] == [
        f"{arn}:cluster/product-service-{env}"
    ]
    assert [r["Fn::Sub"] for r in by_action["ecs:RegisterTaskDefinition"]] == [
        f"{arn}:task-definition/product-service-{env}:*"
    ]
    # The task roles are the service stack's, named by CloudFormation after the stack; the
    # execution role has a path, which its ARN holds before the name: role/PATH/NAME
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns).
    role = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
    assert [r["Fn::Sub"] for r in by_action["iam:CreateRole"]] == [
        f"{role}product-service-{env}-service-*",
        f"{role}product-service/execution/product-service-{env}-service-*",
    ]
    other = "prod" if env == "dev" else "dev"
    assert f"product-service-{other}" not in json.dumps(cloudformation_statements(env))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_wildcard_in_action_names(env):
    for statement in cloudformation_statements(env):
        assert not [a for a in statement["Action"] if "*" in a]


# --- IAM's size limits ---
# A managed policy: 6,144 characters; a role's inline policies together: 10,240; whitespace
# not counted; 10 managed policies per role by default
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).


def iam_size(document) -> int:
    """Characters of the deployed policy, whitespace not counted, an !Sub ARN as its text
    (the pseudo parameters it names are never shorter than their values)."""
    text = json.dumps(document, separators=(",", ":"))
    return len(re.sub(r'\{"Fn::Sub":("[^"]*")\}', r"\1", text))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_rendered_policies_stay_within_iam_limits(env):
    every = [*templates(env).values()]
    for template in every:
        managed = resources(template, "AWS::IAM::ManagedPolicy")
        for name, policy in managed.items():
            assert iam_size(policy["Properties"]["PolicyDocument"]) <= 6144, name
        for name, role in resources(template, "AWS::IAM::Role").items():
            inline = [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
            inline += [
                p["Properties"]["PolicyDocument"]
                for p in resources(template, "AWS::IAM::Policy").values()
                if {"Ref": name} in p["Properties"]["Roles"]
            ]
            assert sum(iam_size(d) for d in inline) <= 10240, name
            attached = [p for p in managed.values() if {"Ref": name} in p["Properties"]["Roles"]]
            assert len(attached) <= 10, name
    assert iam_size(GITHUB) <= 10240  # attached inline to the GitHub Actions role


def test_the_github_policy_names_no_cloudformation_pseudo_parameter():
    """It is attached outside CloudFormation, so it names no pseudo parameter; IAM refuses a
    policy variable in an ARN's account (MalformedPolicyDocument), so the account is "*"."""
    text = json.dumps(GITHUB)
    assert "AWS::" not in text and "${" not in text
    assert "stack/product-service-dev-service/*" in text
    assert "stack/product-service-prod-service/*" in text


# --- the deploy role grants every AWS call the pipeline's code makes ---

SCRIPTS = [
    ROOT / "scripts" / name
    for name in ("release.py", "smoke_test.py", "http_smoke.py", "environment.py")
]


def callers(env: str) -> list[Path]:
    """The modules of the resolvers and hooks env's stacks use (their YAML tags, looked up in
    pyproject.toml's entry points), with resolvers/__init__.py, and the pipeline's scripts.
    The shared registry's hooks (!service_linked_roles) run under an operator's launch of
    shared, never in a pipeline; so do the pipeline stack's own (the deploy step skips that
    stack: ignore: IN_PIPELINE in config/<env>/pipeline.yaml)."""
    plugins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    modules = {
        name: target.split(":")[0] for group in plugins.values() for name, target in group.items()
    }
    text = "".join(
        p.read_text()
        for p in [ROOT / "config/config.yaml", *(ROOT / "config" / env).glob("*.yaml")]
        if p.name != "pipeline.yaml"
    )
    used = {modules[tag] for tag in re.findall(r"!(\w+)", text) if tag in modules}
    return [
        ROOT / "resolvers" / "__init__.py",
        *(ROOT / f"{m.replace('.', '/')}.py" for m in sorted(used)),
        *SCRIPTS,
    ]


def aws_calls(path: Path) -> set[str]:
    """IAM actions of call("service", "operation", ...) and paginate(call, "service", ...)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        args = [a.value for a in node.args if isinstance(a, ast.Constant)]
        strings = [a for a in args if isinstance(a, str)]
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name in ("call", "paginate") and len(strings) >= 2 and "_" in strings[1] + "_":
            service, operation = strings[0], strings[1]
            if re.fullmatch(r"[a-z0-9-]+", service) and re.fullmatch(r"[a-z_]+", operation):
                camel = "".join(part.capitalize() for part in operation.split("_"))
                found.add(f"{service}:{camel}")
    return found


def test_the_call_finder_finds_calls():
    assert "ec2:DescribeVpcs" in aws_calls(ROOT / "resolvers" / "vpc_id.py")
    assert "cloudformation:UpdateTerminationProtection" in aws_calls(ROOT / "hooks" / "protect.py")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_role_grants_every_call_of_resolvers_hooks_and_scripts(env):
    role = pipeline(env)["Resources"]["DeployRole"]["Properties"]
    granted = {
        a.lower()
        for p in role["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        for a in as_list(s["Action"])
    }
    used = callers(env)
    assert ROOT / "hooks" / "protect.py" in used and ROOT / "resolvers" / "vpc_id.py" in used
    called = {a for path in used for a in aws_calls(path)}
    assert called, "no AWS call found: the finder is broken"
    assert sorted(a for a in called if a.lower() not in granted) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_role_grants_what_sceptre_launch_and_protect_call(env):
    """sceptre/plan/actions.py: launch creates or updates, waits on events, cancels an update
    that outlasts stack_timeout; hooks/protect.py sets termination protection and policy."""
    role = pipeline(env)["Resources"]["DeployRole"]["Properties"]
    granted = {a for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]
               for a in as_list(s["Action"])}  # fmt: skip
    assert {
        "cloudformation:CancelUpdateStack",
        "cloudformation:ContinueUpdateRollback",
        "cloudformation:CreateStack",
        "cloudformation:DeleteStack",
        "cloudformation:DescribeStackEvents",
        "cloudformation:DescribeStackResources",
        "cloudformation:DescribeStacks",
        "cloudformation:GetTemplate",
        "cloudformation:SetStackPolicy",
        "cloudformation:UpdateStack",
        "cloudformation:UpdateTerminationProtection",
    } <= granted
