"""A user's mistake ends in one line saying what is wrong and where, never a traceback.

Config files that are not valid YAML or Jinja name the file, line and column of the source
the user edits; a stack whose dependency is not part of the command names the missing stack
output and the command that works. Each case runs the sceptre CLI on a copy of the project,
against an emulator of this module's own, and checks the emulator's state is unchanged. The
CLI runs in the test's process (tests/roles.py sceptre_in_process: same arguments, directory,
environment, output and exit code as the console script; an uncaught exception prints its
traceback, as the console script would).
"""

from pathlib import Path

import pytest

from emulator.process import Emulator
from tests.roles import Ran, quick, sceptre_in_process
from tests.templates import copy_project


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


def run(emulator: Emulator, project: Path, *args: str) -> Ran:
    return sceptre_in_process(project, quick(emulator.child_env()), *args)


def stacks(emulator: Emulator) -> list:
    summaries = emulator.client("cloudformation").list_stacks()["StackSummaries"]
    return sorted(
        (s["StackName"], s["StackStatus"], str(s.get("LastUpdatedTime"))) for s in summaries
    )


def replace_line(project: Path, file: str, starts: str, new: str) -> int:
    """Replace the first line starting with `starts`; return its 1-based number."""
    path = project / file
    lines = path.read_text().split("\n")
    number = next(n for n, line in enumerate(lines) if line.startswith(starts))
    lines[number] = new
    path.write_text("\n".join(lines))
    return number + 1


def refused_in_one_line(result: Ran, expected: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert expected in output
    assert "Traceback" not in output
    assert "<unicode string>" not in output


# A second ": " inside a plain scalar is the error YAML names "mapping values are not allowed
# here", reported at that colon (https://yaml.org/spec/1.2.2/#73-flow-scalar-styles: a plain
# scalar cannot contain ": "). Column: the colon's 1-based position in the edited line.
YAML_CASES = {
    "environment-config": ("config/dev/config.yaml", "  cpu: 256", "  cpu: 256: x", "  cpu: 256"),
    "shared-config": (
        "config/config.yaml",
        "region: ",
        "region: us-east-1: x",
        "region: us-east-1",
    ),
    # Lines above this one are removed by Jinja's {%- ... %}: the line is still the source's.
    "stack-file-after-jinja": (
        "config/dev/service.yaml",
        "  VpcId:",
        "  VpcId: a: b",
        "  VpcId: a",
    ),
}


@pytest.mark.parametrize("case", YAML_CASES.values(), ids=YAML_CASES.keys())
@pytest.mark.parametrize("command", [["launch", "-y", "dev"], ["generate", "dev/service.yaml"]])
def test_a_yaml_error_names_the_file_line_and_column(case, command, emulator, tmp_path):
    file, starts, broken, before_colon = case
    project = copy_project(tmp_path)
    line = replace_line(project, file, starts, broken)
    column = len(before_colon) + 1
    before = stacks(emulator)
    result = run(emulator, project, *command)
    refused_in_one_line(
        result, f"{file}:{line}:{column}: not valid YAML: mapping values are not allowed here"
    )
    assert stacks(emulator) == before


def test_a_jinja_error_names_the_file_and_line(emulator, tmp_path):
    project = copy_project(tmp_path)
    line = replace_line(project, "config/dev/config.yaml", "  cpu: 256", "  cpu: {{ nope }}")
    result = run(emulator, project, "launch", "-y", "dev")
    refused_in_one_line(result, f"config/dev/config.yaml:{line}: Jinja: 'nope' is undefined")


def test_a_missing_dependency_names_the_output_and_the_command_that_works(emulator, tmp_path):
    # prod has never been launched on this emulator: its cluster stack does not exist.
    project = copy_project(tmp_path)
    before = stacks(emulator)
    result = run(
        emulator,
        project,
        *["--var", "image_tag=1.1.0", "--ignore-dependencies", "launch", "-y", "prod/service.yaml"],
    )
    refused_in_one_line(
        result,
        "prod/service needs stack output prod/cluster.yaml::ClusterName, but stack "
        "product-service-prod-cluster does not exist. Launch it first: "
        "sceptre --var image_tag=1.1.0 launch -y prod/cluster.yaml "
        "(or the whole group: sceptre --var image_tag=1.1.0 launch -y prod)",
    )
    assert stacks(emulator) == before


def test_a_diff_without_placeholders_names_the_missing_dependency(emulator, tmp_path):
    project = copy_project(tmp_path)
    result = run(emulator, project, "--ignore-dependencies", "diff", "-n", "prod/service.yaml")
    refused_in_one_line(
        result, "prod/service needs stack output prod/cluster.yaml::ClusterName, but stack"
    )


def test_ignore_dependencies_reads_the_outputs_of_dependencies_that_exist(emulator, tmp_path):
    # Sceptre's own !stack_output fails here with StopIteration even though the stacks exist:
    # --ignore-dependencies empties the list it looks the dependency up in.
    project = copy_project(tmp_path)
    launched = run(emulator, project, "launch", "-y", "dev/load-balancer.yaml")
    assert launched.returncode == 0, launched.stderr
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in emulator.client("cloudformation").describe_stacks(
            StackName="product-service-dev-load-balancer"
        )["Stacks"][0]["Outputs"]
    }
    result = run(emulator, project, "--ignore-dependencies", "diff", "-n", "dev/service.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs["ListenerArn"] in result.stdout  # the parameter, as resolved
