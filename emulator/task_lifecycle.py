"""ECS service tasks that take time to start and, on request, fail their health checks.

moto 5.2.5 runs no tasks for a service: a service reports whatever counts it was created with
(fidelity.py used to set running = desired at once), ListTasks ignores ``serviceName`` and
ECS's deployments never progress. This module gives every ACTIVE service real task records
(moto ``Task`` objects, so ListTasks and DescribeTasks show them) that follow ECS's lifecycle
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html):
PROVISIONING, PENDING, then RUNNING after ``EMULATOR_TASK_START_SECONDS`` (default 1 s).

The state is advanced lazily, in time order, whenever DescribeServices, ListTasks or
DescribeTasks reads it (no background thread), and:

- DescribeServices reports ``runningCount``/``pendingCount`` of the service and of each
  deployment, and the deployment's ``rolloutState`` IN_PROGRESS until its tasks run (and pass
  their health checks), then COMPLETED; the older deployment's tasks are stopped then
  (rolling update, minimum healthy 100 %). A new task definition (UpdateService, a stack
  update) or ``forceNewDeployment`` starts a new PRIMARY deployment.
- On request, tasks fail their load balancer health checks: tag the service
  ``emulator:health-checks=fail`` (TagResource, or Tags in the template); tasks launched
  while the tag says so run for one start period, then stop with ECS's reason
  ``Task failed ELB health checks in (target-group ARN)`` (stopCode
  ServiceSchedulerInitiated) and are replaced. Untag the service (or set another value) and
  the next replacements pass. A circuit breaker's rollback deployment (the last revision
  that completed) passes.
- The deployment circuit breaker, when the service enables it, fails the deployment once its
  failed tasks reach the threshold (0.5 x desired, at least 3, at most 200): rolloutState
  FAILED, reason ``ECS deployment circuit breaker: tasks failed to start.``; with rollback,
  a new deployment of the last completed task definition takes over.
- CloudFormation waits for an AWS::ECS::Service to reach a steady state after it creates or
  updates it, and fails the resource with ``Error occurred during operation 'ECS Deployment
  Circuit Breaker was triggered'.`` when the breaker trips. moto's CloudFormation does not
  update a service whose only change is the task definition ARN it refers to, so the wait for
  such a service happens in the TaskDefinition's update instead. Without a circuit breaker
  CloudFormation waits up to three hours; the emulator gives up after
  ``EMULATOR_STABILIZE_SECONDS`` (default 60) with ``Service ARN did not stabilize.``

- Deployment alarms (``deploymentConfiguration.alarms``): a watched alarm that goes into
  ALARM fails the deployment and, with rollback, restores the last completed task
  definition, as the breaker does; with alarms, a steady deployment completes after a bake
  time (deployment_alarms.py).

- A task whose secrets its execution role cannot read, or that do not exist, stops before it
  runs with ECS's ResourceInitializationError (stopCode TaskFailedToStart) and counts as a
  failed task for the circuit breaker (task_secrets.py says what is checked).

- A task whose image is in another account's ECR registry and that its execution role may
  not pull (its identity policies and the repository policy), or that is not there, stops
  before it runs with ECS's CannotPullContainerError (cross_account.py says what is checked).

- A service's awsvpc configuration without security groups gets its VPC's default group, as
  ECS does ("If you don't specify a security group, the default security group for the VPC
  is used": docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html);
  moto 5.2.5 fails such a service with KeyError 'securityGroups'.

Seams (moto 5.2.5): ``Service._validate_network``; the ECS backend's create_service,
update_service, delete_service, describe_services, list_tasks and describe_tasks; the ECS
response's create_service and update_service (moto drops ``deploymentConfiguration``); the
CloudFormation handlers of Service and TaskDefinition that fidelity.py installs.

Gaps: the health check grace period, the target group's interval and thresholds and the
service's maximumPercent are not modelled (one start period decides a task's health);
task placement, capacity and Spot interruptions are not modelled; the wording of the service
events beyond those the ECS guide quotes is the emulator's own.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.utils import random_private_ip
from moto.ecs import models as ecs
from moto.ecs import responses as ecs_responses
from moto.ecs.exceptions import EcsClientException

from emulator import cross_account, deployment_alarms, task_secrets

HEALTH_TAG = "emulator:health-checks"
START_SECONDS = 1.0
STABILIZE_SECONDS = 60.0


def read_timings() -> None:
    """START_SECONDS and STABILIZE_SECONDS from this process's environment: at import, and
    again in each forked emulator (emulator/forkserver.py), whose environment is its own."""
    global START_SECONDS, STABILIZE_SECONDS
    START_SECONDS = float(os.environ.get("EMULATOR_TASK_START_SECONDS", "1"))
    STABILIZE_SECONDS = float(os.environ.get("EMULATOR_STABILIZE_SECONDS", "60"))


read_timings()
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
# (rolloutStateReason as ECS writes it: https://github.com/aws/containers-roadmap/issues/1488)
BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
# CloudFormation's handler message: https://github.com/aws-cloudformation/rain/issues/458,
# https://github.com/aws/copilot-cli/issues/5296
BREAKER_STACK_REASON = (
    "Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'."
)

_lock = threading.RLock()
_numbers = itertools.count(int(time.time() * 1000000))


class ServiceTask(ecs.Task):
    """A task a service started; its status is set by this module, not moto's state model."""

    @property
    def status(self) -> str | None:
        return getattr(self, "_lifecycle_status", "PROVISIONING")

    @status.setter
    def status(self, value: str) -> None:
        self._lifecycle_status = value


