"""emulator/service_linked_roles.py: a new account's ECS service-linked role, as AWS has it."""

import pytest
from botocore.exceptions import ClientError

from emulator.process import Emulator


@pytest.fixture(scope="module")
def fresh():
    with Emulator(seed=False) as running:  # a new account: no service-linked role yet
        yield running


def test_the_first_cluster_with_capacity_providers_fails_then_a_retry_succeeds(fresh):
    # ECS creates AWSServiceRoleForECS during the first CreateCluster but cannot assume it
    # yet: "Unable to assume the service linked role. Please verify that the ECS service
    # linked role exists." (aws-cloudformation/cloudformation-coverage-roadmap#818); the
    # retry succeeds.
    ecs = fresh.client("ecs")
    with pytest.raises(ClientError) as refused:
        ecs.create_cluster(clusterName="first", capacityProviders=["FARGATE"])
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert refused.value.response["Error"]["Message"] == (
        "Unable to assume the service linked role. Please verify that the ECS service linked "
        "role exists."
    )
    assert fresh.client("iam").get_role(RoleName="AWSServiceRoleForECS")
    cluster = ecs.create_cluster(clusterName="first", capacityProviders=["FARGATE"])["cluster"]
    assert cluster["capacityProviders"] == ["FARGATE"]


def test_creating_a_service_linked_role_twice_is_refused_as_iam_refuses_it(fresh):
    iam = fresh.client("iam")
    iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")
    with pytest.raises(ClientError) as refused:
        iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")
    # IAM's answer, as quoted in users' reports (e.g. Rayraegah/terraform-aws-hasura#17).
    assert refused.value.response["Error"]["Code"] == "InvalidInput"
    assert refused.value.response["Error"]["Message"] == (
        "Service role name AWSServiceRoleForElasticLoadBalancing has been taken in this "
        "account, please try a different suffix."
    )
