"""``!service_linked_roles``: create the service-linked roles the environments need, once.

    hooks:
      before_launch:
        - !service_linked_roles [ecs.amazonaws.com]

A new account has no ECS service-linked role. ECS creates it during the first CreateCluster
and then assumes it at once, before IAM has propagated it, so a first cluster with capacity
providers fails with "Unable to assume the service linked role" and only a retry succeeds
(aws-cloudformation/cloudformation-coverage-roadmap#818). Creating the role beforehand, from
the account-level `shared` launch, means the first environment launch finds it ready
(docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html).
"""

import logging

from botocore.exceptions import ClientError
from sceptre.exceptions import InvalidHookArgumentTypeError
from sceptre.hooks import Hook

from resolvers import stack_call

logger = logging.getLogger(f"sceptre.{__name__}")


class ServiceLinkedRoles(Hook):
    """Creates each named service's service-linked role unless the account has it already."""

    def run(self) -> None:
        services = self.argument
        if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
            raise InvalidHookArgumentTypeError(
                "!service_linked_roles takes a list of service principals, e.g. [ecs.amazonaws.com]"
            )
        call = stack_call(self)
        for service in services:
            try:
                role = call("iam", "create_service_linked_role", {"AWSServiceName": service})
            except ClientError as error:
                # IAM answers InvalidInput "... has been taken in this account" when it exists
                # (docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html).
                message = error.response["Error"].get("Message", "")
                if "has been taken" not in message:
                    raise
                logger.info("%s - service-linked role for %s: present", self.stack.name, service)
            else:
                name = role["Role"]["RoleName"]
                logger.info(
                    "%s - service-linked role for %s: created %s", self.stack.name, service, name
                )
