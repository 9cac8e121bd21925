"""Security scanners over every rendered template: zero findings, every exception reasoned.

checkov runs from its own virtual environment (.venv-scanners) with the project's custom
checks (scanners/checks/) for what it checks only on Terraform. cfn-lint -c I runs in
tests/test_templates.py and tests/test_pipeline_templates.py. zizmor (offline: no GitHub API
calls) and actionlint check the GitHub Actions workflows in .github/workflows/.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.templates import ROOT, render
from tests.test_account_layouts import DEV, PROD, TOOLS, changed_by_accounts, project_with

CHECKOV = ROOT / ".venv-scanners" / "bin" / "checkov"
ZIZMOR = ROOT / ".venv-scanners" / "bin" / "zizmor"
ACTIONLINT = ROOT / ".venv-scanners" / "bin" / "actionlint"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CUSTOM = ["CKV_PS_1", "CKV_PS_2", "CKV_PS_3", "CKV_PS_4", "CKV_PS_5"]


def checkov(folder: Path) -> dict:
    result = subprocess.run(
        [str(CHECKOV), "-d", str(folder), "--framework", "cloudformation", "--skip-download",
         "--external-checks-dir", str(ROOT / "scanners" / "checks"), "-o", "json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr  # 1: findings, which the tests read
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def only_under(report: dict, folder: Path) -> dict[str, list[dict]]:
    """The report's results (failed, passed, skipped checks) for the files under folder."""
    return {
        kind: [c for c in checks if Path(c["file_abs_path"]).is_relative_to(folder)]
        for kind, checks in report["results"].items()
        if kind in ("failed_checks", "passed_checks", "skipped_checks")
    }


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> tuple[Path, dict]:
    """One checkov run (~5 s of CPU is its start-up) over a folder holding the rendered
    templates of every environment (rendered/), those an account per environment changes
    (accounts/: tests/test_account_layouts.py) and the BAD templates below (bad/)."""
    folder = tmp_path_factory.mktemp("scanned")
    (folder / "rendered").mkdir()
    for group in ("dev", "prod", "shared"):
        for name, found in render(group).items():
            (folder / "rendered" / (name.replace("/", "-") + ".yaml")).write_text(found["text"])
    (folder / "accounts").mkdir()
    several = project_with(tmp_path_factory.mktemp("accounts"), TOOLS, DEV, PROD)
    for name, found in changed_by_accounts(several).items():
        (folder / "accounts" / (name.replace("/", "-") + ".yaml")).write_text(found["text"])
    (folder / "bad").mkdir()
    for name, resources in BAD.items():
        template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
        (folder / "bad" / name).write_text(json.dumps(template))
    return folder, checkov(folder)


@pytest.fixture(scope="module")
def project_report(scanned) -> dict:
    """checkov's results on the rendered templates alone."""
    folder, report = scanned
    return {"results": only_under(report, folder / "rendered")}


def failures(report: dict) -> list[str]:
    """checkov's failed checks, one line each: check, resource and file."""
    return [
        f"{f['check_id']} {f['resource']} in {f['file_path']}"
        for f in report["results"].get("failed_checks", [])
    ]


def test_every_template_of_every_environment_passes(project_report):
    assert failures(project_report) == []
    # Resources that at least one check judged (checkov's summary counts the bad ones too).
    judged = {
        (c["file_abs_path"], c["resource"])
        for checks in project_report["results"].values()
        for c in checks
    }
    assert len(judged) > 50


def test_the_templates_an_account_per_environment_changes_pass_too(scanned):
    folder, report = scanned
    results = only_under(report, folder / "accounts")
    assert failures({"results": results}) == []
    assert {Path(c["file_path"]).stem for c in results["passed_checks"]} == {
        path.stem for path in (folder / "accounts").iterdir()
    }  # each was scanned


def test_the_projects_own_checks_ran(project_report):
    ran = {c["check_id"] for c in project_report["results"]["passed_checks"]}
    ran |= {c["check_id"] for c in project_report["results"]["skipped_checks"]}
    assert set(CUSTOM) <= ran


