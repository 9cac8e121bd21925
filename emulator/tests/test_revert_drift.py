"""The emulator's drift-aware change sets (CreateChangeSet with DeploymentMode REVERT_DRIFT).

Each test creates a small stack of one resource kind on the session emulator, changes it by
hand through the service's API, asks for a drift-aware change set, checks DescribeChangeSet's
answer against AWS's documentation, executes it and checks the live value and a new drift
detection. Expected values come from "Using drift-aware change sets"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html,
below: GUIDE), the API reference of DescribeChangeSet's ResourceChange and
ResourceChangeDetail (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/
API_ResourceChange.html, API_ResourceTargetDefinition.html) and the launch post
(https://aws.amazon.com/blogs/devops/
safely-handle-configuration-drift-with-cloudformation-drift-aware-change-sets/, below: POST).
"""

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.tests.stacks import fargate_service
from emulator.tests.test_fidelity_lb import IMAGE as LB_IMAGE
from emulator.tests.test_fidelity_lb import template as lb_template

GUIDE = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html"
)


@pytest.fixture(scope="module")
def aws(emulator) -> Callable[[str], Any]:
    """Clients of the session emulator, shared by the module's tests."""
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = emulator.client(service)
        return clients[service]

    return client


@pytest.fixture(scope="module")
def vpc(aws) -> tuple[str, list[str]]:
    ec2 = aws("ec2")
    found = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [found["VpcId"]]}])
    return found["VpcId"], [s["SubnetId"] for s in subnets["Subnets"]][:2]


def wait_for(check: Callable[[], Any], limit: float = 30) -> Any:
    """check()'s first truthy answer, polled every 0.1 s."""
    deadline = time.monotonic() + limit
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def create_stack(aws, template: dict, name: str = "", **extra: Any) -> str:
    """Create a stack of template (named name, or a fresh name) and wait for CREATE_COMPLETE."""
    name = name or f"revert-{uuid.uuid4().hex[:8]}"
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), **extra)
    status = wait_for(
        lambda: (
            (s := cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
            != "CREATE_IN_PROGRESS"
            and s
        )
    )
    assert status == "CREATE_COMPLETE"
    return name


def physical_id(aws, stack: str, logical_id: str) -> str:
    found = aws("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId=logical_id
    )
    return found["StackResourceDetail"]["PhysicalResourceId"]


def revert_change_set(aws, stack: str) -> dict:
    """Create a drift-aware change set with the stack's template and describe it."""
    cfn = aws("cloudformation")
    name = f"revert-{uuid.uuid4().hex[:6]}"
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType="UPDATE",
        UsePreviousTemplate=True,
        DeploymentMode="REVERT_DRIFT",
    )
    return cfn.describe_change_set(StackName=stack, ChangeSetName=name)


def execute(aws, stack: str, change_set: dict) -> str:
    """Execute the change set; the stack's status once it settles."""
    cfn = aws("cloudformation")
    cfn.execute_change_set(StackName=stack, ChangeSetName=change_set["ChangeSetId"])
    return wait_for(
        lambda: (
            not (s := cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]).endswith(
                "IN_PROGRESS"
            )
            and s
        )
    )


def detect(aws, stack: str) -> str:
    """A new drift detection's StackDriftStatus."""
    cfn = aws("cloudformation")
    detection = cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    status = wait_for(
        lambda: (
            (s := cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection))[
                "DetectionStatus"
            ]
            != "DETECTION_IN_PROGRESS"
            and s
        )
    )
    return status["StackDriftStatus"]


def changes(change_set: dict) -> dict[str, dict]:
    return {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in change_set["Changes"]
    }


# --- security group rules and log retention ------------------------------------------------


