"""The AWS-native drift schedule of one environment, in CDK (sceptre-cdk-handler, bootstrapless).

An EventBridge rule starts a CodeBuild project on the environment's schedule; the project
checks out this repository and runs the same command a person runs, ``drift-check ENV``,
which publishes to the stack's SNS topic when the environment drifted or could not be
checked. The project's role may run drift detection on this environment's stacks only,
plus the read calls detection makes on the resource types the stacks deploy.

With ``auto_revert`` (config/<env>/config.yaml) the runner runs ``drift-check ENV --revert
--yes`` instead: it puts drifted workload stacks back with drift-aware change sets and still
alerts the topic with what it found and did. Its role then gains the change-set actions on
the workload stacks only (a revert of the pipeline or of this monitor, which would let the
runner rewrite its own rights, is denied), and the rights of the update itself: with a
CloudFormation service role (``service_role``) CloudFormation acts with that role, so the
runner needs only iam:PassRole of it; without one CloudFormation acts with the runner's own
rights, so it gets the service role's generated policies (``deploy_policies``).

The read rights are generated (``python -m permissions.generate``) from the CloudFormation
registry's read handler permissions of every resource type in the environment's stacks and
arrive as ``runner_policies`` (policies/generated/<env>-drift-runner.json): managed policies
attached to the runner's role.

sceptre_user_data (see config/<env>/drift-monitor.yaml):
    environment     the StackGroup to check, e.g. dev
    stack_prefix    CloudFormation name prefix of its stacks, e.g. product-service-dev-
    schedule        an EventBridge schedule expression, e.g. cron(0 5 * * ? *)
    source          {owner, repo, branch}: the GitHub repository CodeBuild checks out
    runner_policies {policies: [policy documents]}, generated
    auto_revert     true: revert drift of the workload stacks; false: report only
    workload_stacks the stacks a revert may change, e.g. [cluster, load-balancer, service]
    service_role    the CloudFormation service role's ARN, or "" for none
    deploy_policies {policies: [...]}, generated: what the update needs without a service role
"""

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct
from sceptre_cdk_handler import SceptreCdkStack


def arn(service: str, resource: str, regional: bool = True) -> str:
    """An ARN in this stack's partition, account and (unless global) region, as Fn::Sub."""
    region = "${AWS::Region}" if regional else ""
    return cdk.Fn.sub(f"arn:${{AWS::Partition}}:{service}:{region}:${{AWS::AccountId}}:{resource}")


def statements(
    prefix: str, project_name: str, topic_arn: str
) -> list[tuple[str, list[str], list[str]]]:
    """(sid, actions, resources) the runner needs beside the generated read rights: drift
    detection on the stacks named prefix*, and the runner's own log group."""
    build_logs = f"log-group:/aws/codebuild/{project_name}"
    return [
        (
            "DetectDriftOnThisEnvironmentsStacks",
            [
                "cloudformation:DetectStackDrift",
                "cloudformation:DescribeStackResourceDrifts",
                "cloudformation:DescribeStacks",
            ],
            [arn("cloudformation", f"stack/{prefix}*/*")],
        ),
        # The IAM reference gives this action no resource type: it takes a detection id.
        ("ReadDetectionStatus", ["cloudformation:DescribeStackDriftDetectionStatus"], ["*"]),
        (
            "WriteOwnBuildLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [arn("logs", build_logs), arn("logs", f"{build_logs}:*")],
        ),
    ]


def revert_statements(
    prefix: str, workload_stacks: list[str], service_role: str
) -> list[tuple[str, list[str], list[str]]]:
    """(sid, actions, resources) a runner that reverts drift needs beside detection: drift-aware
    change sets on the workload stacks (create, read, execute, delete; the stack's events to
    say why an update failed), and with a service role, passing it to CloudFormation."""
    found = [
        (
            "RevertDriftOfTheWorkloadStacks",
            [
                "cloudformation:CreateChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStackEvents",
                "cloudformation:ExecuteChangeSet",
            ],
            [arn("cloudformation", f"stack/{prefix}{name}/*") for name in workload_stacks],
        )
    ]
    if service_role:
        found.append(("PassTheCloudFormationServiceRole", ["iam:PassRole"], [service_role]))
    return found


# iam:PassRole of the service role only to CloudFormation (docs.aws.amazon.com/IAM/latest/
# UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService).
PASS_TO_CLOUDFORMATION = {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}


