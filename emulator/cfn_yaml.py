"""CloudFormation YAML's short form ``!Condition NAME`` read as CloudFormation reads it.

``!Condition NAME`` is the YAML short form of ``{"Condition": "NAME"}``, the reference to
another condition inside ``Fn::And``, ``Fn::Or`` and ``Fn::Not`` (https://docs.aws.amazon.com/
AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-conditions.html). moto 5.2.5
turns every short-form tag ``!X`` into ``{"Fn::X": ...}``, so ``!Condition`` becomes
``Fn::Condition``, which its condition evaluator does not know: a condition such as
``!Or [!Condition A, !Condition B]`` then evaluates false whatever A and B are, and the
resources and properties it guards silently disappear (templates/registry.yaml's repository
policy did).

It also reads templates with libyaml. moto parses every template it is given (CreateStack,
UpdateStack, CreateChangeSet, ValidateTemplate) with PyYAML's pure-Python ``yaml.Loader``.
``yaml.CLoader`` is the same loader on libyaml's parser (the same constructor and resolver:
PyYAML's ``cyaml.py``), so templates read the same, in less than half the time (measured on
the drift monitors' templates: 2.4 times faster); the emulator's CPU in a
``sceptre launch -y dev`` fell by a quarter.

Seams: ``moto.cloudformation.utils.yaml_tag_constructor``, which moto registers with PyYAML
each time it parses a template (models.py and responses.py import it by name), and the
``yaml`` module those two modules imported, replaced by one whose ``Loader`` is libyaml's.
"""

from __future__ import annotations

import types
from typing import Any

import yaml


def _libyaml() -> types.ModuleType:
    """PyYAML as moto's CloudFormation uses it (``yaml.load(text, Loader=yaml.Loader)`` after
    ``yaml.add_multi_constructor("", ...)``), with libyaml's loader in place of the Python one."""
    module = types.ModuleType("yaml")
    module.__dict__.update(vars(yaml))
    module.Loader = yaml.CLoader

    def add_multi_constructor(tag_prefix: str, constructor: Any, Loader: Any = None) -> None:  # noqa: N803 - PyYAML's name
        yaml.add_multi_constructor(tag_prefix, constructor, Loader=Loader or yaml.CLoader)

    module.add_multi_constructor = add_multi_constructor
    return module


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
    if yaml.__with_libyaml__:  # PyYAML's wheels build it in; without it, moto's own loader
        models.yaml = responses.yaml = _libyaml()
