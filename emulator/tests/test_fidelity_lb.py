"""The load-balancing and autoscaling fidelity layer, tested through the emulator's HTTP API.

Each test creates its own uniquely named stack on the session emulator: a load balancer,
listener, target group and rule in front of an ECS service, with autoscaling.
"""

import copy
import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.tests.test_fidelity import DIGEST, ecs_template

IMAGE = f"repo@{DIGEST}"


def template(name: str, **changes: Any) -> dict[str, Any]:
    """test_fidelity's ECS stack behind a load balancer, with autoscaling, as templates/ has it.

    ``changes`` set properties by path: TargetGroup__Port=8080.
    """
    base = json.loads(ecs_template(name))
    resources = base["Resources"]
    service = resources["Service"]
    del service["Properties"]["DesiredCount"]  # autoscaling owns it, as in templates/
    service["DependsOn"] = "Rule"
    service["Properties"]["LoadBalancers"] = [
        {
            "ContainerName": "ProductService",
            "ContainerPort": 3000,
            "TargetGroupArn": {"Ref": "TargetGroup"},
        }
    ]
    resources |= {
        "LbGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "lb", "VpcId": {"Ref": "VpcId"}},
        },
        "LoadBalancer": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Type": "application",
                "Scheme": "internet-facing",
                "Subnets": {"Ref": "SubnetIds"},
                "SecurityGroups": [{"Ref": "LbGroup"}],
                "LoadBalancerAttributes": [
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}
                ],
            },
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": {"Ref": "LoadBalancer"},
                "Protocol": "HTTP",
                "Port": 80,
                "DefaultActions": [
                    {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}
                ],
            },
        },
        "TargetGroup": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "VpcId": {"Ref": "VpcId"},
                "TargetType": "ip",
                "Protocol": "HTTP",
                "Port": 3000,
                "HealthCheckEnabled": True,
                "HealthCheckPath": "/hello",
                "HealthCheckIntervalSeconds": 10,
                "HealthCheckTimeoutSeconds": 5,
                "HealthyThresholdCount": 2,
                "UnhealthyThresholdCount": 2,
                "TargetGroupAttributes": [
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}
                ],
            },
        },
        "Rule": {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": {"Ref": "Listener"},
                "Priority": 1,
                "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}],
                "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}],
            },
        },
        "ScalableTarget": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ServiceNamespace": "ecs",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": {"Fn::Sub": f"service/{name}/${{Service.Name}}"},
                "MinCapacity": 2,
                "MaxCapacity": 10,
            },
        },
        "RequestScaling": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": "requests",
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": {"Ref": "ScalableTarget"},
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ALBRequestCountPerTarget",
                        "ResourceLabel": {
                            "Fn::Sub": "${LoadBalancer.LoadBalancerFullName}/"
                            "${TargetGroup.TargetGroupFullName}"
                        },
                    },
                    "TargetValue": 1000,
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                },
            },
        },
    }
    for path, value in changes.items():
        logical_id, *keys, last = path.split("__")
        node = resources[logical_id]["Properties"]
        for key in keys:
            node = node[key]
        node[last] = value
    get_att = {
        "LoadBalancerFullName": ["LoadBalancer", "LoadBalancerFullName"],
        "CanonicalHostedZoneID": ["LoadBalancer", "CanonicalHostedZoneID"],
        "TargetGroupFullName": ["TargetGroup", "TargetGroupFullName"],
    }
    base["Outputs"] |= {key: {"Value": {"Fn::GetAtt": att}} for key, att in get_att.items()}
    base["Outputs"]["TargetGroupLoadBalancers"] = {
        "Value": {"Fn::Join": [",", {"Fn::GetAtt": ["TargetGroup", "LoadBalancerArns"]}]}
    }
    return base


