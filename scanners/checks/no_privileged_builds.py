"""PS_5: no CodeBuild project runs privileged unless a skip with its reason says why."""

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


class NoPrivilegedBuilds(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="CodeBuild projects are not privileged (skip only with a written reason)",
            id="CKV_PS_5",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_resources=("AWS::CodeBuild::Project",),
        )

    def scan_resource_conf(self, conf):
        environment = conf.get("Properties", {}).get("Environment", {})
        return CheckResult.FAILED if environment.get("PrivilegedMode") else CheckResult.PASSED


check = NoPrivilegedBuilds()
