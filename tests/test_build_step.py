"""The dev pipeline's build step, run as CodeBuild runs it: buildspecs/build.yml's commands in
bash, on a Python that holds only what the buildspec's install phase installs (nothing: a
fresh virtual environment), with the registry on the emulator.

`docker` and `aws` are stand-ins (tests/codebuild_tools.py): there is no Docker engine here
and CodeBuild is not emulated. What they do to the registry is real emulator ECR traffic.
"""

import shutil
import subprocess
import sys
import venv

import pytest
import yaml

from emulator.process import ROOT, Emulator

REPOSITORY = "product-service"  # image_repository in config/config.yaml
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:  # this module pushes images: an emulator of its own
        yield running


@pytest.fixture(scope="module")
def build(emulator, tmp_path_factory):
    """Run the build phases once per call in a checkout copy; return (result, workdir, log)."""
    base = tmp_path_factory.mktemp("build")
    clean = base / "python"
    venv.create(clean, with_pip=False)  # install phase: runtime-versions only, no packages
    tools = base / "tools"
    tools.mkdir()
    for tool in ("docker", "aws"):
        shim = tools / tool
        shim.write_text(
            f'#!/bin/sh\ncd {ROOT} && exec {sys.executable} -m tests.codebuild_tools {tool} "$@"\n'
        )
        shim.chmod(0o755)
    spec = yaml.safe_load((ROOT / "buildspecs/build.yml").read_text())
    commands = [c for phase in ("pre_build", "build") for c in spec["phases"][phase]["commands"]]
    account = emulator.client("sts").get_caller_identity()["Account"]

    def run(attempt: str):
        workdir = base / attempt
        for folder in ("app", "scripts", "buildspecs"):
            shutil.copytree(ROOT / folder, workdir / folder)
        log = base / f"{attempt}.log"
        env = {
            **emulator.child_env(),
            "PATH": f"{clean / 'bin'}:{tools}:/usr/bin:/bin:/usr/local/bin",
            "PYTHONPATH": "",
            "COMMIT_ID": COMMIT,  # CodePipeline's #SourceVariables.CommitId
            # What templates/pipeline.yaml.j2 gives the build project.
            "REPOSITORY_URI": f"{account}.dkr.ecr.us-east-1.amazonaws.com/{REPOSITORY}",
            "CODEBUILD_TOOLS_LOG": str(log),
        }
        script = "set -euo pipefail\n" + "\n".join(commands)
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return result, workdir, log.read_text() if log.exists() else ""

    return run


def pushed_digest(emulator) -> str:
    found = emulator.client("ecr").describe_images(
        repositoryName=REPOSITORY, imageIds=[{"imageTag": COMMIT}]
    )
    return found["imageDetails"][0]["imageDigest"]


def test_the_build_writes_release_json_with_the_pushed_digest(build, emulator):
    result, workdir, log = build("first")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "docker push" in log
    # The lookup reads the registry the URI names (ACCOUNT.dkr.ecr...: docs.aws.amazon.com/
    # AmazonECR/latest/userguide/Registries.html), the tools account's across accounts.
    account = emulator.client("sts").get_caller_identity()["Account"]
    assert f"aws ecr describe-images --registry-id {account} --repository-name {REPOSITORY}" in log
    release = yaml.safe_load((workdir / "release.json").read_text())
    assert release == {
        "image_tag": COMMIT,
        "image_digest": pushed_digest(emulator),
        "commit": COMMIT,
    }


def test_a_retried_build_of_the_same_commit_reuses_the_pushed_image(build, emulator):
    # The registry's tags are immutable: a second push of COMMIT is refused with
    # ImageTagAlreadyExistsException (docs.aws.amazon.com/AmazonECR/latest/userguide/
    # image-tag-mutability.html). A retry must not push, and must record the same digest.
    result, workdir, log = build("retry")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "docker push" not in log and "docker build" not in log
    assert "already in the registry" in result.stderr
    release = yaml.safe_load((workdir / "release.json").read_text())
    assert release["image_digest"] == pushed_digest(emulator)
