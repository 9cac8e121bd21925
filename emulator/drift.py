"""CloudFormation drift detection for the emulator, which moto 5.2.5 answers with HTTP 500.

Adds DetectStackDrift, DescribeStackDriftDetectionStatus and DescribeStackResourceDrifts
to moto's CloudFormationResponse; nothing else in moto changes. As CloudFormation does,
detection takes each resource's properties from the stack's template (parameters, Refs
and GetAtts resolved by moto's own resolver), reads the resource's live state through
the service's public API (here: the emulator itself, over HTTP) and compares only the
properties the template sets:

- IN_SYNC / MODIFIED (with PropertyDifferences: path, expected, actual) / DELETED;
- NOT_CHECKED for a type CloudFormation does not check (emulator/drift_support.py: the
  rule and its sources), and for a resource moto did not create or whose type has no reader
  here (a gap of the emulator; tests/test_drift_check.py asserts the project has none).

Readers: ECS, logs, IAM roles, security groups and scalable targets below; load balancing,
S3, SNS, managed policies, EventBridge rules, CodePipeline, connections, scaling policies
and the network stack's EC2 types in emulator/drift_readers.py. A declared property no
reader returns is not compared (the emulator cannot see it), so the readers list what they
read. As on AWS, no KMS key id property is compared ("CloudFormation does not perform drift
detection on the KMSKeyId property of any resources": docs.aws.amazon.com/AWSCloudFormation/latest/
UserGuide/using-cfn-stack-drift.html#drift-considerations).

Lists are compared per element, as CloudFormation reports them (PropertyDifference,
docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_PropertyDifference.html):
an element the live list has and the template does not is ADD at /Prop/<its live index>;
one the template has and the live list does not is REMOVE at /Prop/<its template index>;
an element changed in place (same Name/Id/Key/..., or the only unmatched one on each side)
is compared inside, e.g. NOT_EQUAL at /Prop/0/FromPort. Elements match in any order (rule,
subnet and statement order carry no meaning); a reordered ordered list is not reported.
The side that has no value reads "null".

Detection takes time, as on AWS: DescribeStackDriftDetectionStatus answers
DETECTION_IN_PROGRESS for EMULATOR_DRIFT_SECONDS (environment of the emulator; default 1)
after DetectStackDrift, then DETECTION_COMPLETE, or DETECTION_FAILED with a reason when the
caller may not read a resource (handler_model.py). DescribeStackResourceDrifts answers the
last completed detection's results.
"""

import ast
import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

from emulator import cfn_models, drift_readers, drift_support, handler_model, seed
from emulator.rollback import ParsedOnly

Aws = Callable[[str], Any]  # aws("ecs") -> a boto3 client of the emulator
Reader = Callable[[Aws, str, dict[str, Any]], dict[str, Any] | None]

# Error codes that mean "this resource is gone", per service.
_NOT_FOUND = {"NoSuchEntity", "InvalidGroup.NotFound", "ResourceNotFoundException"}


# --- readers: live state in CloudFormation's property names -------------------------------
# Each returns every property it can read (None when unset), or None when the resource is
# gone. Nested keys may keep the service API's camelCase: comparison aligns them.


def _log_group(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=physical_id)["logGroups"]
    group = next((g for g in groups if g["logGroupName"] == physical_id), None)
    if group is None:
        return None
    return {
        "LogGroupName": group["logGroupName"],
        "RetentionInDays": group.get("retentionInDays"),
        "KmsKeyId": group.get("kmsKeyId"),
    }


