"""The buildspec files parse, and every project command they run exists in the project."""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.templates import ENVIRONMENTS, ROOT, render, rendered

BUILDSPECS = sorted((ROOT / "buildspecs").glob("*.yml"))


def commands(path: Path) -> list[str]:
    spec = yaml.safe_load(path.read_text())
    return [c for phase in spec["phases"].values() for c in phase.get("commands", [])]


def test_every_buildspec_a_pipeline_names_exists():
    named = {
        project["Properties"]["Source"]["BuildSpec"]
        for env in ENVIRONMENTS
        for project in render(f"{env}/pipeline.yaml")[f"{env}/pipeline"]["template"][
            "Resources"
        ].values()
        if project["Type"] == "AWS::CodeBuild::Project"
    }
    assert named == {str(p.relative_to(ROOT)) for p in BUILDSPECS}


@pytest.mark.parametrize("path", BUILDSPECS, ids=lambda p: p.name)
def test_buildspec_parses_as_version_0_2(path):
    spec = yaml.safe_load(path.read_text())
    assert spec["version"] == 0.2
    assert commands(path)


@pytest.mark.parametrize("path", BUILDSPECS, ids=lambda p: p.name)
def test_project_modules_and_files_the_commands_use_exist(path):
    for command in commands(path):
        for module in re.findall(r"python3 -m (scripts\.\w+)", command):
            assert (ROOT / (module.replace(".", "/") + ".py")).exists(), command
        for word in shlex.split(command.replace("$(", " ").replace(")", " ")):
            if word.startswith(("requirements", "buildspecs/", "scripts/")) or word == "app":
                assert (ROOT / word).exists(), f"{path.name}: {command}"


def test_build_runs_the_apps_unit_tests():
    build = commands(ROOT / "buildspecs/build.yml")
    assert any("npm test" in c for c in build)
    assert '"test"' in (ROOT / "app/package.json").read_text()


def test_deploy_runs_the_launch_line_the_readme_documents():
    (launch,) = [c for c in commands(ROOT / "buildspecs/deploy.yml") if c.startswith("sceptre ")]
    assert launch == "sceptre --var image_tag=$IMAGE_TAG launch -y $ENVIRONMENT"
    assert launch in (ROOT / "README.md").read_text()


def test_deploy_skips_the_pipeline_stack():
    spec = yaml.safe_load((ROOT / "buildspecs/deploy.yml").read_text())
    assert spec["env"]["variables"]["IN_PIPELINE"] == "true"


def test_deploy_makes_no_drift_detection_its_role_does_not_grant():
    """Every stack file runs !drift_preview with DRIFT_PREVIEW_SECONDS as its timeout (0: off);
    the deploy role has no cloudformation:DetectStackDrift, so the deploy step turns it off."""
    spec = yaml.safe_load((ROOT / "buildspecs/deploy.yml").read_text())
    assert spec["env"]["variables"]["DRIFT_PREVIEW_SECONDS"] == "0"
    service = (ROOT / "config/dev/service.yaml").read_text()
    assert "!drift_preview" in service and "environment_variable.DRIFT_PREVIEW_SECONDS" in service
    for env in ("dev", "prod"):
        template = rendered(env)[f"{env}/pipeline"]["template"]
        role = template["Resources"]["DeployRole"]["Properties"]
        assert "cloudformation:DetectStackDrift" not in json.dumps(role["Policies"])


def pins(path: Path) -> dict[str, str]:
    """name -> version of a pinned requirements file, names normalized as PyPI does
    (https://packaging.python.org/en/latest/specifications/name-normalization/)."""
    found = {}
    for line in path.read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if requirement:
            name, version = requirement.split("==")
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


def test_the_deploy_set_is_a_subset_of_the_project_set_with_the_same_pins():
    deploy, full = pins(ROOT / "requirements-deploy.txt"), pins(ROOT / "requirements.txt")
    assert {name: full.get(name) for name in deploy} == deploy
    assert {"sceptre", "boto3", "sceptre-file-resolver"} <= set(deploy)
    left_out = {"aws-cdk-lib", "jsii", "sceptre-cdk-handler", "cfn-lint", "pytest", "ruff"}
    assert left_out <= set(full) - set(deploy)


@pytest.mark.parametrize("name", ["deploy", "smoke-test"])
def test_the_deploy_and_smoke_test_steps_install_only_the_deploy_set(name):
    spec = yaml.safe_load((ROOT / "buildspecs" / f"{name}.yml").read_text())
    installs = spec["phases"]["install"]["commands"]
    assert "pip install --quiet -r requirements-deploy.txt" in installs
    assert "pip install --quiet --no-deps -e ." in installs  # the project's plugins, no more
    assert not [c for c in installs if "requirements.txt" in c]
