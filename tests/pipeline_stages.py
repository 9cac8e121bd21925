"""The pipelines' stages, run as CodePipeline would run them, on the emulator.

The emulator creates pipelines and build projects (emulator/delivery.py) but runs neither.
These helpers play each stage from what the launched pipeline declares (its stages read back
with GetPipeline, each build project's buildspec, variables and role with
BatchGetProjects), as a mock for what no emulator offers:

- a CodeBuild action runs its buildspec's commands in bash in a copy of its input artifact,
  signed as the project's service role (so the emulator enforces that role's policies), with
  the project's and the action's environment variables; ``sceptre`` lines run in this
  process (tests/roles.sceptre_in_process), which is much faster than a new process;
- `docker` and `aws` are the stand-ins of tests/codebuild_tools.py (no Docker engine here);
- an S3 deploy action puts its input artifact, zipped, at its bucket and key, and an S3
  source action reads it back, as CodePipeline does: signed as the pipeline's service role
  (so the bucket's policy and key decide when the bucket is another account's).

With an account per environment, ``InAccount`` is the emulator seen from one account (its
clients and child environments signed as a role there): every helper here takes either.
"""

import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulator.process import ROOT, Emulator
from tests import roles
from tests.roles import assume, python_module_in_process, sceptre_in_process

# CODE_ZIP source artifacts hold the repository's files, not what is ignored or generated.
SKIPPED = {".git", ".venv", ".venv-emulator", ".venv-tools", ".venv-scanners", "node_modules"}


@dataclass
class Stage:
    """One stage's one action, as GetPipeline declares it."""

    name: str
    provider: str
    configuration: dict[str, Any]
    role_arn: str = ""  # the pipeline's service role, which CodePipeline's own actions use


