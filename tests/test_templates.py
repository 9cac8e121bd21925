"""Every stack of both environments, rendered through Sceptre, checked property by property."""

import shutil
from pathlib import Path

import pytest
import yaml
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

from permissions import generate
from tests.templates import (
    ENVIRONMENTS,
    ROOT,
    cfn_lint,
    copy_project,
    only,
    render,
    rendered,
    stack_config,
    stack_names,
    variant,
)


def service(env: str) -> dict:
    return rendered(env)[f"{env}/service"]["template"]


def cluster(env: str) -> dict:
    return rendered(env)[f"{env}/cluster"]["template"]


def load_balancer(env: str) -> dict:
    return rendered(env)[f"{env}/load-balancer"]["template"]


def props(template: dict, resource_type: str) -> dict:
    return only(template, resource_type)["Properties"]


def statements(role: dict) -> list[dict]:
    return [
        s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]
    ]


# --- the layout: same stacks everywhere, differences only in config.yaml ---


def test_every_environment_has_the_same_stack_files_with_the_same_content():
    files = {
        env: sorted(p.name for p in (ROOT / "config" / env).glob("*.yaml")) for env in ENVIRONMENTS
    }
    assert files["dev"] == files["prod"]
    stack_files = {
        "cluster.yaml",
        "load-balancer.yaml",
        "service.yaml",
        "pipeline.yaml",
        "drift-monitor.yaml",
    }
    assert stack_files <= set(files["dev"])
    for stack_file in set(files["dev"]) - {"config.yaml"}:
        dev, prod = ((ROOT / "config" / env / stack_file).read_text() for env in ENVIRONMENTS)
        assert dev == prod, f"config/*/{stack_file} differ: move the difference to config.yaml"


def test_templates_do_not_branch_on_the_environment_name():
    for template in (ROOT / "templates").glob("*.j2"):
        text = template.read_text()
        for env in ENVIRONMENTS:
            assert f'== "{env}"' not in text and f"== '{env}'" not in text, template.name


def test_a_third_environment_is_one_folder_of_config_and_its_generated_policies(tmp_path: Path):
    project = copy_project(tmp_path)
    staging = project / "config" / "staging"
    shutil.copytree(project / "config" / "dev", staging)
    config = yaml.safe_load((staging / "config.yaml").read_text())
    config["environment"] = "staging"
    config["stack_tags"]["Environment"] = "staging"
    config["sceptre_user_data"].update(environment="staging", name="product-service-staging")
    (staging / "config.yaml").write_text(yaml.safe_dump(config))
    # `python -m permissions.generate` finds the new environment and starts with this
    # (tests/test_permissions.py keeps the committed environments' files current).
    assert "staging" in generate.environments(project)
    generate.bootstrap(project)

    rendered = render("staging", project)

    assert set(rendered) == {
        "staging/cluster",
        "staging/load-balancer",
        "staging/service",
        "staging/pipeline",
        "staging/drift-monitor",
        "staging/network",
    }
    assert props(rendered["staging/cluster"]["template"], "AWS::ECS::Cluster")["ClusterName"] == (
        "product-service-staging"
    )
    plan = SceptrePlan(SceptreContext(project_path=str(project), command_path="staging"))
    stacks = {s.name: s for s in plan.graph}
    assert stacks["staging/service"].external_name == "product-service-staging-service"
    assert sorted(d.name for d in stacks["staging/service"].dependencies) == [
        "staging/cluster",
        "staging/load-balancer",
    ]
    assert [d.name for d in stacks["staging/load-balancer"].dependencies] == ["staging/cluster"]


