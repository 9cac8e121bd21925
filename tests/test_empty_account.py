"""The README's walk from an empty account to dev and prod running, through the pipelines.

The emulator starts empty (no registry, image, service-linked role, prod network or
certificate). Each command and configuration change of the README's walk (the blocks after
``<!-- walk: empty-account -->``) runs in README order in a checkout of the project, the
commands through Sceptre in this process. What only a person can do on AWS is played here:
confirming the Git connection (the emulator has none: nothing to do), pushing a commit (the
checkout becomes the source artifact), approving prod's release (nothing to do). The
pipelines' stages run from the pipelines as launched (tests/pipeline_stages.py), except the
SmokeTest stage: it calls the service over HTTP, which another test file covers and which
the emulator's tasks do not serve.
"""

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from emulator.process import ROOT, Emulator
from scripts.readme_samples import blocks, normalise
from tests import pipeline_stages
from tests.roles import quick, sceptre_in_process

README = (ROOT / "README.md").read_text()
PRINTS = re.compile(r"^<!-- walk: (?P<walk>[\w-]+) prints: (?P<command>.+) -->$")
REPOSITORY = "product-service"  # image_repository in config/config.yaml
COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # the commit the user pushes


@dataclass(frozen=True)
class Step:
    """One walk block: commands to run, a config change, or what a command prints."""

    kind: str  # "sh", "yaml" or "prints"
    line: int
    text: str
    command: str = ""


def walk_steps(readme: str = README, walk: str = "empty-account") -> list[Step]:
    """The blocks of the README's walk of that name, in README order."""
    steps = []
    for block in blocks(readme):
        if block.marker == f"<!-- walk: {walk} -->" and block.info in ("sh", "yaml"):
            steps.append(Step(block.info, block.line, block.text))
        elif (match := PRINTS.match(block.marker)) and match["walk"] == walk:
            steps.append(Step("prints", block.line, block.text, match["command"]))
    return steps


def merge(base: dict, change: dict) -> dict:
    """base with change's keys set, mappings merged key by key."""
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def apply_change(project: Path, step: Step) -> None:
    """A yaml walk block: its first line names the file (``# config/...``), the rest is what
    changes in it."""
    first, _, rest = step.text.partition("\n")
    path = project / first.removeprefix("#").strip()
    assert path.is_file(), f"README.md:{step.line}: no {path.relative_to(project)}"
    changed = merge(yaml.safe_load(path.read_text()), yaml.safe_load(rest))
    path.write_text(yaml.safe_dump(changed, width=1_000_000))  # no folded lines in Jinja


def run_steps(project: Path, env: dict[str, str], steps: list[Step]) -> dict[int, str]:
    """Each step in order: a config change applied, commands run through Sceptre in this
    process (each must exit 0, or 1 for a "prints" step). Returns what each block printed,
    by its README line."""
    outputs = {}
    for step in steps:
        if step.kind == "yaml":
            apply_change(project, step)
            continue
        commands = [step.command] if step.kind == "prints" else step.text.splitlines()
        printed = []
        for command in commands:
            words = command.split(" #")[0].split()
            assert words[0] == "sceptre", f"README.md:{step.line}: not a sceptre command"
            result = sceptre_in_process(project, env, *words[1:])
            printed.append(result.stdout + result.stderr)
            expected = 1 if step.kind == "prints" else 0
            assert result.returncode == expected, (
                f"README.md:{step.line}: {command} exited {result.returncode}:\n{printed[-1]}"
            )
        outputs[step.line] = "\n".join(printed)
    return outputs


@dataclass
class Walked:
    """What the walk saw and left."""

    empty_at_start: dict[str, list]
    steps: list[Step]
    outputs: dict[int, str]  # README line of a block -> what its commands printed
    stage_outputs: dict[str, str]  # "pipeline/stage" -> what its build printed
    release: dict[str, str]
    stages: dict[str, list[str]]  # pipeline -> stages played, in order
    seconds: float


def account_contents(emulator: Emulator) -> dict[str, list]:
    """What an account holds that the walk must bring itself."""
    ec2 = emulator.client("ec2")
    return {
        "repositories": emulator.client("ecr").describe_repositories()["repositories"],
        "service-linked roles": emulator.client("iam").list_roles(PathPrefix="/aws-service-role/")[
            "Roles"
        ],
        "certificates": emulator.client("acm").list_certificates(
            Includes={"keyTypes": ["RSA_2048", "EC_prime256v1", "EC_secp384r1"]}
        )["CertificateSummaryList"],
        "named VPCs": ec2.describe_vpcs(
            Filters=[{"Name": "tag:Name", "Values": ["product-service-prod"]}]
        )["Vpcs"],
        "stacks": emulator.client("cloudformation").describe_stacks()["Stacks"],
    }


@pytest.fixture(scope="module")
def emulator():
    with Emulator(seed=False) as running:  # a new account: nothing seeded
        yield running


