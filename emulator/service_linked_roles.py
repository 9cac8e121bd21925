"""Service-linked roles as IAM and ECS treat them on a new account.

moto 5.2.5 creates clusters with capacity providers whether or not the account has the ECS
service-linked role, and CreateServiceLinkedRole of a role that exists answers moto's
"Role with name ... already exists." This module makes both answer as AWS does:

- roles are named as AWS names them (AWSServiceRoleForECS, not moto's AWSServiceRoleForecs);
- CreateServiceLinkedRole of an existing role: InvalidInput "Service role name NAME has been
  taken in this account, please try a different suffix." (seen in IAM's answers quoted in
  hashicorp/terraform-provider-aws users' reports, e.g. Rayraegah/terraform-aws-hasura#17);
- CreateCluster with capacity providers on an account without `AWSServiceRoleForECS`: ECS
  creates the role, then fails to assume it before IAM has propagated it, so the first
  attempt fails with InvalidParameterException "Unable to assume the service linked role.
  Please verify that the ECS service linked role exists." and a retry succeeds
  (aws-cloudformation/cloudformation-coverage-roadmap#818; the role is documented at
  docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html).
  Through CloudFormation the cluster resource then fails with that message.
"""

import re
from typing import Any

from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend
from moto.iam import models as iam_models
from moto.iam.exceptions import EntityAlreadyExists, InvalidInput
from moto.iam.models import IAMBackend, iam_backends

ECS_SERVICE = "ecs.amazonaws.com"
ECS_ROLE = "AWSServiceRoleForECS"

# moto names a service-linked role AWSServiceRoleFor + the principal's first label, unless
# this table says otherwise ("AWSServiceRoleForecs"); AWS's names, from each service's guide.
ROLE_NAME_PARTS = {"ecs": "ECS", "elasticloadbalancing": "ElasticLoadBalancing"}


def _has_role(account_id: str, name: str) -> bool:
    return any(role.name == name for role in iam_backends[account_id]["global"].get_roles())


def install() -> None:
    """Patch IAM's CreateServiceLinkedRole and ECS's CreateCluster. Idempotent."""
    create_role = IAMBackend.create_service_linked_role
    if getattr(create_role, "_answers_as_aws", False):
        return
    iam_models.SERVICE_NAME_CONVERSION.update(ROLE_NAME_PARTS)

    def create_service_linked_role(self, service_name: str, description: str, suffix: str):
        try:
            return create_role(self, service_name, description, suffix)
        except EntityAlreadyExists as error:  # "Role with name NAME already exists."
            name = re.search(r"Role with name (\S+) already exists", error.message).group(1)
            raise InvalidInput(
                f"Service role name {name} has been taken in this account, please try a "
                "different suffix."
            ) from None

    create_service_linked_role._answers_as_aws = True
    IAMBackend.create_service_linked_role = create_service_linked_role

    create_cluster = EC2ContainerServiceBackend.create_cluster

    def create_cluster_needing_its_role(self, cluster_name: str, *args: Any, **kwargs: Any):
        providers = kwargs.get("capacity_providers") or (args[3] if len(args) > 3 else None)
        if providers and not _has_role(self.account_id, ECS_ROLE):
            iam_backends[self.account_id]["global"].create_service_linked_role(ECS_SERVICE, "", "")
            raise InvalidParameterException(
                "Unable to assume the service linked role. Please verify that the ECS service "
                "linked role exists."
            )
        return create_cluster(self, cluster_name, *args, **kwargs)

    EC2ContainerServiceBackend.create_cluster = create_cluster_needing_its_role
