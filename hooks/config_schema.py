"""What an environment's configuration may hold: a JSON Schema plus the rules a schema
cannot say (Fargate's cpu/memory pairs, names that must agree with each other).

The schema describes the merged configuration a stack sees: config/config.yaml, then the
environment's config.yaml on top, as Sceptre merges them.
"""

from pathlib import Path
from typing import Any

from hooks.container_config import container_config_problems

# Fargate task sizes: cpu units -> the memory (MiB) each accepts.
FARGATE_MEMORY: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}
# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653]  # fmt: skip

NAME = {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,30}[a-z0-9]$"}

# An environment variable's name as the shell can read it: letters, digits and underscores,
# not starting with a digit (POSIX, https://pubs.opengroup.org/onlinepubs/9699919799/
# basedefs/V1_chap08.html). ECS itself passes any string; a name a shell cannot expand is a
# mistake.
VARIABLE_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,254}$"}
# SSM parameter names: letters, digits and _.-/, a path begins with "/"
# (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html);
# or the parameter's ARN (parameter/ then the name without its leading slash).
SSM_PARAMETER = (
    "^(/[A-Za-z0-9_.-]+)+$|^[A-Za-z0-9_.-]+$"
    "|^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$"
)
# Secrets Manager: a name (letters, digits and /_+=.@-, at most 512:
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html) or
# the secret's complete ARN, which ends in "-" and the six random characters it was given.
SECRET_ID = (
    "^[A-Za-z0-9/_+=.@-]{1,512}$"
    "|^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$"
)
SECRET: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "ssm": {"type": "string", "pattern": SSM_PARAMETER, "maxLength": 2048},
        "secretsmanager": {"type": "string", "pattern": SECRET_ID},
        # One key of a secret whose value is JSON (ECS's valueFrom ...:json-key::).
        "json_key": {"type": "string", "pattern": "^[^:]+$"},
    },
}
# A customer managed KMS key, by key ARN (IAM matches kms:Decrypt on the key's ARN, not an alias).
KMS_KEY_ARN = {
    "type": "string",
    "pattern": "^$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$",
}
TAGS = {"type": "object", "additionalProperties": {"type": "string"}}
SNS_TOPIC_ARN = {
    "type": "string",
    "pattern": "^$|^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$",
}
# Alarm thresholds (templates/partials/alarms.j2), over one-minute periods: evaluation periods
# times period may not exceed one day (EvaluationPeriods, docs.aws.amazon.com/AmazonCloudWatch/
# latest/APIReference/API_PutMetricAlarm.html), so at most 1440.
ALARMS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "evaluation_periods",
        "target_5xx_percent",
        "response_time_p90_seconds",
        "unhealthy_hosts",
        "cpu_percent",
        "memory_percent",
    ],
    "properties": {
        "evaluation_periods": {"type": "integer", "minimum": 1, "maximum": 1440},
        "target_5xx_percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
        # Seconds, TargetResponseTime's unit: a value in milliseconds would never alarm.
        "response_time_p90_seconds": {"type": "number", "exclusiveMinimum": 0},
        "unhealthy_hosts": {"type": "integer", "minimum": 1},
        "cpu_percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
        "memory_percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
    },
}

