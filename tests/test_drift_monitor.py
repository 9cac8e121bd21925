"""The CDK drift-monitor stack of both environments, synthesized through Sceptre (offline).

cfn-lint with informational rules runs over it in test_templates.py, with every stack.
"""

import json

import pytest
import yaml
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

from permissions import reference
from tests.templates import ENVIRONMENTS, ROOT, only, render, resources

SCHEDULES = {"dev": "cron(0 5 * * ? *)", "prod": "rate(6 hours)"}
REVERTS = {"dev": True, "prod": False}  # auto_revert in config/<env>/config.yaml


def monitor(env: str) -> dict:
    return render(env)[f"{env}/drift-monitor"]["template"]


def runner_statements(template: dict) -> list[dict]:
    """Every statement granted to the runner: its one inline policy and its managed ones."""
    role_id = next(iter(resources(template, "AWS::CodeBuild::Project")))
    role_ref = template["Resources"][role_id]["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_ref} in p["Properties"]["Roles"]
    ]
    assert len(policies) == 1, "hand-written rights: one policy"
    policies += [
        p["Properties"]
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_ref} in p["Properties"]["Roles"]
    ]
    inline = template["Resources"][role_ref]["Properties"].get("Policies", [])
    assert not inline, "the runner's rights belong in its policies"
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def scope(resource) -> str:
    """A policy resource as text: '*', or the ARN pattern of its Fn::Sub."""
    return resource if isinstance(resource, str) else json.dumps(resource)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_schedule_comes_from_the_environments_config(env):
    config = yaml.safe_load((ROOT / "config" / env / "config.yaml").read_text())
    assert config["drift_schedule"] == SCHEDULES[env]
    rule = only(monitor(env), "AWS::Events::Rule")["Properties"]
    assert rule["ScheduleExpression"] == SCHEDULES[env]
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    project_id = next(iter(resources(monitor(env), "AWS::CodeBuild::Project")))
    assert target["Arn"] == {"Fn::GetAtt": [project_id, "Arn"]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_runner_runs_drift_check_of_its_environment_and_alerts_the_topic(env):
    template = monitor(env)
    project = only(template, "AWS::CodeBuild::Project")["Properties"]
    assert project["Name"] == f"product-service-{env}-drift-check"
    buildspec = json.loads(project["Source"]["BuildSpec"])
    # auto_revert (dev) reverts without asking; tests/test_auto_revert.py tests what it grants.
    revert = " --revert --yes" if REVERTS[env] else ""
    assert buildspec["phases"]["build"]["commands"] == [
        f".venv/bin/drift-check {env}{revert} --markdown report.md"
    ]
    topic_id = next(iter(resources(template, "AWS::SNS::Topic")))
    variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert variables == {"DRIFT_TOPIC_ARN": {"Ref": topic_id}}
    config = (ROOT / "config" / env / "config.yaml").read_text()
    assert 'drift_topic_arn: "{{ environment_variable.DRIFT_TOPIC_ARN' in config


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_runner_role_is_scoped_to_this_environment(env):
    template = monitor(env)
    project = only(template, "AWS::CodeBuild::Project")["Properties"]
    role = template["Resources"][project["ServiceRole"]["Fn::GetAtt"][0]]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert not role.get("ManagedPolicyArns")

    granted = runner_statements(template)
    actions = {a: s for s in granted for a in as_list(s["Action"])}
    assert not [a for a in actions if "*" in a], "no wildcard actions"
    for action in (
        "cloudformation:DetectStackDrift",
        "cloudformation:DescribeStackResourceDrifts",
        "cloudformation:DescribeStacks",
    ):
        (stacks,) = as_list(actions[action]["Resource"])
        assert stacks == {
            "Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}"
            f":stack/product-service-{env}-*/*"
        }
    other = "prod" if env == "dev" else "dev"
    for statement in granted:
        for resource in as_list(statement["Resource"]):
            assert f"product-service-{other}" not in scope(resource)
            if resource == "*":  # only actions the IAM reference gives no resource type
                for action in as_list(statement["Action"]):
                    assert reference.resource_types(action) == [], action
    roles = [scope(r) for r in as_list(actions["iam:GetRolePolicy"]["Resource"])]
    # A role's ARN is role/PATH/NAME, its path optional (docs.aws.amazon.com/IAM/latest/
    # UserGuide/reference_identifiers.html): every role read is named for this environment.
    names = [r.rsplit("/", 1)[-1] for r in roles]
    assert names and all(n.startswith(f"product-service-{env}-") for n in names), roles
    (services,) = [scope(r) for r in as_list(actions["ecs:DescribeServices"]["Resource"])]
    # The service is named by CloudFormation after its stack, in the environment's cluster.
    assert services.endswith(f':service/product-service-{env}/product-service-{env}-service-*"}}')
    writes = [a for a in actions if a.split(":")[1].startswith(("Put", "Create", "Update"))]
    if not REVERTS[env]:  # a reverting runner writes what the update changes (test_auto_revert)
        assert sorted(writes) == [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        ]
    assert all(
        "/aws/codebuild/" in scope(r) for r in as_list(actions["logs:PutLogEvents"]["Resource"])
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_github_source_does_not_report_build_status(env):
    """Reporting status to GitHub needs stored GitHub credentials, without which CreateProject
    fails (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectSource.html,
    reportBuildStatus)."""
    project = only(monitor(env), "AWS::CodeBuild::Project")["Properties"]
    assert project["Source"]["Type"] == "GITHUB"
    assert project["Source"]["ReportBuildStatus"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_the_runner_may_publish_and_only_to_its_topic(env):
    template = monitor(env)
    topic_id = next(iter(resources(template, "AWS::SNS::Topic")))
    publish = [s for s in runner_statements(template) if "sns:Publish" in as_list(s["Action"])]
    assert [s["Resource"] for s in publish] == [{"Ref": topic_id}]
    reads = [s for s in runner_statements(template) if "sns:GetTopicAttributes" in s["Action"]]
    # The topic's name is CloudFormation's, after the drift-monitor stack.
    assert [[scope(r) for r in as_list(s["Resource"])] for s in reads] == [
        [
            json.dumps(
                {
                    "Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:"
                    f"product-service-{env}-drift-monitor-*"
                }
            )
        ]
    ]
    events_policy = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::IAM::Policy").values()
        if "codebuild:StartBuild" in json.dumps(p)
    ]
    assert len(events_policy) == 1 and len(events_policy[0]) == 1  # StartBuild on the runner


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_monitor_is_bootstrapless_cdk_launched_after_the_service(env):
    plan = SceptrePlan(SceptreContext(project_path=str(ROOT), command_path=env))
    stack = next(s for s in plan.graph if s.name == f"{env}/drift-monitor")
    handler = stack.template_handler_config
    # sceptre-cdk-handler's cdk handler behind a synthesis cache (template_handlers/cached_cdk.py)
    assert (handler["type"], handler["deployment_type"]) == ("cached_cdk", "bootstrapless")
    assert handler["bootstrapless_config"]["file_asset_bucket_name"]  # required, never used
    assert [d.name for d in stack.dependencies] == [f"{env}/service"]
    assert stack.external_name == f"product-service-{env}-drift-monitor"


def test_the_github_schedule_runs_the_same_command_and_fails_on_drift():
    workflow = yaml.safe_load((ROOT / ".github/workflows/drift.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key "on" as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    job = workflow["jobs"]["drift-check"]
    assert workflow["permissions"] == {}  # nothing by default; the job asks for what it uses
    assert job["permissions"]["id-token"] == "write"  # OIDC, no stored keys
    steps = job["steps"]
    by_name = {s.get("name") or s["uses"].split("@")[0]: s for s in steps}
    credentials = by_name["aws-actions/configure-aws-credentials"]["with"]
    assert "role-to-assume" in credentials and "aws-access-key-id" not in credentials
    check = by_name["Detect drift"]
    assert check["run"] == ".venv/bin/drift-check dev prod --markdown report.md"
    assert "continue-on-error" not in check  # exit 1 (drift) or 2 fails the job
    summary = by_name["Show the report in the job summary"]
    assert summary["if"] == "always()" and "$GITHUB_STEP_SUMMARY" in summary["run"]
    upload = by_name["Keep the report"]
    assert upload["if"] == "always()" and upload["with"]["path"] == "report.md"
