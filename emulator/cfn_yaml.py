"""CloudFormation YAML's short form ``!Condition NAME`` read as CloudFormation reads it.

``!Condition NAME`` is the YAML short form of ``{"Condition": "NAME"}``, the reference to
another condition inside ``Fn::And``, ``Fn::Or`` and ``Fn::Not`` (https://docs.aws.amazon.com/
AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-conditions.html). moto 5.2.5
turns every short-form tag ``!X`` into ``{"Fn::X": ...}``, so ``!Condition`` becomes
``Fn::Condition``, which its condition evaluator does not know: a condition such as
``!Or [!Condition A, !Condition B]`` then evaluates false whatever A and B are, and the
resources and properties it guards silently disappear (templates/registry.yaml's repository
policy did).

Seam: ``moto.cloudformation.utils.yaml_tag_constructor``, which moto registers with PyYAML
each time it parses a template (models.py and responses.py import it by name).
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Read ``!Condition NAME`` as ``{"Condition": NAME}``. Idempotent."""
    from moto.cloudformation import models, responses, utils

    original = utils.yaml_tag_constructor
    if getattr(original, "_emulator", False):
        return

    def yaml_tag_constructor(loader: Any, tag: Any, node: Any) -> Any:
        if tag == "!Condition":
            return {"Condition": node.value}
        return original(loader, tag, node)

    yaml_tag_constructor._emulator = True  # type: ignore[attr-defined]
    for module in (utils, models, responses):
        module.yaml_tag_constructor = yaml_tag_constructor
