"""ECS deployment alarms: a rolling deployment fails, and may roll back, when an alarm it
watches goes into ALARM (task_lifecycle.py asks this module; nothing in moto is patched).

What AWS does (docs.aws.amazon.com/AmazonECS/latest/developerguide/
deployment-alarm-failure.html, and the ECS launch post, aws.amazon.com/blogs/containers/
automate-rollbacks-for-amazon-ecs-rolling-deployments-with-cloudwatch-alarms/):
- the service's ``deploymentConfiguration.alarms`` names the alarms, ``enable`` turns the
  method on and ``rollback`` restores the last completed deployment on failure;
- ECS watches the alarms while the deployment is IN_PROGRESS, and after the service reaches
  a steady state keeps it IN_PROGRESS for a bake time it derives from the alarms' settings;
  then COMPLETED, or FAILED if an alarm went into ALARM (only ALARM: OK and
  INSUFFICIENT_DATA do not fail it). A FAILED deployment starts no new tasks.

What the emulator does:
- an alarm counts when it is in ALARM and went there after the deployment started: a
  deployment started while an alarm was already in ALARM ignores that alarm (as AWS Copilot
  documents for ECS's alarm-based rollback: aws/copilot-cli pull request 4512). So a
  rollback deployment is not failed by the alarm that caused it.
- the bake time is ``EMULATOR_BAKE_SECONDS`` (default 0: launches stay fast; AWS's is
  minutes, from the alarms' periods, and cannot be set). A test sets a bake time to have a
  window in which to trip an alarm (SetAlarmState) before the deployment completes.

Gaps: the wording of rolloutStateReason, of the service event and of CloudFormation's
failure for an alarm-failed deployment is the emulator's own (AWS's guide does not quote
them); each names the alarms. EventBridge deployment events are not sent.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends


def bake_seconds() -> float:
    """The bake time, EMULATOR_BAKE_SECONDS (default 0), read per call: a forked emulator
    (emulator/forkserver.py) has its own environment but its fork server's imports."""
    return float(os.environ.get("EMULATOR_BAKE_SECONDS", "0"))


def _settings(service: Any) -> dict[str, Any]:
    config = getattr(service, "deployment_configuration", None) or {}
    alarms = config.get("alarms") or {}
    return alarms if alarms.get("enable") else {}


def watched(service: Any) -> list[str]:
    """The alarms the service's deployments watch (none unless the method is enabled)."""
    return list(_settings(service).get("alarmNames") or [])


def rolls_back(service: Any) -> bool:
    """Whether a deployment that an alarm failed rolls back to the last completed one."""
    return bool(_settings(service).get("rollback"))


def _aware(stamp: datetime) -> datetime:
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def tripped(service: Any, deployment: dict[str, Any], at: float) -> list[str]:
    """The watched alarms that went into ALARM after the deployment started and by ``at``
    (task_lifecycle.py replays a service's history in time order), by name."""
    names = watched(service)
    if not names:
        return []
    backend = cloudwatch_backends[service._account_id][service.region_name]
    started, now = _aware(deployment["createdAt"]), datetime.fromtimestamp(at, UTC)
    return [
        alarm.name
        for alarm in backend.get_alarms_by_alarm_names(names)
        if alarm.state_value == "ALARM" and started <= _aware(alarm.state_updated_timestamp) <= now
    ]


def baked(service: Any, state: dict[str, Any], deployment: dict[str, Any], at: float) -> bool:
    """Whether a steady deployment has waited out its bake time (at once without alarms).
    The first call for a deployment marks when it became steady."""
    if not watched(service):
        return True
    steady_at = state.setdefault("steady_at", {}).setdefault(deployment["id"], at)
    return at - steady_at >= bake_seconds()


def rollout_reason(names: list[str]) -> str:
    """The deployment's rolloutStateReason (the emulator's wording, see the module docstring)."""
    return f"ECS deployment failed: alarm(s) in ALARM state: {', '.join(names)}."


def stack_reason(names: list[str]) -> str:
    """CloudFormation's reason for the service resource (the emulator's wording)."""
    alarms = ", ".join(names)
    return f"Error occurred during operation 'ECS Deployment Alarms were triggered: {alarms}'."
