"""Run the project's commands as one of its own IAM roles, on the emulator.

The emulator evaluates requests signed with an assumed role's credentials against that
role's policies (emulator/iam.py), and CloudFormation's resource handlers against the
stack's service role (emulator/handler_model.py). These helpers take a role the way the
service that owns it would (CodeBuild, GitHub's OIDC) and run a command under it.
"""

import contextlib
import logging
import os
import subprocess
import sys
import traceback
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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


@dataclass
class Ran:
    """What a sceptre command printed and how it exited (a CompletedProcess's fields)."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ is exactly env inside the block (as a child process would get it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _fresh_process_state() -> None:
    """Forget what a sceptre process keeps for its lifetime, so each run starts as a new
    process would: Sceptre's class-level boto3 sessions and clients (they hold the endpoint
    and credentials read from the environment), its stack-output cache, the environments
    hooks/environment_check.py has checked (and reported) already."""
    from sceptre.connection_manager import ConnectionManager
    from sceptre.resolvers.stack_output import StackOutputBase

    from hooks import environment_check

    for cache in ("_boto_sessions", "_boto_session_expirations", "_clients", "_stack_keys"):
        getattr(ConnectionManager, cache).clear()
    StackOutputBase._get_stack_outputs.cache_clear()
    with environment_check._lock:
        environment_check._checked.clear()


@contextlib.contextmanager
def _status_polls(cap: str | None) -> Iterator[None]:
    """Sceptre's status waits capped at `cap` seconds, as tests/quick_poll/sitecustomize.py
    caps them in a child process when SCEPTRE_POLL_SECONDS is set; untouched otherwise."""
    import time

    import sceptre.plan.actions as actions

    if not cap:
        yield
        return
    saved = actions.time
    actions.time = types.SimpleNamespace(sleep=lambda s: time.sleep(min(s, float(cap))))
    try:
        yield
    finally:
        actions.time = saved


def sceptre_in_process(cwd: Path, env: Mapping[str, str], *args: str) -> Ran:
    """``sceptre ARGS`` run in cwd under exactly env, as the console script would run it, but
    in this process: a sceptre process spends about a second importing before it starts.

    Each run gets a fresh copy of Sceptre's per-process state (_fresh_process_state), its own
    stdout and stderr, and the exit code the process would have had. An exception Sceptre
    does not catch is printed to stderr as Python prints one ("Traceback (most recent call
    last): ...") with exit code 1, so tests that look for tracebacks still see them.
    Runs one at a time: it changes the process's environment, directory and streams.
    """
    import boto3
    from click.testing import CliRunner
    from sceptre.cli import cli

    sceptre_logger = logging.getLogger("sceptre")
    handlers, level = list(sceptre_logger.handlers), sceptre_logger.level
    # The run starts without boto3's default session, as a new process does; this process
    # gets its own back afterwards (its clients keep their parsed service models).
    default_session, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, None
    runner = CliRunner()
    with (
        contextlib.chdir(cwd),
        _environment(env),
        _status_polls(env.get("SCEPTRE_POLL_SECONDS")),
    ):
        _fresh_process_state()
        try:
            result = runner.invoke(cli, list(args), prog_name="sceptre", catch_exceptions=True)
        finally:
            # setup_logging adds a handler bound to this run's stderr on every run.
            sceptre_logger.handlers[:] = handlers
            sceptre_logger.setLevel(level)
            _fresh_process_state()
            boto3.DEFAULT_SESSION = default_session
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return Ran(result.exit_code, result.stdout, stderr)
