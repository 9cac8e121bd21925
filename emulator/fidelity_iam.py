"""AWS::IAM::ManagedPolicy updates and deletes through the emulator's CloudFormation.

moto 5.2.5 creates a managed policy from a template but has no update or delete for it: a
changed PolicyDocument is ignored, and deleting the stack leaves the policy attached, so
the role it is attached to cannot be deleted ("must detach all policies first"). As
CloudFormation does, an update makes the new document the default version and attaches it
to exactly the declared roles, users and groups, and a delete detaches it from all of them
and deletes it (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
aws-resource-iam-managedpolicy.html; IAM's DeletePolicy requires the detaching first:
docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html). Installed from
fidelity.py.
"""

import json
from typing import Any

from moto.iam.models import ManagedPolicy, iam_backends
from moto.utilities.utils import get_partition


def _backend(account_id: str, region_name: str) -> Any:
    return iam_backends[account_id][get_partition(region_name)]


def _attachments(backend: Any, arn: str) -> dict[str, set[str]]:
    """Who the policy is attached to now: {"role": names, "user": names, "group": names}."""
    found: dict[str, set[str]] = {"role": set(), "user": set(), "group": set()}
    for kind, holders in (
        ("role", backend.roles),
        ("user", backend.users),
        ("group", backend.groups),
    ):
        for holder in holders.values():
            if arn in getattr(holder, "managed_policies", {}):
                found[kind].add(holder.name)
    return found


def _attach(backend: Any, arn: str, kind: str, name: str, attach: bool) -> None:
    verb = "attach" if attach else "detach"
    getattr(backend, f"{verb}_{kind}_policy")(policy_arn=arn, **{f"{kind}_name": name})


def _update(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    backend = _backend(account_id, region_name)
    props = cloudformation_json.get("Properties", {})
    arn = original_resource.arn
    document = json.dumps(props.get("PolicyDocument"))
    current = next(
        v.document
        for v in original_resource.versions
        if v.version_id == original_resource.default_version_id
    )
    if json.loads(document) != json.loads(current):
        backend.create_policy_version(arn, document, set_as_default=True)
    declared = {"role": props.get("Roles", []), "user": props.get("Users", []),
                "group": props.get("Groups", [])}  # fmt: skip
    for kind, now in _attachments(backend, arn).items():
        for name in now - set(declared[kind]):
            _attach(backend, arn, kind, name, attach=False)
        for name in set(declared[kind]) - now:
            _attach(backend, arn, kind, name, attach=True)
    return backend.get_policy(arn)


def _delete(cls, resource_name, cloudformation_json, account_id, region_name):
    backend = _backend(account_id, region_name)
    if resource_name not in backend.managed_policies:  # the physical id is the ARN
        return
    for kind, names in _attachments(backend, resource_name).items():
        for name in names:
            _attach(backend, resource_name, kind, name, attach=False)
    backend.delete_policy(resource_name)


def install() -> None:
    """Give moto's ManagedPolicy CloudFormation update and delete. Idempotent."""
    ManagedPolicy.update_from_cloudformation_json = classmethod(_update)
    ManagedPolicy.delete_from_cloudformation_json = classmethod(_delete)
