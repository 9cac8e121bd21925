"""auto_revert: dev's drift monitor reverts drift, prod's only reports it (offline, rendered).

The runner's rights when it reverts: CloudFormation's drift-aware change sets on the
workload stacks (CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet all
take a stack ARN: the IAM service reference, permissions.reference), and the rights of the
update itself: without a CloudFormation service role CloudFormation acts with the caller's
rights; with one, it acts with the role (docs.aws.amazon.com/AWSCloudFormation/latest/
UserGuide/using-iam-servicerole.html), which the caller passes (iam:PassRole).
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.templates import ROOT, only, render, resources
from tests.test_drift_monitor import as_list, monitor, runner_statements, scope

CHANGE_SET_ACTIONS = {
    "cloudformation:CreateChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:ExecuteChangeSet",
}
WORKLOAD = ("cluster", "load-balancer", "service")  # config/config.yaml workload_stacks


def config(env: str) -> dict:
    return yaml.safe_load((ROOT / "config" / env / "config.yaml").read_text())


def buildspec(template: dict) -> dict:
    project = only(template, "AWS::CodeBuild::Project")["Properties"]
    return json.loads(project["Source"]["BuildSpec"])


def test_dev_reverts_and_prod_only_reports():
    assert config("dev")["auto_revert"] is True
    assert config("prod")["auto_revert"] is False
    assert buildspec(monitor("dev"))["phases"]["build"]["commands"] == [
        ".venv/bin/drift-check dev --revert --yes --markdown report.md"
    ]
    assert buildspec(monitor("prod"))["phases"]["build"]["commands"] == [
        ".venv/bin/drift-check prod --markdown report.md"
    ]


def test_only_devs_runner_may_use_change_sets_and_only_on_the_workload_stacks():
    granted = {a: s for s in runner_statements(monitor("dev")) for a in as_list(s["Action"])}
    for action in CHANGE_SET_ACTIONS:
        stacks = sorted(scope(r) for r in as_list(granted[action]["Resource"]))
        assert stacks == sorted(
            json.dumps(
                {
                    "Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:"
                    f"${{AWS::AccountId}}:stack/product-service-dev-{name}/*"
                }
            )
            for name in WORKLOAD
        )
    prod = {a for s in runner_statements(monitor("prod")) for a in as_list(s["Action"])}
    assert not prod & (CHANGE_SET_ACTIONS - {"cloudformation:DescribeStackEvents"})
    assert not [a for a in prod if a.split(":")[1].startswith(("Update", "Delete"))]


def test_without_a_service_role_devs_runner_gets_the_deploy_rights_and_no_pass_role():
    template = monitor("dev")
    deploy = json.loads((ROOT / "policies/generated/dev-cloudformation.json").read_text())
    granted = runner_statements(template)
    actions = {a for s in granted for a in as_list(s["Action"])}
    wanted = {a for p in deploy["policies"] for s in p["Statement"] for a in as_list(s["Action"])}
    assert wanted <= actions
    assert "iam:PassRole" not in {a for s in granted if "Condition" in s and
                                  "cloudformation.amazonaws.com" in json.dumps(s["Condition"])
                                  for a in as_list(s["Action"])}  # fmt: skip
    names = [p["Properties"]["Description"] for p in
             resources(template, "AWS::IAM::ManagedPolicy").values()]  # fmt: skip
    assert names.count("Generated: what reverting drift updates in dev") == len(deploy["policies"])


SERVICE_ROLE = "arn:aws:iam::123456789012:role/product-service-dev-cloudformation"


@pytest.fixture(scope="module")
def with_service_role() -> dict:
    """dev's monitor rendered with CLOUDFORMATION_ROLE_ARN set (a fresh process: render()
    caches per process and Sceptre reads the environment when it renders)."""
    code = (
        "import json; from tests.templates import render; "
        "print(json.dumps(render('dev/drift-monitor.yaml')['dev/drift-monitor']['template']))"
    )
    env = {**os.environ, "CLOUDFORMATION_ROLE_ARN": SERVICE_ROLE}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_with_a_service_role_the_runner_only_passes_it_to_cloudformation(with_service_role):
    granted = runner_statements(with_service_role)
    # The generated read rights hold an iam:PassRole of their own (a read handler lists it),
    # passed to another service; the one that matters here is passed to CloudFormation.
    (passing,) = [
        s
        for s in granted
        if "iam:PassRole" in as_list(s["Action"]) and "cloudformation" in json.dumps(s)
    ]
    assert as_list(passing["Resource"]) == [SERVICE_ROLE]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}
    }
    descriptions = [p["Properties"]["Description"] for p in
                    resources(with_service_role, "AWS::IAM::ManagedPolicy").values()]  # fmt: skip
    assert not [d for d in descriptions if "reverting" in d]  # CloudFormation uses the role


def test_auto_revert_must_be_a_boolean():
    from hooks.validate_config import find_problems
    from tests.test_validate_config import config as validated_config

    bad = validated_config("dev")
    bad["auto_revert"] = "yes"
    ((key, value, allowed),) = find_problems(bad, "dev")
    assert (key, value) == ("auto_revert", "yes")
    assert "boolean" in allowed


def test_render_is_the_one_the_other_tests_use():
    # monitor() is tests.test_drift_monitor's cached render of the whole environment.
    assert monitor("dev") is render("dev")["dev/drift-monitor"]["template"]