def test_every_exception_carries_its_reason(project_report):
    skipped = project_report["results"]["skipped_checks"]
    assert skipped, "expected the documented exceptions"
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment") or "") >= 20, check["check_id"]
    assert ("CKV_PS_5", "AWS::CodeBuild::Project.BuildProject") in {
        (c["check_id"], c["resource"]) for c in skipped
    }  # the one privileged build, with its reason


BAD = {
    "public-ip.json": {"Service": {"Type": "AWS::ECS::Service", "Properties": {
        "NetworkConfiguration": {"AwsvpcConfiguration": {"AssignPublicIp": "ENABLED"}}}}},
    "one-role.json": {"Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
        "ExecutionRoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
        "TaskRoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}}},
    "wildcard.json": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {},
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]}}]}}},
    "plain-artifacts.json": {"Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {
        "ArtifactStore": {"Type": "S3", "Location": "bucket"}}}},
    "privileged.json": {"Build": {"Type": "AWS::CodeBuild::Project", "Properties": {
        "Environment": {"PrivilegedMode": True}}}},
}  # fmt: skip


def test_the_projects_checks_catch_what_they_are_for(scanned):
    folder, report = scanned
    failed = {
        (f["check_id"], Path(f["file_path"]).name)
        for f in only_under(report, folder / "bad")["failed_checks"]
    }
    expected = zip(CUSTOM, BAD, strict=True)
    assert set(expected) <= failed


def zizmor(folder: Path) -> list[str]:
    """zizmor's findings (audit names) on the workflows under folder, at its default persona."""
    result = subprocess.run(
        [str(ZIZMOR), "--offline", "--format", "json", str(folder)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.stdout.strip(), result.stderr  # exit codes 10+ are findings, read below
    return sorted(f"{f['ident']}: {f['desc']}" for f in json.loads(result.stdout))


def actionlint(files: list[Path]) -> list[str]:
    """actionlint's errors on the given workflow files (kind and message)."""
    result = subprocess.run(
        [str(ACTIONLINT), "-format", "{{json .}}", *map(str, files)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr  # 1: errors found, which the tests read
    return [f"{e['filepath']}:{e['line']} {e['kind']}: {e['message']}" for e in json.loads(
        result.stdout or "[]")]  # fmt: skip


def test_zizmor_finds_nothing_in_the_workflows():
    assert WORKFLOWS
    assert zizmor(ROOT / ".github") == []


def test_actionlint_finds_nothing_in_the_workflows():
    assert actionlint(WORKFLOWS) == []


# Pinning: a tag can be moved to other code, a commit hash cannot (GitHub's "Security hardening
# for GitHub Actions": https://docs.github.com/en/actions/security-for-github-actions/
# security-guides/security-hardening-for-github-actions#using-third-party-actions).
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.MULTILINE)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it(path):
    uses = USES.findall(path.read_text())
    assert uses
    for ref, rest in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", rest), f"{ref}: no '# vX.Y.Z' comment"


BAD_WORKFLOW = """\
name: bad
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credential: false
      - run: echo "${{ github.event.head_commit.message }}"
"""  # a tag-pinned checkout keeping its token, an input misspelt, an injectable expression


def test_the_workflow_scanners_catch_what_they_are_for(tmp_path):
    workflow = tmp_path / ".github" / "workflows" / "bad.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(BAD_WORKFLOW)
    found = {finding.split(":")[0] for finding in zizmor(tmp_path / ".github")}
    assert {"unpinned-uses", "artipacked", "template-injection"} <= found
    errors = "\n".join(actionlint([workflow]))
    assert 'input "persist-credential" is not defined' in errors
    assert "potentially untrusted" in errors


def test_the_image_base_is_pinned_by_digest_with_its_tag_beside_it():
    # A tag moves to each new build of the image; a digest names one manifest for good
    # (https://docs.docker.com/reference/dockerfile/#from: FROM [--platform] <image>[@<digest>]).
    # Dockerfile comments stand on their own line (a # after an instruction is an argument).
    lines = (ROOT / "app" / "Dockerfile").read_text().splitlines()
    froms = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    assert froms
    for i in froms:
        image = lines[i].split()[1]
        assert re.fullmatch(r"public\.ecr\.aws/docker/library/[\w.-]+@sha256:[0-9a-f]{64}", image)
        assert re.fullmatch(r"# [\w.-]+:[\w.-]+", lines[i - 1]), "the tag, in a comment above"