# Which account holds the registry and each environment (README: "One account or several"):
# an AWS account id is 12 digits (docs.aws.amazon.com/accounts/latest/reference/
# manage-acct-identifiers.html); "" = the one account the credentials reach.
ACCOUNT_ID = {"type": "string", "pattern": "^$|^[0-9]{12}$"}
ACCOUNTS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tools", "dev", "prod"],
    "properties": {"tools": ACCOUNT_ID, "dev": ACCOUNT_ID, "prod": ACCOUNT_ID},
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["project_code", "region", "environment", "image_repository", "sceptre_user_data"],
    "properties": {
        "project_code": NAME,
        "region": {"type": "string", "pattern": "^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"},
        "environment": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,14}[a-z0-9]$"},
        "image_repository": {
            "type": "string",
            "pattern": "^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$",
        },
        "config_schema": {"enum": ["environment", "account"]},  # which of SCHEMAS applies
        "accounts": ACCOUNTS,
        "on_failure": {"enum": ["DO_NOTHING", "ROLLBACK", "DELETE"]},
        "stack_timeout": {"type": "integer", "minimum": 5, "maximum": 720},
        "stack_tags": TAGS,
        "workload_stacks": {"type": "array", "items": NAME, "minItems": 1},
        "image_tag_required": {"type": "boolean"},
        "network": {
            "type": "object",
            "additionalProperties": False,
            "required": ["vpc_name", "subnet_tags", "min_azs"],
            "properties": {
                "vpc_name": {"type": "string", "maxLength": 255},
                "subnet_tags": TAGS,
                "min_azs": {"type": "integer", "minimum": 1, "maximum": 6},
                "public_subnet_tags": TAGS,
                "max_azs": {"type": "integer", "minimum": 2, "maximum": 6},
                # The network stack (templates/network.yaml.j2): create the VPC, or bring it.
                "create": {"type": "boolean"},
                "egress": {"enum": ["endpoints", "nat"]},
                "cidr": {  # a /16 the stack cuts into /20 subnets
                    "type": "string",
                    "pattern": "^(10\\.(1?[0-9]?[0-9]|2[0-4][0-9]|25[0-5])"
                    "|172\\.(1[6-9]|2[0-9]|3[01])|192\\.168)\\.0\\.0/16$",
                },
            },
        },
        # EventBridge schedule expressions: rate(N unit) or a six-field cron(...).
        "drift_schedule": {
            "type": "string",
            "pattern": "^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)"
            "|cron\\(([^ ]+ ){5}[^ ]+\\))$",
        },
        "drift_topic_arn": SNS_TOPIC_ARN,
        # The drift monitor reverts drift (drift-check ENV --revert --yes) or only reports it.
        "auto_revert": {"type": "boolean"},
        "drift_source": {
            "type": "object",
            "additionalProperties": False,
            "required": ["owner", "repo", "branch"],
            "properties": {
                "owner": {"type": "string", "minLength": 1},
                "repo": {"type": "string", "minLength": 1},
                "branch": {"type": "string", "minLength": 1},
            },
        },
        "protection": {
            "type": "object",
            "additionalProperties": False,
            "required": ["termination_protection", "stack_policy"],
            "properties": {
                "termination_protection": {"type": "boolean"},
                "stack_policy": {"type": "string", "pattern": "^$|^policies/[\\w.-]+\\.json$"},
            },
        },
        "pipeline": {
            "type": "object",
            "additionalProperties": False,
            "required": ["source", "approval", "promote", "execution_mode"],
            "properties": {
                "source": {"enum": ["git", "release"]},
                "git": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["provider", "repository", "branch"],
                    "properties": {
                        "provider": {
                            "enum": [
                                "GitHub",
                                "GitHubEnterpriseServer",
                                "GitLab",
                                "GitLabSelfManaged",
                                "Bitbucket",
                            ]
                        },  # fmt: skip
                        "repository": {"type": "string", "pattern": "^[\\w.-]+/[\\w./-]+$"},
                        "branch": {"type": "string", "minLength": 1},
                    },
                },
                "approval": {"type": "boolean"},
                "promote": {"type": "boolean"},
                "execution_mode": {"enum": ["QUEUED", "SUPERSEDED", "PARALLEL"]},
            },
        },
        "sceptre_user_data": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "environment",
                "name",
                "cpu",
                "memory",
                "log_retention_days",
                "log_deletion_policy",
                "assign_public_ip",
                "capacity_provider_strategy",
                "load_balancer",
                "health_check",
                "deregistration_delay",
                "autoscaling",
                "alarms",
            ],
            "properties": {
                "environment": {"type": "string"},
                "name": NAME,
                "image_repository": {"type": "string"},
                "accounts": ACCOUNTS,  # the stack files' copy of accounts (above)
                "workload_stacks": {"type": "array"},
                "pipeline": {"type": "object"},
                "network": {"type": "object"},  # the network stack's copy of network (above)
                "cpu": {"enum": sorted(FARGATE_MEMORY)},
                "memory": {"type": "integer", "minimum": 512, "maximum": 122880},
                "load_balancer": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [
                        "domain_name",
                        "hosted_zone_id",
                        "certificate_arn",
                        "access_log_days",
                    ],  # fmt: skip
                    "properties": {
                        "domain_name": {
                            "type": "string",
                            "pattern": "^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$",
                        },
                        "hosted_zone_id": {"type": "string", "pattern": "^$|^Z[A-Z0-9]{1,31}$"},
                        "certificate_arn": {
                            "type": "string",
                            "pattern": "^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/"
                            "[0-9a-f-]{36}$",
                        },
                        "access_log_days": {"type": "integer", "minimum": 0, "maximum": 3650},
                    },
                },
                # Ranges the load balancer accepts for a target group's health check.
                "health_check": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [
                        "path",
                        "interval",
                        "timeout",
                        "healthy_threshold",
                        "unhealthy_threshold",
                        "grace_period",
                    ],  # fmt: skip
                    "properties": {
                        "path": {"type": "string", "pattern": "^/[\\w./~%-]*$", "maxLength": 1024},
                        "interval": {"type": "integer", "minimum": 5, "maximum": 300},
                        "timeout": {"type": "integer", "minimum": 2, "maximum": 120},
                        "healthy_threshold": {"type": "integer", "minimum": 2, "maximum": 10},
                        "unhealthy_threshold": {"type": "integer", "minimum": 2, "maximum": 10},
                        "grace_period": {"type": "integer", "minimum": 0, "maximum": 2147483647},
                    },
                },
                "deregistration_delay": {"type": "integer", "minimum": 0, "maximum": 3600},
                "autoscaling": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["min", "max", "cpu_target", "requests_per_target"],
                    "properties": {
                        "min": {"type": "integer", "minimum": 1, "maximum": 1000},
                        "max": {"type": "integer", "minimum": 1, "maximum": 1000},
                        "cpu_target": {"type": "integer", "minimum": 10, "maximum": 95},
                        "requests_per_target": {"type": "integer", "minimum": 0},
                    },
                },
                # The container's configuration and secrets (hooks/container_config.py).
                "variables": {
                    "type": "object",
                    "propertyNames": VARIABLE_NAME,
                    "additionalProperties": {"type": "string", "maxLength": 32768},
                },
                "secrets": {
                    "type": "object",
                    "propertyNames": VARIABLE_NAME,
                    "additionalProperties": SECRET,
                },
                "secrets_kms_key_arn": KMS_KEY_ARN,
                "enable_execute_command": {"type": "boolean"},
                # The SNS topic alarms notify (partials/alarms.j2), "" for none.
                "alarm_topic_arn": SNS_TOPIC_ARN,
                "alarms": ALARMS,
                "log_retention_days": {"enum": LOG_RETENTION_DAYS},
                "log_deletion_policy": {"enum": ["Delete", "Retain"]},
                "assign_public_ip": {"enum": ["ENABLED", "DISABLED"]},
                "public_ip_reason": {"type": "string", "minLength": 20},
                "capacity_provider_strategy": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["provider", "weight"],
                        "properties": {
                            "provider": {"enum": ["FARGATE", "FARGATE_SPOT"]},
                            "weight": {"type": "integer", "minimum": 0, "maximum": 1000},
                            "base": {"type": "integer", "minimum": 0, "maximum": 100000},
                        },
                    },
                },
            },
        },
    },
}


