"""CloudFormation support, in the emulator, for the delivery pipeline's resource types.

moto 5.2.5's CloudFormation skips AWS::CodePipeline::Pipeline, AWS::CodeBuild::Project and
AWS::CodeStarConnections::Connection, though its CodePipeline and CodeBuild APIs exist. This
module adds three CloudFormation models (moto finds models as subclasses of its
CloudFormationModel) that create the pipeline and projects through those APIs, so that
`aws codepipeline get-pipeline` shows the stages a template declares. Nothing in moto is
replaced. Nothing runs: pipelines do not execute and builds do not build. moto has no
CodeStar Connections API: a connection's properties are kept here (``connection_state``),
which is what drift detection reads for it (emulator/drift_readers.py).

A project whose GitHub source reports build status needs GitHub credentials stored in
CodeBuild (ImportSourceCredentials, or the console's OAuth connection); without them AWS
refuses CreateProject with InvalidInputException "No Access token found, please visit AWS
CodeBuild console to connect to GitHub" (quoted from CodeBuild's answer in aws/aws-cdk#1844
and hashicorp/terraform-provider-aws#10701; ReportBuildStatus:
docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectSource.html). The emulator
account never has such credentials (moto has no ImportSourceCredentials), so it refuses them.
"""

import uuid
from typing import Any

from moto.cloudformation import parsing
from moto.codebuild.exceptions import InvalidInputException
from moto.codebuild.models import codebuild_backends
from moto.codepipeline.models import codepipeline_backends
from moto.core.common_models import CloudFormationModel
from moto.core.utils import pascal_to_camelcase

# Keys whose values are free-form maps the API keeps exactly as given.
_VERBATIM = {"Configuration"}
# Keys the API does not spell as plain camelCase.
_RENAMED = {"BuildSpec": "buildspec"}


def api_shape(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the API's camelCase, except inside action configs."""
    if isinstance(value, list):
        return [api_shape(item) for item in value]
    if isinstance(value, dict):
        return {
            _RENAMED.get(key, pascal_to_camelcase(key)): item
            if key in _VERBATIM
            else api_shape(item)
            for key, item in value.items()
        }
    return value


class _Resource:
    """A resource whose state lives in a moto backend; this object carries its ids.

    A mixin: moto lists CloudFormation models as *direct* subclasses of CloudFormationModel.
    """

    _attributes: tuple[str, ...] = ()

    def __init__(self, physical_id: str, **attributes: str) -> None:
        self._physical_id = physical_id
        self.attributes = attributes

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls._attributes

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        return True

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        cls.delete_from_cloudformation_json(
            original_resource.physical_resource_id, cloudformation_json, account_id, region_name
        )
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )


class Pipeline(_Resource, CloudFormationModel):
    """AWS::CodePipeline::Pipeline through moto's CodePipeline backend."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodePipeline::Pipeline"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        name = props.get("Name") or resource_name
        pipeline = {
            "name": name,
            "roleArn": props["RoleArn"],
            "artifactStore": api_shape(props["ArtifactStore"]),
            "stages": api_shape(props["Stages"]),
            "pipelineType": props.get("PipelineType", "V1"),
            "executionMode": props.get("ExecutionMode", "SUPERSEDED"),
        }
        codepipeline_backends[account_id][region_name].create_pipeline(pipeline, tags=None)
        return cls(name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        backend = codepipeline_backends[account_id][region_name]
        if resource_name in backend.pipelines:
            backend.delete_pipeline(resource_name)


class BuildProject(_Resource, CloudFormationModel):
    """AWS::CodeBuild::Project through moto's CodeBuild backend."""

    _attributes = ("Arn",)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodeBuild::Project"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        name = props.get("Name") or resource_name
        source = props["Source"]
        if (
            source.get("Type") == "GITHUB"
            and str(source.get("ReportBuildStatus")).lower() == "true"
        ):
            raise InvalidInputException(
                "No Access token found, please visit AWS CodeBuild console to connect to GitHub"
            )
        project = codebuild_backends[account_id][region_name].create_project(
            project_name=name,
            description=props.get("Description"),
            project_source=api_shape(props["Source"]),
            artifacts=api_shape(props["Artifacts"]),
            environment=api_shape(props["Environment"]),
            service_role=props["ServiceRole"],
            tags=api_shape(props.get("Tags")),
            cache=api_shape(props.get("Cache")),
            timeout=props.get("TimeoutInMinutes"),
            queued_timeout=props.get("QueuedTimeoutInMinutes"),
            source_version=props.get("SourceVersion"),
            logs_config=api_shape(props.get("LogsConfig")),
            vpc_config=api_shape(props.get("VpcConfig")),
        )
        return cls(name, Arn=project["arn"])

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        backend = codebuild_backends[account_id][region_name]
        if resource_name in backend.codebuild_projects:
            backend.delete_project(resource_name)


class GitConnection(_Resource, CloudFormationModel):
    """AWS::CodeStarConnections::Connection: an id only, PENDING as AWS creates it."""

    _attributes = ("ConnectionArn", "ConnectionStatus")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "ConnectionName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodeStarConnections::Connection"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json.get("Properties", {})
        arn = f"arn:aws:codestar-connections:{region_name}:{account_id}:connection/{uuid.uuid4()}"
        _CONNECTIONS[arn] = {
            "ConnectionName": props.get("ConnectionName") or resource_name,
            "ProviderType": props.get("ProviderType"),
            "HostArn": props.get("HostArn"),
        }
        return cls(arn, ConnectionArn=arn, ConnectionStatus="PENDING")

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        _CONNECTIONS.pop(resource_name, None)


# Connections by ARN: moto has no CodeStar Connections API, so this record is their state.
_CONNECTIONS: dict[str, dict[str, Any]] = {}


def connection_state(arn: str) -> dict[str, Any] | None:
    """A connection's properties as GetConnection would give them, or None once deleted."""
    found = _CONNECTIONS.get(arn)
    return dict(found) if found is not None else None


def install() -> None:
    """Make moto's CloudFormation see the models above (its model map is cached)."""
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    types = parsing.get_model_map()
    for model in (Pipeline, BuildProject, GitConnection):
        assert types[model.cloudformation_type()] is model, model
