"""PS_2: a task definition's execution role is not also its task role."""

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


class SeparateTaskRoles(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="ECS execution role and task role are different roles",
            id="CKV_PS_2",
            categories=(CheckCategories.IAM,),
            supported_resources=("AWS::ECS::TaskDefinition",),
        )

    def scan_resource_conf(self, conf):
        properties = conf.get("Properties", {})
        execution, task = properties.get("ExecutionRoleArn"), properties.get("TaskRoleArn")
        if execution is not None and execution == task:
            return CheckResult.FAILED
        return CheckResult.PASSED


check = SeparateTaskRoles()
