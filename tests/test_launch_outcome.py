"""After-launch hooks honour the launch's outcome (hooks/outcome.py): a failed first create
is left deletable, and the summary says what failed instead of raising."""

import json
import logging
import uuid

import pytest

from emulator.process import ROOT, Emulator
from hooks.deployment_summary import DeploymentSummary
from hooks.protect import Protect
from tests.roles import Ran, quick, sceptre_in_process
from tests.test_hooks import make_stack


def sceptre(env: dict[str, str], *args: str) -> Ran:
    """sceptre ARGS under env, in this process (tests/roles.py sceptre_in_process: a new
    process spends a second importing; the same arguments, directory, output, exit code)."""
    return sceptre_in_process(ROOT, env, *args)


# A resource the emulator refuses as AWS does: a GitHub source reporting build status with
# no GitHub credentials stored in CodeBuild (emulator/tests/test_delivery.py).
FAILING = json.dumps(
    {
        "Resources": {
            "Project": {
                "Type": "AWS::CodeBuild::Project",
                "Properties": {
                    "ServiceRole": "arn:aws:iam::123456789012:role/none",
                    "Source": {
                        "Type": "GITHUB",
                        "Location": "https://github.com/my-org/repo.git",
                        "ReportBuildStatus": True,
                    },
                    "Artifacts": {"Type": "NO_ARTIFACTS"},
                    "Environment": {
                        "Type": "LINUX_CONTAINER",
                        "ComputeType": "BUILD_GENERAL1_SMALL",
                        "Image": "aws/codebuild/standard:7.0",
                    },
                },
            }
        }
    }
)


@pytest.fixture
def failed_create(aws):
    """A first create that failed and rolled back, as prod's on_failure: ROLLBACK leaves it."""
    name = f"failed-{uuid.uuid4().hex[:8]}"
    aws("cloudformation").create_stack(StackName=name, TemplateBody=FAILING, OnFailure="ROLLBACK")
    status = aws("cloudformation").describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    assert status == "ROLLBACK_COMPLETE"
    return name


def test_a_failed_first_create_is_not_protected_and_can_be_deleted(aws, failed_create, caplog):
    caplog.set_level(logging.WARNING, logger="sceptre.hooks.protect")
    options = {"termination_protection": True, "stack_policy": ""}
    Protect(argument=options, stack=make_stack(failed_create)).run()
    stack = aws("cloudformation").describe_stacks(StackName=failed_create)["Stacks"][0]
    assert stack["EnableTerminationProtection"] is False
    assert "not protected: the launch ended ROLLBACK_COMPLETE" in caplog.text
    # A stack in ROLLBACK_COMPLETE can only be deleted; the next launch does that, then
    # creates it again (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
    # troubleshooting.html).
    aws("cloudformation").delete_stack(StackName=failed_create)


def test_the_summary_of_a_failed_launch_names_the_first_failure(failed_create, capsys):
    DeploymentSummary(stack=make_stack(failed_create)).run()
    printed = capsys.readouterr().out
    assert f"Launch of dev/service failed: {failed_create} ended ROLLBACK_COMPLETE" in printed
    assert "first failure    Project (AWS::CodeBuild::Project): " in printed
    assert "No Access token found" in printed


def test_a_standing_stack_is_still_protected(aws):
    name = f"standing-{uuid.uuid4().hex[:8]}"
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    aws("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    options = {"termination_protection": True, "stack_policy": ""}
    Protect(argument=options, stack=make_stack(name)).run()
    stack = aws("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    assert stack["EnableTerminationProtection"] is True


def test_a_failed_prod_create_is_retried_by_launching_again(tmp_path):
    """End to end, as a user meets it: prod's first cluster create fails (the account lacks
    ECS's service-linked role; ECS creates it but cannot assume it yet, so the first attempt
    fails and a retry succeeds: emulator/service_linked_roles.py), prod's on_failure ROLLBACK
    leaves ROLLBACK_COMPLETE, and the same launch command deletes the failed stack and
    creates it again. CloudFormation allows only
    deletion of a stack in ROLLBACK_COMPLETE
    (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html), so the
    retry works only if the failed create was left unprotected."""
    command = ["--var", "image_tag=1.1.0", "launch", "-y", "prod/cluster.yaml"]
    with Emulator() as emulator:
        iam, cfn = emulator.client("iam"), emulator.client("cloudformation")
        iam.delete_service_linked_role(RoleName="AWSServiceRoleForECS")

        failed = sceptre(quick(emulator.child_env()), *command)
        assert failed.returncode != 0
        stack = cfn.describe_stacks(StackName="product-service-prod-cluster")["Stacks"][0]
        assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
        assert stack["EnableTerminationProtection"] is False
        printed = failed.stdout + failed.stderr
        assert "Unable to assume the service linked role" in printed  # the cause, shown

        retried = sceptre(quick(emulator.child_env()), *command)
        assert retried.returncode == 0, retried.stdout + retried.stderr
        stack = cfn.describe_stacks(StackName="product-service-prod-cluster")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert stack["EnableTerminationProtection"] is True  # protected once it stands
