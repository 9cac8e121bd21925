"""The README's walk with an account per environment: a tools account and two others.

The emulator starts empty with three accounts: moto's default account (the `testing` keys)
is the tools account, which launches `shared`; dev's and prod's are AWS Organizations member
accounts, whose OrganizationAccountAccessRole each environment's ``sceptre_role`` names
(emulator.seed.member_account). Each command and configuration change of the README's walk
(the blocks after ``<!-- walk: multi-account -->``) runs in README order in a checkout, as in
tests/test_empty_account.py; the pipelines' stages are then played in their own accounts
(tests/pipeline_stages.InAccount), each action signed as its own role, so the emulator judges
every cross-account push, pull and read by the tools account's resource policies
(emulator/cross_account.py). The smoke test stage is skipped, as in the single-account walk.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError

from emulator import seed
from emulator.process import Emulator
from scripts.readme_samples import normalise
from tests import pipeline_stages
from tests.pipeline_stages import InAccount
from tests.roles import drift_check_in_process, quick
from tests.test_empty_account import COMMIT, REPOSITORY, run_pipeline, run_steps, walk_steps

TOOLS, DEV, PROD = "123456789012", "111111111111", "222222222222"
REGION = "us-east-1"
REGISTRY_STACK = "product-service-shared-registry"


@dataclass
class Walked:
    """What the walk saw and left."""

    outputs: dict[int, str]
    stage_outputs: dict[str, str]
    release: dict[str, str]
    stages: dict[str, list[str]]
    accounts: dict[str, InAccount]
    project: Path
    env: dict[str, str]
    seconds: float


@pytest.fixture(scope="module")
def emulator():
    with Emulator(seed=False) as running:  # new accounts: nothing seeded
        yield running


@pytest.fixture(scope="module")
def walked(emulator, tmp_path_factory) -> Walked:
    """The whole walk, once: the README's steps, then a pushed commit through both pipelines,
    each in its own account."""
    started = time.monotonic()
    roles = {
        name: seed.member_account(emulator.url, REGION, account, management_account=TOOLS)
        for name, account in (("dev", DEV), ("prod", PROD))
    }
    work = tmp_path_factory.mktemp("walk")
    project = pipeline_stages.checkout(work / "checkout")
    env = quick(emulator.child_env("IN_PIPELINE", "CLOUDFORMATION_ROLE_ARN"))
    outputs = run_steps(project, env, walk_steps(walk="multi-account"))
    accounts = {name: InAccount(emulator, role) for name, role in roles.items()}
    printed: dict[str, str] = {}
    release_artifact, dev_stages = run_pipeline(
        accounts["dev"], "product-service-dev", work, project, printed
    )
    release = yaml.safe_load((release_artifact / "release.json").read_text())
    _, prod_stages = run_pipeline(accounts["prod"], "product-service-prod", work, None, printed)
    return Walked(
        outputs,
        printed,
        release,
        {"dev": dev_stages, "prod": prod_stages},
        accounts,
        project,
        env,
        time.monotonic() - started,
    )


def registry_outputs(emulator: Emulator) -> dict[str, str]:
    (stack,) = emulator.client("cloudformation").describe_stacks(StackName=REGISTRY_STACK)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def test_the_readme_has_the_walk():
    steps = walk_steps(walk="multi-account")
    changed = {s.text.splitlines()[0] for s in steps if s.kind == "yaml"}
    assert {"# config/config.yaml", "# config/dev/config.yaml", "# config/prod/config.yaml"} <= (
        changed
    )
    commands = [c for s in steps if s.kind == "sh" for c in s.text.splitlines()]
    assert commands[0] == "sceptre launch -y shared"
    assert "sceptre --ignore-dependencies launch -y dev/pipeline.yaml" in commands
    assert "sceptre --ignore-dependencies launch -y prod/pipeline.yaml" in commands


def test_a_launch_with_the_tools_accounts_credentials_is_refused(walked):
    (step,) = [s for s in walk_steps(walk="multi-account") if s.kind == "prints"]
    assert normalise(step.text) in normalise(walked.outputs[step.line]), (
        f"README.md:{step.line} is not what it prints"
    )
    assert f"dev belongs to account {DEV}" in step.text


def test_the_pipelines_ran_every_stage_but_the_smoke_test(walked):
    assert walked.stages == {
        "dev": ["Source", "Build", "Deploy", "Promote"],
        "prod": ["Source", "Approve", "Deploy"],
    }


def test_each_account_holds_only_its_own_stacks(walked, emulator):
    def stacks(client) -> set[str]:
        return {s["StackName"] for s in client("cloudformation").describe_stacks()["Stacks"]}

    assert stacks(emulator.client) == {REGISTRY_STACK}
    for env, account in walked.accounts.items():
        assert stacks(account.client) == {
            f"product-service-{env}-{name}"
            for name in ("pipeline", "cluster", "load-balancer", "service")
            + (("network",) if env == "prod" else ())
        }


def test_the_image_is_in_the_tools_account_only(walked, emulator):
    (image,) = emulator.client("ecr").describe_images(repositoryName=REPOSITORY)["imageDetails"]
    assert image["imageTags"] == [COMMIT]
    assert walked.release["image_digest"] == image["imageDigest"]
    for account in walked.accounts.values():
        assert account.client("ecr").describe_repositories()["repositories"] == []


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_environment_runs_the_tools_accounts_image(walked, env):
    ecs = walked.accounts[env].client("ecs")
    service = pipeline_stages.stable_service(ecs, env)
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    image = definition["taskDefinition"]["containerDefinitions"][0]["image"]
    # An ECR image URI names the registry's account: ACCOUNT.dkr.ecr.REGION.amazonaws.com
    # (docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html).
    registry = f"{TOOLS}.dkr.ecr.{REGION}.amazonaws.com"
    assert image == f"{registry}/{REPOSITORY}@{walked.release['image_digest']}"
    # Its tasks started: the execution role in this account pulled from the tools account.
    assert service["runningCount"] >= {"dev": 1, "prod": 2}[env]
    assert f"{env} runs release {COMMIT}" in walked.stage_outputs[f"product-service-{env}/Deploy"]


def test_the_release_is_encrypted_with_the_tools_accounts_own_key(walked, emulator):
    outputs = registry_outputs(emulator)
    s3 = emulator.client("s3")
    bucket = outputs["ReleaseBucket"]
    assert bucket == f"product-service-releases-{TOOLS}-{REGION}"
    head = s3.head_object(Bucket=bucket, Key=f"{REPOSITORY}/release.zip")
    # A customer managed key, not aws/s3: another account's use needs the key policy to admit
    # it (docs.aws.amazon.com/kms/latest/developerguide/
    # key-policy-modifying-external-accounts.html), and an AWS managed key's policy cannot be
    # changed (docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-cmk).
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == outputs["ReleaseKeyArn"]
    assert outputs["ReleaseKeyArn"].startswith(f"arn:aws:kms:{REGION}:{TOOLS}:key/")


def test_without_the_repository_policy_prod_cannot_pull(walked, emulator):
    """A policy missing: the tools account's repository policy without prod's statement
    (as if prod's account were left out of PullAccountIds). prod's next task cannot pull."""
    ecr = emulator.client("ecr")
    policy = json.loads(ecr.get_repository_policy(repositoryName=REPOSITORY)["policyText"])
    kept = [s for s in policy["Statement"] if PROD not in str(s.get("Principal"))]
    assert len(kept) < len(policy["Statement"]), "prod is not named in the repository policy"
    try:
        ecr.set_repository_policy(
            repositoryName=REPOSITORY, policyText=json.dumps({**policy, "Statement": kept})
        )
        ecs = walked.accounts["prod"].client("ecs")
        cluster = "product-service-prod"
        (arn,) = ecs.list_services(cluster=cluster)["serviceArns"]
        ecs.update_service(cluster=cluster, service=arn, forceNewDeployment=True)
        reasons = stopped_reasons(ecs, cluster)
        # The reason ECS gives a task whose image it may not pull
        # (docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html).
        assert any("CannotPullContainerError" in r for r in reasons), reasons
    finally:
        ecr.set_repository_policy(repositoryName=REPOSITORY, policyText=json.dumps(policy))


def test_without_the_bucket_policy_prod_cannot_read_the_release(walked, emulator):
    s3 = emulator.client("s3")
    bucket = registry_outputs(emulator)["ReleaseBucket"]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    kept = [s for s in policy["Statement"] if PROD not in str(s.get("Principal"))]
    assert len(kept) < len(policy["Statement"]), "prod is not named in the bucket policy"
    prod = walked.accounts["prod"]
    (source,) = [
        s for s in pipeline_stages.stages(prod, "product-service-prod") if s.provider == "S3"
    ]
    try:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({**policy, "Statement": kept}))
        with pytest.raises(ClientError) as denied:
            pipeline_stages.fetch(prod, source, Path("/nonexistent"))
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def stopped_reasons(ecs, cluster: str, seconds: float = 20) -> list[str]:
    """The stopped reasons of the cluster's tasks, once one has stopped (or after seconds)."""
    deadline = time.monotonic() + seconds
    while True:
        arns = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
        reasons = [t.get("stoppedReason", "") for t in tasks]
        if reasons or time.monotonic() > deadline:
            return reasons
        time.sleep(0.2)


def test_drift_check_reaches_each_environment_in_its_own_account(walked):
    """drift-check builds each environment's stacks as Sceptre does, so each group's own
    sceptre_role applies: one command finds every launched stack of both, in its account.
    (The drift monitors were not launched: MISSING. prod's network stack is left out: the
    emulator reads its subnet route table associations as deleted, emulator/tests/
    test_drift.py's expected failure.)"""
    result = drift_check_in_process(walked.project, walked.env, "dev", "prod")
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines() if line}
    for env in ("dev", "prod"):
        for stack in ("pipeline", "cluster", "load-balancer", "service"):
            assert rows.get(f"{env}/{stack}") == "IN_SYNC", result.stdout + result.stderr


def test_the_walk_takes(walked):
    print(f"the multi-account walk took {walked.seconds:.1f} s")  # reported, not asserted
