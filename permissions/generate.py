"""Generate the least-privilege policies from AWS's published data; write policies/generated/.

    python -m permissions.generate           # render both environments, write the files
    python -m permissions.generate --check   # exit 1 when the committed files are stale

Per environment:
- ``<env>-cloudformation.json``: the CloudFormation service role's managed policies: the
  create/update/delete/read handler permissions of the workload stacks' resource types;
- ``<env>-drift-runner.json``: the drift runner's read rights: the read handler permissions of
  every resource type in every stack of the environment.
And ``github-drift-check.json``: one identity policy with the read rights of both
environments, for the GitHub Actions role (.github/workflows/drift.yml).

Each permission is scoped to the environment's ARNs where the IAM reference gives the action
resource types (permissions.scope); where no name can scope an owned resource, to its
Environment tag: ``aws:RequestTag`` on actions that create or tag a resource at creation
(it has no tags yet), ``aws:ResourceTag`` on actions on existing resources, each only where
the reference lists that key for the action. Names in the schemas that are not IAM actions
are dropped (``dropped`` in each file; the coverage report prints them).
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from permissions import reference, registry
from permissions.render import ROOT, Rendered, environments, render
from permissions.scope import OWNED, Scope

GENERATED = Path("policies") / "generated"
# A managed policy holds at most 6,144 characters, a role's inline policies 10,240 together,
# whitespace not counted (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MANAGED_POLICY_LIMIT = 6144
INLINE_POLICIES_LIMIT = 10240
# A role takes 10 managed policies by default (same page): the generator stays below it.
MANAGED_POLICIES_PER_ROLE = 10
REQUEST_TAG = "aws:RequestTag/${TagKey}"
RESOURCE_TAG = "aws:ResourceTag/${TagKey}"
TAG_KEY = "Environment"  # the stack tag config/<env>/config.yaml sets on every stack
# Service-linked roles CloudFormation's handlers create on first use, by the type that does:
# the ECS one for capacity providers, Application Auto Scaling's for an ECS scalable target.
SERVICE_LINKED = {
    "AWS::ECS::Cluster": "ecs.amazonaws.com",
    "AWS::ApplicationAutoScaling::ScalableTarget": "ecs.application-autoscaling.amazonaws.com",
}
# The service each resource type whose handlers list iam:PassRole hands the roles in its
# properties to (iam:PassedToService is that service's principal): task (execution) roles to
# ECS tasks, a service's role to ECS, a pipeline's to CodePipeline, a rule target's to
# EventBridge, a scalable target's to Application Auto Scaling, a bucket's replication role
# to S3, a topic's delivery-status logging roles to SNS. From each property's page in the
# CloudFormation reference; the key: docs.aws.amazon.com/IAM/latest/UserGuide/
# reference_policies_iam-condition-keys.html#ck_PassedToService. A type missing here stops
# the generator with a message.
PASSED_TO = {
    "AWS::ApplicationAutoScaling::ScalableTarget": "application-autoscaling.amazonaws.com",
    "AWS::CodePipeline::Pipeline": "codepipeline.amazonaws.com",
    "AWS::ECS::Service": "ecs.amazonaws.com",
    "AWS::ECS::TaskDefinition": "ecs-tasks.amazonaws.com",
    "AWS::Events::Rule": "events.amazonaws.com",
    "AWS::S3::Bucket": "s3.amazonaws.com",
    "AWS::SNS::Topic": "sns.amazonaws.com",
}


@dataclass(frozen=True)
class Grant:
    """One action on some resources, under an optional condition."""

    action: str
    resources: tuple[str, ...]
    condition: str = ""  # JSON of the Condition element, "" for none


def _condition(key: str, value: Any, operator: str = "StringEquals") -> str:
    return json.dumps({operator: {key: value}}, sort_keys=True)


def _tag_condition(action: str, handler: str, resource_type: str, environment: str) -> str:
    """The Environment tag condition for an owned, unnamed resource, or "" when the reference
    lists no fitting key. An action of a create handler that takes request tags creates (or
    tags at creation): its new resource has no tags yet, so the request's tags decide."""
    creates = handler == "create" and (
        reference.supports(action, REQUEST_TAG)
        or any(REQUEST_TAG in r.condition_keys for r in reference.resource_types(action))
    )
    if creates and reference.supports(action, REQUEST_TAG, resource_type):
        return _condition(f"aws:RequestTag/{TAG_KEY}", environment)
    # Not creating, or another resource type of the action is the new one: this one exists.
    if reference.supports(action, RESOURCE_TAG, resource_type):
        return _condition(f"aws:ResourceTag/{TAG_KEY}", environment)
    return ""


