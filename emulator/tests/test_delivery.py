"""emulator/delivery.py: pipeline resource types created through moto's own APIs."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError


def role(service: str) -> dict:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        },
    }


def template(name: str) -> str:
    project = {
        "Type": "AWS::CodeBuild::Project",
        "Properties": {
            "Name": f"{name}-deploy",
            "ServiceRole": {"Fn::GetAtt": ["BuildRole", "Arn"]},
            "Source": {"Type": "CODEPIPELINE", "BuildSpec": "buildspecs/deploy.yml"},
            "Artifacts": {"Type": "CODEPIPELINE"},
            "Environment": {
                "Type": "LINUX_CONTAINER",
                "ComputeType": "BUILD_GENERAL1_SMALL",
                "Image": "aws/codebuild/standard:7.0",
                "EnvironmentVariables": [{"Name": "ENVIRONMENT", "Value": "dev"}],
            },
        },
    }
    pipeline = {
        "Type": "AWS::CodePipeline::Pipeline",
        "Properties": {
            "Name": name,
            "RoleArn": {"Fn::GetAtt": ["PipelineRole", "Arn"]},
            "ArtifactStore": {"Type": "S3", "Location": "artifacts"},
            "Stages": [
                {
                    "Name": "Source",
                    "Actions": [
                        {
                            "Name": "Git",
                            "ActionTypeId": {
                                "Category": "Source",
                                "Owner": "AWS",
                                "Provider": "CodeStarSourceConnection",
                                "Version": "1",
                            },
                            "Configuration": {
                                "ConnectionArn": {"Ref": "Connection"},
                                "FullRepositoryId": "my-org/product-service",
                                "BranchName": "main",
                            },
                            "OutputArtifacts": [{"Name": "Source"}],
                        }
                    ],
                },
                {
                    "Name": "Deploy",
                    "Actions": [
                        {
                            "Name": "SceptreLaunch",
                            "ActionTypeId": {
                                "Category": "Build",
                                "Owner": "AWS",
                                "Provider": "CodeBuild",
                                "Version": "1",
                            },
                            "Configuration": {"ProjectName": {"Ref": "Project"}},
                            "InputArtifacts": [{"Name": "Source"}],
                        }
                    ],
                },
            ],
        },
    }
    return json.dumps(
        {
            "Resources": {
                "PipelineRole": role("codepipeline.amazonaws.com"),
                "BuildRole": role("codebuild.amazonaws.com"),
                "Connection": {
                    "Type": "AWS::CodeStarConnections::Connection",
                    "Properties": {"ConnectionName": name, "ProviderType": "GitHub"},
                },
                "Project": project,
                "Pipeline": pipeline,
            },
            "Outputs": {
                "ProjectArn": {"Value": {"Fn::GetAtt": ["Project", "Arn"]}},
                "Connection": {"Value": {"Ref": "Connection"}},
            },
        }
    )


@pytest.fixture
def stack(aws):
    name = f"delivery-{uuid.uuid4().hex[:8]}"
    aws("cloudformation").create_stack(StackName=name, TemplateBody=template(name))
    return name


def test_get_pipeline_shows_the_declared_stages_and_configuration(aws, stack):
    pipeline = aws("codepipeline").get_pipeline(name=stack)["pipeline"]
    assert [s["name"] for s in pipeline["stages"]] == ["Source", "Deploy"]
    source = pipeline["stages"][0]["actions"][0]
    # Action configuration keys stay as CloudFormation and the API both spell them.
    assert source["configuration"]["BranchName"] == "main"
    assert source["configuration"]["ConnectionArn"].startswith("arn:aws:codestar-connections:")
    deploy = pipeline["stages"][1]["actions"][0]
    assert deploy["configuration"]["ProjectName"] == f"{stack}-deploy"


def test_build_project_exists_with_its_environment(aws, stack):
    (project,) = aws("codebuild").batch_get_projects(names=[f"{stack}-deploy"])["projects"]
    assert project["environment"]["image"] == "aws/codebuild/standard:7.0"
    assert project["source"]["buildspec"] == "buildspecs/deploy.yml"
    outputs = aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    assert {o["OutputKey"]: o["OutputValue"] for o in outputs}["ProjectArn"] == project["arn"]


def test_stack_delete_removes_pipeline_and_project(aws, stack):
    aws("cloudformation").delete_stack(StackName=stack)
    with pytest.raises(ClientError, match="PipelineNotFound"):
        aws("codepipeline").get_pipeline(name=stack)
    assert f"{stack}-deploy" not in aws("codebuild").list_projects()["projects"]


def github_project(report_build_status: bool) -> str:
    return json.dumps(
        {
            "Resources": {
                "BuildRole": role("codebuild.amazonaws.com"),
                "Project": {
                    "Type": "AWS::CodeBuild::Project",
                    "Properties": {
                        "ServiceRole": {"Fn::GetAtt": ["BuildRole", "Arn"]},
                        "Source": {
                            "Type": "GITHUB",
                            "Location": "https://github.com/my-org/product-service-infra.git",
                            "ReportBuildStatus": report_build_status,
                        },
                        "Artifacts": {"Type": "NO_ARTIFACTS"},
                        "Environment": {
                            "Type": "LINUX_CONTAINER",
                            "ComputeType": "BUILD_GENERAL1_SMALL",
                            "Image": "aws/codebuild/standard:7.0",
                        },
                    },
                },
            }
        }
    )


def test_a_github_project_reporting_build_status_needs_stored_credentials(aws):
    # Reporting status to GitHub needs credentials stored in CodeBuild; without them
    # CreateProject answers InvalidInputException "No Access token found, please visit AWS
    # CodeBuild console to connect to GitHub" (CodeBuild's answer quoted in aws/aws-cdk#1844).
    cloudformation = aws("cloudformation")
    name = f"github-{uuid.uuid4().hex[:8]}"
    cloudformation.create_stack(StackName=name, TemplateBody=github_project(True))
    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and failed[-1]["LogicalResourceId"] == "Project"
    assert "No Access token found" in failed[-1]["ResourceStatusReason"]


def test_a_github_project_that_does_not_report_status_needs_none(aws):
    name = f"github-{uuid.uuid4().hex[:8]}"
    aws("cloudformation").create_stack(StackName=name, TemplateBody=github_project(False))
    stack = aws("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
