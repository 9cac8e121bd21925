"""!service_linked_roles: `sceptre launch shared` prepares a new account for ECS."""

import pytest

from emulator.process import ROOT, Emulator
from tests.roles import quick, sceptre_in_process


@pytest.fixture(scope="module")
def fresh():
    with Emulator(seed=False) as running:  # a new account: no registry, no roles
        yield running


def launch_shared(emulator):
    """sceptre launch -y shared, in this process (tests/roles.py sceptre_in_process: a new
    process spends a second importing), with short status polls."""
    return sceptre_in_process(ROOT, quick(emulator.child_env()), "launch", "-y", "shared")


def test_launching_shared_creates_the_ecs_service_linked_role(fresh):
    result = launch_shared(fresh)
    assert result.returncode == 0, result.stdout + result.stderr
    role = fresh.client("iam").get_role(RoleName="AWSServiceRoleForECS")["Role"]
    # Service-linked roles live under this path (docs.aws.amazon.com/IAM/latest/UserGuide/
    # using-service-linked-roles.html).
    assert role["Path"] == "/aws-service-role/ecs.amazonaws.com/"
    # So the first cluster with capacity providers is created at the first attempt.
    fresh.client("ecs").create_cluster(clusterName="first", capacityProviders=["FARGATE"])


def test_a_second_launch_finds_the_role_and_goes_on(fresh):
    result = launch_shared(fresh)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "service-linked role for ecs.amazonaws.com: present" in result.stderr


@pytest.fixture(scope="module")
def environment_account():
    with Emulator(seed=False) as running:  # an environment's own account: nothing in it yet
        yield running


def test_an_environments_first_stack_creates_its_service_linked_roles(environment_account):
    """With an account per environment, `launch shared` runs in the tools account only: the
    pipeline, the first stack launched in dev's or prod's account, creates ECS's and ELB's."""
    result = sceptre_in_process(
        ROOT,
        quick(environment_account.child_env()),
        "--ignore-dependencies", "launch", "-y", "dev/pipeline.yaml",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    iam = environment_account.client("iam")
    # Their names and paths (docs.aws.amazon.com/AmazonECS/latest/developerguide/
    # using-service-linked-roles.html; docs.aws.amazon.com/elasticloadbalancing/latest/
    # userguide/elb-service-linked-roles.html).
    for name, service in (
        ("AWSServiceRoleForECS", "ecs.amazonaws.com"),
        ("AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com"),
    ):
        assert iam.get_role(RoleName=name)["Role"]["Path"] == f"/aws-service-role/{service}/"
