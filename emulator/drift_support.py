"""Which resource types CloudFormation's drift detection checks, as data with its sources.

The rule. CloudFormation compares "the value for each resource property as specified in the
stack template ... with the current resource property value returned by the resource read
handler" (docs.aws.amazon.com/cloudformation-cli/latest/userguide/
resource-type-model-false-drift.html), and lists as drift-checkable the provisionable types,
those whose registry schema has handlers ("FULLY_MUTABLE and IMMUTABLE types contain (CRUDL)
handlers and can be verified for import and drift detection operations, whereas
NON_PROVISIONABLE types don't contain handlers": docs.aws.amazon.com/AWSCloudFormation/
latest/UserGuide/resource-import-supported-resources.html, the list of supported types).
So a type is checked when its registry schema (as AWS publishes them; cfn-lint ships them:
emulator/handler_model.py SCHEMAS) has a ``read`` handler. Checked against the 2021 edition
of that list (awsdocs/aws-cloudformation-user-guide, doc_source/
resource-import-supported-resources.md): 182 of its 185 types have a read handler today.

Types of this project's templates that CloudFormation does not check, and why (README,
"Drift detection"), each also without a read handler in its schema:
"""

import functools
import importlib.util
import json
from pathlib import Path

# Found without importing cfnlint (slow) or the emulator's moto modules: stdlib only, so the
# project's own tests can read this data too.
SCHEMAS = Path(importlib.util.find_spec("cfnlint").origin).resolve().parent / "data/schemas"

NOT_CHECKED: dict[str, str] = {
    # docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-policy.html:
    # "This resource does not support drift detection" (inline policies of roles are checked
    # through the role's Policies, AWS::IAM::RolePolicy).
    "AWS::IAM::Policy": "AWS::IAM::Policy does not support drift detection (type reference)",
    # Not in either edition of AWS's list of drift-checkable types (2021, 2023) and no read
    # handler in its registry schema: a legacy, non-provisionable type.
    "AWS::CodeBuild::Project": "not in AWS's list of types that support drift detection",
    # No read handler in its registry schema; not in AWS's list.
    "AWS::SNS::TopicPolicy": "not in AWS's list of types that support drift detection",
}


@functools.cache
def _providers() -> dict[str, str]:
    return json.loads((SCHEMAS / "providers/us-east-1.json").read_text())


@functools.cache
def has_read_handler(resource_type: str) -> bool:
    """Whether the type's CloudFormation registry schema has a read handler."""
    schema_hash = _providers().get(resource_type)
    if schema_hash is None:
        return False
    schema = json.loads((SCHEMAS / f"resources/{schema_hash}.json").read_text())
    return "read" in (schema.get("handlers") or {})


def checked(resource_type: str) -> bool:
    """Whether CloudFormation's drift detection compares resources of this type."""
    return resource_type not in NOT_CHECKED and has_read_handler(resource_type)
