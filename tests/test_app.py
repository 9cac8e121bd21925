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