# The account-level stack group (config/shared, `config_schema: account`): no workload.
ACCOUNT_KEYS = ["project_code", "region", "environment", "image_repository", "on_failure",
                "stack_timeout", "stack_tags", "accounts"]  # fmt: skip
ACCOUNT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["project_code", "region", "environment", "image_repository"],
    "properties": {key: SCHEMA["properties"][key] for key in [*ACCOUNT_KEYS, "config_schema"]},
}
SCHEMAS: dict[str, dict[str, Any]] = {"environment": SCHEMA, "account": ACCOUNT_SCHEMA}

KeyPath = tuple[str, ...]  # a key in the configuration, as the keys leading to it


def cross_field_problems(
    config: dict[str, Any], folder: str, invalid: frozenset[KeyPath] = frozenset()
) -> list[tuple[str, Any, str]]:
    """Rules across keys, as (key, value, what is allowed).

    invalid: the paths (tuples of keys) where the schema found a problem. A rule whose input
    is at, under or above such a path is skipped (its inputs cannot be trusted); every other
    rule runs, so one report lists schema and cross-field problems together.
    """
    problems = []

    def get(*path: str) -> Any:
        """The value at path; _UNUSABLE if the schema faulted it; _ABSENT if it is not set."""
        if any(bad[: len(path)] == path[: len(bad)] for bad in invalid):
            return _UNUSABLE
        value: Any = config
        for key in path:
            if not isinstance(value, dict):
                return _UNUSABLE
            if key not in value:
                return _ABSENT
            value = value[key]
        return value

    def usable(*values: Any) -> bool:
        return all(v is not _UNUSABLE and v is not _ABSENT for v in values)

    user = ("sceptre_user_data",)
    cpu, memory = get(*user, "cpu"), get(*user, "memory")
    if usable(cpu, memory) and memory not in FARGATE_MEMORY[cpu]:
        problems.append(
            ("sceptre_user_data.memory", memory,
             f"with cpu {cpu} Fargate accepts memory {_span(FARGATE_MEMORY[cpu])}")
        )  # fmt: skip
    public_ip, reason = get(*user, "assign_public_ip"), get(*user, "public_ip_reason")
    if usable(public_ip) and public_ip == "ENABLED" and reason is _ABSENT:
        problems.append(
            ("sceptre_user_data.public_ip_reason", None,
             "why tasks need a public IP: required when assign_public_ip is ENABLED")
        )  # fmt: skip
    low, high = get(*user, "autoscaling", "min"), get(*user, "autoscaling", "max")
    if usable(low, high) and low > high:
        problems.append(
            ("sceptre_user_data.autoscaling.min", low, f"at most autoscaling.max ({high})")
        )
    timeout = get(*user, "health_check", "timeout")
    interval = get(*user, "health_check", "interval")
    if usable(timeout, interval) and timeout >= interval:
        problems.append(
            ("sceptre_user_data.health_check.timeout", timeout,
             f"less than health_check.interval ({interval}), so checks never overlap")
        )  # fmt: skip
    env = folder.split("/")[-1]  # the folder names the environment; the rest must agree
    environment = get("environment")
    if usable(environment) and environment != env:
        problems.append(("environment", environment, f"the folder's name, {env!r}"))
    user_env = get(*user, "environment")
    if usable(user_env) and user_env != env:
        problems.append(("sceptre_user_data.environment", user_env, f"{env!r}"))
    code, name = get("project_code"), get(*user, "name")
    if usable(code, name) and name != f"{code}-{env}":
        problems.append(
            ("sceptre_user_data.name", name,
             f"{code + '-' + env!r} (project_code-environment: resource names and the "
             "pipeline's permissions depend on it)")
        )  # fmt: skip
    policy = get("protection", "stack_policy")
    if usable(policy) and policy and not (Path(config["project_path"]) / policy).is_file():
        problems.append(("protection.stack_policy", policy, "a file under policies/ that exists"))
    problems += _network_problems(get, usable)
    problems += _account_problems(get, usable)
    problems += container_config_problems(get(*user, "variables"), get(*user, "secrets"))
    tag = get("stack_tags", "Environment")
    if tag is not _UNUSABLE and tag != env:
        shown = None if tag is _ABSENT else tag
        problems.append(("stack_tags.Environment", shown, f"{env!r} (deploy permissions use it)"))
    return problems


