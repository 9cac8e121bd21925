"""What Elastic Load Balancing refuses, refused by the emulator with ELB's own messages.

moto 5.2.5's ELBv2 backend accepts, where ELB refuses (each message below is quoted from the
public record named beside it):

- an Application Load Balancer in one zone, or with two subnets in one zone
  (``create_load_balancer`` checks only that the subnets exist; ``set_subnets`` refuses with
  texts of its own);
- an HTTPS listener without a certificate, an HTTP listener with one (``create_listener``);
- a rule priority already in use: moto refuses it, with a text AWS does not use;
- access logs to a bucket whose policy does not let the region's ELB account (or the log
  delivery service principal) put objects (``modify_load_balancer_attributes`` stores any
  attribute).

All refusals are raised in the backend (the seam: ``ELBv2Backend`` methods, wrapped), so the
API call and CloudFormation (through emulator/fidelity_lb.py, then emulator/rollback.py: the
resource CREATE_FAILED with this reason) refuse alike.

Already refused by moto with a code ELB uses, and left alone: a target group of target type
ip/instance without port or protocol ("A port must be specified", ValidationError); listener
protocols other than HTTP/HTTPS on an ALB.

Gaps: a missing access-log bucket gets the same "Access Denied" refusal (ELB's text for it is
not verified); Deny statements and conditions of the bucket policy are not evaluated for the
log delivery check; target group / listener protocol compatibility ("IncompatibleProtocols")
is not checked.
"""

import fnmatch
import json
from collections.abc import Callable
from typing import Any

from moto.elbv2 import models as elbv2
from moto.elbv2.exceptions import InvalidConfigurationRequest, ValidationError
from moto.elbv2.exceptions import PriorityInUseError as _MotoPriorityInUse
from moto.s3.models import s3_backends

# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
# ("Regions available before August 2022": the Elastic Load Balancing account of each Region).
# Regions opened later deliver through the service principal below.
ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}
LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"

# "At least two subnets in two different Availability Zones must be specified" (ValidationError)
# https://github.com/aws-samples/aws-cdk-examples/issues/226 (CREATE_FAILED through CloudFormation)
# https://github.com/kasmtech/terraform/issues/5 (CreateLoadBalancer)
TWO_ZONES = "At least two subnets in two different Availability Zones must be specified"
# "A load balancer cannot be attached to multiple subnets in the same Availability Zone"
# (InvalidConfigurationRequest) https://github.com/robertdebock/terraform-aws-vault/issues/5
ONE_SUBNET_PER_ZONE = (
    "A load balancer cannot be attached to multiple subnets in the same Availability Zone"
)
# "A certificate must be specified for HTTPS listeners" (ValidationError)
# https://github.com/cn-terraform/terraform-aws-nexus/issues/42
HTTPS_NEEDS_CERTIFICATE = "A certificate must be specified for HTTPS listeners"
# "A certificate cannot be specified for HTTP listeners" (ValidationError)
# https://github.com/awslabs/fargatecli/issues/104
HTTP_TAKES_NO_CERTIFICATE = "A certificate cannot be specified for HTTP listeners"


def priority_in_use(priority: Any) -> str:
    """ "Priority '26' is currently in use" (PriorityInUse):
    https://github.com/stelligent/mu/issues/324 (CREATE_FAILED through CloudFormation),
    https://github.com/hashicorp/terraform-provider-aws/issues/12212 (CreateRule)."""
    return f"Priority '{priority}' is currently in use"


def access_denied(bucket: str) -> str:
    """ "Access Denied for bucket: NAME. Please check S3bucket permission"
    (InvalidConfigurationRequest): https://github.com/cn-terraform/terraform-aws-ecs-alb/pull/4,
    https://github.com/widdix/aws-cf-templates/issues/349 (through CloudFormation)."""
    return f"Access Denied for bucket: {bucket}. Please check S3bucket permission"


class PriorityInUse(_MotoPriorityInUse):
    """moto's PriorityInUse error, with ELB's message."""

    def __init__(self, priority: Any) -> None:
        super(_MotoPriorityInUse, self).__init__("PriorityInUse", priority_in_use(priority))


# --- subnets ------------------------------------------------------------------------------


def check_zones(backend: Any, subnet_ids: list[str]) -> None:
    """Refuse an ALB's subnets unless they are in at least two zones, one subnet per zone.

    Unknown subnets are left for moto to refuse (SubnetNotFound)."""
    zones: list[str] = []
    for subnet_id in subnet_ids:
        subnet = backend.ec2_backend.get_subnet(subnet_id)
        if subnet is None:
            return
        zones.append(subnet.availability_zone)
    if len(set(zones)) != len(zones):
        raise InvalidConfigurationRequest(ONE_SUBNET_PER_ZONE)
    if len(zones) < 2:
        raise ValidationError(TWO_ZONES)


def _subnet_ids(subnet_ids: list[str] | None, mappings: list[dict[str, Any]] | None) -> list[str]:
    return list(subnet_ids or []) + [m["SubnetId"] for m in mappings or []]


