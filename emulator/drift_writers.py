"""Writers that put a drifted resource's properties back, for drift-aware change sets.

The counterpart of the drift readers (drift.py, drift_readers.py): a writer sets the live
resource's properties to given values through the service's public API of the emulator, as
CloudFormation's update handler does. revert_drift.py calls it with the template's values to
revert drift, and with the values read before the change set ran to roll a failed execution
back ("If the deployment fails, CloudFormation will roll back resources to their actual
pre-deployment state": docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
drift-aware-change-sets.html).

A writer receives ``wanted`` (the properties to set, in CloudFormation's names, already
resolved) and ``live`` (what the matching reader returned, aligned to the template's
spelling), and writes only what differs. WRITABLE lists, per type, the properties a writer
can set; a drifted property not listed there is not reverted (revert_drift.py says so). What
moto does not store cannot drift through its API, so it needs no writer (an ECS service's
DeploymentConfiguration, for one: moto's UpdateService ignores it).
"""

from collections.abc import Callable
from typing import Any

from emulator.drift_readers import HEALTH_CHECK_KEYS

Aws = Callable[[str], Any]
Writer = Callable[[Aws, str, dict[str, Any], dict[str, Any]], None]


# --- security groups ----------------------------------------------------------------------


def _permission(rule: dict[str, Any], peer: str) -> dict[str, Any]:
    """One CloudFormation SecurityGroup*gress item as an EC2 IpPermission."""
    permission: dict[str, Any] = {"IpProtocol": str(rule["IpProtocol"])}
    if permission["IpProtocol"] not in ("-1", "all"):
        permission.update(FromPort=int(rule["FromPort"]), ToPort=int(rule["ToPort"]))
    described = {"Description": rule["Description"]} if rule.get("Description") else {}
    if rule.get("CidrIp"):
        permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], **described}]
    elif rule.get("CidrIpv6"):
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **described}]
    elif rule.get(f"{peer}SecurityGroupId"):
        permission["UserIdGroupPairs"] = [{"GroupId": rule[f"{peer}SecurityGroupId"], **described}]
    return permission


def _rule_key(rule: dict[str, Any], peer: str) -> tuple:
    protocol = str(rule.get("IpProtocol"))
    ports = (
        (None, None) if protocol in ("-1", "all") else (rule.get("FromPort"), rule.get("ToPort"))
    )
    return (
        protocol,
        None if ports[0] is None else int(ports[0]),
        None if ports[1] is None else int(ports[1]),
        rule.get("CidrIp"),
        rule.get("CidrIpv6"),
        rule.get(f"{peer}SecurityGroupId"),
        rule.get("Description") or None,
    )


def _set_rules(aws: Aws, group_id: str, wanted: list, live: list, egress: bool) -> None:
    peer = "Destination" if egress else "Source"
    wanted_keys = {_rule_key(r, peer) for r in wanted}
    live_keys = {_rule_key(r, peer) for r in live}
    extra = [_permission(r, peer) for r in live if _rule_key(r, peer) not in wanted_keys]
    missing = [_permission(r, peer) for r in wanted if _rule_key(r, peer) not in live_keys]
    ec2 = aws("ec2")
    revoke = ec2.revoke_security_group_egress if egress else ec2.revoke_security_group_ingress
    authorize = (
        ec2.authorize_security_group_egress if egress else ec2.authorize_security_group_ingress
    )
    if extra:
        revoke(GroupId=group_id, IpPermissions=extra)
    if missing:
        authorize(GroupId=group_id, IpPermissions=missing)


def security_group(aws: Aws, group_id: str, wanted: dict[str, Any], live: dict[str, Any]) -> None:
    """AWS::EC2::SecurityGroup: its ingress and egress rules. A template without egress rules
    means EC2's default, all traffic out (AWS::EC2::SecurityGroup reference)."""
    if "SecurityGroupIngress" in wanted:
        _set_rules(
            aws,
            group_id,
            wanted["SecurityGroupIngress"] or [],
            live.get("SecurityGroupIngress") or [],
            egress=False,
        )
    if "SecurityGroupEgress" in wanted:
        _set_rules(
            aws,
            group_id,
            wanted["SecurityGroupEgress"] or [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}],
            live.get("SecurityGroupEgress") or [],
            egress=True,
        )


# --- logs, scaling, ECS -------------------------------------------------------------------


def log_group(aws: Aws, name: str, wanted: dict[str, Any], _: dict[str, Any]) -> None:
    """AWS::Logs::LogGroup: RetentionInDays (none: kept forever)."""
    if "RetentionInDays" in wanted:
        logs = aws("logs")
        if wanted["RetentionInDays"] is None:
            logs.delete_retention_policy(logGroupName=name)
        else:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(wanted["RetentionInDays"])
            )