def grants_for(
    action: str, cfn_type: str, handler: str, scope: Scope, environment: str
) -> list[Grant]:
    """What one handler permission of one resource type becomes."""
    service = action.split(":")[0]
    partition, account = scope.pseudo["Partition"], scope.pseudo["Account"]
    if action == "iam:CreateServiceLinkedRole":
        return [
            Grant(
                action,
                (f"arn:{partition}:iam::{account}:role/aws-service-role/*",),
                _condition("iam:AWSServiceName", SERVICE_LINKED.get(cfn_type, "none")),
            )
        ]
    types = reference.resource_types(action)
    if not types:
        return [Grant(action, ("*",))]  # the action accepts only "*"
    known = [t for t in types if scope.known(service, t.name)] or types
    own = [t for t in known if OWNED.get((service, t.name), ("",))[0] == cfn_type]
    if own and action.lower() in registry.tagging_permissions(cfn_type):
        known = own  # tagging this type's resources: never what it merely uses (a VPC)
    elif own:  # the type's own resources, and what it uses but does not create (a VPC)
        known = own + [t for t in known if not scope.owns(service, t.name)]
    found = []
    for resource_type in known:
        arns, named = scope.arns(service, resource_type.name, resource_type.arn)
        condition = ""
        if action == "iam:PassRole":
            if cfn_type not in PASSED_TO:
                raise ValueError(
                    f"{cfn_type} passes roles: add the service it passes them to to PASSED_TO "
                    "in permissions/generate.py"
                )
            condition = _condition("iam:PassedToService", PASSED_TO[cfn_type])
        elif scope.owns(service, resource_type.name) and not named:
            owner = OWNED[(service, resource_type.name)][0]
            if registry.taggable(owner):
                condition = _tag_condition(action, handler, resource_type.name, environment)
        found.append(Grant(action, tuple(arns), condition))
    return found


def collect(
    stacks: dict[str, Rendered],
    handlers: tuple[str, ...],
    environment: str,
    pseudo: dict[str, str] | None = None,
) -> tuple[list[Grant], set[str]]:
    """Grants for every handler permission of every resource type in the stacks, and the
    names dropped as not IAM actions."""
    scope = Scope(stacks, pseudo=pseudo or Scope(stacks).pseudo)
    grants, dropped = [], set()
    for cfn_type in sorted(scope.declared_types()):
        for handler in handlers:
            for name in registry.handler_permissions(cfn_type, handler):
                if not reference.is_action(name):
                    dropped.add(name)
                    continue
                action = reference.canonical(name)
                grants += grants_for(action, cfn_type, handler, scope, environment)
    return grants, dropped


def statements(grants: list[Grant]) -> list[dict[str, Any]]:
    """Grants as few statements: actions sharing resources and condition, then statements
    sharing actions and condition, merged."""
    by_scope: dict[tuple[tuple[str, ...], str], set[str]] = {}
    for grant in grants:
        by_scope.setdefault((grant.resources, grant.condition), set()).add(grant.action)
    by_actions: dict[tuple[tuple[str, ...], str], set[str]] = {}
    for (resources, condition), actions in by_scope.items():
        by_actions.setdefault((tuple(sorted(actions)), condition), set()).update(resources)
    found = []
    for (actions, condition), resources in sorted(by_actions.items()):
        if "*" in resources:
            resources = {"*"}
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": list(actions),
            "Resource": sorted(resources),
        }
        if condition:
            statement["Condition"] = json.loads(condition)
        found.append(statement)
    return found


def size(document: dict[str, Any]) -> int:
    """A policy's size as IAM counts it: JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


def document(statements_: list[dict[str, Any]]) -> dict[str, Any]:
    """A policy document of these statements."""
    return {"Version": "2012-10-17", "Statement": statements_}


def pack(statements_: list[dict[str, Any]], limit: int = MANAGED_POLICY_LIMIT) -> list[dict]:
    """Split statements into as few documents of at most ``limit`` characters as greedy packing
    gives. Placeholders like ``${AWS::AccountId}`` are never shorter than what replaces them, so
    the deployed policies are no larger than measured here."""
    pending = list(statements_)
    documents: list[list[dict[str, Any]]] = [[]]
    while pending:
        statement = pending.pop(0)
        if size(document([statement])) > limit:
            actions = statement["Action"]
            if len(actions) == 1:
                raise ValueError(f"one statement exceeds {limit} characters: {statement}")
            half = len(actions) // 2
            pending[:0] = [{**statement, "Action": a} for a in (actions[:half], actions[half:])]
            continue
        if size(document([*documents[-1], statement])) > limit:
            documents.append([])
        documents[-1].append(statement)
    return [document(s) for s in documents if s]


def _config(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / "config" / "config.yaml").read_text())


def cloudformation_role(stacks: dict[str, Rendered], environment: str, project: Path) -> dict:
    """The CloudFormation service role's policies for one environment's workload stacks."""
    workload = {k: v for k, v in stacks.items() if k in _config(project)["workload_stacks"]}
    grants, dropped = collect(workload, registry.DEPLOY_HANDLERS, environment)
    policies = pack(statements(grants))
    if len(policies) > MANAGED_POLICIES_PER_ROLE:
        raise ValueError(f"{environment}: {len(policies)} managed policies, more than a role takes")
    return {"policies": policies, "dropped": sorted(dropped)}


def drift_runner(stacks: dict[str, Rendered], environment: str) -> dict:
    """The drift runner's read rights over every stack of one environment."""
    grants, dropped = collect(stacks, registry.READ_HANDLERS, environment)
    return {"policies": pack(statements(grants)), "dropped": sorted(dropped)}


