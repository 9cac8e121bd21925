"""PS_3: no IAM policy a template declares allows an action with a wildcard."""

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


def _documents(conf):
    properties = conf.get("Properties", {})
    if conf.get("Type") == "AWS::IAM::Role":
        return [p.get("PolicyDocument", {}) for p in properties.get("Policies", [])]
    return [properties.get("PolicyDocument", {})]


class NoWildcardActions(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="IAM policies allow no action with a wildcard ('*', 's3:*', 'ecs:Describe*')",
            id="CKV_PS_3",
            categories=(CheckCategories.IAM,),
            supported_resources=("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"),
        )

    def scan_resource_conf(self, conf):
        for document in _documents(conf):
            for statement in document.get("Statement", []):
                actions = statement.get("Action", [])
                actions = actions if isinstance(actions, list) else [actions]
                if statement.get("Effect") == "Allow" and any("*" in str(a) for a in actions):
                    return CheckResult.FAILED
        return CheckResult.PASSED


check = NoWildcardActions()
