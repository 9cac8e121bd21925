"""Make moto's CloudFormation keep what the load balancer and autoscaling templates declare.

The companion of fidelity.py, which installs it: the same kind of seam, for
templates/load-balancer.yaml.j2 and the target group, listener rule and autoscaling of
templates/service.yaml.j2. In moto 5.2.5, through CloudFormation:

- a load balancer loses its LoadBalancerAttributes (invalid-header dropping, access logs);
  a target group loses its TargetGroupAttributes (the deregistration delay);
- neither has an update handler, so an update that touches one leaves the stack without
  it; target groups, listeners and listener rules outlive their stack;
- Fn::GetAtt LoadBalancer.LoadBalancerFullName resolves to the text of the GetAtt itself,
  and any Fn::GetAtt of a target group fails;
- AWS::ApplicationAutoScaling::ScalableTarget and ScalingPolicy are skipped;
- AWS::S3::BucketPolicy is skipped, so ELB's access-log check (emulator/refuse_elb.py) would
  never see the policy the template gives the log bucket;
- S3's own bucket-policy check (``FakeBucket.get_permission``) takes a statement whose
  Condition it cannot evaluate as an explicit deny, so the TLS-only Deny statement every
  template declares would refuse every object request.

What this module does instead, through moto's own ELBv2 and Application Auto Scaling
backends (whose APIs model all of it):

- load balancers and target groups are created with their attributes, updated in place,
  and (with listeners and rules) deleted with their stack; a change that would replace a
  load balancer or target group is refused with an error rather than done by half;
- those GetAtts resolve as on AWS (app/NAME/ID, targetgroup/NAME/ID, ...);
- bucket policies are put on their bucket (PutBucketPolicy), replaced on update and deleted
  with their stack; the S3 check ignores statements with a Condition (the emulator has no
  request context to evaluate them with: no TLS, no source address);
- a load balancer whose attributes ELB refuses (emulator/refuse_elb.py) is deleted again, as
  CloudFormation's handler leaves nothing of a resource that failed to create;
- scalable targets and scaling policies are registered as CloudFormation would, and
  registering a target moves an ECS service's desired count into [min, max] at once, as
  RegisterScalableTarget does. Policies are stored (with moto's alarms) but never act:
  the emulator has no load.
"""

import contextlib
import json
from typing import Any

from moto.applicationautoscaling import models as aas
from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.core.common_models import CloudFormationModel
from moto.ecs import models as ecs
from moto.elbv2 import exceptions as elb_errors
from moto.elbv2 import models as elbv2
from moto.iam.access_control import PermissionResult
from moto.s3 import models as s3

from emulator import task_lifecycle


def _elbv2(account_id: str, region_name: str) -> Any:
    return elbv2.elbv2_backends[account_id][region_name]


def _attributes(props: dict[str, Any], key: str) -> dict[str, str]:
    """A CloudFormation Key/Value attribute list as the API's mapping, values as strings."""
    return {item["Key"]: _text(item["Value"]) for item in props.get(key, [])}


def _text(value: Any) -> str:
    # The API takes "true", not Python's "True", for a YAML boolean.
    return str(value).lower() if isinstance(value, bool) else str(value)


def _refuse_replacement(kind: str, name: str, changed: list[str]) -> None:
    if changed:
        raise ValidationError(
            message=f"the emulator cannot replace {kind} {name} "
            f"(changed: {', '.join(changed)}); delete the stack and launch it again"
        )


# --- AWS::ElasticLoadBalancingV2::LoadBalancer -------------------------------------------


def _create_load_balancer(cls, resource_name, cloudformation_json, account_id, region_name, **_):
    props = cloudformation_json["Properties"]
    backend = _elbv2(account_id, region_name)
    balancer = backend.create_load_balancer(
        name=resource_name,
        security_groups=props.get("SecurityGroups", []),
        subnet_ids=props.get("Subnets", []),
        scheme=props.get("Scheme", "internet-facing"),
        loadbalancer_type=props.get("Type", "application"),
        ip_address_type=props.get("IpAddressType", "ipv4"),
        tags=props.get("Tags"),
    )
    try:
        backend.modify_load_balancer_attributes(
            balancer.arn, _attributes(props, "LoadBalancerAttributes")
        )
    except Exception:
        backend.delete_load_balancer(balancer.arn)
        raise
    return balancer


