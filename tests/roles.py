"""Run the project's commands as one of its own IAM roles, on the emulator.

The emulator evaluates requests signed with an assumed role's credentials against that
role's policies (emulator/iam.py), and CloudFormation's resource handlers against the
stack's service role (emulator/handler_model.py). These helpers take a role the way the
service that owns it would (CodeBuild, GitHub's OIDC) and run a command under it.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from emulator.process import ROOT, Emulator

BIN = Path(sys.executable).parent  # the project's venv: sceptre, drift-check, python3


def quick(env: dict[str, str]) -> dict[str, str]:
    """env, with Sceptre's 4 s status polls cut to 0.25 s (tests/quick_poll/sitecustomize.py):
    the emulator has finished before the first poll."""
    path = [str(ROOT / "tests" / "quick_poll"), env.get("PYTHONPATH", "")]
    return {
        **env,
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        "SCEPTRE_POLL_SECONDS": "0.25",
    }


def assume(emulator: Emulator, role_arn: str, session: str) -> dict[str, str]:
    """A child environment signed as the role (what CodeBuild gives a build of its project)."""
    credentials = emulator.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)[
        "Credentials"
    ]
    return {
        **quick(emulator.child_env()),
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "PATH": f"{BIN}:/usr/bin:/bin:/usr/local/bin",
    }


def buildspec(name: str) -> dict[str, Any]:
    """buildspecs/NAME.yml, parsed."""
    return yaml.safe_load((ROOT / "buildspecs" / f"{name}.yml").read_text())


def run_build_phase(
    name: str, env: dict[str, str], cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    """The build phase of buildspecs/NAME.yml in bash, as CodeBuild runs it, with its
    variables (env: variables) under the given environment."""
    spec = buildspec(name)
    variables = {k: str(v) for k, v in spec.get("env", {}).get("variables", {}).items()}
    script = "set -euo pipefail\n" + "\n".join(spec["phases"]["build"]["commands"])
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env={**env, **variables},
        capture_output=True,
        text=True,
        timeout=300,
    )


def stack_outputs(emulator: Emulator, stack: str) -> dict[str, str]:
    """A stack's outputs by key."""
    found = emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def sceptre(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """The sceptre CLI in the project, under env."""
    return subprocess.run(
        [str(BIN / "sceptre"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