def scalable_target(aws: Aws, physical_id: str, wanted: dict[str, Any], _: dict) -> None:
    """AWS::ApplicationAutoScaling::ScalableTarget: MinCapacity and MaxCapacity."""
    resource_id, dimension, namespace = physical_id.split("|")
    limits = {k: int(wanted[k]) for k in ("MinCapacity", "MaxCapacity") if k in wanted}
    aws("application-autoscaling").register_scalable_target(
        ServiceNamespace=namespace,
        ResourceId=resource_id,
        ScalableDimension=dimension,
        **limits,
    )


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _api_shape(value: Any) -> Any:
    """A CloudFormation property value with the ECS API's camelCase keys."""
    if isinstance(value, dict):
        return {_camel(k): _api_shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_api_shape(v) for v in value]
    return value


# CloudFormation name -> UpdateService parameter, for what moto's UpdateService stores.
_SERVICE_PARAMETERS = {
    "DesiredCount": "desiredCount",
    "TaskDefinition": "taskDefinition",
    "PlatformVersion": "platformVersion",
    "HealthCheckGracePeriodSeconds": "healthCheckGracePeriodSeconds",
    "EnableExecuteCommand": "enableExecuteCommand",
    "PropagateTags": "propagateTags",
    "EnableECSManagedTags": "enableECSManagedTags",
    "NetworkConfiguration": "networkConfiguration",
    "LoadBalancers": "loadBalancers",
    "CapacityProviderStrategy": "capacityProviderStrategy",
}


def service(aws: Aws, arn: str, wanted: dict[str, Any], _: dict[str, Any]) -> None:
    """AWS::ECS::Service: the settings UpdateService takes."""
    cluster = arn.split(":")[-1].split("/")[1]  # ...:service/CLUSTER/NAME
    changes = {
        parameter: _api_shape(wanted[name])
        for name, parameter in _SERVICE_PARAMETERS.items()
        if name in wanted
    }
    if "desiredCount" in changes:
        changes["desiredCount"] = int(changes["desiredCount"])
    if "healthCheckGracePeriodSeconds" in changes:
        changes["healthCheckGracePeriodSeconds"] = int(changes["healthCheckGracePeriodSeconds"])
    if changes:
        aws("ecs").update_service(cluster=cluster, service=arn, **changes)


# --- Elastic Load Balancing v2 ------------------------------------------------------------


def load_balancer(aws: Aws, arn: str, wanted: dict[str, Any], _: dict[str, Any]) -> None:
    """AWS::ElasticLoadBalancingV2::LoadBalancer: attributes the template sets, security
    groups, subnets, IP address type."""
    elb = aws("elbv2")
    if wanted.get("LoadBalancerAttributes"):
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=arn,
            Attributes=[
                {"Key": a["Key"], "Value": str(a["Value"])}
                for a in wanted["LoadBalancerAttributes"]
            ],
        )
    if "SecurityGroups" in wanted:
        elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=wanted["SecurityGroups"])
    if "Subnets" in wanted:
        elb.set_subnets(LoadBalancerArn=arn, Subnets=wanted["Subnets"])
    if "IpAddressType" in wanted:
        elb.set_ip_address_type(LoadBalancerArn=arn, IpAddressType=wanted["IpAddressType"])


_INTEGERS = {
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
}


def target_group(aws: Aws, arn: str, wanted: dict[str, Any], _: dict[str, Any]) -> None:
    """AWS::ElasticLoadBalancingV2::TargetGroup: attributes the template sets and the health
    check (ModifyTargetGroup)."""
    elb = aws("elbv2")
    if wanted.get("TargetGroupAttributes"):
        elb.modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[
                {"Key": a["Key"], "Value": str(a["Value"])} for a in wanted["TargetGroupAttributes"]
            ],
        )
    health = {k: wanted[k] for k in HEALTH_CHECK_KEYS if k in wanted}
    for key in _INTEGERS & set(health):
        health[key] = int(health[key])
    if "HealthCheckEnabled" in health:
        health["HealthCheckEnabled"] = str(health["HealthCheckEnabled"]).lower() == "true"
    if health:
        elb.modify_target_group(TargetGroupArn=arn, **health)


WRITERS: dict[str, Writer] = {
    "AWS::EC2::SecurityGroup": security_group,
    "AWS::Logs::LogGroup": log_group,
    "AWS::ApplicationAutoScaling::ScalableTarget": scalable_target,
    "AWS::ECS::Service": service,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": load_balancer,
    "AWS::ElasticLoadBalancingV2::TargetGroup": target_group,
}

# Properties each writer can set (see the module docstring).
WRITABLE: dict[str, frozenset[str]] = {
    "AWS::EC2::SecurityGroup": frozenset({"SecurityGroupIngress", "SecurityGroupEgress"}),
    "AWS::Logs::LogGroup": frozenset({"RetentionInDays"}),
    "AWS::ApplicationAutoScaling::ScalableTarget": frozenset({"MinCapacity", "MaxCapacity"}),
    "AWS::ECS::Service": frozenset(_SERVICE_PARAMETERS),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": frozenset(
        {"LoadBalancerAttributes", "SecurityGroups", "Subnets", "IpAddressType"}
    ),
    "AWS::ElasticLoadBalancingV2::TargetGroup": frozenset(
        {"TargetGroupAttributes", *HEALTH_CHECK_KEYS}
    ),
}