def _update_load_balancer(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    props = cloudformation_json["Properties"]
    backend = _elbv2(account_id, region_name)
    current = {
        "Name": original_resource.name,
        "Scheme": original_resource.scheme,
        "Type": original_resource.type,
    }
    declared = {
        "Name": props.get("Name", original_resource.name),
        "Scheme": props.get("Scheme", "internet-facing"),
        "Type": props.get("Type", "application"),
    }
    changed = [key for key in current if current[key] != declared[key]]
    _refuse_replacement("load balancer", original_resource.name, changed)
    backend.set_security_groups(original_resource.arn, props.get("SecurityGroups", []))
    backend.set_subnets(original_resource.arn, props.get("Subnets", []), [])
    backend.modify_load_balancer_attributes(
        original_resource.arn, _attributes(props, "LoadBalancerAttributes")
    )
    return original_resource


_moto_load_balancer_attribute = elbv2.FakeLoadBalancer.get_cfn_attribute


def _load_balancer_attribute(self, attribute_name: str) -> Any:
    if attribute_name == "LoadBalancerFullName":
        return self.arn.split(":loadbalancer/")[1]  # app/NAME/ID
    if attribute_name == "CanonicalHostedZoneID":
        return self.canonical_hosted_zone_id
    if attribute_name == "SecurityGroups":
        return self.security_groups
    return _moto_load_balancer_attribute(self, attribute_name)


# --- AWS::ElasticLoadBalancingV2::TargetGroup --------------------------------------------

# Target group properties that CloudFormation can change only by replacing the group.
_TARGET_GROUP_IDENTITY = {
    "Name": "name",
    "Port": "port",
    "Protocol": "protocol",
    "TargetType": "target_type",
    "VpcId": "vpc_id",
}


def _create_target_group(cls, resource_name, cloudformation_json, account_id, region_name, **_):
    props = cloudformation_json["Properties"]
    backend = _elbv2(account_id, region_name)
    enabled = props.get("HealthCheckEnabled")
    group = backend.create_target_group(
        name=resource_name,
        vpc_id=props.get("VpcId"),
        protocol=props.get("Protocol"),
        protocol_version=props.get("ProtocolVersion"),
        port=props.get("Port"),
        healthcheck_protocol=props.get("HealthCheckProtocol"),
        healthcheck_port=props.get("HealthCheckPort"),
        healthcheck_path=props.get("HealthCheckPath"),
        healthcheck_interval_seconds=props.get("HealthCheckIntervalSeconds"),
        healthcheck_timeout_seconds=props.get("HealthCheckTimeoutSeconds"),
        healthcheck_enabled=None if enabled is None else str(enabled).lower(),
        healthy_threshold_count=props.get("HealthyThresholdCount"),
        unhealthy_threshold_count=props.get("UnhealthyThresholdCount"),
        matcher=props.get("Matcher"),
        target_type=props.get("TargetType"),
        tags=props.get("Tags"),
    )
    backend.modify_target_group_attributes(group.arn, _attributes(props, "TargetGroupAttributes"))
    return group


def _update_target_group(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    props = cloudformation_json["Properties"]
    backend = _elbv2(account_id, region_name)
    changed = [
        prop
        for prop, attribute in _TARGET_GROUP_IDENTITY.items()
        if prop in props and str(props[prop]) != str(getattr(original_resource, attribute))
    ]
    _refuse_replacement("target group", original_resource.name, changed)
    enabled = props.get("HealthCheckEnabled")
    backend.modify_target_group(
        original_resource.arn,
        health_check_proto=props.get("HealthCheckProtocol"),
        health_check_port=props.get("HealthCheckPort"),
        health_check_path=props.get("HealthCheckPath"),
        health_check_interval=props.get("HealthCheckIntervalSeconds"),
        health_check_timeout=props.get("HealthCheckTimeoutSeconds"),
        healthy_threshold_count=props.get("HealthyThresholdCount"),
        unhealthy_threshold_count=props.get("UnhealthyThresholdCount"),
        http_codes=(props.get("Matcher") or {}).get("HttpCode"),
        health_check_enabled=None if enabled is None else str(enabled).lower() == "true",
    )
    backend.modify_target_group_attributes(
        original_resource.arn, _attributes(props, "TargetGroupAttributes")
    )
    return original_resource


def _delete_target_group(cls, resource_name, cloudformation_json, account_id, region_name):
    # A group still in use raises; moto's stack deletion retries once the rule is gone.
    with contextlib.suppress(elb_errors.TargetGroupNotFoundError):
        _elbv2(account_id, region_name).delete_target_group(resource_name)


def _target_group_attribute(self, attribute_name: str) -> Any:
    attributes = {
        "TargetGroupArn": self.arn,
        "TargetGroupName": self.name,
        "TargetGroupFullName": self.arn.split(":")[-1],  # targetgroup/NAME/ID
        "LoadBalancerArns": self.load_balancer_arns,
    }
    if attribute_name not in attributes:
        raise UnformattedGetAttTemplateException()
    return attributes[attribute_name]


# --- AWS::ElasticLoadBalancingV2::Listener and ListenerRule ------------------------------


def _delete_listener(cls, resource_name, cloudformation_json, account_id, region_name):
    # Deleting the load balancer first takes its listeners with it.
    with contextlib.suppress(elb_errors.ListenerNotFoundError):
        _elbv2(account_id, region_name).delete_listener(resource_name)


def _delete_listener_rule(cls, resource_name, cloudformation_json, account_id, region_name):
    _elbv2(account_id, region_name).delete_rule(resource_name)


# --- AWS::ApplicationAutoScaling::ScalableTarget and ScalingPolicy -----------------------


def _autoscaling(account_id: str, region_name: str) -> Any:
    return aas.applicationautoscaling_backends[account_id][region_name]


def _move_into_range(account_id: str, region_name: str, target: Any) -> None:
    """Bring an ECS service's desired count into the target's range, as registering does."""
    if target.service_namespace != "ecs":
        return
    _, cluster, name = target.resource_id.split("/")
    (service,), _ = ecs.ecs_backends[account_id][region_name].describe_services(cluster, [name])
    service.desired_count = min(
        max(service.desired_count, target.min_capacity), target.max_capacity
    )
    # The scheduler starts (or stops) tasks from now on; CloudFormation does not wait for them,
    # so a read straight after the stack completes can see them still PENDING, as on AWS.
    task_lifecycle.advance(service)


class ScalableTarget(CloudFormationModel):
    """AWS::ApplicationAutoScaling::ScalableTarget, kept in moto's autoscaling backend."""

    # moto files every model under the second part of its module name: give it one.
    __module__ = "emulator.fidelity_lb"

    def __init__(self, target: Any) -> None:
        self.target = target

    @property
    def physical_resource_id(self) -> str:
        # What Ref returns on AWS, and what a policy's ScalingTargetId names.
        t = self.target
        return f"{t.resource_id}|{t.scalable_dimension}|{t.service_namespace}"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name, cloudformation_json, account_id, region_name, **_
    ) -> "ScalableTarget":
        props = cloudformation_json["Properties"]
        target = _autoscaling(account_id, region_name).register_scalable_target(
            props["ServiceNamespace"],
            props["ResourceId"],
            props["ScalableDimension"],
            int(props["MinCapacity"]),
            int(props["MaxCapacity"]),
            props.get("RoleARN"),
            props.get("SuspendedState"),
        )
        _move_into_range(account_id, region_name, target)
        return cls(target)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> "ScalableTarget":
        props = cloudformation_json["Properties"]
        old = original_resource.target
        if (props["ResourceId"], props["ScalableDimension"]) != (
            old.resource_id,
            old.scalable_dimension,
        ):
            cls.delete_from_cloudformation_json(
                original_resource.physical_resource_id, {}, account_id, region_name
            )
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name, cloudformation_json, account_id, region_name
    ) -> None:
        resource_id, dimension, namespace = resource_name.split("|")
        with contextlib.suppress(AWSValidationException):  # already deregistered
            _autoscaling(account_id, region_name).deregister_scalable_target(
                namespace, resource_id, dimension
            )