def generated_policy(statements_: list[dict[str, Any]]) -> iam.PolicyDocument:
    """A policy document of statements from permissions.generate: ``${AWS::...}`` ARNs as
    Fn::Sub, so they name this stack's partition, region and account."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                actions=s["Action"],
                resources=[cdk.Fn.sub(r) if "${" in r else r for r in s["Resource"]],
                conditions=s.get("Condition"),
            )
            for s in statements_
        ]
    )


def buildspec(environment: str, auto_revert: bool = False) -> dict[str, Any]:
    """What CodeBuild runs: the project's own set-up, then drift-check for one environment
    (with auto_revert: putting the drift back, without asking: nobody is there to answer)."""
    revert = " --revert --yes" if auto_revert else ""
    return {
        "version": "0.2",
        "phases": {
            "install": {
                "runtime-versions": {"python": "3.11"},
                "commands": ["make .venv/.installed"],
            },
            # Exit 1 (drift, or drift left after a revert) or 2 (not checked, or a revert
            # failed) fails the build; drift-check has published the report to
            # DRIFT_TOPIC_ARN by then.
            "build": {
                "commands": [f".venv/bin/drift-check {environment}{revert} --markdown report.md"]
            },
        },
    }


class DriftMonitor(SceptreCdkStack):
    """Schedule, runner, least-privilege role and alert topic of one environment."""

    def __init__(self, scope: Construct, id: str, sceptre_user_data: Any, **kwargs: Any) -> None:
        super().__init__(scope, id, sceptre_user_data, **kwargs)
        user = sceptre_user_data
        environment, prefix = user["environment"], user["stack_prefix"]

        topic = sns.Topic(self, "Alerts", display_name=f"Drift alerts: {environment}")
        # Encrypted at rest with the AWS managed key, which publishers in this account may use.
        topic.node.default_child.add_property_override("KmsMasterKeyId", "alias/aws/sns")

        project_name = f"{prefix}drift-check"
        auto_revert = bool(user.get("auto_revert", False))
        service_role = user.get("service_role", "")
        role = iam.Role(
            self,
            "RunnerRole",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"drift-check of the {environment} stacks"
            + (": reverts drift of the workload stacks" if auto_revert else ": read-only"),
        )
        granted = statements(prefix, project_name, topic.topic_arn)
        if auto_revert:
            granted += revert_statements(prefix, user["workload_stacks"], service_role)
        for sid, actions, resources in granted:
            conditions = PASS_TO_CLOUDFORMATION if actions == ["iam:PassRole"] else None
            role.add_to_policy(
                iam.PolicyStatement(
                    sid=sid, actions=actions, resources=resources, conditions=conditions
                )
            )
        topic.grant_publish(role)
        self._attach(
            role,
            "GeneratedReadRights",
            f"Generated: what drift detection reads in {environment}",
            user["runner_policies"],
        )
        if auto_revert and not service_role:
            # CloudFormation updates the stacks with the caller's rights: the runner's.
            self._attach(
                role,
                "GeneratedRevertRights",
                f"Generated: what reverting drift updates in {environment}",
                user["deploy_policies"],
            )

        source = user["source"]
        project = codebuild.Project(
            self,
            "Runner",
            project_name=project_name,
            description=f"Runs drift-check {environment} on a schedule",
            # Only the statements above: CDK would add report-group rights nobody uses.
            role=role.without_policy_updates(),
            source=codebuild.Source.git_hub(
                owner=source["owner"],
                repo=source["repo"],
                branch_or_ref=source["branch"],
                # Reporting build status to GitHub needs stored GitHub credentials, without
                # which CreateProject fails; drift-check alerts the topic instead
                # (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectSource.html,
                # reportBuildStatus).
                report_build_status=False,
            ),
            environment=codebuild.BuildEnvironment(
                # aws/codebuild/standard:7.0 (Ubuntu 22.04, Python 3.11), as the pipelines' projects
                # (templates/macros.j2): a named major version, which CodeBuild patches and caches
                # on its hosts; "7.0-<x.y.z>" would pin one patch level but lose the cache
                # (https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-available.html).
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                compute_type=codebuild.ComputeType.SMALL,
                environment_variables={
                    "DRIFT_TOPIC_ARN": codebuild.BuildEnvironmentVariable(value=topic.topic_arn)
                },
            ),
            build_spec=codebuild.BuildSpec.from_object(buildspec(environment, auto_revert)),
            timeout=cdk.Duration.minutes(20),
        )

        schedule = events.Rule(
            self,
            "Schedule",
            description=f"Drift check of {environment}",
            schedule=events.Schedule.expression(user["schedule"]),
            targets=[targets.CodeBuildProject(project)],
        )

        cdk.CfnOutput(self, "AlertTopicArn", value=topic.topic_arn)
        cdk.CfnOutput(self, "RunnerProjectName", value=project.project_name)
        cdk.CfnOutput(self, "ScheduleRuleName", value=schedule.rule_name)

    def _attach(self, role: iam.Role, prefix: str, description: str, generated: dict) -> None:
        """One managed policy on role per generated policy (python -m permissions.generate)."""
        for number, policy in enumerate(generated["policies"], start=1):
            iam.ManagedPolicy(
                self,
                f"{prefix}{number}",
                description=description,
                document=generated_policy(policy["Statement"]),
                roles=[role],
            )
