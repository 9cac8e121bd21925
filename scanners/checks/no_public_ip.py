"""PS_1: a Fargate service's tasks get no public IP address."""

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


class NoPublicIp(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="ECS service tasks get no public IP (skip only with a written reason)",
            id="CKV_PS_1",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("AWS::ECS::Service",),
        )

    def scan_resource_conf(self, conf):
        network = conf.get("Properties", {}).get("NetworkConfiguration", {})
        assign = network.get("AwsvpcConfiguration", {}).get("AssignPublicIp", "DISABLED")
        return CheckResult.FAILED if assign == "ENABLED" else CheckResult.PASSED


check = NoPublicIp()
