"""The pipelines' deploy step under its own role, with IAM enforced by the emulator.

As an operator would on a new account, the pipeline stacks are launched by hand (each with
its environment's cluster). Then each deploy step runs exactly its buildspec's commands as
CodeBuild runs them, signed as the environment's deploy role, with IN_PIPELINE=true: the
workload stacks are created and updated by CloudFormation acting as the environment's
service role, whose every resource handler permission the emulator checks.
"""

import shutil

import pytest

from emulator.process import ROOT, Emulator
from emulator.seed import IMAGE_TAGS
from tests import pipeline_stages
from tests.roles import assume, quick, sceptre_in_process, stack_outputs

OLD, NEW = IMAGE_TAGS  # pushed in that order by the seed


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:  # creates whole environments: an emulator of its own
        yield running


@pytest.fixture(scope="module")
def pipelines(emulator):
    """Both pipelines launched by hand (an operator's credentials), as the README says (in this
    process, status polls of 0.25 s: how the launch waits is not what this module tests)."""
    for env in ("dev", "prod"):
        result = sceptre_in_process(
            ROOT,
            quick(emulator.child_env()),
            "--var",
            f"image_tag={OLD}",
            "launch",
            "-y",
            f"{env}/pipeline.yaml",
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return {
        env: stack_outputs(emulator, f"product-service-{env}-pipeline") for env in ("dev", "prod")
    }


def checkout(tmp_path, emulator, tag: str):
    """The pipeline's input artifact: the project at a commit plus release.json for tag."""
    work = tmp_path / "checkout"
    for folder in ("config", "templates", "policies", "scripts", "hooks", "resolvers"):
        shutil.copytree(ROOT / folder, work / folder)
    digest = emulator.client("ecr").describe_images(
        repositoryName="product-service", imageIds=[{"imageTag": tag}]
    )["imageDetails"][0]["imageDigest"]
    (work / "release.json").write_text(
        f'{{"image_tag": "{tag}", "image_digest": "{digest}", "commit": "c0ffee"}}'
    )
    return work, digest


def deploy(emulator, pipelines, tmp_path, role_env: str, env: str, tag: str):
    """Run buildspecs/deploy.yml's build phase as role_env's deploy role, deploying env
    (its sceptre and python3 -m commands in this process: tests/pipeline_stages.py)."""
    outputs = pipelines[role_env]
    signed = assume(emulator, outputs["DeployRoleArn"], "codebuild-deploy")
    # What templates/pipeline.yaml.j2 gives the Deploy project.
    signed |= {"ENVIRONMENT": env, "CLOUDFORMATION_ROLE_ARN": outputs["CloudFormationRoleArn"]}
    work, digest = checkout(tmp_path, emulator, tag)
    return pipeline_stages.run_build_phase_in_process("deploy", signed, cwd=work), digest


def running_image(emulator, env: str) -> str:
    ecs = emulator.client("ecs")
    cluster = f"product-service-{env}"
    (arn,) = ecs.list_services(cluster=cluster)["serviceArns"]
    service = ecs.describe_services(cluster=cluster, services=[arn])["services"][0]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    return task["taskDefinition"]["containerDefinitions"][0]["image"]


def test_dev_deploy_step_creates_the_workload_as_its_service_role(emulator, pipelines, tmp_path):
    result, digest = deploy(emulator, pipelines, tmp_path, "dev", "dev", OLD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"dev runs release {OLD}" in result.stdout
    assert running_image(emulator, "dev").endswith(digest)
    # CloudFormation keeps the service role a stack was last launched with
    # (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
    cloudformation = emulator.client("cloudformation")
    for stack in ("load-balancer", "service"):
        found = cloudformation.describe_stacks(StackName=f"product-service-dev-{stack}")["Stacks"][
            0
        ]
        assert found["RoleARN"] == pipelines["dev"]["CloudFormationRoleArn"]


def test_an_image_change_replaces_the_task_definition_under_the_role(emulator, pipelines, tmp_path):
    # A new image replaces the task definition; registering it with tags needs ecs:TagResource
    # on the task definition (the AWS::ECS::TaskDefinition create handler's permissions).
    result, digest = deploy(emulator, pipelines, tmp_path, "dev", "dev", NEW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert running_image(emulator, "dev").endswith(digest)


def test_prod_deploy_step_creates_and_protects_prod_as_its_own_roles(emulator, pipelines, tmp_path):
    result, digest = deploy(emulator, pipelines, tmp_path, "prod", "prod", OLD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert running_image(emulator, "prod").endswith(digest)
    # !protect ran under the deploy role: termination protection and the stack policy.
    cloudformation = emulator.client("cloudformation")
    for stack in ("cluster", "load-balancer", "service"):
        name = f"product-service-prod-{stack}"
        assert cloudformation.describe_stacks(StackName=name)["Stacks"][0][
            "EnableTerminationProtection"
        ]
        assert "StackPolicyBody" in cloudformation.get_stack_policy(StackName=name)


def test_a_deploy_role_cannot_deploy_the_other_environment(emulator, pipelines, tmp_path):
    cloudformation = emulator.client("cloudformation")
    before = cloudformation.describe_stacks(StackName="product-service-prod-service")["Stacks"][0]
    result, _ = deploy(emulator, pipelines, tmp_path, "dev", "prod", NEW)
    assert result.returncode != 0
    # AWS's denial names the caller, the action and the resource
    # (docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
    assert "assumed-role/" in result.stdout + result.stderr
    assert "is not authorized to perform" in result.stdout + result.stderr
    after = cloudformation.describe_stacks(StackName="product-service-prod-service")["Stacks"][0]
    assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime")
