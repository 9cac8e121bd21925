"""A bad configuration is refused on every command path that renders or changes a stack.

Each case runs the sceptre CLI, as a user would, on a copy of the project whose dev
configuration asks for cpu 300, a size Fargate does not offer: its task CPU values are 256,
512, 1024, 2048, 4096, 8192 and 16384 units
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
Every path must exit non-zero with the configuration's message, print no traceback, and
leave the emulator as it was; run against an endpoint where nothing answers, it must give
the same message, which proves the refusal comes before any AWS call. The CLI runs in the
test's process (tests/roles.py sceptre_in_process: same arguments, directory, environment,
output and exit code as the console script; an uncaught exception prints its traceback).
"""

from pathlib import Path

import pytest
import yaml
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

from emulator.process import Emulator, free_port
from hooks.validate_config import InvalidConfigError
from resolvers.checked_config import CheckedConfig
from tests.roles import Ran, quick, sceptre_in_process
from tests.templates import ROOT, copy_project

CPU_300 = "config/dev/config.yaml: sceptre_user_data.cpu = 300; allowed: one of 256, 512"

PATHS = {
    "launch-group": ["launch", "-y", "dev"],
    "launch-one-stack": ["launch", "-y", "dev/service.yaml"],
    "launch-ignore-dependencies": ["--ignore-dependencies", "launch", "-y", "dev/service.yaml"],
    "create-one-stack": ["create", "-y", "dev/service.yaml"],
    "create-group-ignore-dependencies": ["--ignore-dependencies", "create", "-y", "dev"],
    "update-existing-stack": ["update", "-y", "dev/cluster.yaml"],
    "update-group": ["update", "-y", "dev"],
    "create-change-set": ["create", "-y", "dev/cluster.yaml", "bad-change"],
    "diff-one-stack": ["diff", "dev/service.yaml"],
    "diff-group-ignore-dependencies": ["--ignore-dependencies", "diff", "dev"],
    "generate": ["generate", "dev/load-balancer.yaml"],
    "dump-template": ["--output", "json", "dump", "template", "--to-file", "dev/pipeline.yaml"],
    "validate": ["validate", "dev/cluster.yaml"],
}


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


def run(emulator: Emulator, project: Path, *args: str, **env: str) -> Ran:
    return sceptre_in_process(project, {**quick(emulator.child_env()), **env}, *args)


def edit(project: Path, file: str, change) -> None:
    path = project / file
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config))


@pytest.fixture(scope="module")
def bad_project(emulator, tmp_path_factory) -> Path:
    """A copy whose dev asks for cpu 300, once dev's cluster stands (so update has a target)."""
    project = copy_project(tmp_path_factory.mktemp("bad"))
    launched = run(emulator, project, "launch", "-y", "dev/cluster.yaml")
    assert launched.returncode == 0, launched.stderr
    edit(project, "config/dev/config.yaml", lambda c: c["sceptre_user_data"].update(cpu=300))
    return project


def snapshot(emulator: Emulator) -> dict:
    cfn, ecs = emulator.client("cloudformation"), emulator.client("ecs")
    return {
        "stacks": sorted(
            (s["StackName"], s["StackStatus"], str(s.get("LastUpdatedTime")))
            for s in cfn.list_stacks()["StackSummaries"]
        ),
        "change_sets": sorted(
            c["ChangeSetName"]
            for s in cfn.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
            for c in cfn.list_change_sets(StackName=s["StackName"])["Summaries"]
        ),
        "task_definitions": sorted(ecs.list_task_definitions()["taskDefinitionArns"]),
        "clusters": sorted(ecs.list_clusters()["clusterArns"]),
    }


@pytest.mark.parametrize("args", PATHS.values(), ids=PATHS.keys())
def test_a_bad_configuration_is_refused_and_changes_nothing(args, emulator, bad_project):
    before = snapshot(emulator)
    result = run(emulator, bad_project, *args)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert CPU_300 in output
    assert "Traceback" not in output
    assert snapshot(emulator) == before


@pytest.mark.parametrize("args", PATHS.values(), ids=PATHS.keys())
def test_the_refusal_comes_before_any_aws_call(args, emulator, bad_project):
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing answers here
    result = run(emulator, bad_project, *args, AWS_ENDPOINT_URL=nowhere)
    assert result.returncode != 0
    assert CPU_300 in result.stdout + result.stderr
    assert "Could not connect" not in result.stdout + result.stderr


def test_commands_that_only_read_are_not_refused(emulator, bad_project):
    status = run(emulator, bad_project, "status", "dev/cluster.yaml")
    assert status.returncode == 0, status.stderr
    assert "CREATE_COMPLETE" in status.stdout
    outputs = run(emulator, bad_project, "list", "outputs", "dev/cluster.yaml")
    assert outputs.returncode == 0, outputs.stderr
    assert "ClusterName" in outputs.stdout


def test_each_environment_answers_for_its_own_configuration(emulator, bad_project):
    # dev's cpu 300 does not stop prod, whose configuration is sound.
    result = run(emulator, bad_project, "generate", "prod/cluster.yaml")
    assert result.returncode == 0, result.stderr


def test_every_problem_is_listed_at_once(emulator, tmp_path):
    project = copy_project(tmp_path)
    edit(
        project,
        "config/dev/config.yaml",
        lambda c: c["sceptre_user_data"].update(
            cpu=300, autoscaling={"min": 3, "max": 2, "cpu_target": 70, "requests_per_target": 0}
        ),
    )
    result = run(emulator, project, "generate", "dev/service.yaml")
    assert result.returncode != 0
    assert "2 problem(s) in the dev configuration" in result.stderr
    assert "autoscaling.min = 3; allowed: at most autoscaling.max (2)" in result.stderr


def test_the_account_stack_group_is_checked_too(emulator, tmp_path):
    project = copy_project(tmp_path)
    edit(project, "config/shared/config.yaml", lambda c: c.update(environment="prod"))
    before = snapshot(emulator)
    result = run(emulator, project, "launch", "-y", "shared")
    assert result.returncode != 0
    assert "config/shared/config.yaml: environment = 'prod'; allowed: the folder's name" in (
        result.stdout + result.stderr
    )
    assert snapshot(emulator) == before


def test_sceptre_used_as_a_library_is_refused_too(tmp_path):
    project = copy_project(tmp_path)
    edit(project, "config/dev/config.yaml", lambda c: c["sceptre_user_data"].update(cpu=300))
    with pytest.raises(InvalidConfigError, match="sceptre_user_data.cpu = 300"):
        SceptrePlan(SceptreContext(project_path=str(project), command_path="dev/service.yaml"))


def test_every_stack_file_carries_the_check_and_its_value_passes_through():
    for group in ("dev", "prod", "shared"):
        plan = SceptrePlan(SceptreContext(project_path=str(ROOT), command_path=group))
        for stack in plan.graph:
            assert isinstance(stack._cloudformation_service_role, CheckedConfig), stack.name
            # config/config.yaml: empty unless CLOUDFORMATION_ROLE_ARN is set
            assert stack.cloudformation_service_role in ("", None) or (
                stack.cloudformation_service_role.startswith("arn:aws:iam::")
            )
