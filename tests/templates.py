"""Render the project's stacks through Sceptre, offline, for template tests."""

from functools import cache
from pathlib import Path
from typing import Any

import cfnlint.decode
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "prod")


@cache  # the CDK drift-monitor stack takes ~10 s to synthesize: once per run is enough
def render(command_path: str, project: Path = ROOT) -> dict[str, dict[str, Any]]:
    """Templates of every stack under command_path, keyed by stack name ("dev/service").

    Cached: treat the result as read-only."""
    plan = SceptrePlan(SceptreContext(project_path=str(project), command_path=command_path))
    rendered = {}
    for stack, text in plan.generate().items():
        template, errors = cfnlint.decode.decode_str(text)
        assert not errors, f"{stack.name} does not parse: {errors}"
        rendered[stack.name] = {"text": text, "template": template}
    return rendered


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical id."""
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The template's single resource of a type."""
    found = list(resources(template, resource_type).values())
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return found[0]


def stack_config(command_path: str) -> dict[str, Any]:
    """Sceptre's Stack objects under command_path (unresolved: nothing calls AWS), by name."""
    plan = SceptrePlan(SceptreContext(project_path=str(ROOT), command_path=command_path))
    return {stack.name: stack for stack in plan.graph}
