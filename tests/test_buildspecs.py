"""The buildspec files parse, and every project command they run exists in the project."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.templates import ENVIRONMENTS, ROOT, render

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
            if word in ("requirements.txt", "app") or word.startswith(("buildspecs/", "scripts/")):
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
