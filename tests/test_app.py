"""The Product Service's own unit tests, the ones the build stage runs with `npm test`."""

import shutil
import subprocess

import pytest

from tests.templates import ROOT


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_app_unit_tests_pass():
    result = subprocess.run(
        ["node", "--test"], cwd=ROOT / "app", capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 2" in result.stdout


def test_the_image_base_comes_from_ecr_public_not_docker_hub():
    # An image reference without a registry host is pulled from Docker Hub
    # (docs.docker.com/reference/cli/docker/image/pull/), which limits anonymous pulls per
    # source address (docs.docker.com/docker-hub/usage/); CodeBuild's addresses are shared.
    # ECR Public mirrors Docker's official images under docker/library
    # (docs.aws.amazon.com/AmazonECR/latest/public/docker-pull-ecr-image.html).
    bases = [
        line.split()[1]
        for line in (ROOT / "app/Dockerfile").read_text().splitlines()
        if line.upper().startswith("FROM ")
    ]
    assert bases
    for base in bases:
        assert base.startswith("public.ecr.aws/docker/library/"), base