def github_drift_check(by_env: dict[str, dict[str, Rendered]], region: str) -> dict:
    """One identity policy with the read rights of every environment's stacks, for a role
    outside CloudFormation: no ``${AWS::...}`` pseudo parameters, so the partition and region
    are written out and the account is ``*``. A policy variable there (``${aws:PrincipalAccount}``)
    is refused by IAM's validator ("IAM resource path must either be "*" or start with ...",
    MalformedPolicyDocument) and by parliament; an identity policy reaches another account's
    resources only where that account's resource policies let it, so "*" is this account."""
    pseudo = {"Partition": "aws", "Region": region, "Account": "*"}
    grants = []
    for environment, stacks in by_env.items():
        grants += collect(stacks, registry.READ_HANDLERS, environment, pseudo)[0]
    drift = [
        {
            "Effect": "Allow",
            "Action": [
                "cloudformation:DescribeStackResourceDrifts",
                "cloudformation:DescribeStacks",
                "cloudformation:DetectStackDrift",
            ],
            "Resource": sorted(
                f"arn:aws:cloudformation:{region}:*:stack/{stack.external_name}/*"
                for stacks in by_env.values()
                for stack in stacks.values()
            ),
        },
        # The IAM reference gives this action no resource type: it takes a detection id.
        {
            "Effect": "Allow",
            "Action": ["cloudformation:DescribeStackDriftDetectionStatus"],
            "Resource": ["*"],
        },
    ]
    policy = document(drift + statements(grants))
    if size(policy) > INLINE_POLICIES_LIMIT:
        raise ValueError(f"the GitHub role's policy is {size(policy)} characters")
    return policy


HEADER = "Generated by python -m permissions.generate from the rendered templates: do not edit."


def expected(by_env: dict[str, dict[str, Rendered]], project: Path = ROOT) -> dict[str, str]:
    """File name -> content of every generated file, from each environment's stacks."""
    files = {}
    for environment, stacks in by_env.items():
        for name, content in (
            ("cloudformation", cloudformation_role(stacks, environment, project)),
            ("drift-runner", drift_runner(stacks, environment)),
        ):
            files[f"{environment}-{name}.json"] = _dump({"comment": HEADER, **content})
    region = _config(project)["region"]
    files["github-drift-check.json"] = _dump(github_drift_check(by_env, region))
    return files


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"


def bootstrap(project: Path = ROOT) -> None:
    """Write empty policy files where none exist: the templates read them to render."""
    folder = project / GENERATED
    folder.mkdir(parents=True, exist_ok=True)
    for environment in environments(project):
        for name in ("cloudformation", "drift-runner"):
            path = folder / f"{environment}-{name}.json"
            if not path.exists():
                path.write_text(_dump({"comment": HEADER, "policies": [], "dropped": []}))


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the generated policies; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    parser.add_argument("--project", type=Path, default=ROOT, help="the Sceptre project")
    args = parser.parse_args(argv)
    project, folder = args.project, args.project / GENERATED
    bootstrap(project)
    # The templates hold the generated policies, and a policy resource is a type the drift
    # runner reads: render again until the files no longer change (twice at most, in practice).
    for _ in range(3):
        by_env = {env: render(env, project) for env in environments(project)}
        files = expected(by_env, project)
        stale = [n for n, c in files.items() if not (folder / n).is_file()
                 or (folder / n).read_text() != c]  # fmt: skip
        if args.check or not stale:
            break
        for name in stale:
            (folder / name).write_text(files[name])
            print(f"wrote {GENERATED / name}")
    for name in stale:
        print(f"stale: {GENERATED / name} (run python -m permissions.generate)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
