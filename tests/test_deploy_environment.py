"""The pipelines' deploy and smoke-test steps run with requirements-deploy.txt alone.

A virtual environment holding only requirements-deploy.txt and the project itself (installed
without dependencies, as the buildspecs' install phases do), made with uv from its download
cache (offline: make's set-up filled the cache with every package of requirements.txt, of
which the deploy set is a subset). Then the deploy buildspec's build phase, and the smoke
test's commands, run with that environment first on PATH against an emulator of this
module's own (the launch creates dev). The CDK, cfn-lint, pytest and ruff are absent from
it, so a step that needed them would fail here.
"""

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from emulator.process import ROOT, Emulator
from emulator.seed import IMAGE_TAGS, REPOSITORY
from tests.roles import quick, run_build_phase

UV = ROOT / ".venv-tools" / "bin" / "uv"
PACKAGES = ("resolvers", "hooks", "drift", "permissions", "template_handlers")  # pyproject's
LEFT_OUT = ("aws_cdk", "jsii", "sceptre_cdk_handler", "cfnlint", "pytest", "ruff")
# The project's app on a port the kernel picks, bound to loopback; node prints the port.
LISTEN = (
    "const s = require('./app/server.js').createServer();"
    "s.listen(0, '127.0.0.1', () => console.log(s.address().port));"
)


def uv(*args: str) -> None:
    """Run uv offline (the shared cache only), failing with its own words."""
    result = subprocess.run(
        [str(UV), *args, "--offline", "--quiet"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"uv {' '.join(args)}:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def deploy_bin(tmp_path_factory) -> Path:
    """bin/ of a fresh virtual environment of requirements-deploy.txt plus the project."""
    base = tmp_path_factory.mktemp("deploy")
    venv, source = base / "venv", base / "project"
    # The project's packaging files only: a build writes build/ and *.egg-info beside them.
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("*.pyc"))
    subprocess.run([str(UV), "venv", "--quiet", "--python", "python3", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    # --no-deps: exactly the pinned set, so a missing pin fails here rather than being resolved
    # to whatever version is newest; pip check then holds every dependency to be among them.
    deploy_set = str(ROOT / "requirements-deploy.txt")
    uv("pip", "install", "--python", python, "--no-deps", "-r", deploy_set)
    uv("pip", "install", "--python", python, "--no-deps", str(source))
    uv("pip", "check", "--python", python)
    return venv / "bin"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:  # the deploy step creates dev: an emulator of its own
        yield running


@pytest.fixture(scope="module")
def step_env(emulator, deploy_bin) -> dict[str, str]:
    """What a CodeBuild step of dev's pipeline sees, with the deploy environment on PATH."""
    # PYTHONDONTWRITEBYTECODE left out: the fresh environment holds no bytecode (uv compiles
    # none), so with it set each of the steps' Python processes would compile sceptre, boto3
    # and botocore again; CodeBuild's Python writes bytecode on first import, as this does.
    env = quick(emulator.child_env("VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"))
    env["PATH"] = f"{deploy_bin}{os.pathsep}{env['PATH']}"
    return {**env, "VIRTUAL_ENV": str(deploy_bin.parent), "ENVIRONMENT": "dev"}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory, emulator) -> Path:
    """The deploy step's input artifact: the project's source plus release.json for a tag."""
    work = tmp_path_factory.mktemp("checkout")
    for folder in ("config", "templates", "policies", "scripts", "hooks", "resolvers"):
        shutil.copytree(ROOT / folder, work / folder, ignore=shutil.ignore_patterns("*.pyc"))
    tag = IMAGE_TAGS[-1]
    (image,) = emulator.client("ecr").describe_images(
        repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}]
    )["imageDetails"]
    release = {"image_tag": tag, "image_digest": image["imageDigest"], "commit": "c0ffee"}
    (work / "release.json").write_text(json.dumps(release))
    return work


def test_the_deploy_environment_holds_none_of_the_development_tools(deploy_bin, step_env):
    probe = f"import importlib.util as u; print([m for m in {LEFT_OUT!r} if u.find_spec(m)])"
    found = subprocess.run(
        ["python3", "-c", probe], env=step_env, capture_output=True, text=True, timeout=60
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"
    assert (deploy_bin / "sceptre").exists()


def test_the_deploy_step_launches_dev_with_the_deploy_environment(emulator, step_env, checkout):
    result = run_build_phase("deploy", step_env, cwd=checkout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"dev runs release {IMAGE_TAGS[-1]}" in result.stdout
    stacks = emulator.client("cloudformation").describe_stacks()["Stacks"]
    dev = "product-service-dev-"
    assert {s["StackName"]: s["StackStatus"] for s in stacks if dev in s["StackName"]} == {
        f"{dev}{name}": "CREATE_COMPLETE" for name in ("cluster", "load-balancer", "service")
    }  # IN_PIPELINE=true: not the pipeline, nor the CDK drift monitor (nothing synthesizes)


def test_the_smoke_test_runs_with_the_deploy_environment(step_env, checkout):
    # After the deploy above: the service reached its desired count on the release.
    (desired_count, http_check) = yaml.safe_load(
        (ROOT / "buildspecs" / "smoke-test.yml").read_text()
    )["phases"]["build"]["commands"]
    ran = subprocess.run(
        ["bash", "-c", desired_count], cwd=checkout, env=step_env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed: the HTTP check needs the app on a loopback port")
    # The emulator's load balancers answer no HTTP: the app itself, on a loopback port.
    app = subprocess.Popen(["node", "-e", LISTEN], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{int(app.stdout.readline())}"
        command = f"{http_check} --url {url} --interval 0.05 --timeout 5"
        ran = subprocess.run(
            ["bash", "-c", command], cwd=checkout, env=step_env, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
    finally:
        app.terminate()
        app.wait(timeout=10)
    assert ran.returncode == 0, ran.stdout + ran.stderr