@dataclass
class Ran:
    """What a stage printed, command by command."""

    output: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Everything the stage printed."""
        return "\n".join(self.output)


class StageFailed(AssertionError):
    """A command of a stage exited non-zero; the message holds what it printed."""


def stages(emulator: Emulator, pipeline: str) -> list[Stage]:
    """The pipeline's stages in order, each with its one action's provider and configuration."""
    declared = emulator.client("codepipeline").get_pipeline(name=pipeline)["pipeline"]
    found = []
    for stage in declared["stages"]:
        (action,) = stage["actions"]
        provider, configuration = action["actionTypeId"]["provider"], action["configuration"]
        found.append(Stage(stage["name"], provider, configuration, declared["roleArn"]))
    return found


class InAccount:
    """The emulator seen from one account: clients and child environments signed as a role
    of that account (what a person's credentials for that account would be)."""

    def __init__(self, emulator: Emulator, role_arn: str) -> None:
        self.emulator, self.role_arn = emulator, role_arn
        self.credentials = assume(emulator, role_arn, "in-account")

    @property
    def url(self) -> str:
        """The emulator's endpoint URL."""
        return self.emulator.url

    def child_env(self, *unset: str) -> dict[str, str]:
        """The emulator's child environment, signed as the role."""
        keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        return {**self.emulator.child_env(*unset), **{k: self.credentials[k] for k in keys}}

    def client(self, service: str) -> Any:
        """A boto3 client of the emulator, signed as the role."""
        return _client(self.emulator, service, self.credentials)


def _client(emulator: "Emulator | InAccount", service: str, env: dict[str, str]) -> Any:
    import boto3

    return boto3.client(
        service,
        region_name=env.get("AWS_DEFAULT_REGION", "us-east-1"),
        endpoint_url=emulator.url,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
    )


def as_pipeline(emulator: "Emulator | InAccount", stage: Stage, service: str) -> Any:
    """A client signed as the pipeline's service role, as CodePipeline signs its own actions."""
    return _client(emulator, service, assume(emulator, stage.role_arn, "codepipeline"))


def checkout(destination: Path, files: Iterable[str] | None = None) -> Path:
    """The repository's tracked files as they are in the working tree, copied to destination
    (a CodeStar connection's CODE_ZIP artifact of the commit a user pushed)."""
    if files is None:
        listed = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        files = listed.stdout.split()
    for name in files:
        if set(Path(name).parts) & SKIPPED or not (ROOT / name).is_file():
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return destination


def stand_ins(folder: Path) -> Path:
    """A folder of `docker` and `aws` commands that run tests/codebuild_tools.py."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in ("docker", "aws"):
        shim = folder / tool
        shim.write_text(
            f'#!/bin/sh\ncd {ROOT} && exec {sys.executable} -m tests.codebuild_tools {tool} "$@"\n'
        )
        shim.chmod(0o755)
    return folder


def _project(emulator: Emulator, name: str) -> dict[str, Any]:
    (project,) = emulator.client("codebuild").batch_get_projects(names=[name])["projects"]
    return project


def _expand(text: str, env: dict[str, str]) -> str:
    """$NAME and ${NAME} replaced as bash replaces them (unset: empty)."""
    return re.sub(r"\$\{?([A-Za-z_]\w*)\}?", lambda m: env.get(m[1], ""), text)


ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=\$\((.*)\)$")
# `python3 -m MODULE ARGS` with nothing for a shell to interpret (no redirection, pipe or
# substitution): run in this process, as `sceptre` is.
PYTHON_MODULE = re.compile(r"^python3? -m ([\w.]+)((?: [^|&;<>()`]*)?)$")
PLAIN_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=(\"?)(\$\w+|\w*)\2$")


def _bash(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _python_module(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """A `python3 -m MODULE ARGS` command in this process (a new Python spends a second or more
    importing; tests/roles.python_module_in_process), under exactly env, in cwd; else in bash."""
    match = PYTHON_MODULE.match(command)
    if not match:
        return _bash(command, env, cwd)
    argv = [match[1], *shlex.split(_expand(match[2], env))]
    ran = python_module_in_process(cwd, env, *argv)
    return subprocess.CompletedProcess(argv, ran.returncode, ran.stdout, ran.stderr)


def run_commands(commands: list[str], env: dict[str, str], cwd: Path) -> Ran:
    """A buildspec phase's commands, one at a time, as CodeBuild's bash runs them: `NAME=$(...)`
    and `NAME=$OTHER` set a variable for the commands after it, `sceptre ...` and plain
    `python3 -m ...` run in this process, anything else in bash. Raises StageFailed at the
    first command that fails."""
    env, ran = dict(env), Ran()
    for command in commands:
        if match := ASSIGNMENT.match(command):
            result = _python_module(match[2], env, cwd)
            env[match[1]] = result.stdout.strip()
            outputs = (result.stderr,)
            code = result.returncode
        elif match := PLAIN_ASSIGNMENT.match(command):
            env[match[1]] = _expand(match[3], env)
            outputs, code = (), 0
        elif command.startswith("sceptre "):
            words = shlex.split(_expand(command, env))[1:]
            result = sceptre_in_process(cwd, env, *words)
            outputs, code = (result.stdout, result.stderr), result.returncode
        else:
            result = _python_module(command, env, cwd)
            outputs, code = (result.stdout, result.stderr), result.returncode
        ran.output += [f"$ {command}", *(o for o in outputs if o)]
        if code != 0:
            raise StageFailed(f"{command!r} exited {code}:\n{ran.text}")
    return ran


def run_build_phase_in_process(name: str, env: dict[str, str], cwd: Path) -> roles.Ran:
    """The build phase of buildspecs/NAME.yml as CodeBuild runs it (run_commands), with the
    buildspec's variables over env: its output and 0, or 1 at the first command that fails.
    Its sceptre and python3 -m commands run in this process; tests/roles.run_build_phase runs
    the phase in bash instead, for a deploy environment of its own."""
    spec = roles.buildspec(name)
    env = env | roles.buildspec_variables(spec)
    try:
        return roles.Ran(0, run_commands(spec["phases"]["build"]["commands"], env, cwd).text, "")
    except StageFailed as failed:
        return roles.Ran(1, str(failed), "")


def run_codebuild(
    emulator: Emulator,
    project_name: str,
    source: Path,
    variables: dict[str, str] | None = None,
    tools: Path | None = None,
) -> Ran:
    """The project's buildspec (its install phase aside: the packages are this venv's) in the
    source folder, signed as the project's role, with the project's variables, the
    buildspec's own, and those the pipeline's action passes."""
    project = _project(emulator, project_name)
    spec = yaml.safe_load((source / project["source"]["buildspec"]).read_text())
    env = assume(emulator, project["serviceRole"], f"codebuild-{project_name}")
    if tools:
        env["PATH"] = f"{tools}:{env['PATH']}"
    env["CODEBUILD_TOOLS_LOG"] = str(source.parent / f"{project_name}.tools.log")
    # Set in every build, as PROJECT:BUILD-UUID (docs.aws.amazon.com/codebuild/latest/
    # userguide/build-env-ref-env-vars.html).
    env["CODEBUILD_BUILD_ID"] = f"{project_name}:{uuid.uuid4()}"
    env |= {v["name"]: v["value"] for v in project["environment"].get("environmentVariables", [])}
    env |= roles.buildspec_variables(spec)
    env |= variables or {}
    commands = [
        command
        for phase in ("pre_build", "build")
        for command in spec["phases"].get(phase, {}).get("commands", [])
    ]
    return run_commands(commands, env, source)


def action_variables(stage: Stage, source_variables: dict[str, str]) -> dict[str, str]:
    """The CodeBuild action's EnvironmentVariables, #{Namespace.Name} resolved."""
    declared = json.loads(stage.configuration.get("EnvironmentVariables", "[]"))
    return {
        v["name"]: re.sub(r"#\{[\w]+\.(\w+)\}", lambda m: source_variables[m[1]], v["value"])
        for v in declared
    }


