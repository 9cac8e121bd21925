"""Let moto's CloudFormation create AWS::CodeBuild::Project, so the drift-monitor stack launches.

moto 5.2.5 has a CodeBuild backend but no CloudFormation model for it: it skips the
resource, and the stack fails on the first Fn::GetAtt of it (the schedule's target). This
module registers the missing model; it hands the declared properties to moto's CodeBuild
backend as CloudFormation hands them to CodeBuild. Builds never run on the emulator.
"""

from typing import Any

from moto.cloudformation import parsing
from moto.codebuild.models import codebuild_backends
from moto.core.common_models import CloudFormationModel
from moto.core.utils import pascal_to_camelcase, remap_nested_keys


def _camel(value: Any) -> Any:
    return remap_nested_keys(value, pascal_to_camelcase) if value is not None else None


class CodeBuildProject(CloudFormationModel):
    """An AWS::CodeBuild::Project as CloudFormation sees it: a name and an ARN."""

    # moto files models under the second part of their module name ("moto.<service>...").
    __module__ = "emulator.codebuild"

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodeBuild::Project"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.arn
        raise NotImplementedError(f"Fn::GetAtt {{0}}.{attribute_name}")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "CodeBuildProject":
        props = cloudformation_json.get("Properties", {})
        name = props.get("Name") or resource_name
        project = codebuild_backends[account_id][region_name].create_project(
            project_name=name,
            description=props.get("Description"),
            project_source=_camel(props.get("Source")),
            artifacts=_camel(props.get("Artifacts")),
            environment=_camel(props.get("Environment")),
            service_role=props.get("ServiceRole", ""),
            tags=_camel(props.get("Tags")),
            cache=_camel(props.get("Cache")),
            timeout=props.get("TimeoutInMinutes"),
            queued_timeout=props.get("QueuedTimeoutInMinutes"),
            source_version=props.get("SourceVersion"),
            logs_config=_camel(props.get("LogsConfig")),
            vpc_config=_camel(props.get("VpcConfig")),
        )
        return cls(name, project["arn"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: "CodeBuildProject",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "CodeBuildProject":
        codebuild_backends[account_id][region_name].delete_project(original_resource.name)
        name = cloudformation_json.get("Properties", {}).get("Name") or original_resource.name
        return cls.create_from_cloudformation_json(
            name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        codebuild_backends[account_id][region_name].delete_project(resource_name)


def install() -> None:
    """Make the model visible to moto's CloudFormation (it caches its model map)."""
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