def _cluster(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    found = aws("ecs").describe_clusters(clusters=[physical_id], include=["SETTINGS"])
    cluster = next(iter(found["clusters"]), None)
    if cluster is None or cluster["status"] == "INACTIVE":
        return None
    return {
        "ClusterName": cluster["clusterName"],
        "ClusterSettings": cluster.get("settings"),
        "CapacityProviders": cluster.get("capacityProviders"),
        "DefaultCapacityProviderStrategy": cluster.get("defaultCapacityProviderStrategy"),
        "Configuration": cluster.get("configuration"),
    }


_TASK_DEFINITION_PROPERTIES = (
    "Family",
    "ContainerDefinitions",
    "Cpu",
    "Memory",
    "NetworkMode",
    "RequiresCompatibilities",
    "ExecutionRoleArn",
    "TaskRoleArn",
    "Volumes",
    "PlacementConstraints",
    "RuntimePlatform",
    "EphemeralStorage",
    "IpcMode",
    "PidMode",
)


def _task_definition(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    try:
        task = aws("ecs").describe_task_definition(taskDefinition=physical_id)["taskDefinition"]
    except ClientError:
        return None  # moto answers ClientException for an unknown revision
    if task["status"] == "INACTIVE":
        return None
    return {p: task.get(p[0].lower() + p[1:]) for p in _TASK_DEFINITION_PROPERTIES}


# CloudFormation name -> ECS DescribeServices key, where they differ beyond the first letter.
_SERVICE_PROPERTIES = {
    "ServiceName": "serviceName",
    "TaskDefinition": "taskDefinition",
    "DesiredCount": "desiredCount",
    "LaunchType": "launchType",
    "CapacityProviderStrategy": "capacityProviderStrategy",
    "PlatformVersion": "platformVersion",
    "DeploymentConfiguration": "deploymentConfiguration",
    "NetworkConfiguration": "networkConfiguration",
    "LoadBalancers": "loadBalancers",
    "HealthCheckGracePeriodSeconds": "healthCheckGracePeriodSeconds",
    "SchedulingStrategy": "schedulingStrategy",
    "PropagateTags": "propagateTags",
    "EnableECSManagedTags": "enableECSManagedTags",
    "EnableExecuteCommand": "enableExecuteCommand",
    "PlacementStrategies": "placementStrategy",
    "PlacementConstraints": "placementConstraints",
}


def _service(aws: Aws, physical_id: str, expected: dict[str, Any]) -> dict[str, Any] | None:
    cluster_name = physical_id.split(":")[-1].split("/")[1]  # ...:service/CLUSTER/NAME
    found = aws("ecs").describe_services(cluster=cluster_name, services=[physical_id])
    service = next(iter(found["services"]), None)
    if service is None or service["status"] != "ACTIVE":
        return None
    actual = {cfn: service.get(key) for cfn, key in _SERVICE_PROPERTIES.items()}
    # The template may name the cluster by name or by ARN; ECS answers with the ARN.
    declared = str(expected.get("Cluster", ""))
    actual["Cluster"] = service["clusterArn"] if declared.startswith("arn:") else cluster_name
    return actual


def _policy_document(document: Any) -> Any:
    """A policy document as a dict, however the emulator returns it."""
    if not isinstance(document, str):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError:
        # moto keeps inline policies created through CloudFormation as Python reprs.
        return ast.literal_eval(document)


def _role(aws: Aws, physical_id: str, expected: dict[str, Any]) -> dict[str, Any] | None:
    iam = aws("iam")
    try:
        role = iam.get_role(RoleName=physical_id)["Role"]
    except ClientError as error:
        if error.response["Error"]["Code"] in _NOT_FOUND:
            return None
        raise
    names = iam.list_role_policies(RoleName=physical_id)["PolicyNames"]
    # Inline policies in the template's order, then any added by hand.
    declared = [p.get("PolicyName") for p in expected.get("Policies") or []]
    ordered = [n for n in declared if n in names] + sorted(n for n in names if n not in declared)
    policies = [
        {
            "PolicyName": name,
            "PolicyDocument": _policy_document(
                iam.get_role_policy(RoleName=physical_id, PolicyName=name)["PolicyDocument"]
            ),
        }
        for name in ordered
    ]
    attached = iam.list_attached_role_policies(RoleName=physical_id)["AttachedPolicies"]
    return {
        "RoleName": role["RoleName"],
        "Path": role.get("Path"),
        "Description": role.get("Description") or None,
        "MaxSessionDuration": role.get("MaxSessionDuration"),
        "AssumeRolePolicyDocument": _policy_document(role.get("AssumeRolePolicyDocument")),
        "Policies": policies or None,
        "ManagedPolicyArns": [p["PolicyArn"] for p in attached] or None,
        "PermissionsBoundary": (role.get("PermissionsBoundary") or {}).get(
            "PermissionsBoundaryArn"
        ),
    }


def _rules(permissions: list[dict[str, Any]], peer: str) -> list[dict[str, Any]]:
    """EC2 IpPermissions as CloudFormation's one-rule-per-peer SecurityGroup*gress items."""
    rules = []
    for permission in permissions:
        base = {"IpProtocol": permission["IpProtocol"]}
        if permission["IpProtocol"] != "-1":  # all protocols: EC2 reports no ports
            base.update(FromPort=permission.get("FromPort"), ToPort=permission.get("ToPort"))
        peers = [("CidrIp", r["CidrIp"], r) for r in permission.get("IpRanges", [])] + [
            ("CidrIpv6", r["CidrIpv6"], r) for r in permission.get("Ipv6Ranges", [])
        ]
        peers += [
            (f"{peer}SecurityGroupId", g["GroupId"], g) for g in permission["UserIdGroupPairs"]
        ]
        for key, value, source in peers:
            rule = {**base, key: value}
            if source.get("Description"):
                rule["Description"] = source["Description"]
            rules.append(rule)
    return rules


def _security_group(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    try:
        found = aws("ec2").describe_security_groups(GroupIds=[physical_id])["SecurityGroups"]
    except ClientError as error:
        if error.response["Error"]["Code"] in _NOT_FOUND:
            return None
        raise
    group = found[0]
    return {
        "GroupDescription": group["Description"],
        "GroupName": group["GroupName"],
        "VpcId": group.get("VpcId"),
        "SecurityGroupIngress": _rules(group.get("IpPermissions", []), "Source") or None,
        "SecurityGroupEgress": _rules(group.get("IpPermissionsEgress", []), "Destination") or None,
    }


def _scalable_target(aws: Aws, physical_id: str, _: dict[str, Any]) -> dict[str, Any] | None:
    resource_id, dimension, namespace = physical_id.split("|")  # as Ref returns it on AWS
    found = aws("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=namespace, ResourceIds=[resource_id], ScalableDimension=dimension
    )["ScalableTargets"]
    if not found:
        return None
    target = found[0]
    return {
        "ResourceId": target["ResourceId"],
        "ScalableDimension": target["ScalableDimension"],
        "ServiceNamespace": target["ServiceNamespace"],
        "MinCapacity": target["MinCapacity"],
        "MaxCapacity": target["MaxCapacity"],
    }


READERS: dict[str, Reader] = {
    "AWS::ECS::Cluster": _cluster,
    "AWS::ECS::Service": _service,
    "AWS::ECS::TaskDefinition": _task_definition,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::IAM::Role": _role,
    "AWS::EC2::SecurityGroup": _security_group,
    "AWS::ApplicationAutoScaling::ScalableTarget": _scalable_target,
    **drift_readers.READERS,
}

# Properties CloudFormation never compares (see the module docstring).
_KMS_KEY_IDS = {"KmsKeyId", "KmsMasterKeyId", "KMSMasterKeyID"}


# --- comparison ---------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    """A scalar as CloudFormation reports it: "true", "7", "FARGATE"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shown(value: Any) -> str:
    return _scalar(value) if not isinstance(value, dict | list) else json.dumps(value)


def align(actual: Any, expected: Any) -> Any:
    """actual with its keys spelt as in expected where they differ only in the first letter's
    case (ECS answers ``containerPort`` for the template's ``ContainerPort``)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        by_folded = {k[:1].lower() + k[1:]: k for k in expected}
        renamed = {by_folded.get(k[:1].lower() + k[1:], k): v for k, v in actual.items()}
        return {k: align(v, expected.get(k)) for k, v in renamed.items()}
    if isinstance(expected, list) and isinstance(actual, list):
        template = expected[0] if expected else None
        return [
            align(v, expected[i] if i < len(expected) else template) for i, v in enumerate(actual)
        ]
    return actual


def differences(expected: Any, actual: Any, path: str = "") -> Iterator[dict[str, str]]:
    """PropertyDifferences of actual (aligned) against expected, for keys expected sets;
    lists per element (see the module docstring)."""
    if isinstance(expected, str) and isinstance(actual, dict | list):
        # a Json-typed property given as text (EventPattern, PolicyDocument)
        with contextlib.suppress(json.JSONDecodeError):
            expected = json.loads(expected)
    if actual is None:
        yield _difference(path, expected, None, "REMOVE")
    elif isinstance(expected, dict):
        if not isinstance(actual, dict):
            yield _difference(path, expected, actual, "NOT_EQUAL")
            return
        for key, value in expected.items():
            if key not in _KMS_KEY_IDS:
                yield from differences(value, actual.get(key), f"{path}/{key}")
    elif isinstance(expected, list):
        if isinstance(actual, list):
            yield from _list_differences(expected, actual, path)
        else:
            yield _difference(path, expected, actual, "NOT_EQUAL")
    elif _scalar(expected) != _scalar(actual):
        yield _difference(path, expected, actual, "NOT_EQUAL")


def _matches(expected: Any, actual: Any) -> bool:
    return next(differences(expected, actual), None) is None


_IDENTITY = ("Name", "Id", "Key", "PolicyName", "Sid", "Field", "ContainerName", "Type")


def _same_item(expected: Any, actual: Any) -> bool:
    """Whether two dict elements are one item changed in place (same identifying key)."""
    if not isinstance(expected, dict) or not isinstance(actual, dict):
        return False
    return any(key in expected and expected[key] == actual.get(key) for key in _IDENTITY)


def _list_differences(expected: list, actual: list, path: str) -> Iterator[dict[str, str]]:
    unmatched = list(range(len(actual)))
    missing = []
    for i, item in enumerate(expected):
        j = next((j for j in unmatched if _matches(item, actual[j])), None)
        if j is None:
            missing.append(i)
        else:
            unmatched.remove(j)
    pairs = []
    for i in list(missing):
        j = next((j for j in unmatched if _same_item(expected[i], actual[j])), None)
        if j is not None:
            pairs.append((i, j))
            missing.remove(i)
            unmatched.remove(j)
    if len(missing) == 1 and len(unmatched) == 1:  # the one element changed in place
        pairs.append((missing.pop(), unmatched.pop()))
    for i, j in sorted(pairs):
        yield from differences(expected[i], actual[j], f"{path}/{i}")
    for i in missing:
        yield _difference(f"{path}/{i}", expected[i], None, "REMOVE")
    for j in unmatched:
        yield _difference(f"{path}/{j}", None, actual[j], "ADD")


def _difference(path: str, expected: Any, actual: Any, kind: str) -> dict[str, str]:
    return {
        "PropertyPath": path,
        "ExpectedValue": "null" if expected is None else _shown(expected),
        "ActualValue": "null" if actual is None else _shown(actual),
        "DifferenceType": kind,
    }


# --- detection ----------------------------------------------------------------------------


def _without_attachments(live: dict[str, Any], role: str, resource_map: Any) -> dict[str, Any]:
    """A role's live state without what other resources of its stack attach to it.

    "CloudFormation analyses the stack template for attachments before performing the drift
    comparison" (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
    using-cfn-stack-drift.html#drift-considerations): an AWS::IAM::Policy or
    AWS::IAM::ManagedPolicy of the same stack that names the role is not drift of the role.
    """
    inline, managed = set(), set()
    for logical_id, resource in resource_map._resource_json_map.items():
        kind = resource.get("Type")
        if kind not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        try:
            # parsing.clean_json looked up here: emulator modules patch it (cfn_no_value.py).
            props = parsing.clean_json(resource.get("Properties", {}), ParsedOnly(resource_map))
        except Exception:  # unresolvable: nothing known to be attached
            continue
        if role not in (props.get("Roles") or []):
            continue
        if kind == "AWS::IAM::Policy":
            inline.add(props.get("PolicyName"))
        elif (model := resource_map._parsed_resources.get(logical_id)) is not None:
            managed.add(model.physical_resource_id)
    result = dict(live)
    if live.get("Policies"):
        result["Policies"] = [p for p in live["Policies"] if p["PolicyName"] not in inline]
    if live.get("ManagedPolicyArns"):
        result["ManagedPolicyArns"] = [a for a in live["ManagedPolicyArns"] if a not in managed]
    return {k: v if v != [] else None for k, v in result.items()}


def check_resource(
    aws: Aws, logical_id: str, resource_json: dict[str, Any], resource_map: Any
) -> dict[str, Any]:
    """The StackResourceDrift of one resource of a stack."""
    resource_type = resource_json["Type"]
    created = resource_map._parsed_resources.get(logical_id)
    drift: dict[str, Any] = {
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "PhysicalResourceId": getattr(created, "physical_resource_id", ""),
        "StackResourceDriftStatus": "NOT_CHECKED",
        "Timestamp": datetime.now(UTC),
    }
    reader = READERS.get(resource_type)
    if reader is None or created is None or not drift_support.checked(resource_type):
        return drift
    try:
        expected = parsing.clean_json(resource_json.get("Properties", {}), ParsedOnly(resource_map))
    except Exception:  # an intrinsic the emulator cannot resolve: do not guess
        return drift
    drift["ExpectedProperties"] = json.dumps(expected, sort_keys=True)
    live = reader(aws, drift["PhysicalResourceId"], expected)
    if live is None:
        drift["StackResourceDriftStatus"] = "DELETED"
        return drift
    if resource_type == "AWS::IAM::Role":
        live = _without_attachments(live, drift["PhysicalResourceId"], resource_map)
    readable = {k: v for k, v in expected.items() if k in live}
    actual = {k: v for k, v in align(live, readable).items() if v is not None}
    found = list(differences(readable, {k: actual.get(k) for k in readable}))
    drift["ActualProperties"] = json.dumps(actual, sort_keys=True)
    drift["PropertyDifferences"] = found
    drift["StackResourceDriftStatus"] = "MODIFIED" if found else "IN_SYNC"
    return drift


_lock = threading.Lock()
_detections: dict[str, dict[str, Any]] = {}  # detection id -> status once complete
_ready_at: dict[str, float] = {}  # detection id -> when it completes (time.monotonic)
# stack id -> (when it completes, resource drifts) of its detections, the newest last
_runs: dict[str, list[tuple[float, list[dict[str, Any]]]]] = {}


def detection_seconds() -> float:
    """How long a detection stays DETECTION_IN_PROGRESS (EMULATOR_DRIFT_SECONDS, default 1)."""
    return float(os.environ.get("EMULATOR_DRIFT_SECONDS", "1"))


# Clients of this emulator by (endpoint, region, account, service), kept for the process: a
# new boto3 client costs ~20 ms of CPU, and a detection reads each resource with one.
_clients: dict[tuple[str, str, str, str], Any] = {}
_clients_lock = threading.Lock()


def _emulator_clients(response: CloudFormationResponse) -> Aws:
    """Clients of the emulator that received this request, in the request's region and
    account (seed.in_account), so a stack of another account is read in that account."""
    parts = urlsplit(response.uri)
    endpoint = f"{parts.scheme}://{parts.netloc}"
    region, account = response.region, response.current_account

    def aws(service: str) -> Any:
        key = (endpoint, region, account, service)
        with _clients_lock:
            if key not in _clients:
                client = boto3.Session(
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                    region_name=region,
                ).client(service, endpoint_url=endpoint)
                _clients[key] = seed.in_account(client, account)
            return _clients[key]

    return aws


def detect_stack_drift(self: CloudFormationResponse) -> ActionResult:
    """DetectStackDrift: check every resource now; the result is told once the detection
    has taken detection_seconds()."""
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    aws = _emulator_clients(self)
    resource_map = stack.resource_map
    # The caller reads each resource: one it may not read is not compared (handler_model.py).
    denied = {
        logical_id: reason
        for logical_id, resource in resource_map._resource_json_map.items()
        if (reason := handler_model.read_denial(stack, logical_id, resource))
    }
    drifts = [
        {"StackId": stack.stack_id, **check_resource(aws, logical_id, resource, resource_map)}
        for logical_id, resource in resource_map._resource_json_map.items()
        if logical_id not in denied
    ]
    drifted = [d for d in drifts if d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED")]
    detection_id = str(uuid.uuid4())
    status = {
        "StackId": stack.stack_id,
        "StackDriftDetectionId": detection_id,
        "StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC",
        "DetectionStatus": "DETECTION_COMPLETE",
        "DriftedStackResourceCount": len(drifted),
        "Timestamp": datetime.now(UTC),
    }
    if denied:  # the count stays unset until a detection completes (API reference)
        del status["DriftedStackResourceCount"]
        status["DetectionStatus"] = "DETECTION_FAILED"
        status["DetectionStatusReason"] = handler_model.drift_failure_reason(denied)
    ready_at = time.monotonic() + detection_seconds()
    with _lock:
        runs = _runs.setdefault(stack.stack_id, [])
        runs.append((ready_at, drifts))
        del runs[:-2]  # the newest, and the last complete one while it runs
        _detections[detection_id] = status
        _ready_at[detection_id] = ready_at
    return ActionResult({"StackDriftDetectionId": detection_id})


def describe_stack_drift_detection_status(self: CloudFormationResponse) -> ActionResult:
    """DescribeStackDriftDetectionStatus of a detection this emulator ran."""
    detection_id = self._get_param("StackDriftDetectionId")
    with _lock:
        status = _detections.get(detection_id)
        ready_at = _ready_at.get(detection_id, 0.0)
    if status is None:
        raise ValidationError(message=f"Drift detection {detection_id} does not exist")
    if time.monotonic() < ready_at:
        # While running: no drift status and no count yet (API_DescribeStackDriftDetectionStatus:
        # DriftedStackResourceCount is set for DETECTION_COMPLETE only).
        status = {
            "StackId": status["StackId"],
            "StackDriftDetectionId": detection_id,
            "StackDriftStatus": "NOT_CHECKED",
            "DetectionStatus": "DETECTION_IN_PROGRESS",
            "Timestamp": status["Timestamp"],
        }
    return ActionResult(status)


def describe_stack_resource_drifts(self: CloudFormationResponse) -> ActionResult:
    """DescribeStackResourceDrifts of the stack's last detection, filtered by status."""
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    wanted = set(self._get_param("StackResourceDriftStatusFilters") or [])
    now = time.monotonic()
    with _lock:
        complete = [d for ready_at, d in _runs.get(stack.stack_id, []) if ready_at <= now]
    drifts = complete[-1] if complete else []
    return ActionResult(
        {
            "StackResourceDrifts": [
                d for d in (drifts or []) if not wanted or d["StackResourceDriftStatus"] in wanted
            ]
        }
    )


def install() -> None:
    """Answer the three drift actions instead of HTTP 500; apply bucket configuration through
    CloudFormation so that buckets can be compared (cfn_models.py). Idempotent."""
    cfn_models.install()
    CloudFormationResponse.detect_stack_drift = detect_stack_drift
    CloudFormationResponse.describe_stack_drift_detection_status = (
        describe_stack_drift_detection_status
    )
    CloudFormationResponse.describe_stack_resource_drifts = describe_stack_resource_drifts