def _stamp(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _backend(service: Any) -> Any:
    return ecs.ecs_backends[service._account_id][service.region_name]


def _event(service: Any, message: str, at: float) -> None:
    """A service event, newest first, as DescribeServices lists them."""
    number = len(service.events) + 1
    service.events.insert(
        0, {"id": f"emulator-{number}", "createdAt": _stamp(at), "message": message}
    )


def _health_checks_fail(service: Any) -> bool:
    return any(t.get("key") == HEALTH_TAG and t.get("value") == "fail" for t in service.tags or [])


def _breaker(service: Any) -> dict[str, Any]:
    config = getattr(service, "deployment_configuration", None) or {}
    return config.get("deploymentCircuitBreaker") or {}


def breaker_threshold(desired: int) -> int:
    """Failed tasks that fail a deployment: 0.5 x desired, at least 3, at most 200.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html
    """
    return min(200, max(3, math.ceil(0.5 * desired)))


def _state(service: Any) -> dict[str, Any]:
    state = getattr(service, "_lifecycle", None)
    if state is None:
        state = {
            "failed": {},
            "tripped": set(),
            "rollbacks": set(),
            "completed_task_definition": None,
        }
        service._lifecycle = state
    return state


def _tasks(service: Any, deployment_id: str | None = None, live: bool = True) -> list[Any]:
    tasks = _backend(service).tasks.get(service.cluster_name, {}).values()
    return [
        t
        for t in tasks
        if getattr(t, "_service_arn", None) == service.arn
        and (deployment_id is None or t._deployment_id == deployment_id)
        and (not live or t.desired_status == "RUNNING")
    ]


def _new_deployment(service: Any, at: float) -> dict[str, Any]:
    """A new PRIMARY deployment of the service's task definition; the others become ACTIVE."""
    for deployment in service.deployments:
        deployment["status"] = "ACTIVE"
    deployment_id = f"ecs-svc/{next(_numbers):019d}"
    deployment = {
        "id": deployment_id,
        "status": "PRIMARY",
        "taskDefinition": service.task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": 0,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": _stamp(at),
        "updatedAt": _stamp(at),
        "launchType": service.launch_type,
        "capacityProviderStrategy": getattr(service, "capacity_provider_strategy", None),
        "platformVersion": service.platform_version,
        "networkConfiguration": service.network_configuration or None,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": "ECS deployment in progress.",
    }
    service.deployments.insert(0, deployment)
    return deployment


class _WithoutNetwork:
    """A task definition as moto's Task constructor sees it, minus the awsvpc network mode
    (whose network interface moto builds from attributes its own interfaces may lack)."""

    network_mode = "bridge"

    def __init__(self, definition: Any) -> None:
        self._definition = definition

    def __getattr__(self, name: str) -> Any:
        return getattr(self._definition, name)


def _interface(service: Any, awsvpc: dict[str, Any]) -> dict[str, Any]:
    """The task's elastic network interface in the service's first subnet, as attached."""
    ec2 = ec2_backends[service._account_id][service.region_name]
    eni = ec2.create_network_interface(
        subnet=awsvpc["subnets"][0],
        private_ip_address=random_private_ip(),
        group_ids=awsvpc.get("securityGroups") or [],
        description=f"arn:aws:ecs:{service.region_name}:{service._account_id}:attachment",
    )
    eni.status = "in-use"
    details = {
        "subnetId": awsvpc["subnets"][0],
        "networkInterfaceId": eni.id,
        "macAddress": getattr(eni, "mac_address", ""),
        "privateDnsName": getattr(eni, "private_dns_name", ""),
        "privateIPv4Address": getattr(eni, "private_ip_address", ""),
    }
    return {
        "id": eni.id,
        "type": "ElasticNetworkInterface",
        "status": "ATTACHED",
        "details": [{"name": k, "value": v} for k, v in details.items() if v],
    }


def _launch(service: Any, deployment: dict[str, Any], count: int, at: float) -> None:
    backend = _backend(service)
    cluster = backend.clusters[service.cluster_name]
    definition = backend.describe_task_definition(deployment["taskDefinition"])
    network = service.network_configuration or None
    if definition.network_mode == "awsvpc" and not network:
        # CreateService refuses this on ECS; a service made anyway (moto's CloudFormation)
        # never places a task.
        _state(service)["unplaceable"] = (
            "Network Configuration must be provided when networkMode 'awsvpc' is specified."
        )
        return
    started = []
    for _ in range(count):
        task = ServiceTask(
            cluster,
            _WithoutNetwork(definition),  # the interface is made below: moto's needs DNS names
            None,
            None,
            backend,
            group=f"service:{service.name}",
            launch_type=service.launch_type or "FARGATE",
            started_by=deployment["id"],
            platform_version=service.platform_version,
        )
        task.task_definition_arn = definition.arn
        if network:
            task.network_configuration = network
            task.attachments = [_interface(service, network["awsvpcConfiguration"])]
        task.status = "PROVISIONING"
        task.created_at = _stamp(at)
        task.health_status = "UNKNOWN"
        task._service_arn = service.arn
        task._deployment_id = deployment["id"]
        task._running_at = at + START_SECONDS
        task._pending_at = at + START_SECONDS / 2
        task._fails = (
            bool(service.load_balancers)
            and _health_checks_fail(service)
            and deployment["id"] not in _state(service)["rollbacks"]  # the known-good revision
        )
        task._fail_at = task._running_at + START_SECONDS if task._fails else None
        task._start_problem = task_secrets.start_problem(
            definition, service._account_id, service.region_name, task.id
        ) or cross_account.pull_problem(
            definition, service._account_id, service.region_name, task.id
        )
        backend.tasks.setdefault(service.cluster_name, {})[task.task_arn] = task
        started.append(task)
    if started:
        names = " ".join(f"(task {t.id})" for t in started)
        _event(service, f"(service {service.name}) has started {len(started)} tasks: {names}.", at)


def _stop(
    service: Any, task: Any, at: float, reason: str, code: str = "ServiceSchedulerInitiated"
) -> None:
    task.desired_status = "STOPPED"
    task.status = "STOPPED"
    task.stopped_reason = reason
    task.stop_code = code
    task.stopped_at = task.execution_stopped_at = _stamp(at)
    ec2 = ec2_backends[service._account_id][service.region_name]
    for attachment in task.attachments:  # ECS releases the task's network interface
        for detail in attachment.get("details", []):
            if detail["name"] == "networkInterfaceId":
                with contextlib.suppress(Exception):
                    ec2.delete_network_interface(detail["value"])


def _scale_in(service: Any, tasks: list[Any], deployment_id: str, at: float) -> None:
    for task in tasks:
        _stop(service, task, at, f"Scaling activity initiated by (deployment {deployment_id})")
    if tasks:
        names = " ".join(f"(task {t.id})" for t in tasks)
        message = f"(service {service.name}) has stopped {len(tasks)} running tasks: {names}."
        _event(service, message, at)


def _next_change(task: Any) -> float | None:
    if task.status == "PROVISIONING":
        return task._pending_at
    if task.status == "PENDING":
        return task._running_at
    if task.status == "RUNNING" and task._fail_at is not None:
        return task._fail_at
    return None


def _apply(service: Any, task: Any, at: float) -> None:
    """Move one task to its next state."""
    if task.status == "PROVISIONING":
        task.status = "PENDING"
    elif task.status == "PENDING" and getattr(task, "_start_problem", None):
        _stop(service, task, at, task._start_problem, "TaskFailedToStart")
        _state(service)["failed"][task._deployment_id] = (
            _state(service)["failed"].get(task._deployment_id, 0) + 1
        )
    elif task.status == "PENDING":
        task.status = "RUNNING"
        task.started_at = task.pull_stopped_at = _stamp(at)
        task.health_status = "UNKNOWN" if task._fails else "HEALTHY"
    else:  # failed its health checks
        group = service.load_balancers[0].get("targetGroupArn", "")
        port = service.load_balancers[0].get("containerPort", "")
        _event(
            service,
            f"(service {service.name}) (task {task.id}) (port {port}) is unhealthy in "
            f"(target-group {group}) due to (reason Request timed out).",
            at,
        )
        task.health_status = "UNHEALTHY"
        # https://repost.aws/knowledge-center/ecs-task-stopped ("Task failed ELB health
        # checks"); the full wording, with the target group's ARN, as ECS writes it:
        # https://gist.github.com/efekarakus/fe4afc1ab8b54835d27e47e253f46254
        _stop(service, task, at, f"Task failed ELB health checks in (target-group {group})")
        _state(service)["failed"][task._deployment_id] = (
            _state(service)["failed"].get(task._deployment_id, 0) + 1
        )


def _fail(service: Any, at: float, reason: str, why: str, rollback: bool) -> dict[str, Any]:
    """Fail the primary deployment (``why`` ends its service event) and, with rollback and a
    completed deployment to return to, start that one; the primary deployment after."""
    state = _state(service)
    primary = service.deployments[0]
    primary.update(rolloutState="FAILED", rolloutStateReason=reason)
    state["tripped"].add(primary["id"])
    _event(service, f"(service {service.name}) (deployment {primary['id']}) deployment {why}", at)
    _scale_in(service, _tasks(service, primary["id"]), primary["id"], at)
    previous = state["completed_task_definition"]
    if rollback and previous:
        service.task_definition = previous
        primary = _new_deployment(service, at)
        state["rollbacks"].add(primary["id"])
        _event(service, f"(service {service.name}) rolling back to deployment {primary['id']}.", at)
    return primary


def _reconcile(service: Any, at: float) -> None:
    """What ECS's scheduler does at time ``at``: breaker, alarms, launches, completion."""
    state = _state(service)
    primary = service.deployments[0]
    failed = state["failed"].get(primary["id"], 0)
    breaker = _breaker(service)
    alarmed = (
        deployment_alarms.tripped(service, primary, at)
        if primary["rolloutState"] == "IN_PROGRESS"
        else []
    )
    if (
        primary["rolloutState"] == "IN_PROGRESS"
        and breaker.get("enable")
        and failed >= breaker_threshold(service.desired_count)
    ):
        primary = _fail(
            service, at, BREAKER_REASON, "failed: tasks failed to start.", breaker.get("rollback")
        )
    elif alarmed:
        state.setdefault("stack_reasons", {})[primary["id"]] = deployment_alarms.stack_reason(
            alarmed
        )
        primary = _fail(
            service,
            at,
            deployment_alarms.rollout_reason(alarmed),
            f"failed: alarm(s) {', '.join(alarmed)} in ALARM state.",
            deployment_alarms.rolls_back(service),
        )
    if primary["rolloutState"] == "FAILED":
        return
    live = _tasks(service, primary["id"])
    want = service.desired_count
    if len(live) < want:
        _launch(service, primary, want - len(live), at)
    elif len(live) > want:
        newest_first = sorted(live, key=lambda t: t.created_at, reverse=True)
        _scale_in(service, newest_first[: len(live) - want], primary["id"], at)
    live = _tasks(service, primary["id"])
    healthy = [t for t in live if t.status == "RUNNING" and not t._fails]
    settled = len(healthy) == want == len(live)
    if (
        primary["rolloutState"] == "IN_PROGRESS"
        and settled
        and deployment_alarms.baked(service, state, primary, at)
    ):
        primary.update(
            rolloutState="COMPLETED",
            rolloutStateReason=f"ECS deployment {primary['id']} completed.",
        )
        state["completed_task_definition"] = primary["taskDefinition"]
        for old in service.deployments[1:]:
            _scale_in(service, _tasks(service, old["id"]), primary["id"], at)
        del service.deployments[1:]
        _event(service, f"(service {service.name}) has reached a steady state.", at)


def _count(service: Any, at: float) -> None:
    for deployment in service.deployments:
        tasks = _tasks(service, deployment["id"])
        running = sum(t.status == "RUNNING" for t in tasks)
        deployment.update(
            runningCount=running,
            pendingCount=len(tasks) - running,
            failedTasks=_state(service)["failed"].get(deployment["id"], 0),
            updatedAt=_stamp(at),
        )
        if deployment["status"] == "PRIMARY":
            deployment["desiredCount"] = service.desired_count
        else:
            deployment["desiredCount"] = len(tasks)
    service.running_count = sum(d["runningCount"] for d in service.deployments)
    service.pending_count = sum(d["pendingCount"] for d in service.deployments)


def advance(service: Any, now: float | None = None) -> None:
    """Bring the service's tasks and deployments up to ``now``, event by event."""
    now = time.time() if now is None else now
    with _lock:
        if service.status != "ACTIVE":
            live = _tasks(service)
            if live:
                _scale_in(service, live, live[0]._deployment_id, now)
            service.running_count = service.pending_count = 0
            return
        if not service.deployments or not service.task_definition:
            return
        if service.deployments[0]["taskDefinition"] != service.task_definition:
            _new_deployment(service, now)
        at = now
        for _ in range(10000):
            due = [(t, _next_change(t)) for t in _tasks(service)]
            due = [(t, when) for t, when in due if when is not None and when <= now]
            if not due:
                break
            task, at = min(due, key=lambda pair: pair[1])
            _apply(service, task, at)
            _reconcile(service, at)
        _reconcile(service, now)
        _count(service, now)


def _advance_cluster(backend: Any, cluster: str | None = None) -> None:
    for service in list(backend.services.values()):
        if cluster is None or service.cluster_name == cluster.split("/")[-1]:
            advance(service)


def steady(service: Any) -> bool:
    """Whether the service runs its desired count from a completed deployment."""
    advance(service)
    primary = service.deployments[0] if service.deployments else None
    return bool(
        primary
        and primary["rolloutState"] == "COMPLETED"
        and len(service.deployments) == 1
        and service.running_count == service.desired_count
    )


def wait_until_stable(service: Any) -> None:
    """Wait as CloudFormation waits for a service it created or updated; raise its failure."""
    started = time.time()
    advance(service)
    first = service.deployments[0]["id"] if service.deployments else None
    while True:
        if first in _state(service)["tripped"]:
            reasons = _state(service).get("stack_reasons", {})
            raise EcsClientException(reasons.get(first, BREAKER_STACK_REASON))
        if steady(service):
            return
        if _state(service).get("unplaceable") and not _tasks(service):
            # ECS itself refuses such a service (CreateService); its reason, not a long wait.
            raise EcsClientException(_state(service)["unplaceable"])
        if time.time() - started > STABILIZE_SECONDS:
            # CloudFormation's words after its own (three-hour) wait.
            raise EcsClientException(f"Service {service.arn} did not stabilize.")
        time.sleep(0.1)


# --- seams ---------------------------------------------------------------------------------


def _wrap_backend() -> None:
    backend_cls = ecs.EC2ContainerServiceBackend
    if getattr(backend_cls.describe_services, "_lifecycle", False):
        return
    create, update, delete = (
        backend_cls.create_service,
        backend_cls.update_service,
        backend_cls.delete_service,
    )
    describe_services, list_tasks, describe_tasks = (
        backend_cls.describe_services,
        backend_cls.list_tasks,
        backend_cls.describe_tasks,
    )

    def create_service(self, *args: Any, **kwargs: Any) -> Any:
        service = create(self, *args, **kwargs)
        with _lock:
            service.deployments = []
            service.running_count = service.pending_count = 0
            if (
                service.deployment_controller.get("type", "ECS") == "ECS"
                and service.task_definition
            ):
                now = time.time()
                _launch(service, _new_deployment(service, now), service.desired_count, now)
                _count(service, now)
        return service

    def update_service(self, service_properties: dict[str, Any]) -> Any:
        force = bool(service_properties.get("force_new_deployment"))
        service = update(self, service_properties)
        if force and service.deployments:
            with _lock:
                advance(service)
                _new_deployment(service, time.time())
                advance(service)
        else:
            advance(service)
        return service

    def delete_service(self, cluster_name: str, service_name: str, force: bool) -> Any:
        service = delete(self, cluster_name, service_name, force)
        advance(service)
        return service

    def describe_services_(self, cluster_str: str, names: list[str]) -> Any:
        services, failures = describe_services(self, cluster_str, names)
        for service in services:
            advance(service)
        return services, failures

    def list_tasks_(
        self,
        cluster_str=None,
        container_instance=None,
        family=None,
        started_by=None,
        service_name=None,
        desiredStatus=None,
    ):  # noqa: N803
        _advance_cluster(self, cluster_str)
        tasks = list_tasks(
            self, cluster_str, container_instance, family, started_by, None, desiredStatus
        )
        if service_name:  # moto ignores the filter
            name = service_name.split("/")[-1]
            tasks = [t for t in tasks if t.group == f"service:{name}"]
        return tasks

    def describe_tasks_(self, cluster_str: str, tasks: list[str]) -> Any:
        _advance_cluster(self, cluster_str)
        return describe_tasks(self, cluster_str, tasks)

    replacements = {
        "create_service": create_service,
        "update_service": update_service,
        "delete_service": delete_service,
        "describe_services": describe_services_,
        "list_tasks": list_tasks_,
        "describe_tasks": describe_tasks_,
    }
    for name, function in replacements.items():
        function._lifecycle = True
        setattr(backend_cls, name, function)


def _wrap_responses() -> None:
    """Keep deploymentConfiguration from CreateService/UpdateService (moto drops it)."""
    response_cls = ecs_responses.EC2ContainerServiceResponse
    if getattr(response_cls.create_service, "_lifecycle", False):
        return

    def keeping(original: Any) -> Any:
        def call(self) -> Any:
            configuration = self._get_param("deploymentConfiguration")
            result = original(self)
            if configuration is not None:
                service = self.ecs_backend._get_service(
                    self._get_param("cluster", "default"),
                    self._get_param("serviceName") or self._get_param("service"),
                )
                service.deployment_configuration = configuration
            return result

        call._lifecycle = True
        return call

    response_cls.create_service = keeping(response_cls.create_service)
    response_cls.update_service = keeping(response_cls.update_service)


def _wrap_cloudformation() -> None:
    """CloudFormation waits for a service it created or updated to be stable."""
    if getattr(ecs.Service.create_from_cloudformation_json, "_lifecycle", False):
        return
    create = ecs.Service.create_from_cloudformation_json.__func__
    update = ecs.Service.update_from_cloudformation_json.__func__
    update_definition = ecs.TaskDefinition.update_from_cloudformation_json.__func__

    def create_service(cls, *args: Any, **kwargs: Any) -> Any:
        service = create(cls, *args, **kwargs)
        wait_until_stable(service)
        return service

    def update_service(cls, *args: Any, **kwargs: Any) -> Any:
        service = update(cls, *args, **kwargs)
        wait_until_stable(service)
        return service

    def update_task_definition(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        new = update_definition(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        backend = ecs.ecs_backends[account_id][region_name]
        for service in list(backend.services.values()):
            if service.status == "ACTIVE" and service.task_definition == new.arn:
                wait_until_stable(service)
        return new

    for model, name, function in (
        (ecs.Service, "create_from_cloudformation_json", create_service),
        (ecs.Service, "update_from_cloudformation_json", update_service),
        (ecs.TaskDefinition, "update_from_cloudformation_json", update_task_definition),
    ):
        function._lifecycle = True
        setattr(model, name, classmethod(function))


def _default_security_group() -> None:
    validate = ecs.Service._validate_network
    if getattr(validate, "_lifecycle", False):
        return

    def _validate_network(self, nc: dict[str, Any]) -> Any:
        awsvpc = nc.get("awsvpcConfiguration") or {}
        if awsvpc.get("subnets") and not awsvpc.get("securityGroups"):
            ec2 = ec2_backends[self._account_id][self.region_name]
            vpc = ec2.get_subnet(awsvpc["subnets"][0]).vpc_id
            default = ec2.get_security_group_from_name("default", vpc_id=vpc)
            nc = {**nc, "awsvpcConfiguration": {**awsvpc, "securityGroups": [default.id]}}
        return validate(self, nc)

    _validate_network._lifecycle = True  # type: ignore[attr-defined]
    ecs.Service._validate_network = _validate_network


def install() -> None:
    """Give services tasks with a lifecycle; CloudFormation waits for them. Install after
    fidelity.py (it wraps the CloudFormation handlers fidelity installs). Idempotent."""
    _default_security_group()
    _wrap_backend()
    _wrap_responses()
    _wrap_cloudformation()