def _wrap_create_load_balancer(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_load_balancer(
        self, name, security_groups, subnet_ids, subnet_mappings=None, *args, **kwargs
    ):
        kind = kwargs.get("loadbalancer_type") or (args[1] if len(args) > 1 else None)
        if (kind or "application") == "application":
            ids = _subnet_ids(subnet_ids, subnet_mappings)
            if ids:
                check_zones(self, ids)
        return original(self, name, security_groups, subnet_ids, subnet_mappings, *args, **kwargs)

    return create_load_balancer


def _wrap_set_subnets(original: Callable[..., Any]) -> Callable[..., Any]:
    def set_subnets(self, arn, subnets, subnet_mappings):
        balancer = self.load_balancers.get(arn)
        if balancer is not None and balancer.type == "application":
            ids = _subnet_ids(subnets, subnet_mappings)
            if ids:
                check_zones(self, ids)
        return original(self, arn, subnets, subnet_mappings)

    return set_subnets


# --- listeners and rules ------------------------------------------------------------------


def _wrap_create_listener(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, *a, **k):
        if protocol == "HTTPS" and not certificate:
            raise ValidationError(HTTPS_NEEDS_CERTIFICATE)
        if protocol == "HTTP" and certificate:
            raise ValidationError(HTTP_TAKES_NO_CERTIFICATE)
        return original(self, load_balancer_arn, protocol, port, ssl_policy, certificate, *a, **k)

    return create_listener


def _wrap_create_rule(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_rule(self, listener_arn, conditions, priority, actions, *args, **kwargs):
        for listener in self.describe_listeners(None, [listener_arn]):
            for rule in listener.rules.values():
                if str(rule.priority) == str(priority):
                    raise PriorityInUse(priority)
        return original(self, listener_arn, conditions, priority, actions, *args, **kwargs)

    return create_rule


# --- access logs --------------------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_allowed(principal: Any, account: str | None) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if LOG_DELIVERY_PRINCIPAL in _listed(principal.get("Service", [])):
        return True
    if account is None:
        return False
    accepted = {account, f"arn:aws:iam::{account}:root"}
    return any(str(p) in accepted for p in _listed(principal.get("AWS", [])))


def _matches(patterns: Any, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, str(p)) for p in _listed(patterns))


def log_delivery_allowed(
    policy: dict[str, Any] | None, bucket: str, prefix: str, account_id: str, region: str
) -> bool:
    """Whether a bucket policy lets ELB put access logs of this account, as the guide's Step 2
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html)
    asks: s3:PutObject on bucket[/prefix]/AWSLogs/ACCOUNT/* for the Region's ELB account or
    the log delivery service principal."""
    if not policy:
        return False
    key = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    resource = f"arn:aws:s3:::{bucket}/{key}AWSLogs/{account_id}/elasticloadbalancing/log.gz"
    account = ELB_ACCOUNTS.get(region)
    for statement in _listed(policy.get("Statement", [])):
        if statement.get("Effect") != "Allow" or "Action" not in statement:
            continue
        if not _matches(statement["Action"], "s3:PutObject"):
            continue
        if not _principal_allowed(statement.get("Principal"), account):
            continue
        if _matches(statement.get("Resource", []), resource):
            return True
    return False


def check_access_logs(backend: Any, current: dict[str, Any], attrs: dict[str, Any]) -> None:
    """Refuse switching access logs on unless the bucket policy lets ELB deliver them."""
    merged = {**current, **attrs}
    if str(merged.get("access_logs.s3.enabled", "false")).lower() != "true":
        return
    bucket = str(merged.get("access_logs.s3.bucket") or "")
    prefix = str(merged.get("access_logs.s3.prefix") or "")
    policy = None
    try:
        raw = s3_backends[backend.account_id]["global"].get_bucket_policy(bucket)
        policy = json.loads(raw) if raw else None
    except Exception:  # noqa: BLE001 - no such bucket: no policy, refused below
        policy = None
    if not log_delivery_allowed(policy, bucket, prefix, backend.account_id, backend.region_name):
        raise InvalidConfigurationRequest(access_denied(bucket))


def _wrap_modify_attributes(original: Callable[..., Any]) -> Callable[..., Any]:
    def modify_load_balancer_attributes(self, arn, attrs):
        balancer = self.load_balancers.get(arn)
        if balancer is not None:
            check_access_logs(self, dict(balancer.attrs), dict(attrs))
        return original(self, arn, attrs)

    return modify_load_balancer_attributes


_WRAPS = {
    "create_load_balancer": _wrap_create_load_balancer,
    "set_subnets": _wrap_set_subnets,
    "create_listener": _wrap_create_listener,
    "create_rule": _wrap_create_rule,
    "modify_load_balancer_attributes": _wrap_modify_attributes,
}


def install() -> None:
    """Wrap moto's ELBv2 backend methods with ELB's refusals. Idempotent."""
    backend = elbv2.ELBv2Backend
    for name, wrap in _WRAPS.items():
        current = getattr(backend, name)
        if getattr(current, "_emulator_refuse_elb", False):
            continue
        wrapped = wrap(current)
        wrapped._emulator_refuse_elb = True  # type: ignore[attr-defined]
        setattr(backend, name, wrapped)
