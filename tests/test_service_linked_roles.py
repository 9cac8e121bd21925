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