def firewall_template(vpc_id: str) -> dict:
    """A security group open on 443 inside the VPC, and two log groups."""
    return {
        "Resources": {
            "Group": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": "tasks",
                    "VpcId": vpc_id,
                    "SecurityGroupIngress": [
                        {
                            "IpProtocol": "tcp",
                            "FromPort": 443,
                            "ToPort": 443,
                            "CidrIp": "10.0.0.0/16",
                        }
                    ],
                    "SecurityGroupEgress": [
                        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}
                    ],
                },
            },
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": f"/revert/{uuid.uuid4().hex[:8]}",
                    "RetentionInDays": 30,
                },
            },
            "Untouched": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": f"/revert/{uuid.uuid4().hex[:8]}",
                    "RetentionInDays": 7,
                },
            },
        }
    }


SSH_FROM_ANYWHERE = {
    "IpProtocol": "tcp",
    "FromPort": 22,
    "ToPort": 22,
    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
}


def open_ssh_and_keep_logs_a_day(aws, stack: str) -> tuple[str, str]:
    group = physical_id(aws, stack, "Group")
    logs = physical_id(aws, stack, "Logs")
    aws("ec2").authorize_security_group_ingress(GroupId=group, IpPermissions=[SSH_FROM_ANYWHERE])
    aws("logs").put_retention_policy(logGroupName=logs, retentionInDays=1)
    return group, logs