@pytest.fixture
def network(aws):
    ec2 = aws("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    by_zone = {s["AvailabilityZone"]: s["SubnetId"] for s in subnets["Subnets"]}
    return vpc["VpcId"], [by_zone[zone] for zone in sorted(by_zone)[:2]]


class Stack:
    """One test's stack and the clients to look at what it made."""

    def __init__(self, aws, network, **changes: Any) -> None:
        self.aws, self.network = aws, network
        self.name = f"lb-{uuid.uuid4().hex[:8]}"
        self.cfn, self.elb, self.ecs = aws("cloudformation"), aws("elbv2"), aws("ecs")
        self.autoscaling = aws("application-autoscaling")
        self.cfn.create_stack(
            StackName=self.name,
            TemplateBody=json.dumps(template(self.name, **changes)),
            Parameters=self.parameters(),
        )

    def parameters(self, image: str = IMAGE) -> list[dict[str, str]]:
        vpc_id, subnet_ids = self.network
        return [
            {"ParameterKey": "Image", "ParameterValue": image},
            {"ParameterKey": "VpcId", "ParameterValue": vpc_id},
            {"ParameterKey": "SubnetIds", "ParameterValue": ",".join(subnet_ids)},
        ]

    def update(self, image: str = IMAGE, **changes: Any) -> None:
        self.cfn.update_stack(
            StackName=self.name,
            TemplateBody=json.dumps(template(self.name, **changes)),
            Parameters=self.parameters(image),
        )

    def physical_id(self, logical_id: str) -> str:
        found = self.cfn.describe_stack_resource(StackName=self.name, LogicalResourceId=logical_id)
        return found["StackResourceDetail"]["PhysicalResourceId"]

    def outputs(self) -> dict[str, str]:
        stack = self.cfn.describe_stacks(StackName=self.name)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    def service(self) -> dict[str, Any]:
        name = self.outputs()["ServiceName"]
        return self.ecs.describe_services(cluster=self.name, services=[name])["services"][0]

    def target_group_attributes(self) -> dict[str, str]:
        arn = self.physical_id("TargetGroup")
        found = self.elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
        return {a["Key"]: a["Value"] for a in found}

    def load_balancer_attributes(self) -> dict[str, str]:
        arn = self.physical_id("LoadBalancer")
        found = self.elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
        return {a["Key"]: a["Value"] for a in found}

    def scalable_target(self) -> dict[str, Any]:
        resource_id = f"service/{self.name}/{self.outputs()['ServiceName']}"
        (target,) = self.autoscaling.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[resource_id]
        )["ScalableTargets"]
        return target


@pytest.fixture
def stack(aws, network):
    return Stack(aws, network)


def test_load_balancer_keeps_its_attributes(stack):
    attributes = stack.load_balancer_attributes()
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_target_group_keeps_attributes_and_health_check(stack):
    assert stack.target_group_attributes()["deregistration_delay.timeout_seconds"] == "30"
    (group,) = stack.elb.describe_target_groups(TargetGroupArns=[stack.physical_id("TargetGroup")])[
        "TargetGroups"
    ]
    assert group["HealthCheckEnabled"] is True
    assert (group["HealthCheckPath"], group["HealthCheckIntervalSeconds"]) == ("/hello", 10)
    assert (group["HealthyThresholdCount"], group["UnhealthyThresholdCount"]) == (2, 2)
    assert (group["TargetType"], group["Port"]) == ("ip", 3000)


def test_get_att_of_load_balancer_and_target_group_resolve_as_on_aws(stack):
    outputs = stack.outputs()
    balancer_arn = stack.physical_id("LoadBalancer")
    group_arn = stack.physical_id("TargetGroup")
    assert outputs["LoadBalancerFullName"] == balancer_arn.split(":loadbalancer/")[1]
    assert outputs["LoadBalancerFullName"].startswith("app/")
    assert outputs["TargetGroupFullName"] == group_arn.split(":")[-1]
    assert outputs["TargetGroupFullName"].startswith("targetgroup/")
    assert outputs["TargetGroupLoadBalancers"] == balancer_arn  # the rule attached it
    (balancer,) = stack.elb.describe_load_balancers(LoadBalancerArns=[balancer_arn])[
        "LoadBalancers"
    ]
    assert outputs["CanonicalHostedZoneID"] == balancer["CanonicalHostedZoneId"]


def test_service_is_registered_with_the_target_group(stack):
    (entry,) = stack.service()["loadBalancers"]
    assert entry == {
        "targetGroupArn": stack.physical_id("TargetGroup"),
        "containerName": "ProductService",
        "containerPort": 3000,
    }


def test_an_update_changes_attributes_and_health_check_in_place(stack):
    balancer, group = stack.physical_id("LoadBalancer"), stack.physical_id("TargetGroup")
    stack.update(
        TargetGroup__HealthCheckIntervalSeconds=5,
        TargetGroup__TargetGroupAttributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}
        ],
        LoadBalancer__LoadBalancerAttributes=[
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"}
        ],
    )
    assert (stack.physical_id("LoadBalancer"), stack.physical_id("TargetGroup")) == (
        balancer,
        group,
    )
    assert stack.target_group_attributes()["deregistration_delay.timeout_seconds"] == "5"
    (found,) = stack.elb.describe_target_groups(TargetGroupArns=[group])["TargetGroups"]
    assert found["HealthCheckIntervalSeconds"] == 5
    attributes = stack.load_balancer_attributes()
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "false"