# Zones the network stack can create subnets in (templates/network.yaml.j2).
CREATED_ZONES = (2, 3)


def _network_problems(get: Any, usable: Any) -> list[tuple[str, Any, str]]:
    """With network.create, what the network stack needs to make a VPC the resolvers find."""
    if get("network", "create") is not True:
        return []
    problems: list[tuple[str, Any, str]] = []
    name = get("network", "vpc_name")
    if usable(name) and not name:
        problems.append(
            ("network.vpc_name", name, 'a name for the VPC to create ("" is the default VPC)')
        )
    zones = get("network", "max_azs")
    if zones is not _UNUSABLE and zones not in CREATED_ZONES:
        shown = None if zones is _ABSENT else zones
        problems.append(
            ("network.max_azs", shown, "2 or 3 with network.create: the zones to create")
        )
    least = get("network", "min_azs")
    if usable(least, zones) and zones in CREATED_ZONES and least > zones:
        problems.append(
            ("network.min_azs", least, f"at most network.max_azs ({zones}): the zones created")
        )
    private, public = get("network", "subnet_tags"), get("network", "public_subnet_tags")
    if usable(private) and not private:
        problems.append(
            ("network.subnet_tags", private,
             "the tags of the private subnets to create, e.g. {Tier: private}")
        )  # fmt: skip
    if public is not _UNUSABLE and not public:
        problems.append(
            ("network.public_subnet_tags", None if public is _ABSENT else public,
             "the tags of the public subnets to create, e.g. {Tier: public}")
        )  # fmt: skip
    elif usable(private, public) and private and _selects(public, private):
        problems.append(
            ("network.public_subnet_tags", public,
             "a tag the private subnets lack (as set, the load balancer would get those too)")
        )  # fmt: skip
    if usable(private, public) and private and public and _selects(private, public):
        problems.append(
            ("network.subnet_tags", private,
             "a tag the public subnets lack (as set, the tasks would get those too)")
        )  # fmt: skip
    return problems