def run_pipeline(
    emulator, name, work: Path, source: Path | None, printed: dict[str, str]
) -> tuple[Path, list[str]]:
    """Play the pipeline's stages in order; return its last artifact and the stages played.
    What each build stage printed goes into printed, by "pipeline/stage"."""
    artifact, played, variables = source, [], {"CommitId": COMMIT}
    tools = pipeline_stages.stand_ins(work / "tools")
    for stage in pipeline_stages.stages(emulator, name):
        if stage.name == "SmokeTest":
            continue  # an HTTP request to the service: see the module docstring
        if stage.provider == "CodeStarSourceConnection":
            assert artifact is not None  # the pushed commit
        elif stage.provider == "S3" and stage.configuration.get("S3ObjectKey"):
            artifact = pipeline_stages.fetch(emulator, stage, work / f"{name}-source")
        elif stage.provider == "Manual":
            pass  # a person approves in the console
        elif stage.provider == "CodeBuild":
            printed[f"{name}/{stage.name}"] = pipeline_stages.run_codebuild(
                emulator,
                stage.configuration["ProjectName"],
                artifact,
                pipeline_stages.action_variables(stage, variables),
                tools,
            ).text
        elif stage.provider == "S3":
            pipeline_stages.publish(emulator, stage, artifact)
        else:
            raise AssertionError(f"{name}: no way to play stage {stage.name} ({stage.provider})")
        played.append(stage.name)
    return artifact, played


@pytest.fixture(scope="module")
def walked(emulator, tmp_path_factory) -> Walked:
    """The whole walk, once: the README's steps, then the pushed commit through both
    pipelines."""
    started = time.monotonic()
    empty = account_contents(emulator)
    work = tmp_path_factory.mktemp("walk")
    project = pipeline_stages.checkout(work / "checkout")
    env = quick(emulator.child_env("IN_PIPELINE", "CLOUDFORMATION_ROLE_ARN"))
    steps = walk_steps()
    outputs = run_steps(project, env, steps)
    # The user commits the walk's changes and pushes: the checkout is the source artifact.
    printed: dict[str, str] = {}
    release_artifact, dev_stages = run_pipeline(
        emulator, "product-service-dev", work, project, printed
    )
    release = yaml.safe_load((release_artifact / "release.json").read_text())
    _, prod_stages = run_pipeline(emulator, "product-service-prod", work, None, printed)
    return Walked(
        empty,
        steps,
        outputs,
        printed,
        release,
        {"dev": dev_stages, "prod": prod_stages},
        time.monotonic() - started,
    )


def test_the_readme_has_the_walk():
    kinds = [s.kind for s in walk_steps()]
    assert kinds.count("sh") >= 3 and "yaml" in kinds and "prints" in kinds
    commands = [c for s in walk_steps() if s.kind == "sh" for c in s.text.splitlines()]
    assert commands[0] == "sceptre launch -y shared"
    assert "sceptre --ignore-dependencies launch -y dev/pipeline.yaml" in commands


def test_the_account_starts_empty(walked):
    assert walked.empty_at_start == {
        "repositories": [],
        "service-linked roles": [],
        "certificates": [],
        "named VPCs": [],
        "stacks": [],
    }


def test_shared_creates_the_registry_and_the_service_linked_roles(walked, emulator):
    iam = emulator.client("iam")
    # The names and path AWS gives them (docs.aws.amazon.com/AmazonECS/latest/developerguide/
    # using-service-linked-roles.html; docs.aws.amazon.com/elasticloadbalancing/latest/
    # userguide/elb-service-linked-roles.html).
    for name, service in (
        ("AWSServiceRoleForECS", "ecs.amazonaws.com"),
        ("AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com"),
    ):
        assert iam.get_role(RoleName=name)["Role"]["Path"] == f"/aws-service-role/{service}/"
    (repository,) = emulator.client("ecr").describe_repositories()["repositories"]
    assert repository["repositoryName"] == REPOSITORY


def test_dev_before_the_first_build_says_what_to_do(walked):
    (step,) = [s for s in walked.steps if s.kind == "prints"]
    printed = normalise(walked.outputs[step.line])
    assert normalise(step.text) in printed, f"README.md:{step.line} is not what it prints"
    assert "sceptre --ignore-dependencies launch -y dev/pipeline.yaml" in step.text


def test_the_pipelines_ran_every_stage_but_the_smoke_test(walked):
    assert walked.stages == {
        "dev": ["Source", "Build", "Deploy", "Promote"],
        "prod": ["Source", "Approve", "Deploy"],
    }


def test_the_first_build_pushed_the_first_image(walked, emulator):
    (image,) = emulator.client("ecr").describe_images(repositoryName=REPOSITORY)["imageDetails"]
    assert image["imageTags"] == [COMMIT]  # buildspecs/build.yml tags with the commit
    assert walked.release == {
        "image_tag": COMMIT,
        "image_digest": image["imageDigest"],
        "commit": COMMIT,
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_environment_runs_the_built_image(walked, emulator, env):
    ecs = emulator.client("ecs")
    service = pipeline_stages.stable_service(ecs, env)
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    image = definition["taskDefinition"]["containerDefinitions"][0]["image"]
    assert image.endswith(f"/{REPOSITORY}@{walked.release['image_digest']}")
    # The deploy step's own check (scripts/release.py verify) passed.
    deployed = walked.stage_outputs[f"product-service-{env}/Deploy"]
    assert f"{env} runs release {COMMIT}" in deployed
    # dev scales 1-2 and prod 2-10 (autoscaling.min in config/<env>/config.yaml).
    assert service["runningCount"] >= {"dev": 1, "prod": 2}[env]


def test_prod_runs_in_the_network_its_stack_created(walked, emulator):
    (vpc,) = emulator.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": ["product-service-prod"]}]
    )["Vpcs"]
    network = emulator.client("cloudformation").describe_stack_resources(
        StackName="product-service-prod-network"
    )["StackResources"]
    assert vpc["VpcId"] in {r.get("PhysicalResourceId") for r in network}


def test_the_walk_takes(walked):
    print(f"the empty-account walk took {walked.seconds:.1f} s")  # reported, not asserted
