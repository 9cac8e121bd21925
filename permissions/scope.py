"""Where a generated statement may point: the environment's ARNs, from its rendered stacks.

A resource type of the IAM reference is *owned* when a CloudFormation type in the stacks
creates it; its ARN's name variables are filled from the template (a literal name property),
or, when the template leaves the name to CloudFormation, with ``<stack name>-*``: CloudFormation
names such resources "stack name - logical ID - random suffix"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html).
Anything else stays ``*``. Owned, taggable resources carry the stack's Environment tag, which
CloudFormation propagates to what it creates
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html).
"""

import itertools
import re
from dataclasses import dataclass, field

from permissions.render import Rendered

# (service prefix, IAM resource type) -> (CloudFormation type that creates it,
#   {ARN variable: (CloudFormation type holding the name, its name property)}).
# Variables not listed (ids, revisions, generated load balancer names) stay "*".
OWNED: dict[tuple[str, str], tuple[str, dict[str, tuple[str, str]]]] = {
    ("ecs", "cluster"): (
        "AWS::ECS::Cluster",
        {"ClusterName": ("AWS::ECS::Cluster", "ClusterName")},
    ),
    ("ecs", "service"): (
        "AWS::ECS::Service",
        {
            "ClusterName": ("AWS::ECS::Cluster", "ClusterName"),
            "ServiceName": ("AWS::ECS::Service", "ServiceName"),
        },
    ),
    ("ecs", "service-deployment"): (
        "AWS::ECS::Service",
        {
            "ClusterName": ("AWS::ECS::Cluster", "ClusterName"),
            "ServiceName": ("AWS::ECS::Service", "ServiceName"),
        },
    ),
    ("ecs", "task-definition"): (
        "AWS::ECS::TaskDefinition",
        {"TaskDefinitionFamilyName": ("AWS::ECS::TaskDefinition", "Family")},
    ),
    ("logs", "log-group"): (
        "AWS::Logs::LogGroup",
        {"LogGroupName": ("AWS::Logs::LogGroup", "LogGroupName")},
    ),
    ("iam", "role"): ("AWS::IAM::Role", {"RoleNameWithPath": ("AWS::IAM::Role", "RoleName")}),
    ("iam", "policy"): (
        "AWS::IAM::ManagedPolicy",
        {"PolicyNameWithPath": ("AWS::IAM::ManagedPolicy", "ManagedPolicyName")},
    ),
    ("s3", "bucket"): ("AWS::S3::Bucket", {"BucketName": ("AWS::S3::Bucket", "BucketName")}),
    ("s3", "object"): ("AWS::S3::Bucket", {"BucketName": ("AWS::S3::Bucket", "BucketName")}),
    ("codebuild", "project"): (
        "AWS::CodeBuild::Project",
        {"ProjectName": ("AWS::CodeBuild::Project", "Name")},
    ),
    ("codepipeline", "pipeline"): (
        "AWS::CodePipeline::Pipeline",
        {"PipelineName": ("AWS::CodePipeline::Pipeline", "Name")},
    ),
    ("sns", "topic"): ("AWS::SNS::Topic", {"TopicName": ("AWS::SNS::Topic", "TopicName")}),
    ("events", "rule-on-default-event-bus"): (
        "AWS::Events::Rule",
        {"RuleName": ("AWS::Events::Rule", "Name")},
    ),
    ("ec2", "security-group"): ("AWS::EC2::SecurityGroup", {}),
    ("elasticloadbalancing", "loadbalancer/app/"): (
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {},
    ),
    ("elasticloadbalancing", "listener/app"): ("AWS::ElasticLoadBalancingV2::Listener", {}),
    ("elasticloadbalancing", "listener-rule/app"): (
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        {},
    ),
    ("elasticloadbalancing", "targetgroup"): ("AWS::ElasticLoadBalancingV2::TargetGroup", {}),
    ("application-autoscaling", "scalable-target"): (
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {},
    ),
    ("codestar-connections", "Connection"): ("AWS::CodeStarConnections::Connection", {}),
    ("acm", "certificate"): ("AWS::CertificateManager::Certificate", {}),
}

