"""Drift readers for the load balancing, storage, messaging and delivery types of the templates.

The companion of drift.py (which holds the ECS, logs, IAM role, security group and scalable
target readers and merges these); also the CloudWatch alarms and dashboard. Each reader
reads one resource's live state through the service's public API of the emulator, as
CloudFormation's read handler does, and returns it in CloudFormation's property names (None
where unset), or None when the resource is gone.
Nested keys may keep the API's camelCase: drift.align() matches them to the template's.

Where the emulator has no API for a type (moto 5.2.5 has no CodeStar Connections service),
the reader reads the emulator's own record of the resource (emulator/delivery.py); no call
can change it, so it drifts only by deletion with its stack.

The network types (VPC, subnet, route table, route, internet gateway and its attachment,
subnet association, VPC endpoint, NAT gateway, Elastic IP) are read through EC2's Describe*
calls, the read permissions their registry schemas list. Their Tags are not read: the
emulator's CloudFormation does not propagate stack tags to them as AWS does, so tags would
compare unlike AWS either way. Where moto's physical id is not AWS's (a route's
``rtb-...~cidr``, an attachment's VPC id, an association's route table id), the reader finds
the resource by the properties AWS identifies it by (the schema's primaryIdentifier), as
resolved from the template.

Key/value attribute lists (load balancer and target group attributes) come back from the
API with every attribute, the service's defaults included; only the keys the template sets
are compared, so that defaults are not reported as drift ("Objects in an array may be
actually service defaults", docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
using-cfn-stack-drift.html#drift-considerations).
"""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

Aws = Callable[[str], Any]

# Error codes that mean "this resource is gone", per service.
_GONE = {
    "LoadBalancerNotFound",
    "ListenerNotFound",
    "TargetGroupNotFound",
    "RuleNotFound",
    "NoSuchBucket",
    "NoSuchBucketPolicy",
    "NotFound",
    "NoSuchEntity",
    "ResourceNotFoundException",
    "PipelineNotFoundException",
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidVpnGatewayID.NotFound",
    "InvalidVpcEndpointId.NotFound",
    "NatGatewayNotFound",
    "InvalidNatGatewayID.NotFound",
    "InvalidAddress.NotFound",
}