class ScalingPolicy(CloudFormationModel):
    """AWS::ApplicationAutoScaling::ScalingPolicy, kept in moto's autoscaling backend."""

    # moto files every model under the second part of its module name: give it one.
    __module__ = "emulator.fidelity_lb"

    def __init__(self, policy: Any) -> None:
        self.policy = policy

    @property
    def physical_resource_id(self) -> str:
        return self.policy.policy_arn  # what Ref returns on AWS

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalingPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name, cloudformation_json, account_id, region_name, **_
    ) -> "ScalingPolicy":
        props = cloudformation_json["Properties"]
        if "ScalingTargetId" in props:
            resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
        else:
            resource_id = props["ResourceId"]
            dimension, namespace = props["ScalableDimension"], props["ServiceNamespace"]
        policy_type = props["PolicyType"]
        body = props.get(
            "TargetTrackingScalingPolicyConfiguration"
            if policy_type == "TargetTrackingScaling"
            else "StepScalingPolicyConfiguration"
        )
        policy = _autoscaling(account_id, region_name).put_scaling_policy(
            props["PolicyName"], namespace, resource_id, dimension, body, policy_type
        )
        return cls(policy)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> "ScalingPolicy":
        # Put over an existing policy would leave its alarms behind: replace it instead.
        cls.delete_from_cloudformation_json(
            original_resource.physical_resource_id, {}, account_id, region_name
        )
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name, cloudformation_json, account_id, region_name
    ) -> None:
        backend = _autoscaling(account_id, region_name)
        for policy in list(backend.policies.values()):
            if policy.policy_arn == resource_name:
                backend.delete_scaling_policy(
                    policy.policy_name,
                    policy.service_namespace,
                    policy.resource_id,
                    policy.scalable_dimension,
                )