def publish(emulator: Emulator, stage: Stage, artifact: Path) -> tuple[str, str]:
    """An S3 deploy action with Extract false: the artifact, zipped, put at BucketName and
    ObjectKey (docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3Deploy.html).
    Returns (bucket, key)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(artifact.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(artifact).as_posix())
    bucket, key = stage.configuration["BucketName"], stage.configuration["ObjectKey"]
    as_pipeline(emulator, stage, "s3").put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    return bucket, key


def fetch(emulator: Emulator, stage: Stage, destination: Path) -> Path:
    """An S3 source action: the object at S3Bucket and S3ObjectKey, unzipped, as the stage's
    output artifact (docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html)."""
    configuration = stage.configuration
    found = as_pipeline(emulator, stage, "s3").get_object(
        Bucket=configuration["S3Bucket"], Key=configuration["S3ObjectKey"]
    )
    with zipfile.ZipFile(io.BytesIO(found["Body"].read())) as archive:
        archive.extractall(destination)
    for script in destination.rglob("*.sh"):
        script.chmod(0o755)  # zip as written above keeps no modes
    return destination


def stable_service(ecs: Any, env: str) -> dict[str, Any]:
    """The environment's ECS service once it is stable, as a user waits for it after a deploy
    step (aws ecs wait services-stable:
    docs.aws.amazon.com/cli/latest/reference/ecs/wait/services-stable.html). Registering the
    scalable target raises the desired count to autoscaling's minimum, and CloudFormation
    does not wait for the tasks that starts, so a read straight after the deploy step can see
    them still PENDING."""
    cluster = f"product-service-{env}"
    (arn,) = ecs.list_services(cluster=cluster)["serviceArns"]
    ecs.get_waiter("services_stable").wait(
        cluster=cluster, services=[arn], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    (service,) = ecs.describe_services(cluster=cluster, services=[arn])["services"]
    return service