def test_a_change_that_would_replace_the_target_group_is_refused(stack):
    with pytest.raises(ClientError, match="cannot replace target group .*Port"):
        stack.update(TargetGroup__Port=8080)


def test_registering_the_scalable_target_brings_the_service_to_its_minimum(stack):
    target = stack.scalable_target()
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)
    # The service declares no DesiredCount: ECS starts it at 1, registration raises it to 2;
    # the second task then starts, as ECS starts any task: provisioning, pending, running
    # (docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html).
    assert stack.service()["desiredCount"] == 2
    deadline = time.monotonic() + 30
    while stack.service()["runningCount"] < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stack.service()["runningCount"] == 2


def test_a_maximum_below_the_count_scales_the_service_in(aws, network):
    stack = Stack(aws, network, ScalableTarget__MinCapacity=1, ScalableTarget__MaxCapacity=1)
    stack.update(ScalableTarget__MinCapacity=3, ScalableTarget__MaxCapacity=4)
    assert stack.service()["desiredCount"] == 3
    stack.update(ScalableTarget__MinCapacity=1, ScalableTarget__MaxCapacity=2)
    assert stack.service()["desiredCount"] == 2
    target = stack.scalable_target()
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)


def test_a_new_image_keeps_the_count_autoscaling_set(stack):
    stack.update(image="repo@sha256:" + "cd" * 32)
    service = stack.service()
    task = stack.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    assert task["taskDefinition"]["revision"] == 2
    assert service["desiredCount"] == 2  # not reset to ECS's default of 1


def test_scaling_policy_is_kept_with_its_resource_label(stack):
    (policy,) = stack.autoscaling.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=stack.scalable_target()["ResourceId"]
    )["ScalingPolicies"]
    assert (policy["PolicyName"], policy["PolicyType"]) == ("requests", "TargetTrackingScaling")
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    outputs = stack.outputs()
    assert config["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ALBRequestCountPerTarget",
        "ResourceLabel": f"{outputs['LoadBalancerFullName']}/{outputs['TargetGroupFullName']}",
    }
    assert (config["TargetValue"], config["ScaleOutCooldown"], config["ScaleInCooldown"]) == (
        1000,
        60,
        300,
    )
    assert stack.physical_id("RequestScaling") == policy["PolicyARN"]


def test_a_changed_policy_replaces_the_old_one_and_its_alarms(stack, aws):
    resource_id = stack.scalable_target()["ResourceId"]
    before = aws("cloudwatch").describe_alarms(AlarmNamePrefix=f"TargetTracking-{resource_id}")
    config = copy.deepcopy(
        template(stack.name)["Resources"]["RequestScaling"]["Properties"][
            "TargetTrackingScalingPolicyConfiguration"
        ]
    )
    config["TargetValue"] = 500
    stack.update(RequestScaling__TargetTrackingScalingPolicyConfiguration=config)
    (policy,) = stack.autoscaling.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=resource_id
    )["ScalingPolicies"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 500
    after = aws("cloudwatch").describe_alarms(AlarmNamePrefix=f"TargetTracking-{resource_id}")
    assert len(after["MetricAlarms"]) == len(before["MetricAlarms"]) == 2


def test_stack_delete_removes_load_balancing_and_scaling(stack, aws):
    balancer, group = stack.physical_id("LoadBalancer"), stack.physical_id("TargetGroup")
    resource_id = stack.scalable_target()["ResourceId"]
    stack.cfn.delete_stack(StackName=stack.name)

    assert balancer not in {
        b["LoadBalancerArn"] for b in stack.elb.describe_load_balancers()["LoadBalancers"]
    }
    assert group not in {
        g["TargetGroupArn"] for g in stack.elb.describe_target_groups()["TargetGroups"]
    }
    scaling = stack.autoscaling
    assert (
        scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
            "ScalableTargets"
        ]
        == []
    )
    assert (
        scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)[
            "ScalingPolicies"
        ]
        == []
    )
    alarms = aws("cloudwatch").describe_alarms(AlarmNamePrefix=f"TargetTracking-{resource_id}")
    assert alarms["MetricAlarms"] == []