def ingress_ports(aws, group: str) -> list[int]:
    found = aws("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
    return sorted(p.get("FromPort") for p in found["IpPermissions"])


def retention(aws, name: str) -> int | None:
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next(g for g in groups if g["logGroupName"] == name).get("retentionInDays")


def test_an_ssh_rule_and_a_retention_changed_by_hand_are_previewed_and_reverted(aws, vpc):
    stack = create_stack(aws, firewall_template(vpc[0]))
    group, logs = open_ssh_and_keep_logs_a_day(aws, stack)

    change_set = revert_change_set(aws, stack)

    # Drift to revert: the change set can be executed (POST, scenario 2).
    assert (change_set["Status"], change_set["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
    # DescribeChangeSet: DeploymentMode and StackDriftStatus, "only present for drift-aware
    # change sets" (API_DescribeChangeSet.html).
    assert (change_set["DeploymentMode"], change_set["StackDriftStatus"]) == (
        "REVERT_DRIFT",
        "DRIFTED",
    )
    found = changes(change_set)
    # A resource in sync has nothing to put back: only the two drifted ones are listed.
    assert set(found) == {"Group", "Logs"}
    for change in found.values():
        # Properties changed in place: Modify, no replacement (API_ResourceChange.html).
        assert (change["Action"], change["Replacement"], change["Scope"]) == (
            "Modify",
            "False",
            ["Properties"],
        )
        assert change["ResourceDriftStatus"] == "MODIFIED"
        for detail in change["Details"]:
            # The before value is the live one, the after value the template's (GUIDE,
            # "BeforeValueFrom"; API_ResourceTargetDefinition.html: AfterValueFrom TEMPLATE).
            assert (detail["Target"]["BeforeValueFrom"], detail["Target"]["AfterValueFrom"]) == (
                "ACTUAL_STATE",
                "TEMPLATE",
            )
            assert detail["Target"]["Attribute"] == "Properties"

    (rule,) = found["Group"]["Details"]
    assert rule["Target"]["Name"] == "SecurityGroupIngress"
    # The rule added by hand is not in the template: the change removes it (POST, scenario 2:
    # "the SSH rule ... is not present in the proposed resource state ... will be removed").
    assert rule["Target"]["AttributeChangeType"] == "Remove"
    assert json.loads(rule["Target"]["BeforeValue"])["FromPort"] == 22
    assert "AfterValue" not in rule["Target"]

    (days,) = found["Logs"]["Details"]
    target = days["Target"]
    assert (target["Name"], target["Path"]) == ("RetentionInDays", "/Properties/RetentionInDays")
    assert (target["BeforeValue"], target["AfterValue"], target["AttributeChangeType"]) == (
        "1",
        "30",
        "Modify",
    )
    # Drift: the previous deployment's value and the live one (GUIDE, "Drift").
    assert (target["Drift"]["PreviousValue"], target["Drift"]["ActualValue"]) == ("30", "1")
    # BeforeContext / AfterContext: the resource's properties before and after, as JSON.
    before = json.loads(found["Logs"]["BeforeContext"])["Properties"]
    after = json.loads(found["Logs"]["AfterContext"])["Properties"]
    assert (before["RetentionInDays"], after["RetentionInDays"]) == ("1", "30")

    # Executed, it is an update like any other (POST, figure 13: stack events of the update).
    assert execute(aws, stack, change_set) == "UPDATE_COMPLETE"
    assert ingress_ports(aws, group) == [443]
    assert retention(aws, logs) == 30
    assert detect(aws, stack) == "IN_SYNC"


def test_a_stack_without_drift_gets_a_change_set_with_nothing_to_do(aws, vpc):
    stack = create_stack(aws, firewall_template(vpc[0]))

    change_set = revert_change_set(aws, stack)

    # Same template, same parameters, no drift: like any change set without changes, it
    # fails and cannot be executed (using-cfn-updating-stacks-changesets-create.html).
    assert (change_set["Status"], change_set["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert "didn't contain changes" in change_set["StatusReason"]
    assert change_set["StackDriftStatus"] == "IN_SYNC"
    assert change_set["Changes"] == []


def test_a_stack_policy_that_denies_the_update_rolls_the_revert_back(aws, vpc):
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "Update:Modify",
                "Principal": "*",
                "Resource": "LogicalResourceId/Logs",
            },
        ]
    }
    stack = create_stack(aws, firewall_template(vpc[0]), StackPolicyBody=json.dumps(policy))
    group, logs = open_ssh_and_keep_logs_a_day(aws, stack)
    change_set = revert_change_set(aws, stack)
    assert set(changes(change_set)) == {"Group", "Logs"}

    # The policy is enforced when the change set runs, as for any update
    # (protect-stack-resources.html): the denied resource fails, the stack rolls back, and a
    # drift-aware rollback restores "their actual pre-deployment state" (GUIDE).
    assert execute(aws, stack, change_set) == "UPDATE_ROLLBACK_COMPLETE"
    events = aws("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Logs"]
    assert failed[0]["ResourceStatusReason"].startswith("Action denied by stack policy")
    assert retention(aws, logs) == 1
    assert ingress_ports(aws, group) == [22, 443]
    assert detect(aws, stack) == "DRIFTED"


def test_only_update_change_sets_can_revert_drift(aws):
    with pytest.raises(ClientError) as refused:
        aws("cloudformation").create_change_set(
            StackName=f"revert-{uuid.uuid4().hex[:8]}",
            ChangeSetName="new",
            ChangeSetType="CREATE",
            TemplateBody=json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}),
            DeploymentMode="REVERT_DRIFT",
        )
    assert refused.value.response["Error"]["Code"] == "ValidationError"


# --- the service stack: scaling range, service, target group, load balancer ----------------


def service_stack(aws, subnets: list[str]) -> str:
    """test_fidelity_lb's service stack (autoscaling owns the desired count, as in
    templates/service.yaml.j2), its grace period declared."""
    vpc_id = aws("ec2").describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    name = f"revert-{uuid.uuid4().hex[:8]}"
    template = lb_template(name, Service__HealthCheckGracePeriodSeconds=60)
    return create_stack(
        aws,
        template,
        name,
        Parameters=[
            {"ParameterKey": "Image", "ParameterValue": LB_IMAGE},
            {"ParameterKey": "VpcId", "ParameterValue": vpc_id},
            {"ParameterKey": "SubnetIds", "ParameterValue": ",".join(subnets)},
        ],
    )


