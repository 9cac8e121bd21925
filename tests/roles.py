"""Run the project's commands as one of its own IAM roles, on the emulator.

The emulator evaluates requests signed with an assumed role's credentials against that
role's policies (emulator/iam.py), and CloudFormation's resource handlers against the
stack's service role (emulator/handler_model.py). These helpers take a role the way the
service that owns it would (CodeBuild, GitHub's OIDC) and run a command under it.
"""

import contextlib
import importlib.util
import io
import logging
import os
import subprocess
import sys
import traceback
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from emulator.process import ROOT, Emulator, quick_polls

BIN = Path(sys.executable).parent  # the project's venv: sceptre, drift-check, python3


def quick(env: dict[str, str]) -> dict[str, str]:
    """env, with Sceptre's 4 s status polls cut to 0.25 s (emulator.process.quick_polls):
    the emulator has finished before the first poll."""
    return quick_polls(env)


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


def buildspec_variables(spec: dict[str, Any]) -> dict[str, str]:
    """A buildspec's own env: variables, as the strings CodeBuild sets them to."""
    return {k: str(v) for k, v in spec.get("env", {}).get("variables", {}).items()}


def run_build_phase(
    name: str, env: dict[str, str], cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    """The build phase of buildspecs/NAME.yml in bash, as CodeBuild runs it, with its
    variables (env: variables) under the given environment."""
    spec = buildspec(name)
    variables = buildspec_variables(spec)
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


def forget_sceptre_connections() -> None:
    """Forget the boto3 sessions and clients Sceptre keeps per class for a process's lifetime
    (they hold the endpoint and credentials read from the environment when made)."""
    from sceptre.connection_manager import ConnectionManager

    for cache in ("_boto_sessions", "_boto_session_expirations", "_clients", "_stack_keys"):
        getattr(ConnectionManager, cache).clear()


def _fresh_process_state() -> None:
    """Forget what a sceptre process keeps for its lifetime, so each run starts as a new
    process would: Sceptre's class-level boto3 sessions and clients (they hold the endpoint
    and credentials read from the environment), its stack-output cache, the environments
    hooks/environment_check.py has checked (and reported) already."""
    from sceptre.resolvers.stack_output import StackOutputBase

    from hooks import environment_check

    forget_sceptre_connections()
    StackOutputBase._get_stack_outputs.cache_clear()
    with environment_check._lock:
        environment_check._checked.clear()


@contextlib.contextmanager
def _status_polls(cap: str | None) -> Iterator[None]:
    """Sceptre's status waits capped at `cap` seconds, as emulator/quick_poll/sitecustomize.py
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


@contextlib.contextmanager
def _as_a_new_process(cwd: Path, env: Mapping[str, str]) -> Iterator[None]:
    """Inside the block, this process looks to a console script as a new one would: cwd as
    its directory, exactly env as its environment, Sceptre's caches empty, no boto3 default
    session, the logging configuration untouched by what ran before (and restored after)."""
    import boto3

    root = logging.getLogger()
    sceptre_logger = logging.getLogger("sceptre")
    saved_loggers = [(x, list(x.handlers), x.level) for x in (root, sceptre_logger)]
    # The run starts without boto3's default session, as a new process does; this process
    # gets its own back afterwards (its clients keep their parsed service models).
    default_session, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, None
    with (
        contextlib.chdir(cwd),
        _environment(env),
        _status_polls(env.get("SCEPTRE_POLL_SECONDS")),
    ):
        _fresh_process_state()
        try:
            yield
        finally:
            # Sceptre's setup_logging and drift-check's logging.basicConfig add handlers bound
            # to the run's stderr on every run.
            for logger, handlers, level in saved_loggers:
                logger.handlers[:] = handlers
                logger.setLevel(level)
            _fresh_process_state()
            boto3.DEFAULT_SESSION = default_session


def sceptre_in_process(cwd: Path, env: Mapping[str, str], *args: str) -> Ran:
    """``sceptre ARGS`` run in cwd under exactly env, as the console script would run it, but
    in this process: a sceptre process spends about a second importing before it starts.

    Each run gets a fresh copy of Sceptre's per-process state (_fresh_process_state), its own
    stdout and stderr, and the exit code the process would have had. An exception Sceptre
    does not catch is printed to stderr as Python prints one ("Traceback (most recent call
    last): ...") with exit code 1, so tests that look for tracebacks still see them.
    Runs one at a time: it changes the process's environment, directory and streams.
    """
    from click.testing import CliRunner
    from sceptre.cli import cli

    runner = CliRunner()
    with _as_a_new_process(cwd, env):
        # Sceptre's own loggers only: a new sceptre process has no root handler either.
        logging.getLogger().handlers[:] = []
        result = runner.invoke(cli, list(args), prog_name="sceptre", catch_exceptions=True)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return Ran(result.exit_code, result.stdout, stderr)


def drift_check_in_process(cwd: Path, env: Mapping[str, str], *args: str) -> Ran:
    """``drift-check ARGS`` run in cwd under exactly env, as the console script would run it
    (drift/cli.py's main), but in this process, like sceptre_in_process: its output, and the
    exit code from main's return value or a SystemExit (argparse's usage errors exit 2).

    Its standard input is empty and no terminal, as under CI or a pipe (drift-check refuses
    to ask a question there). Runs one at a time, like sceptre_in_process.
    """
    from drift import cli

    return _captured(cwd, env, lambda: cli.main(list(args)))


def python_module_in_process(cwd: Path, env: Mapping[str, str], module: str, *args: str) -> Ran:
    """``python -m MODULE ARGS`` run in cwd under exactly env, as a new process would run it,
    but in this process (a new Python spends a second or more importing boto3 and the rest):
    a fresh ``__main__`` from the module's source, its output, and the exit code from its
    SystemExit (0 if it returns). For modules whose work is all in this process: what a
    subprocess of theirs prints goes to this process's streams, not to the result.
    Runs one at a time, like sceptre_in_process.
    """
    saved_argv = sys.argv
    try:
        return _captured(cwd, env, lambda: _run_as_main(module, args))
    finally:
        sys.argv = saved_argv


def _captured(cwd: Path, env: Mapping[str, str], main: Callable[[], int | None]) -> Ran:
    """main() run as a new process would run it, in cwd under exactly env, with empty
    standard input and no terminal: its output, and its exit code (its return value or
    SystemExit; an uncaught exception prints its traceback and exits 1)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    with (
        _as_a_new_process(cwd, env),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        # logging.basicConfig in a main() configures the root logger only when it has no
        # handler, as in a new process; pytest's capture handlers would stop it.
        logging.getLogger().handlers[:] = []
        sys.stdin = io.StringIO("")
        try:
            code = main() or 0
        except SystemExit as exit_:
            code = _exit_code(exit_.code, stderr)
        except Exception as error:  # noqa: BLE001 (what Python prints for an uncaught one)
            stderr.write("".join(traceback.format_exception(error)))
            code = 1
        finally:
            sys.stdin = saved_stdin
    return Ran(code, stdout.getvalue(), stderr.getvalue())


def _run_as_main(module: str, args: tuple[str, ...]) -> None:
    """The module's source run as ``python -m`` runs it: as __main__, in its package, with
    sys.argv [its file, *args]. Compiled here rather than by runpy: pytest's assertion
    rewriter is the loader of modules named like tests (scripts/smoke_test.py), and a new
    Python would not rewrite them either."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise ModuleNotFoundError(f"No module named {module} (or not a Python source file)")
    code = compile(Path(spec.origin).read_text(), spec.origin, "exec")
    sys.argv = [spec.origin, *args]
    exec(code, {"__name__": "__main__", "__file__": spec.origin, "__package__": spec.parent})


def _exit_code(code: object, stderr: io.StringIO) -> int:
    """The exit status of sys.exit(code): None is 0, an int itself, anything else is
    printed to stderr and exits 1 (as Python does)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    stderr.write(f"{code}\n")
    return 1


# The project's console scripts and how to run each in this process.
def python_in_process(cwd: Path, env: Mapping[str, str], *args: str) -> Ran:
    """``python -m MODULE ARGS`` in this process (python_module_in_process); -m only."""
    if len(args) < 2 or args[0] != "-m":
        raise ValueError(f"python {' '.join(args)}: only python -m MODULE runs in this process")
    return python_module_in_process(cwd, env, args[1], *args[2:])


IN_PROCESS = {
    "sceptre": sceptre_in_process,
    "drift-check": drift_check_in_process,
    "python": python_in_process,
}


def in_process(command: str, cwd: Path, env: Mapping[str, str], *args: str) -> Ran:
    """COMMAND ARGS (``sceptre``, ``drift-check`` or ``python -m``) run in this process: see
    sceptre_in_process, drift_check_in_process and python_module_in_process."""
    if command not in IN_PROCESS:
        raise ValueError(f"{command} has no in-process runner; known: {sorted(IN_PROCESS)}")
    return IN_PROCESS[command](cwd, env, *args)