def _account_problems(get: Any, usable: Any) -> list[tuple[str, Any, str]]:
    """accounts: all three set (an account per environment) or none (one account), and
    dev's and prod's apart: the templates grant each its own rights on the tools account."""
    ids = {role: get("accounts", role) for role in ("tools", "dev", "prod")}
    if not all(usable(value) for value in ids.values()):
        return []  # the schema reported it, or accounts is not set (one account)
    empty = [role for role, value in ids.items() if not value]
    if empty and len(empty) < len(ids):
        return [
            (f"accounts.{role}", "",
             "a 12-digit account id: set all three of accounts.tools, accounts.dev and "
             'accounts.prod, or none (all "" = one account)')
            for role in empty
        ]  # fmt: skip
    if ids["dev"] and ids["dev"] == ids["prod"]:
        return [
            ("accounts.prod", ids["prod"],
             "an account other than accounts.dev: each environment in its own account, or "
             'all three "" for one account')
        ]  # fmt: skip
    return []


def _selects(wanted: dict[str, str], carried: dict[str, str]) -> bool:
    """Whether a subnet carrying ``carried`` has every tag in ``wanted`` (the resolvers' test)."""
    return all(carried.get(key) == value for key, value in wanted.items())


_ABSENT = object()  # the key is not set (reported as None)
_UNUSABLE = object()  # the schema found a problem at or around the key


def _span(values: list[int]) -> str:
    if len(values) <= 3:
        return ", ".join(map(str, values))
    return f"{values[0]} to {values[-1]} in steps of {values[1] - values[0]}"
