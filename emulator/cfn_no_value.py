"""``AWS::NoValue`` in a list removes the element, as CloudFormation does.

"AWS::NoValue: Removes the corresponding resource property when specified as a return value
in the Fn::If intrinsic function" (https://docs.aws.amazon.com/AWSCloudFormation/latest/
UserGuide/pseudo-parameter-reference.html); in a list, such as a policy's ``Statement``, the
element goes. moto 5.2.5's ``clean_json`` resolves the reference to None and keeps it in the
list, so templates/registry.yaml's bucket policy, whose cross-account statements are each
``!If [Has..., {...}, !Ref AWS::NoValue]``, reached S3 with ``null`` statements in one
account, which policy evaluation then fails on.

Seam: ``moto.cloudformation.parsing.clean_json``, which resolves every property value and
calls itself by its module-level name; the emulator's own callers (drift.py, rollback.py) look
it up in ``parsing`` when they call it, so they get this one too.
"""

from __future__ import annotations

from typing import Any


def _may_be_no_value(source: Any) -> bool:
    """Whether a template value can resolve to AWS::NoValue: the reference, or an Fn::If."""
    return isinstance(source, dict) and (source.get("Ref") == "AWS::NoValue" or "Fn::If" in source)


def install() -> None:
    """Drop list elements that resolve to AWS::NoValue. Idempotent."""
    from moto.cloudformation import parsing

    original = parsing.clean_json
    if getattr(original, "_emulator", False):
        return

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if not isinstance(resource_json, list):
            return original(resource_json, resources_map)
        cleaned = [(clean_json(v, resources_map), v) for v in resource_json]
        return [v for v, source in cleaned if v is not None or not _may_be_no_value(source)]

    clean_json._emulator = True  # type: ignore[attr-defined]
    parsing.clean_json = clean_json