# --- AWS::S3::BucketPolicy --------------------------------------------------------------


def _s3(account_id: str) -> Any:
    return s3.s3_backends[account_id]["global"]


def _bucket_name(value: Any) -> str:
    return getattr(value, "name", value)  # a Ref that moto resolved to the bucket model


class BucketPolicy(CloudFormationModel):
    """AWS::S3::BucketPolicy, put on its bucket through moto's S3 backend."""

    # moto files every model under the second part of its module name: give it one.
    __module__ = "emulator.fidelity_lb"

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.bucket  # Ref of a bucket policy: the bucket's name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name, cloudformation_json, account_id, region_name, **_
    ) -> "BucketPolicy":
        props = cloudformation_json["Properties"]
        bucket = _bucket_name(props["Bucket"])
        document = props["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        _s3(account_id).put_bucket_policy(bucket, text.encode())
        return cls(bucket)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> "BucketPolicy":
        bucket = _bucket_name(cloudformation_json["Properties"]["Bucket"])
        if bucket != original_resource.bucket:  # Bucket: update requires replacement
            cls.delete_from_cloudformation_json(
                original_resource.bucket, {}, account_id, region_name
            )
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name, cloudformation_json, account_id, region_name
    ) -> None:
        with contextlib.suppress(Exception):  # the bucket went first (or was never made)
            _s3(account_id).delete_bucket_policy(resource_name)


def _bucket_permission(self, action: str, resource: str) -> Any:
    """moto's check, over the statements without a Condition only (see the module text)."""
    if self.policy is None:
        return PermissionResult.NEUTRAL
    from moto.iam.access_control import IAMPolicy

    document = json.loads(self.policy)
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    kept = [s for s in statements if "Condition" not in s]
    if not kept:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(
        action, resource
    )


_PATCHES = {
    elbv2.FakeLoadBalancer: {
        "create_from_cloudformation_json": _create_load_balancer,
        "update_from_cloudformation_json": _update_load_balancer,
    },
    elbv2.FakeTargetGroup: {
        "create_from_cloudformation_json": _create_target_group,
        "update_from_cloudformation_json": _update_target_group,
        "delete_from_cloudformation_json": _delete_target_group,
    },
    elbv2.FakeListener: {"delete_from_cloudformation_json": _delete_listener},
    elbv2.FakeListenerRule: {"delete_from_cloudformation_json": _delete_listener_rule},
}


def install() -> None:
    """Patch moto's ELBv2 models and register the autoscaling ones. Idempotent.

    Called by fidelity.install(), after its moto version check.
    """
    for model, handlers in _PATCHES.items():
        for name, handler in handlers.items():
            setattr(model, name, classmethod(handler))
    elbv2.FakeLoadBalancer.get_cfn_attribute = _load_balancer_attribute
    elbv2.FakeTargetGroup.get_cfn_attribute = _target_group_attribute
    s3.FakeBucket.get_permission = _bucket_permission
    # moto builds its type -> model map once, from CloudFormationModel's subclasses: make
    # it see the three classes above.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