def _gone(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in _GONE


def _json(document: Any) -> Any:
    """A JSON document as a dict, however the API returns it (text, URL-encoded text)."""
    if not isinstance(document, str):
        return document
    text = document if document.lstrip().startswith(("{", "[")) else unquote(document)
    return json.loads(text)


def _declared_attributes(live: list[dict[str, str]], expected: Any) -> list[dict[str, str]]:
    """Attributes the template sets, with their live values (see the module docstring)."""
    keys = [a.get("Key") for a in expected or [] if isinstance(a, dict)]
    by_key = {a["Key"]: a["Value"] for a in live}
    return [{"Key": k, "Value": by_key[k]} for k in keys if k in by_key]


# --- Elastic Load Balancing v2 ------------------------------------------------------------


def load_balancer(aws: Aws, physical_id: str, expected: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::ElasticLoadBalancingV2::LoadBalancer (physical id: its ARN)."""
    elb = aws("elbv2")
    try:
        (found,) = elb.describe_load_balancers(LoadBalancerArns=[physical_id])["LoadBalancers"]
    except ClientError as error:
        if _gone(error):
            return None
        raise
    attributes = elb.describe_load_balancer_attributes(LoadBalancerArn=physical_id)
    return {
        "Name": found["LoadBalancerName"],
        "Type": found["Type"],
        "Scheme": found["Scheme"],
        "IpAddressType": found.get("IpAddressType"),
        "Subnets": [zone["SubnetId"] for zone in found.get("AvailabilityZones", [])],
        "SecurityGroups": found.get("SecurityGroups"),
        "LoadBalancerAttributes": _declared_attributes(
            attributes["Attributes"], expected.get("LoadBalancerAttributes")
        ),
    }


def listener(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::ElasticLoadBalancingV2::Listener (physical id: its ARN)."""
    try:
        (found,) = aws("elbv2").describe_listeners(ListenerArns=[physical_id])["Listeners"]
    except ClientError as error:
        if _gone(error):
            return None
        raise
    return {
        "LoadBalancerArn": found["LoadBalancerArn"],
        "Port": found.get("Port"),
        "Protocol": found.get("Protocol"),
        "SslPolicy": found.get("SslPolicy"),
        "Certificates": [{"CertificateArn": c["CertificateArn"]} for c in found["Certificates"]]
        if found.get("Certificates")
        else None,
        "DefaultActions": found.get("DefaultActions"),
        "AlpnPolicy": found.get("AlpnPolicy"),
    }


# A target group's health check settings (also what emulator/drift_writers.py puts back).
HEALTH_CHECK_KEYS = (
    "HealthCheckEnabled",
    "HealthCheckProtocol",
    "HealthCheckPort",
    "HealthCheckPath",
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
    "Matcher",
)
_TARGET_GROUP_KEYS = (
    "Protocol",
    "ProtocolVersion",
    "Port",
    "VpcId",
    "TargetType",
    "IpAddressType",
    *HEALTH_CHECK_KEYS,
)


def target_group(aws: Aws, physical_id: str, expected: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::ElasticLoadBalancingV2::TargetGroup (physical id: its ARN)."""
    elb = aws("elbv2")
    try:
        (found,) = elb.describe_target_groups(TargetGroupArns=[physical_id])["TargetGroups"]
    except ClientError as error:
        if _gone(error):
            return None
        raise
    attributes = elb.describe_target_group_attributes(TargetGroupArn=physical_id)
    return {
        "Name": found["TargetGroupName"],
        **{key: found.get(key) for key in _TARGET_GROUP_KEYS},
        "TargetGroupAttributes": _declared_attributes(
            attributes["Attributes"], expected.get("TargetGroupAttributes")
        ),
    }


def listener_rule(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::ElasticLoadBalancingV2::ListenerRule (physical id: its ARN). ListenerArn is
    write-only in the type's schema (DescribeRules does not return it): not compared."""
    try:
        (found,) = aws("elbv2").describe_rules(RuleArns=[physical_id])["Rules"]
    except ClientError as error:
        if _gone(error):
            return None
        raise
    return {
        "Priority": found["Priority"],
        "Conditions": found.get("Conditions"),
        "Actions": found.get("Actions"),
    }


# --- S3 -----------------------------------------------------------------------------------


def _optional(call: Callable[[], dict[str, Any]], key: str, absent: set[str]) -> Any:
    """One configuration of a bucket, or None when the bucket has none."""
    try:
        return call()[key]
    except ClientError as error:
        if error.response["Error"]["Code"] in absent:
            return None
        raise


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A lifecycle rule of the API in CloudFormation's shape (LifecycleConfiguration.Rules)."""
    shaped: dict[str, Any] = {"Id": rule.get("ID"), "Status": rule["Status"]}
    expiration = rule.get("Expiration") or {}
    if "Days" in expiration:
        shaped["ExpirationInDays"] = expiration["Days"]
    if "NoncurrentVersionExpiration" in rule:
        shaped["NoncurrentVersionExpiration"] = rule["NoncurrentVersionExpiration"]
    prefix = (rule.get("Filter") or {}).get("Prefix") or rule.get("Prefix")
    if prefix:
        shaped["Prefix"] = prefix
    return shaped


def bucket(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::S3::Bucket (physical id: its name)."""
    s3 = aws("s3")
    try:
        s3.head_bucket(Bucket=physical_id)
    except ClientError as error:
        if error.response["Error"]["Code"] in {"404", "NoSuchBucket"}:
            return None
        raise
    versioning = s3.get_bucket_versioning(Bucket=physical_id).get("Status")
    encryption = _optional(
        lambda: s3.get_bucket_encryption(Bucket=physical_id),
        "ServerSideEncryptionConfiguration",
        {"ServerSideEncryptionConfigurationNotFoundError"},
    )
    public_access = _optional(
        lambda: s3.get_public_access_block(Bucket=physical_id),
        "PublicAccessBlockConfiguration",
        {"NoSuchPublicAccessBlockConfiguration"},
    )
    ownership = _optional(
        lambda: s3.get_bucket_ownership_controls(Bucket=physical_id),
        "OwnershipControls",
        {"OwnershipControlsNotFoundError"},
    )
    lifecycle = _optional(
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=physical_id),
        "Rules",
        {"NoSuchLifecycleConfiguration"},
    )
    return {
        "BucketName": physical_id,
        "VersioningConfiguration": {"Status": versioning} if versioning else None,
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": rule["ApplyServerSideEncryptionByDefault"],
                    "BucketKeyEnabled": rule.get("BucketKeyEnabled"),
                }
                for rule in encryption["Rules"]
            ]
        }
        if encryption
        else None,
        "PublicAccessBlockConfiguration": public_access,
        "OwnershipControls": ownership,
        "LifecycleConfiguration": {"Rules": [_lifecycle_rule(r) for r in lifecycle]}
        if lifecycle
        else None,
    }


def bucket_policy(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::S3::BucketPolicy (physical id: its bucket's name)."""
    try:
        document = aws("s3").get_bucket_policy(Bucket=physical_id)["Policy"]
    except ClientError as error:
        if _gone(error):
            return None
        raise
    return {"Bucket": physical_id, "PolicyDocument": _json(document)}


# --- SNS, IAM managed policies, EventBridge -----------------------------------------------


def topic(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::SNS::Topic (physical id: its ARN)."""
    sns = aws("sns")
    try:
        attributes = sns.get_topic_attributes(TopicArn=physical_id)["Attributes"]
    except ClientError as error:
        if _gone(error):
            return None
        raise
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=physical_id)["Subscriptions"]
    return {
        "TopicName": physical_id.rsplit(":", 1)[1],
        "DisplayName": attributes.get("DisplayName") or None,
        "FifoTopic": attributes.get("FifoTopic"),
        "ContentBasedDeduplication": attributes.get("ContentBasedDeduplication"),
        "Subscription": [
            {"Endpoint": s["Endpoint"], "Protocol": s["Protocol"]} for s in subscriptions
        ]
        or None,
    }


def managed_policy(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::IAM::ManagedPolicy (physical id: its ARN)."""
    iam = aws("iam")
    try:
        policy = iam.get_policy(PolicyArn=physical_id)["Policy"]
    except ClientError as error:
        if _gone(error):
            return None
        raise
    version = iam.get_policy_version(PolicyArn=physical_id, VersionId=policy["DefaultVersionId"])[
        "PolicyVersion"
    ]
    entities = iam.list_entities_for_policy(PolicyArn=physical_id)
    return {
        "ManagedPolicyName": policy["PolicyName"],
        "Path": policy.get("Path"),
        "Description": policy.get("Description") or None,
        "PolicyDocument": _json(version["Document"]),
        "Roles": [r["RoleName"] for r in entities.get("PolicyRoles", [])] or None,
        "Users": [u["UserName"] for u in entities.get("PolicyUsers", [])] or None,
        "Groups": [g["GroupName"] for g in entities.get("PolicyGroups", [])] or None,
    }


def events_rule(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::Events::Rule on the default bus (physical id: its name)."""
    events = aws("events")
    try:
        rule = events.describe_rule(Name=physical_id)
    except ClientError as error:
        if _gone(error):
            return None
        raise
    targets = events.list_targets_by_rule(Rule=physical_id)["Targets"]
    return {
        "Name": rule["Name"],
        "Description": rule.get("Description"),
        "ScheduleExpression": rule.get("ScheduleExpression"),
        "EventPattern": _json(rule["EventPattern"]) if rule.get("EventPattern") else None,
        "State": rule.get("State"),
        "RoleArn": rule.get("RoleArn"),
        "Targets": targets or None,
    }


# --- CloudWatch: the service's alarms and dashboard (templates/partials/) ----------------


def _like(actual: Any, declared: Any) -> Any:
    """A number the API answers as a float (Threshold 2.0) as the template writes it (2)."""
    if isinstance(declared, int) and isinstance(actual, float) and actual.is_integer():
        return int(actual)
    return actual


_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "ThresholdMetricId",
)


def alarm(aws: Aws, physical_id: str, expected: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::CloudWatch::Alarm (physical id: its name), as DescribeAlarms answers it (the
    read permission the type's schema lists). Empty lists read as unset."""
    found = aws("cloudwatch").describe_alarms(AlarmNames=[physical_id], AlarmTypes=["MetricAlarm"])
    if not found["MetricAlarms"]:
        return None
    (live,) = found["MetricAlarms"]
    return {
        "AlarmName": live["AlarmName"],
        **{key: live.get(key) for key in _ALARM_KEYS},
        "Threshold": _like(live.get("Threshold"), expected.get("Threshold")),
        "Dimensions": live.get("Dimensions") or None,
        "Metrics": live.get("Metrics") or None,
        "AlarmActions": live.get("AlarmActions") or None,
        "OKActions": live.get("OKActions") or None,
        "InsufficientDataActions": live.get("InsufficientDataActions") or None,
    }


def dashboard(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::CloudWatch::Dashboard (physical id: its name). The body is a String property:
    compared as the text CloudWatch keeps."""
    try:
        found = aws("cloudwatch").get_dashboard(DashboardName=physical_id)
    except ClientError as error:
        if error.response["Error"]["Code"] in {"ResourceNotFound", "ResourceNotFoundException"}:
            return None
        raise
    return {"DashboardName": found["DashboardName"], "DashboardBody": found["DashboardBody"]}


# --- delivery: CodePipeline, CodeStar Connections, Application Auto Scaling policies ------


def pipeline(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::CodePipeline::Pipeline (physical id: its name). Action configurations keep the
    keys the API and the template both spell as given (ProjectName, BranchName, ...)."""
    try:
        found = aws("codepipeline").get_pipeline(name=physical_id)["pipeline"]
    except ClientError as error:
        if _gone(error):
            return None
        raise
    return {
        "Name": found["name"],
        "RoleArn": found["roleArn"],
        "ArtifactStore": found.get("artifactStore"),
        "ArtifactStores": found.get("artifactStores"),
        "Stages": found.get("stages"),
        "PipelineType": found.get("pipelineType"),
        "ExecutionMode": found.get("executionMode"),
        "Variables": found.get("variables"),
        "Triggers": found.get("triggers"),
    }


def connection(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::CodeStarConnections::Connection (physical id: its ARN), from the emulator's own
    record (emulator/delivery.py): moto has no CodeStar Connections API."""
    from emulator import delivery  # the emulator's record of connections, kept in-process

    return delivery.connection_state(physical_id)


def scaling_policy(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::ApplicationAutoScaling::ScalingPolicy (physical id: its ARN, which names the
    namespace: ...:resource/ecs/service/...). ScalingTargetId is write-only in the type's
    schema (DescribeScalingPolicies does not return it): not compared."""
    namespace = physical_id.split(":resource/", 1)[1].split("/", 1)[0]
    paginator = aws("application-autoscaling").get_paginator("describe_scaling_policies")
    for page in paginator.paginate(ServiceNamespace=namespace):
        for policy in page["ScalingPolicies"]:
            if policy["PolicyARN"] == physical_id:
                return {
                    "PolicyName": policy["PolicyName"],
                    "PolicyType": policy["PolicyType"],
                    "ResourceId": policy["ResourceId"],
                    "ScalableDimension": policy["ScalableDimension"],
                    "ServiceNamespace": policy["ServiceNamespace"],
                    "TargetTrackingScalingPolicyConfiguration": policy.get(
                        "TargetTrackingScalingPolicyConfiguration"
                    ),
                    "StepScalingPolicyConfiguration": policy.get("StepScalingPolicyConfiguration"),
                }
    return None


# --- EC2 networking: the network stack (templates/network.yaml.j2) -------------------------


def _ec2_one(call: Callable[..., dict[str, Any]], key: str, **ids: Any) -> dict[str, Any] | None:
    """The one item an EC2 Describe* call answers for an id, or None when it is gone."""
    try:
        found = call(**ids)[key]
    except ClientError as error:
        if _gone(error):
            return None
        raise
    return found[0] if found else None


def vpc(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::EC2::VPC (physical id: its id). The DNS settings are VPC attributes, read one by
    one (DescribeVpcAttribute), as the schema's read handler does."""
    ec2 = aws("ec2")
    found = _ec2_one(ec2.describe_vpcs, "Vpcs", VpcIds=[physical_id])
    if found is None:
        return None

    def attribute(name: str) -> bool | None:
        answer = ec2.describe_vpc_attribute(VpcId=physical_id, Attribute=name)
        return (answer.get(name[0].upper() + name[1:]) or {}).get("Value")

    return {
        "CidrBlock": found["CidrBlock"],
        "InstanceTenancy": found.get("InstanceTenancy"),
        "EnableDnsSupport": attribute("enableDnsSupport"),
        "EnableDnsHostnames": attribute("enableDnsHostnames"),
    }


def subnet(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::EC2::Subnet (physical id: its id)."""
    found = _ec2_one(aws("ec2").describe_subnets, "Subnets", SubnetIds=[physical_id])
    if found is None:
        return None
    ipv6 = [a["Ipv6CidrBlock"] for a in found.get("Ipv6CidrBlockAssociationSet", [])]
    return {
        "VpcId": found["VpcId"],
        "CidrBlock": found.get("CidrBlock"),
        "AvailabilityZone": found.get("AvailabilityZone"),
        "AvailabilityZoneId": found.get("AvailabilityZoneId"),
        "MapPublicIpOnLaunch": found.get("MapPublicIpOnLaunch"),
        "AssignIpv6AddressOnCreation": found.get("AssignIpv6AddressOnCreation"),
        "Ipv6CidrBlock": ipv6[0] if ipv6 else None,
        "EnableDns64": found.get("EnableDns64"),
        "Ipv6Native": found.get("Ipv6Native"),
        "OutpostArn": found.get("OutpostArn"),
        "PrivateDnsNameOptionsOnLaunch": found.get("PrivateDnsNameOptionsOnLaunch"),
    }


def _route_table(aws: Aws, route_table_id: str | None) -> dict[str, Any] | None:
    if not route_table_id:
        return None
    return _ec2_one(aws("ec2").describe_route_tables, "RouteTables", RouteTableIds=[route_table_id])


def route_table(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::EC2::RouteTable (physical id: its id)."""
    found = _route_table(aws, physical_id)
    return None if found is None else {"VpcId": found["VpcId"]}


# A route's CloudFormation properties that DescribeRouteTables spells alike.
_ROUTE_KEYS = (
    "DestinationCidrBlock",
    "DestinationIpv6CidrBlock",
    "DestinationPrefixListId",
    "GatewayId",
    "NatGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "EgressOnlyInternetGatewayId",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
)
_DESTINATIONS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")


def route(aws: Aws, physical_id: str, expected: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::EC2::Route, found by its table and destination (the schema's primaryIdentifier:
    RouteTableId and the destination; moto's physical id is ``rtb-...~destination``)."""
    table_id = expected.get("RouteTableId") or physical_id.split("~", 1)[0]
    table = _route_table(aws, table_id)
    if table is None:
        return None
    wanted = [(key, expected[key]) for key in _DESTINATIONS if expected.get(key)]
    if not wanted and "~" in physical_id:
        wanted = [(key, physical_id.split("~", 1)[1]) for key in _DESTINATIONS]
    for found in table.get("Routes", []):
        if any(found.get(key) == value for key, value in wanted):
            return {"RouteTableId": table_id, **{key: found.get(key) for key in _ROUTE_KEYS}}
    return None


def internet_gateway(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::EC2::InternetGateway (physical id: its id). It has no property but its Tags
    (not read, see the module docstring): it drifts only by deletion."""
    found = _ec2_one(
        aws("ec2").describe_internet_gateways, "InternetGateways", InternetGatewayIds=[physical_id]
    )
    return None if found is None else {}


def gateway_attachment(
    aws: Aws, physical_id: str, expected: dict[str, Any]
) -> dict[str, Any] | None:
    """AWS::EC2::VPCGatewayAttachment, found by its gateway and VPC (moto's physical id is the
    VPC's id). Detached, the attachment no longer exists: None (DELETED)."""
    vpc_id = expected.get("VpcId") or physical_id
    ec2 = aws("ec2")
    if expected.get("VpnGatewayId"):
        gateway_id = expected["VpnGatewayId"]
        found = _ec2_one(ec2.describe_vpn_gateways, "VpnGateways", VpnGatewayIds=[gateway_id])
        attachments = (found or {}).get("VpcAttachments", [])
        key = "VpnGatewayId"
    else:
        gateway_id = expected.get("InternetGatewayId")
        found = _ec2_one(
            ec2.describe_internet_gateways, "InternetGateways", InternetGatewayIds=[gateway_id]
        )
        attachments = (found or {}).get("Attachments", [])
        key = "InternetGatewayId"
    attached = [a for a in attachments if a.get("VpcId") == vpc_id and a.get("State") != "detached"]
    return {"VpcId": vpc_id, key: gateway_id} if attached else None


def subnet_route_table_association(
    aws: Aws, physical_id: str, expected: dict[str, Any]
) -> dict[str, Any] | None:
    """AWS::EC2::SubnetRouteTableAssociation (on AWS, physical id: the association's id;
    moto's is the route table's id). An association replaced or removed is gone (a new
    association has a new id): None (DELETED)."""
    if physical_id.startswith("rtbassoc-"):
        filters = [{"Name": "association.route-table-association-id", "Values": [physical_id]}]
    else:
        filters = [
            {"Name": "route-table-id", "Values": [physical_id]},
            {"Name": "association.subnet-id", "Values": [expected.get("SubnetId", "")]},
        ]
    tables = aws("ec2").describe_route_tables(Filters=filters)["RouteTables"]
    for table in tables:
        for association in table.get("Associations", []):
            wanted = (
                association.get("RouteTableAssociationId") == physical_id
                if physical_id.startswith("rtbassoc-")
                else association.get("SubnetId") == expected.get("SubnetId")
                and association.get("RouteTableId") == physical_id
            )
            if wanted:
                return {
                    "SubnetId": association.get("SubnetId"),
                    "RouteTableId": association.get("RouteTableId"),
                }
    return None


def vpc_endpoint(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::EC2::VPCEndpoint (physical id: its id)."""
    found = _ec2_one(
        aws("ec2").describe_vpc_endpoints, "VpcEndpoints", VpcEndpointIds=[physical_id]
    )
    if found is None or found.get("State", "").lower() in {"deleted", "deleting"}:
        return None
    return {
        "VpcId": found["VpcId"],
        "ServiceName": found["ServiceName"],
        "VpcEndpointType": found.get("VpcEndpointType"),
        "PolicyDocument": _json(found["PolicyDocument"]) if found.get("PolicyDocument") else None,
        "PrivateDnsEnabled": found.get("PrivateDnsEnabled"),
        "RouteTableIds": found.get("RouteTableIds") or None,
        "SubnetIds": found.get("SubnetIds") or None,
        "SecurityGroupIds": [g["GroupId"] for g in found.get("Groups", [])] or None,
        "IpAddressType": found.get("IpAddressType"),
        "DnsOptions": found.get("DnsOptions"),
    }


def nat_gateway(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::EC2::NatGateway (physical id: its id). A deleted gateway stays listed a while in
    state ``deleted``: gone."""
    found = _ec2_one(aws("ec2").describe_nat_gateways, "NatGateways", NatGatewayIds=[physical_id])
    if found is None or found.get("State") in {"deleted", "deleting", "failed"}:
        return None
    addresses = found.get("NatGatewayAddresses", [])
    primary = next((a for a in addresses if a.get("IsPrimary", True)), {})
    secondary = [a for a in addresses if a is not primary]
    return {
        "SubnetId": found["SubnetId"],
        "VpcId": found.get("VpcId"),
        "ConnectivityType": found.get("ConnectivityType"),
        "AllocationId": primary.get("AllocationId"),
        "PrivateIpAddress": primary.get("PrivateIp"),
        "SecondaryAllocationIds": [a["AllocationId"] for a in secondary if "AllocationId" in a]
        or None,
        "SecondaryPrivateIpAddresses": [a["PrivateIp"] for a in secondary if "PrivateIp" in a]
        or None,
    }


def elastic_ip(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    """AWS::EC2::EIP (physical id: its public address)."""
    found = _ec2_one(aws("ec2").describe_addresses, "Addresses", PublicIps=[physical_id])
    if found is None:
        return None
    return {
        "Domain": found.get("Domain"),
        "InstanceId": found.get("InstanceId"),
        "NetworkBorderGroup": found.get("NetworkBorderGroup"),
        "PublicIpv4Pool": found.get("PublicIpv4Pool"),
    }


READERS: dict[str, Callable[[Aws, str, dict[str, Any]], dict[str, Any] | None]] = {
    "AWS::ElasticLoadBalancingV2::LoadBalancer": load_balancer,
    "AWS::ElasticLoadBalancingV2::Listener": listener,
    "AWS::ElasticLoadBalancingV2::TargetGroup": target_group,
    "AWS::ElasticLoadBalancingV2::ListenerRule": listener_rule,
    "AWS::S3::Bucket": bucket,
    "AWS::S3::BucketPolicy": bucket_policy,
    "AWS::SNS::Topic": topic,
    "AWS::IAM::ManagedPolicy": managed_policy,
    "AWS::Events::Rule": events_rule,
    "AWS::CodePipeline::Pipeline": pipeline,
    "AWS::CodeStarConnections::Connection": connection,
    "AWS::ApplicationAutoScaling::ScalingPolicy": scaling_policy,
    "AWS::EC2::VPC": vpc,
    "AWS::EC2::Subnet": subnet,
    "AWS::EC2::RouteTable": route_table,
    "AWS::EC2::Route": route,
    "AWS::EC2::InternetGateway": internet_gateway,
    "AWS::EC2::VPCGatewayAttachment": gateway_attachment,
    "AWS::EC2::SubnetRouteTableAssociation": subnet_route_table_association,
    "AWS::EC2::VPCEndpoint": vpc_endpoint,
    "AWS::EC2::NatGateway": nat_gateway,
    "AWS::EC2::EIP": elastic_ip,
    "AWS::CloudWatch::Alarm": alarm,
    "AWS::CloudWatch::Dashboard": dashboard,
}
