"""emulator/task_secrets.py: ECS reads a task's secrets when the task starts, with the task
execution role, and a task that cannot read them fails to start.

What AWS does, and where it says so:
- RegisterTaskDefinition does not read the secrets; the task does at start, with the task
  execution role, which needs ssm:GetParameters / secretsmanager:GetSecretValue on them
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html);
- a task that cannot read one stops with "ResourceInitializationError: unable to pull
  secrets or registry auth: execution resource retrieval failed: ..."
  (https://repost.aws/knowledge-center/ecs-unable-to-pull-secrets), stopCode
  TaskFailedToStart (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html);
- such failed tasks count toward the deployment circuit breaker, "tasks failed to start"
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html).
"""

import json
import uuid

import pytest

from emulator.process import Emulator
from emulator.tests.stacks import until

START = 0.2
INIT_ERROR = "ResourceInitializationError: unable to pull secrets or registry auth: "
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
         "Action": "sts:AssumeRole"}
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def emulator():
    with Emulator(seed=False, settings={"EMULATOR_TASK_START_SECONDS": str(START)}) as running:
        yield running


@pytest.fixture(scope="module")
def aws(emulator):
    clients = {}

    def client(service: str):
        if service not in clients:
            clients[service] = emulator.client(service)
        return clients[service]

    return client


@pytest.fixture(scope="module")
def store(aws) -> dict[str, str]:
    """A parameter and a JSON secret, and an execution role that may read exactly those two."""
    parameter = aws("ssm").put_parameter(Name="/app/token", Value="t", Type="SecureString")
    assert parameter
    parameter_arn = aws("ssm").get_parameter(Name="/app/token")["Parameter"]["ARN"]
    secret_arn = aws("secretsmanager").create_secret(
        Name="app/db", SecretString=json.dumps({"password": "p"})
    )["ARN"]
    aws("secretsmanager").create_secret(Name="app/other", SecretString="x")
    role = aws("iam").create_role(RoleName="exec", AssumeRolePolicyDocument=json.dumps(TRUST))
    aws("iam").put_role_policy(
        RoleName="exec",
        PolicyName="read",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": parameter_arn},
                    {
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        # By name and "-??????", as the project's template grants it.
                        "Resource": secret_arn.rsplit(":", 1)[0] + ":app/db-??????",
                    },
                ],
            }
        ),
    )
    return {"role": role["Role"]["Arn"], "parameter": parameter_arn, "secret": secret_arn}


def start(aws, store, secrets: list[dict], breaker: bool = False) -> tuple[str, dict]:
    """A cluster and a one-task service whose container reads secrets; (cluster, definition)."""
    ecs = aws("ecs")
    cluster = f"c-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=cluster)
    definition = ecs.register_task_definition(
        family=cluster,
        executionRoleArn=store["role"],
        containerDefinitions=[
            {"name": "app", "image": "repo:1", "memory": 128, "secrets": secrets}
        ],
    )["taskDefinition"]
    ecs.create_service(
        cluster=cluster,
        serviceName="s",
        taskDefinition=definition["taskDefinitionArn"],
        desiredCount=1,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": breaker, "rollback": False}
        },
    )
    return cluster, definition


def tasks(aws, cluster: str, status: str) -> list[dict]:
    ecs = aws("ecs")
    arns = ecs.list_tasks(cluster=cluster, serviceName="s", desiredStatus=status)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def stopped(aws, cluster: str) -> dict:
    return until(lambda: tasks(aws, cluster, "STOPPED"))[0]


def test_secrets_the_role_may_read_let_the_task_run(aws, store):
    cluster, definition = start(aws, store, [
        {"name": "TOKEN", "valueFrom": store["parameter"]},
        {"name": "DB", "valueFrom": store["secret"].rsplit("-", 1)[0] + ":password::"},
    ])  # fmt: skip
    # The definition as registered holds the references, never the values.
    assert definition["containerDefinitions"][0]["secrets"][0]["valueFrom"] == store["parameter"]
    running = until(
        lambda: [t for t in tasks(aws, cluster, "RUNNING") if t["lastStatus"] == "RUNNING"]
    )
    assert running[0]["startedAt"]
    assert tasks(aws, cluster, "STOPPED") == []


def test_a_missing_parameter_is_registered_but_the_task_fails_to_start(aws, store):
    missing = store["parameter"].replace("/app/token", "/app/missing")
    cluster, definition = start(aws, store, [{"name": "TOKEN", "valueFrom": missing}])
    assert definition["status"] == "ACTIVE"  # registration does not read the secret
    task = stopped(aws, cluster)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith(INIT_ERROR + "execution resource retrieval failed: ")
    assert "ssm" in task["stoppedReason"] and "/app/missing" in task["stoppedReason"]
    assert task.get("startedAt") is None  # it never ran


def test_a_secret_the_execution_role_may_not_read_fails_the_task(aws, store):
    other = store["secret"].split(":secret:")[0] + ":secret:app/other"
    cluster, _ = start(aws, store, [{"name": "OTHER", "valueFrom": other}])
    task = stopped(aws, cluster)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith(
        INIT_ERROR + "execution resource retrieval failed: unable to retrieve secret from asm"
    )
    assert "AccessDeniedException" in task["stoppedReason"]
    assert "secretsmanager:GetSecretValue" in task["stoppedReason"]


def test_a_json_key_the_secret_lacks_fails_the_task(aws, store):
    cluster, _ = start(aws, store, [{"name": "DB", "valueFrom": store["secret"] + ":user::"}])
    task = stopped(aws, cluster)
    assert task["stopCode"] == "TaskFailedToStart"
    assert "json key user" in task["stoppedReason"]


def test_tasks_that_fail_to_start_trip_the_circuit_breaker(aws, store):
    missing = store["parameter"].replace("/app/token", "/app/missing")
    cluster, _ = start(aws, store, [{"name": "TOKEN", "valueFrom": missing}], breaker=True)

    def failed():
        found = aws("ecs").describe_services(cluster=cluster, services=["s"])["services"][0]
        return found["deployments"][0]["rolloutState"] == "FAILED" and found

    service = until(failed)
    # The threshold for one desired task is its minimum, 3 (API_DeploymentCircuitBreaker).
    assert service["deployments"][0]["failedTasks"] == 3
    assert service["deployments"][0]["rolloutStateReason"] == (
        "ECS deployment circuit breaker: tasks failed to start."
    )
