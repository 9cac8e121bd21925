"""Tests for the !preflight and !deployment_summary hooks against the emulator."""

import json
import logging
import secrets
import uuid
from dataclasses import replace
from types import SimpleNamespace

import pytest
from sceptre.connection_manager import ConnectionManager

from hooks.deployment_summary import DeploymentSummary, describe_deployment, format_deployment
from hooks.preflight import Preflight
from resolvers import LookupFailedError, stack_call
from resolvers.subnet_ids import SubnetIds
from resolvers.vpc_id import VpcId


def make_stack(external_name="dev-service"):
    cm = ConnectionManager(region="us-east-1")
    return SimpleNamespace(connection_manager=cm, name="dev/service", external_name=external_name)


@pytest.fixture
def stack(aws_env):
    return make_stack()


# --- !preflight ----------------------------------------------------------------------------


def test_preflight_logs_each_resolved_value(stack, aws, caplog):
    default = aws("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    vpc_id = default["Vpcs"][0]["VpcId"]
    argument = {
        "VpcId": VpcId(argument="", stack=stack),
        "SubnetIds": SubnetIds(argument={}, stack=stack),
    }
    caplog.set_level(logging.INFO, logger="sceptre.hooks.preflight")

    Preflight(argument=argument, stack=stack).run()

    messages = [
        r.getMessage() for r in caplog.records if r.name.startswith("sceptre.hooks.preflight")
    ]
    assert f"dev/service - preflight: VpcId = {vpc_id}" in messages
    assert any(m.startswith("dev/service - preflight: SubnetIds = subnet-") for m in messages)


def test_preflight_fails_when_a_lookup_fails(stack):
    missing = f"no-such-vpc-{uuid.uuid4().hex[:8]}"
    argument = {"VpcId": VpcId(argument=missing, stack=stack)}

    with pytest.raises(LookupFailedError, match=missing):
        Preflight(argument=argument, stack=stack).run()


@pytest.mark.parametrize("argument", [None, "VpcId", ["VpcId"]], ids=["none", "string", "list"])
def test_preflight_needs_a_mapping(stack, argument):
    with pytest.raises(TypeError, match="mapping"):
        Preflight(argument=argument, stack=stack).run()


# --- !deployment_summary -------------------------------------------------------------------

IMAGE = "repo@sha256:" + secrets.token_hex(32)
URL = "https://product-service.example.com"


@pytest.fixture
def service_stack(aws):
    """A CloudFormation stack with an ECS cluster, task definition and service of 2 tasks."""
    suffix = uuid.uuid4().hex[:8]
    family = f"family-{suffix}"
    subnet = aws("ec2").describe_subnets()["Subnets"][0]["SubnetId"]  # the default VPC's
    template = {
        "Resources": {
            "Cluster": {
                "Type": "AWS::ECS::Cluster",
                "Properties": {"ClusterName": f"cluster-{suffix}"},
            },
            "TaskDefinition": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": family,
                    "Cpu": "256",
                    "Memory": "512",
                    "NetworkMode": "awsvpc",
                    "RequiresCompatibilities": ["FARGATE"],
                    "ContainerDefinitions": [
                        {"Name": "ProductService", "Image": IMAGE, "Essential": True}
                    ],
                },
            },
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "Cluster": {"Ref": "Cluster"},
                    "TaskDefinition": {"Ref": "TaskDefinition"},
                    "DesiredCount": 2,
                    "LaunchType": "FARGATE",
                    # ECS refuses an awsvpc service without one (emulator/task_lifecycle.py).
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet]}},
                },
            },
        },
        "Outputs": {
            "ClusterName": {"Value": {"Ref": "Cluster"}},
            "ServiceName": {"Value": {"Fn::GetAtt": ["Service", "Name"]}},
            "ServiceUrl": {"Value": URL},
        },
    }
    name = f"summary-test-{suffix}"
    aws("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return SimpleNamespace(name=name, family=family, cluster=f"cluster-{suffix}")


def test_describe_deployment_reads_back_the_service(stack, service_stack):
    d = describe_deployment(stack_call(SimpleNamespace(stack=stack)), service_stack.name)

    assert d.stack_name == service_stack.name
    assert d.stack_status == "CREATE_COMPLETE"
    assert d.cluster == service_stack.cluster
    assert (d.running, d.desired) == (2, 2)
    assert d.task_definition == f"{service_stack.family}:1"
    assert d.image == IMAGE
    assert d.digest == IMAGE.partition("@")[2]
    assert d.url == URL


def test_format_deployment_shows_the_values(stack, service_stack):
    d = describe_deployment(stack_call(SimpleNamespace(stack=stack)), service_stack.name)

    text = format_deployment(d)

    assert f"{service_stack.name} (CREATE_COMPLETE)" in text
    assert f"{d.service} in cluster {service_stack.cluster}" in text
    assert "2 running / 2 desired" in text
    assert f"{service_stack.family}:1" in text
    assert IMAGE in text
    assert f"url              {URL}" in text


def test_format_deployment_leaves_out_a_missing_url(stack, service_stack):
    d = describe_deployment(stack_call(SimpleNamespace(stack=stack)), service_stack.name)

    assert "url" not in format_deployment(replace(d, url="")).split()


def test_deployment_summary_hook_prints_the_summary(aws_env, service_stack, capsys):
    hook_stack = make_stack(external_name=service_stack.name)

    DeploymentSummary(argument=None, stack=hook_stack).run()

    out = capsys.readouterr().out
    assert out.startswith("Deployed dev/service:\n")
    assert f"{service_stack.name} (CREATE_COMPLETE)" in out
    assert "2 running / 2 desired" in out
    assert f"{service_stack.family}:1" in out
    assert IMAGE in out
