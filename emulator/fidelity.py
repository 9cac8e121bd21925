"""Make moto's CloudFormation create ECS resources the way the templates declare them.

moto 5.2.5 builds AWS::ECS::* resources from a handful of properties (a task definition
keeps family, containers, volumes and memory; a service keeps cluster, task family and
desired count) and breaks container definitions on update. Its ECS backend keeps far
more. This module is the one seam between the project and moto's internals: it replaces
the CloudFormation create/update/delete classmethods of three moto ECS models with
versions that hand every declared property to that backend, as CloudFormation hands
them to ECS. It also replaces moto's "is this update a change?" check, which is skipped
for stacks without parameters, compares list parameters in a different form and compares
template text rather than content, so an unchanged relaunch updates every stack instead of
answering "No updates are to be performed." And it applies a security group's declared
egress rules, which moto ignores. Nothing else in moto is patched.

What it emulates beyond moto:
- property names go from CloudFormation's PascalCase to the ECS API's camelCase;
- a task definition change registers a new revision, deregisters the old one and points
  the services that ran the old revision at the new one (CloudFormation replaces the
  resource and updates what refers to it);
- a service's tasks start over time and its deployments progress (task_lifecycle.py);
- deployment configuration, capacity provider strategy and the other service settings
  the ECS backend does not model are kept on the service and returned by DescribeServices;
- an update without DesiredCount leaves the count alone, as ECS does (autoscaling owns it).

Load balancers, target groups and autoscaling: fidelity_lb.py; IAM managed policies:
fidelity_iam.py; both installed from here.
"""

import contextlib
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroup
from moto.ecs import models as ecs
from moto.ecs.exceptions import ECSException

from emulator import fidelity_iam, fidelity_lb

MOTO_VERSION = "5.2.5"

# Service properties moto's ECS backend does not model; kept as attributes so that its
# response serializer (which reads snake_case attributes) returns them.
_SERVICE_EXTRAS = {
    "DeploymentConfiguration": "deployment_configuration",
    "CapacityProviderStrategy": "capacity_provider_strategy",
    "HealthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "EnableECSManagedTags": "enable_ecs_managed_tags",
    "EnableExecuteCommand": "enable_execute_command",
    "PlacementStrategies": "placement_strategy",
    "PlacementConstraints": "placement_constraints",
}


def camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys, nested, as the ECS API's camelCase keys."""
    return remap_nested_keys(value, pascal_to_camelcase) if value is not None else None


def _backend(account_id: str, region_name: str) -> Any:
    return ecs.ecs_backends[account_id][region_name]


def _name_or_arn(value: Any, attribute: str) -> Any:
    """A Ref that moto resolved to a model object, as the string CloudFormation would pass."""
    return getattr(value, attribute) if not isinstance(value, str) and value is not None else value


# --- AWS::ECS::Cluster -------------------------------------------------------------------


def _create_cluster(cls, resource_name, cloudformation_json, account_id, region_name, **_):
    props = cloudformation_json.get("Properties", {})
    return _backend(account_id, region_name).create_cluster(
        cluster_name=props.get("ClusterName") or resource_name,
        tags=camel(props.get("Tags")),
        cluster_settings=camel(props.get("ClusterSettings")),
        configuration=camel(props.get("Configuration")),
        capacity_providers=props.get("CapacityProviders"),
        default_capacity_provider_strategy=camel(props.get("DefaultCapacityProviderStrategy")),
        service_connect_defaults=camel(props.get("ServiceConnectDefaults")),
    )