def test_scaling_range_service_and_load_balancing_settings_are_reverted(aws, vpc):
    stack = service_stack(aws, vpc[1])
    cluster = stack
    service_arn = physical_id(aws, stack, "Service")
    target_group = physical_id(aws, stack, "TargetGroup")
    load_balancer = physical_id(aws, stack, "LoadBalancer")
    scaling, ecs, elb = aws("application-autoscaling"), aws("ecs"), aws("elbv2")
    resource_id = f"service/{cluster}/{service_arn.rsplit('/', 1)[1]}"
    # By hand: the scaling range, the grace period, the count, two attributes, a health check.
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=50,
    )
    ecs.update_service(
        cluster=cluster, service=service_arn, healthCheckGracePeriodSeconds=600, desiredCount=7
    )
    elb.modify_target_group_attributes(
        TargetGroupArn=target_group,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}],
    )
    elb.modify_target_group(TargetGroupArn=target_group, HealthCheckPath="/")
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=load_balancer,
        Attributes=[{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"}],
    )

    change_set = revert_change_set(aws, stack)

    found = changes(change_set)
    assert set(found) == {"ScalableTarget", "Service", "TargetGroup", "LoadBalancer"}
    names = {k: {d["Target"]["Name"] for d in v["Details"]} for k, v in found.items()}
    assert names["ScalableTarget"] == {"MinCapacity", "MaxCapacity"}
    assert names["TargetGroup"] == {"TargetGroupAttributes", "HealthCheckPath"}
    assert names["LoadBalancer"] == {"LoadBalancerAttributes"}
    # The count a ScalableTarget of the stack manages is AWS-managed: its drift is kept
    # (GUIDE, "AWS-managed properties": "the desired count of an Amazon Elastic Container
    # Service" service), and the template does not declare it anyway.
    assert names["Service"] == {"HealthCheckGracePeriodSeconds"}

    assert execute(aws, stack, change_set) == "UPDATE_COMPLETE"
    (target,) = scaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource_id]
    )["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)
    (service,) = ecs.describe_services(cluster=cluster, services=[service_arn])["services"]
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert service["desiredCount"] == 7
    attributes = elb.describe_target_group_attributes(TargetGroupArn=target_group)["Attributes"]
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in attributes
    (group,) = elb.describe_target_groups(TargetGroupArns=[target_group])["TargetGroups"]
    assert group["HealthCheckPath"] == "/hello"
    attributes = elb.describe_load_balancer_attributes(LoadBalancerArn=load_balancer)
    assert {
        "Key": "routing.http.drop_invalid_header_fields.enabled",
        "Value": "true",
    } in attributes["Attributes"]
    assert detect(aws, stack) == "IN_SYNC"


def test_a_service_count_no_scalable_target_manages_is_reverted(aws, vpc):
    stack = create_stack(aws, fargate_service(vpc[1][0]))
    service_arn = physical_id(aws, stack, "Service")
    cluster = physical_id(aws, stack, "Cluster")
    aws("ecs").update_service(cluster=cluster, service=service_arn, desiredCount=4)

    change_set = revert_change_set(aws, stack)

    (detail,) = changes(change_set)["Service"]["Details"]
    assert (detail["Target"]["Name"], detail["Target"]["AfterValue"]) == ("DesiredCount", "1")
    assert execute(aws, stack, change_set) == "UPDATE_COMPLETE"
    (service,) = aws("ecs").describe_services(cluster=cluster, services=[service_arn])["services"]
    assert service["desiredCount"] == 1


def test_a_new_template_that_replaces_a_resource_says_so(aws, vpc):
    template = firewall_template(vpc[0])
    stack = create_stack(aws, template)
    template["Resources"]["Group"]["Properties"]["GroupDescription"] = "renamed"
    cfn = aws("cloudformation")
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName="replace",
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(template),
        DeploymentMode="REVERT_DRIFT",
    )

    change = changes(cfn.describe_change_set(StackName=stack, ChangeSetName="replace"))["Group"]

    # GroupDescription: "Update requires: Replacement" (aws-resource-ec2-securitygroup.html).
    assert (change["Action"], change["Replacement"]) == ("Modify", "True")