# --- cluster ---


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cluster_is_named_with_container_insights_and_both_fargate_providers(env):
    properties = props(cluster(env), "AWS::ECS::Cluster")
    assert properties["ClusterName"] == f"product-service-{env}"
    assert {"Name": "containerInsights", "Value": "enabled"} in properties["ClusterSettings"]
    assert properties["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]


# --- roles ---


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_execution_and_task_roles_are_separate(env):
    task = props(service(env), "AWS::ECS::TaskDefinition")
    assert task["ExecutionRoleArn"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    assert task["TaskRoleArn"] == {"Fn::GetAtt": ["TaskRole", "Arn"]}
    template = service(env)
    assert "ManagedPolicyArns" not in template["Resources"]["ExecutionRole"]["Properties"]
    # The application's role: nothing of its own yet, only ECS Exec's channels where exec is
    # on (dev; tests/test_service_config.py checks exactly which).
    granted = [a for s in statements(template["Resources"]["TaskRole"]) for a in s["Action"]]
    assert all(a.startswith("ssmmessages:") for a in granted)
    assert bool(granted) == (env == "dev")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_roles_trust_only_ecs_tasks_of_this_account(env):
    for role in ("ExecutionRole", "TaskRole"):
        trust = service(env)["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {
            "Ref": "AWS::AccountId"
        }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_execution_role_pulls_only_its_image_and_writes_only_its_log_group(env):
    granted = statements(service(env)["Resources"]["ExecutionRole"])
    for statement in granted:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert not any(a.endswith("*") for a in actions), f"wildcard action in {statement}"
        if statement["Resource"] == "*":
            assert actions == ["ecr:GetAuthorizationToken"]  # no resource-level permissions exist
    logs = next(s for s in granted if "logs:PutLogEvents" in s["Action"])
    assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == {"Fn::GetAtt": ["LogGroup", "Arn"]}
    pull = next(s for s in granted if "ecr:BatchGetImage" in s["Action"])
    assert pull["Resource"]["Fn::Sub"].endswith(":repository/product-service")


# --- logs ---


@pytest.mark.parametrize(("env", "days", "policy"), [("dev", 7, "Delete"), ("prod", 30, "Retain")])
def test_log_group_retention_and_deletion_policy(env, days, policy):
    log_group = only(service(env), "AWS::Logs::LogGroup")
    assert log_group["Properties"]["RetentionInDays"] == days
    assert log_group["Properties"]["LogGroupName"] == f"/ecs/product-service-{env}"
    assert log_group["DeletionPolicy"] == log_group["UpdateReplacePolicy"] == policy


# --- task definition ---


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_task_definition_runs_product_service_on_fargate(env):
    task = props(service(env), "AWS::ECS::TaskDefinition")
    assert (task["Cpu"], task["Memory"]) == ("256", "512")
    assert task["NetworkMode"] == "awsvpc"
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    assert task["Family"] == f"product-service-{env}"
    (container,) = task["ContainerDefinitions"]
    assert container["Name"] == "ProductService"
    assert container["Image"] == {"Ref": "Image"}
    assert container["PortMappings"] == [{"ContainerPort": 3000, "Protocol": "tcp"}]
    log = container["LogConfiguration"]
    assert log["LogDriver"] == "awslogs"
    assert log["Options"]["awslogs-stream-prefix"] == "ProductService"
    assert log["Options"]["awslogs-group"] == {"Ref": "LogGroup"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_image_parameter_accepts_only_digest_pinned_images(env):
    import re

    pattern = service(env)["Parameters"]["Image"]["AllowedPattern"]
    assert re.match(pattern, "123.dkr.ecr.us-east-1.amazonaws.com/p@sha256:" + "a" * 64)
    assert not re.match(pattern, "123.dkr.ecr.us-east-1.amazonaws.com/p:latest")


def test_cpu_and_memory_come_from_config(tmp_path: Path):
    rendered = variant(tmp_path, "prod", cpu=1024, memory=2048)
    task = props(rendered["service"]["template"], "AWS::ECS::TaskDefinition")
    assert (task["Cpu"], task["Memory"]) == ("1024", "2048")


# --- service ---


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_service_rolls_100_200_with_circuit_breaker_rollback(env):
    deployment = props(service(env), "AWS::ECS::Service")["DeploymentConfiguration"]
    assert deployment["MinimumHealthyPercent"] == 100
    assert deployment["MaximumPercent"] == 200
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_service_runs_in_the_resolved_subnets_behind_its_own_security_group(env):
    template = service(env)
    network = props(template, "AWS::ECS::Service")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["Subnets"] == {"Ref": "SubnetIds"}
    assert network["SecurityGroups"] == [{"Ref": "ServiceSecurityGroup"}]
    group = props(template, "AWS::EC2::SecurityGroup")
    assert group["VpcId"] == {"Ref": "VpcId"}
    # Inbound: the load balancer alone, on the container port.
    assert group["SecurityGroupIngress"] == [
        {
            "Description": "Requests and health checks from the load balancer",
            "IpProtocol": "tcp",
            "FromPort": 3000,
            "ToPort": 3000,
            "SourceSecurityGroupId": {"Ref": "LoadBalancerSecurityGroupId"},
        }
    ]
    assert all(rule["FromPort"] == rule["ToPort"] == 443 for rule in group["SecurityGroupEgress"])


def test_dev_and_prod_differ_where_config_says():
    dev, prod = (
        props(service("dev"), "AWS::ECS::Service"),
        props(service("prod"), "AWS::ECS::Service"),
    )
    assert dev["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert (
        "LaunchType" not in dev
    )  # a capacity provider strategy and a launch type exclude each other
    assert prod["LaunchType"] == "FARGATE" and "CapacityProviderStrategy" not in prod
    assert dev["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "ENABLED"
    assert prod["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_parameters_are_the_articles_plus_the_cluster_and_load_balancer(env):
    parameters = service(env)["Parameters"]
    assert set(parameters) == {
        "VpcId",
        "SubnetIds",
        "Image",
        "ClusterName",
        "ListenerArn",
        "LoadBalancerSecurityGroupId",
        "LoadBalancerFullName",
        "ServiceUrl",
    }
    assert parameters["VpcId"]["Type"] == "AWS::EC2::VPC::Id"
    assert parameters["SubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>"


# --- stack config: resolvers, failure handling, summary ---


@pytest.mark.parametrize(("env", "on_failure"), [("dev", "DELETE"), ("prod", "ROLLBACK")])
def test_create_failures_delete_dev_and_roll_back_prod(env, on_failure):
    assert {s.on_failure for s in stack_config(env).values()} == {on_failure}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_service_parameters_come_from_the_resolvers(env):
    from resolvers.image_url import ImageUrl
    from resolvers.subnet_ids import SubnetIds
    from resolvers.vpc_id import VpcId

    stack = stack_config(env)[f"{env}/service"]
    raw = stack._parameters  # unresolved: resolving would call AWS
    assert isinstance(raw["VpcId"], VpcId)
    assert isinstance(raw["SubnetIds"], SubnetIds)
    assert isinstance(raw["Image"], ImageUrl)
    assert [h.__class__.__name__ for h in stack.hooks["after_launch"]] == [
        "Protect",
        "DeploymentSummary",
    ]
    cluster_hooks = stack_config(env)[f"{env}/cluster"].hooks["before_launch"]
    # Checks first; then the warning about hand changes the launch overwrites (issue 12).
    assert [h.__class__.__name__ for h in cluster_hooks] == [
        "ValidateConfig",
        "Preflight",
        "DriftPreview",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_stack_launches_after_the_cluster_and_its_preflight(env):
    """Bad input must stop a launch before any stack changes: nothing may start in parallel
    with the cluster, whose before_launch !preflight checks the environment's inputs."""
    stacks = stack_config(env)

    def after_cluster(stack) -> bool:
        return any(d.name == f"{env}/cluster" or after_cluster(d) for d in stack.dependencies)

    for name, stack in stacks.items():
        if name in (f"{env}/cluster", f"{env}/network") or not name.startswith(f"{env}/"):
            continue
        assert after_cluster(stack), f"{name} could launch before the preflight"
    # The network stack, when created, launches before the cluster: it checks the
    # configuration itself first.
    (first, *_) = stacks[f"{env}/network"].hooks["before_launch"]
    assert type(first).__name__ == "ValidateConfig"


@pytest.mark.parametrize(("env", "protected"), [("dev", False), ("prod", True)])
def test_every_stack_is_protected_as_its_environment_says(env, protected):
    for name, stack in stack_config(env).items():
        if not name.startswith(f"{env}/"):
            continue
        (protect,) = [h for h in stack.hooks["after_launch"] if type(h).__name__ == "Protect"]
        assert protect.argument["termination_protection"] is protected, name
        assert bool(protect.argument["stack_policy"]) is protected, name


@pytest.mark.parametrize(("env", "min_azs", "require_tag"), [("dev", 1, False), ("prod", 2, True)])
def test_prod_needs_two_zones_and_an_explicit_image_tag(env, min_azs, require_tag):
    raw = stack_config(env)[f"{env}/service"]._parameters
    assert raw["SubnetIds"]._argument["min_azs"] == min_azs
    assert raw["Image"]._argument["require_tag"] is require_tag


# --- cfn-lint ---

# Named from the config files: rendering at collection cost every test worker ~2 s of CPU.
ALL_STACKS = sorted((env, name) for env in ENVIRONMENTS for name in stack_names(env))


@pytest.mark.parametrize("group", [*ENVIRONMENTS, "shared"])
def test_the_linted_stacks_are_all_the_rendered_ones(group):
    # ALL_STACKS (and tests/test_iam_lint.py's cases) name stacks from the config files.
    assert stack_names(group) == list(render(group))


@pytest.mark.parametrize(("env", "stack"), ALL_STACKS)
def test_cfn_lint_with_informational_rules_finds_nothing(env, stack):
    assert cfn_lint(rendered(env)[stack]["text"]) == []


def test_cfn_lint_check_is_live():
    """The lint test above would catch a problem: a retention CloudWatch rejects is reported."""
    text = rendered("dev")["dev/service"]["text"].replace(
        "RetentionInDays: 7", "RetentionInDays: 8"
    )
    assert any("E3030" in f and "8 is not one of" in f for f in cfn_lint(text))