def _update_cluster(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    props = cloudformation_json.get("Properties", {})
    if (props.get("ClusterName") or new_resource_name) != original_resource.name:
        _backend(account_id, region_name).delete_cluster(original_resource.arn)
        return _create_cluster(cls, new_resource_name, cloudformation_json, account_id, region_name)
    original_resource.settings = camel(props.get("ClusterSettings")) or original_resource.settings
    original_resource.configuration = camel(props.get("Configuration"))
    original_resource.capacity_providers = props.get("CapacityProviders")
    original_resource.default_capacity_provider_strategy = camel(
        props.get("DefaultCapacityProviderStrategy")
    )
    original_resource.tags = camel(props.get("Tags"))
    return original_resource


def _delete_cluster(cls, resource_name, cloudformation_json, account_id, region_name):
    backend = _backend(account_id, region_name)
    if resource_name in backend.clusters:
        backend.delete_cluster(resource_name)


# --- AWS::ECS::TaskDefinition ------------------------------------------------------------


def _register(resource_name: str, props: dict[str, Any], account_id: str, region_name: str):
    return _backend(account_id, region_name).register_task_definition(
        family=props.get("Family") or resource_name,
        container_definitions=camel(props.get("ContainerDefinitions", [])),
        volumes=camel(props.get("Volumes")),
        network_mode=props.get("NetworkMode"),
        tags=camel(props.get("Tags")),
        placement_constraints=camel(props.get("PlacementConstraints")),
        requires_compatibilities=props.get("RequiresCompatibilities"),
        cpu=str(props["Cpu"]) if "Cpu" in props else None,
        memory=str(props["Memory"]) if "Memory" in props else None,
        task_role_arn=props.get("TaskRoleArn"),
        execution_role_arn=props.get("ExecutionRoleArn"),
        proxy_configuration=camel(props.get("ProxyConfiguration")),
        runtime_platform=camel(props.get("RuntimePlatform")),
        ipc_mode=props.get("IpcMode"),
        pid_mode=props.get("PidMode"),
        ephemeral_storage=camel(props.get("EphemeralStorage")),
    )


def _create_task_definition(cls, resource_name, cloudformation_json, account_id, region_name, **_):
    return _register(resource_name, cloudformation_json["Properties"], account_id, region_name)


def _update_task_definition(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    # Every TaskDefinition property but Tags requires replacement: a new revision.
    backend = _backend(account_id, region_name)
    props = cloudformation_json["Properties"]
    new = _register(original_resource.family, props, account_id, region_name)
    for service in backend.services.values():
        if service.task_definition == original_resource.arn:
            service.task_definition = new.arn  # a new deployment: task_lifecycle.py
    backend.deregister_task_definition(original_resource.arn)
    return new


def _delete_task_definition(cls, resource_name, cloudformation_json, account_id, region_name):
    # Already gone is fine: deletion is idempotent in CloudFormation too.
    with contextlib.suppress(ECSException):
        _backend(account_id, region_name).deregister_task_definition(resource_name)


# --- AWS::ECS::Service -------------------------------------------------------------------


def _settle(service: Any, props: dict[str, Any]) -> Any:
    """Keep what moto does not model, on the service and its newest deployment. Task counts
    and rollout states are task_lifecycle.py's."""
    for prop, attribute in _SERVICE_EXTRAS.items():
        setattr(service, attribute, camel(props.get(prop)))
    service.launch_type = props.get(
        "LaunchType"
    )  # absent when a capacity provider strategy runs it
    for deployment in service.deployments[:1]:
        deployment.update(
            launchType=service.launch_type,
            capacityProviderStrategy=service.capacity_provider_strategy,
            networkConfiguration=service.network_configuration,
        )
    return service


def _create_service(cls, resource_name, cloudformation_json, account_id, region_name, **_):
    props = cloudformation_json["Properties"]
    service = _backend(account_id, region_name).create_service(
        _name_or_arn(props.get("Cluster", "default"), "name"),
        props.get("ServiceName") or resource_name,
        props.get("DesiredCount", 1),
        task_definition_str=_name_or_arn(props.get("TaskDefinition"), "arn"),
        load_balancers=camel(props.get("LoadBalancers")),
        scheduling_strategy=props.get("SchedulingStrategy"),
        tags=camel(props.get("Tags")),
        deployment_controller=camel(props.get("DeploymentController")),
        # moto insists on a launch type; _settle restores the declared one (or none).
        launch_type=props.get("LaunchType", "FARGATE"),
        service_registries=camel(props.get("ServiceRegistries")),
        platform_version=props.get("PlatformVersion"),
        propagate_tags=props.get("PropagateTags", "NONE"),
        network_configuration=camel(props.get("NetworkConfiguration")),
        role_arn=props.get("Role"),
    )
    return _settle(service, props)


def _update_service(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    props = cloudformation_json["Properties"]
    backend = _backend(account_id, region_name)
    cluster = _name_or_arn(props.get("Cluster", "default"), "name").split("/")[-1]
    # Changing any of these replaces a service in CloudFormation.
    replace = (
        cluster != original_resource.cluster_name
        or props.get("ServiceName", original_resource.name) != original_resource.name
        or props.get("LaunchType") != original_resource.launch_type
        or props.get("Role") != original_resource.role_arn
    )
    if replace:
        backend.delete_service(original_resource.cluster_name, original_resource.name, force=True)
        return _create_service(cls, new_resource_name, cloudformation_json, account_id, region_name)
    service = backend.update_service(
        {
            "cluster": cluster,
            "service": original_resource.name,
            "task_definition": _name_or_arn(props.get("TaskDefinition"), "arn"),
            "desired_count": props.get("DesiredCount", original_resource.desired_count),
            "load_balancers": camel(props.get("LoadBalancers")),
            "platform_version": props.get("PlatformVersion"),
        }
    )
    network = camel(props.get("NetworkConfiguration"))
    service.network_configuration = service._validate_network(network) if network else {}
    return _settle(service, props)


def _delete_service(cls, resource_name, cloudformation_json, account_id, region_name):
    # resource_name is the physical id (the service ARN); the properties are unresolved here.
    backend = _backend(account_id, region_name)
    for service in list(backend.services.values()):
        if service.arn == resource_name and service.status == "ACTIVE":
            backend.delete_service(service.cluster_name, service.name, force=True)


# --- AWS::EC2::SecurityGroup egress ------------------------------------------------------

_create_security_group = SecurityGroup.create_from_cloudformation_json.__func__


def _create_security_group_with_egress(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    """moto ignores SecurityGroupEgress (CloudFormation replaces the default allow-all rule
    with it) and drops the Description of ingress rules; keep both as declared."""
    group = _create_security_group(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    _describe_ingress(group, cloudformation_json.get("Properties", {}).get("SecurityGroupIngress"))
    egress = cloudformation_json.get("Properties", {}).get("SecurityGroupEgress")
    if not egress:
        return group
    ec2 = ec2_backends[account_id][region_name]
    ec2.revoke_security_group_egress(group.id, "-1", None, None, [{"CidrIp": "0.0.0.0/0"}])
    for rule in egress:
        if "CidrIp" not in rule:
            continue  # the project declares CIDR rules only; others stay as moto left them
        cidr = {k: rule[k] for k in ("CidrIp", "Description") if k in rule}
        ec2.authorize_security_group_egress(
            group.id, str(rule["IpProtocol"]), rule.get("FromPort"), rule.get("ToPort"), [cidr]
        )
    return group


def _describe_ingress(group: Any, declared: list[dict[str, Any]] | None) -> None:
    """Give moto's ingress rules the descriptions their declarations carry."""
    for rule in declared or []:
        if "Description" not in rule:
            continue
        ports = (int(rule["FromPort"]), int(rule["ToPort"])) if "FromPort" in rule else (None, None)
        for kept in group.ingress_rules:
            if (kept.from_port, kept.to_port) == ports and kept.ip_protocol == str(
                rule["IpProtocol"]
            ):
                for target in (kept.ip_range, kept.source_group):
                    if target:
                        target["Description"] = rule["Description"]


# --- UpdateStack with nothing to change ------------------------------------------------


def _validate_different_update(self, incoming_params, stack_body, old_stack):
    """Refuse an update that changes neither template, parameter values nor tags, as AWS does.

    Templates are compared parsed, so a body that differs only in layout or comments (Sceptre
    re-serialises YAML templates) is no change.
    """
    previous = old_stack.resource_map.input_parameters or {}
    new = self._get_param_values(incoming_params or [], previous)
    # Parse the stored text afresh: moto adds keys to its own parsed copy (template_dict).
    parse = old_stack.parse_template
    same_template = parse(old_stack.template) == parse(stack_body)
    # New stack tags are a change too: CloudFormation updates the stack to put them on its
    # resources (docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html,
    # Tags: "If you don't specify this parameter, CloudFormation doesn't modify the stack's
    # tags").
    tags = {t["Key"]: t["Value"] for t in self._get_param("Tags", []) or []}
    same_tags = not tags or tags == dict(old_stack.tags or {})
    if same_template and new == previous and same_tags:
        raise ValidationError(old_stack.name, message="No updates are to be performed.")


_PATCHES = {
    ecs.Cluster: (_create_cluster, _update_cluster, _delete_cluster),
    ecs.TaskDefinition: (_create_task_definition, _update_task_definition, _delete_task_definition),
    ecs.Service: (_create_service, _update_service, _delete_service),
}


def install() -> None:
    """Replace the CloudFormation handlers of moto's ECS models. Idempotent."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"emulator/fidelity.py was written against moto {MOTO_VERSION}, found "
            f"{moto.__version__}; pin moto in emulator/requirements.txt or update this layer"
        )
    for model, (create, update, delete) in _PATCHES.items():
        model.create_from_cloudformation_json = classmethod(create)
        model.update_from_cloudformation_json = classmethod(update)
        model.delete_from_cloudformation_json = classmethod(delete)
    CloudFormationResponse._validate_different_update = _validate_different_update
    SecurityGroup.create_from_cloudformation_json = classmethod(_create_security_group_with_egress)
    fidelity_lb.install()
    fidelity_iam.install()