# Resource types the stacks use but do not create (the VPC, its subnets, rules inside a
# security group): kept when an action touches them beside an owned type, never tag-scoped.
FOREIGN = {
    ("ec2", "vpc"),
    ("ec2", "subnet"),
    ("ec2", "security-group-rule"),
    ("ec2", "network-interface"),
}

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)\}")
PSEUDO = {
    "Partition": "${AWS::Partition}",
    "Region": "${AWS::Region}",
    "Account": "${AWS::AccountId}",
}


@dataclass
class Scope:
    """The names an environment's stacks give the resources they create."""

    stacks: dict[str, Rendered]
    pseudo: dict[str, str] = field(default_factory=lambda: dict(PSEUDO))

    def declared_types(self) -> set[str]:
        """The CloudFormation types in the stacks."""
        return {
            r["Type"]
            for s in self.stacks.values()
            for r in s.template.get("Resources", {}).values()
        }

    def owns(self, service: str, resource_type: str) -> bool:
        """Whether the stacks create resources of this IAM resource type."""
        entry = OWNED.get((service, resource_type))
        return bool(entry) and entry[0] in self.declared_types()

    def known(self, service: str, resource_type: str) -> bool:
        """Whether the resource type is one the stacks create or use."""
        return self.owns(service, resource_type) or (service, resource_type) in FOREIGN

    def names(self, cfn_type: str, prop: str) -> set[str]:
        """Every name the stacks give resources of a type: the literal property, else
        ``<stack>-*`` when CloudFormation generates it, else ``*`` (an expression)."""
        found = set()
        for stack in self.stacks.values():
            for resource in stack.template.get("Resources", {}).values():
                if resource["Type"] != cfn_type:
                    continue
                value = resource.get("Properties", {}).get(prop)
                prefix = _path_prefix(cfn_type, resource.get("Properties", {}))
                if value is None:
                    found.add(f"{prefix}{stack.external_name}-*")
                elif isinstance(value, str):
                    found.add(prefix + value)
                else:
                    found.add("*")
        return {"*"} if "*" in found else found

    def arns(self, service: str, resource_type: str, arn_format: str) -> tuple[list[str], bool]:
        """The ARN patterns of one resource type in these stacks, and whether any name scopes
        them (False: only ``*`` fills the names)."""
        variables = _VARIABLE.findall(arn_format)
        entry = OWNED.get((service, resource_type)) if self.owns(service, resource_type) else None
        choices: dict[str, list[str]] = {}
        for name in variables:
            if name in self.pseudo:
                choices[name] = [self.pseudo[name]]
            elif entry and name in entry[1]:
                choices[name] = sorted(self.names(*entry[1][name]))
            else:
                choices[name] = ["*"]
        named = any(v != "*" for n in variables if n not in self.pseudo for v in choices[n])
        results = []
        for combination in itertools.product(*(choices[n] for n in variables)):
            arn = arn_format
            for name, value in zip(variables, combination, strict=True):
                arn = arn.replace("${" + name + "}", value, 1)
            if service == "logs" and resource_type == "log-group" and not arn.endswith("*"):
                results.append(arn + ":*")  # log streams and most calls name the group as NAME:*
            results.append(arn)  # one "*" per variable, as linters expect the ARN format
        return sorted(set(results)), named


def _path_prefix(cfn_type: str, properties: dict) -> str:
    """The path a role's ARN holds before its name ("" for "/"): IAM role ARNs are
    role/PATH/NAME (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
    #identifiers-arns), and the roles that other accounts' policies admit have one."""
    path = properties.get("Path") if cfn_type == "AWS::IAM::Role" else None
    if path is None:
        return ""
    if not isinstance(path, str):
        return "*"  # an expression: any path
    return path.lstrip("/")
