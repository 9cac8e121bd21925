"""A task whose secrets ECS cannot read fails to start, as on AWS.

ECS registers a task definition whatever its ``secrets`` name: it reads them only when a task
starts, with the task execution role, and a task whose parameter or secret is missing, or
that the role may not read, stops with a ResourceInitializationError (AWS's troubleshooting
page, https://repost.aws/knowledge-center/ecs-unable-to-pull-secrets, lists its messages:
"ResourceInitializationError: unable to pull secrets or registry auth: execution resource
retrieval failed: unable to retrieve secret from asm: ..."). moto 5.2.5 neither reads the
secrets nor starts tasks; task_lifecycle.py asks ``start_problem`` here when a service's task
would start, and stops the task with its answer (stopCode TaskFailedToStart).

What is checked, per entry of each container's ``secrets``:
- an SSM parameter (its name or ARN): it exists, and the execution role may
  ``ssm:GetParameters`` on its ARN;
- a Secrets Manager secret (its complete or partial ARN, with ``:json-key:stage:id``): it
  exists, the role may ``secretsmanager:GetSecretValue`` on its complete ARN, and a named JSON
  key is in its value.
The role's identity policies are judged by emulator/iam.py (principalmapper), as for every
other request the emulator restricts.

Gaps (moto 5.2.5, and this module): kms:Decrypt with a customer key is not checked (moto's
parameters and secrets carry no key a role could be denied); version stages and ids in a
``valueFrom`` are ignored (the current version is read); the words after "failed to fetch
secret ... from secrets manager:" and after "unable to retrieve secrets from ssm:" are the
emulator's own, made of the API's error code and message.
"""

from __future__ import annotations

import json
from typing import Any

from moto.secretsmanager.models import secretsmanager_backends
from moto.ssm.models import ssm_backends

from emulator import iam

PREFIX = "ResourceInitializationError: unable to pull secrets or registry auth: "
RETRIEVAL = PREFIX + "execution resource retrieval failed: "
RETRIED = "service call has been retried 1 time(s): "
NOT_FOUND = "Secrets Manager can't find the specified secret."  # GetSecretValue's own message


def start_problem(definition: Any, account_id: str, region: str, task_id: str) -> str | None:
    """Why ECS could not read the task definition's secrets to start a task, or None."""
    role = getattr(definition, "execution_role_arn", None)
    for container in definition.container_definitions or []:
        for secret in container.get("secrets") or []:
            value_from = secret.get("valueFrom", "")
            where = _where(value_from, account_id, region)
            if where[0] == "secretsmanager":
                problem = _secret_problem(value_from, role, task_id, *where[1:])
            else:
                problem = _parameter_problem(value_from, role, task_id, *where[1:])
            if problem:
                return problem
    return None


def _where(value_from: str, account_id: str, region: str) -> tuple[str, str, str]:
    """(service, account, region) of a valueFrom: an ARN names them; a name is this task's."""
    parts = value_from.split(":")
    if value_from.startswith("arn:") and len(parts) >= 6:
        return parts[2], parts[4], parts[3]
    return "ssm", account_id, region


def _denied(role: str | None, account_id: str, task_id: str, action: str, arn: str) -> str | None:
    if not role:
        return f"AccessDeniedException: the task definition has no execution role to call {action}"
    principal = iam.role_principal(account_id, role, session=task_id)
    message = iam.denial(principal, action, arn)
    return f"AccessDeniedException: {message}" if message else None


def _parameter_problem(
    value_from: str, role: str | None, task_id: str, account_id: str, region: str
) -> str | None:
    failed = RETRIEVAL + "unable to retrieve secrets from ssm: " + RETRIED
    backend = ssm_backends[account_id][region]
    parameter = backend.get_parameter(value_from)
    if parameter is None:
        return failed + f"invalid parameters: {value_from}"
    arn = f"arn:aws:ssm:{region}:{account_id}:parameter/{parameter.name.lstrip('/')}"
    denied = _denied(role, account_id, task_id, "ssm:GetParameters", arn)
    return failed + denied if denied else None


def _secret_problem(
    value_from: str, role: str | None, task_id: str, account_id: str, region: str
) -> str | None:
    parts = value_from.split(":")
    secret_id, json_key = ":".join(parts[:7]), (parts[7] if len(parts) > 7 else "")
    failed = (
        RETRIEVAL
        + "unable to retrieve secret from asm: "
        + RETRIED
        + f"failed to fetch secret {secret_id} from secrets manager: "
    )
    secret = secretsmanager_backends[account_id][region].secrets.get(secret_id)
    if secret is None or secret.is_deleted():
        return failed + "ResourceNotFoundException: " + NOT_FOUND
    denied = _denied(role, account_id, task_id, "secretsmanager:GetSecretValue", secret.arn)
    if denied:
        return failed + denied
    if json_key:
        try:
            value = json.loads(secret.secret_string or "")
        except ValueError:
            value = None
        if not isinstance(value, dict) or json_key not in value:
            return (
                RETRIEVAL + f"retrieved secret from Secrets Manager did not contain json key "
                f"{json_key}"
            )
    return None
