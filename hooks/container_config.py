"""Rules on the container's ``variables`` and ``secrets`` that a JSON Schema cannot say.

hooks/config_schema.py checks each name and reference alone; these rules look across them:
a name given both as a variable and as a secret, a name ECS sets itself, a secret that names
both or neither store, a JSON key on an SSM parameter, a Secrets Manager name that Secrets
Manager would mistake for a complete ARN.
"""

import re
from typing import Any

# Variables Amazon ECS sets in every task (https://docs.aws.amazon.com/AmazonECS/latest/
# developerguide/ecs-environment-variables.html). AWS documents no reserved prefix for ECS
# (unlike Lambda), so only these names are refused: the SDKs and the metadata endpoint
# depend on ECS's values.
SET_BY_ECS = frozenset(
    {
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "ECS_CONTAINER_METADATA_URI_V4",
        "ECS_CONTAINER_METADATA_URI",
        "ECS_AGENT_URI",
        "AWS_EXECUTION_ENV",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
    }
)
# A name ending in a hyphen and six characters reads, in a partial ARN, as the random suffix
# of a complete one (https://docs.aws.amazon.com/secretsmanager/latest/userguide/
# troubleshoot.html#ARN_secretnamehyphen): the task would look for another secret.
_SUFFIX_LIKE = re.compile(r"-[A-Za-z0-9]{6}$")

Problem = tuple[str, Any, str]


def container_config_problems(variables: Any, secrets: Any) -> list[Problem]:
    """(key, value, what is allowed) for each cross-key rule the two mappings break.

    Either argument that is not a mapping (absent, or faulted by the schema) is skipped.
    """
    problems: list[Problem] = []
    plain = variables if isinstance(variables, dict) else {}
    hidden = secrets if isinstance(secrets, dict) else {}
    for section, names in (("variables", plain), ("secrets", hidden)):
        for name in names:
            if name in SET_BY_ECS:
                problems.append(
                    (f"sceptre_user_data.{section}.{name}", names[name],
                     "a name Amazon ECS does not set itself (it sets "
                     + ", ".join(sorted(SET_BY_ECS)) + ")")
                )  # fmt: skip
    for name in sorted(set(plain) & set(hidden)):
        problems.append(
            (f"sceptre_user_data.secrets.{name}", hidden[name],
             f"a name not also in variables: {name} is given both a value and a secret")
        )  # fmt: skip
    for name, reference in hidden.items():
        if isinstance(reference, dict):
            problems += _reference_problems(f"sceptre_user_data.secrets.{name}", reference)
    return problems


def _reference_problems(key: str, reference: dict[str, Any]) -> list[Problem]:
    stores = [store for store in ("ssm", "secretsmanager") if store in reference]
    if len(stores) != 1:
        return [
            (key, reference,
             "exactly one of ssm: PARAMETER_NAME_OR_ARN or secretsmanager: SECRET_NAME_OR_ARN")
        ]  # fmt: skip
    if "json_key" in reference and stores == ["ssm"]:
        return [
            (f"{key}.json_key", reference["json_key"],
             "json_key only with secretsmanager (an SSM parameter is read whole)")
        ]  # fmt: skip
    secret = reference.get("secretsmanager")
    if isinstance(secret, str) and not secret.startswith("arn:") and _SUFFIX_LIKE.search(secret):
        return [
            (f"{key}.secretsmanager", secret,
             "a name not ending in a hyphen and six characters, or the secret's complete ARN "
             "(Secrets Manager reads such an ending as the ARN's random suffix)")
        ]  # fmt: skip
    return []
