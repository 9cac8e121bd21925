"""Make moto's CloudFormation apply the bucket configuration the templates declare.

moto 5.2.5 creates an AWS::S3::Bucket through CloudFormation with its BucketEncryption and
Tags only: VersioningConfiguration, PublicAccessBlockConfiguration, OwnershipControls and
LifecycleConfiguration are dropped, although its S3 API stores all four, and the
encryption rule loses its BucketKeyEnabled. Drift detection
reads them back (emulator/drift_readers.py), so a fresh bucket would look drifted. This
module wraps moto's bucket model (create and in-place update) to apply them through moto's
own S3 backend, as CloudFormation's handler does; nothing else in moto changes.
"""

from typing import Any

from moto.s3 import models as s3
from moto.utilities.utils import get_partition


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation LifecycleConfiguration rule in the form moto's S3 API parses."""
    api: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule["Status"]}
    api["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": str(days)}
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": str(days)}
    return api


def apply_configuration(backend: Any, name: str, properties: dict[str, Any]) -> None:
    """Put the bucket configuration CloudFormation's handler puts and moto's model skips."""
    encryption = (properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")
    if encryption and "BucketKeyEnabled" in encryption[0]:
        rule = {
            "ApplyServerSideEncryptionByDefault": encryption[0]["ServerSideEncryptionByDefault"],
            "BucketKeyEnabled": str(encryption[0]["BucketKeyEnabled"]).lower(),
        }
        backend.put_bucket_encryption(name, {"Rule": rule})
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        backend.put_bucket_versioning(name, versioning["Status"])
    public_access = properties.get("PublicAccessBlockConfiguration")
    if public_access:
        backend.put_public_access_block(name, {k: str(v).lower() for k, v in public_access.items()})
    ownership = (properties.get("OwnershipControls") or {}).get("Rules")
    if ownership:
        backend.put_bucket_ownership_controls(name, ownership[0]["ObjectOwnership"])
    lifecycle = (properties.get("LifecycleConfiguration") or {}).get("Rules")
    if lifecycle:
        backend.put_bucket_lifecycle_configuration(
            name, [_lifecycle_rule(rule) for rule in lifecycle]
        )


def _wrap(original: Any) -> Any:
    def handler(cls, *args: Any, **kwargs: Any) -> Any:
        bucket = original.__func__(cls, *args, **kwargs)
        cloudformation_json, account_id, region_name = _arguments(args, kwargs)
        backend = s3.s3_backends[account_id][get_partition(region_name)]
        apply_configuration(backend, bucket.name, cloudformation_json.get("Properties", {}))
        return bucket

    handler._emulator_cfn_models = True
    return classmethod(handler)


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[dict, str, str]:
    """(cloudformation_json, account_id, region_name) of a create or update call."""
    if "cloudformation_json" in kwargs:  # moto's parsing calls update with keywords only
        return kwargs["cloudformation_json"], kwargs["account_id"], kwargs["region_name"]
    # create(resource_name, json, account, region); update(original, new_name, json, ...)
    rest = args[1:] if isinstance(args[1], dict) else args[2:]
    return rest[0], rest[1], rest[2]


def install() -> None:
    """Wrap moto's bucket create and update handlers. Idempotent."""
    for name in ("create_from_cloudformation_json", "update_from_cloudformation_json"):
        current = s3.FakeBucket.__dict__[name]
        if getattr(current.__func__, "_emulator_cfn_models", False):
            continue
        setattr(s3.FakeBucket, name, _wrap(current))
