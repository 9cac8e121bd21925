"""Render an environment's stacks through Sceptre, offline: what the generator and the
coverage report read (never the templates' sources)."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cfnlint.decode
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Rendered:
    """One stack: its Sceptre path (``dev/service``), CloudFormation name and template."""

    path: str
    external_name: str
    template: dict[str, Any]

    @property
    def short(self) -> str:
        """The stack's name within its environment, e.g. ``service``."""
        return self.path.split("/", 1)[1]


def environments(project: Path = ROOT) -> list[str]:
    """The environments: StackGroups with a delivery pipeline (dev, prod, any added since)."""
    return sorted(path.parent.name for path in (project / "config").glob("*/pipeline.yaml"))


def render(command_path: str, project: Path = ROOT) -> dict[str, Rendered]:
    """Every stack under command_path (e.g. ``dev`` or ``dev/service.yaml``), by short name."""
    # jsii (the CDK drift monitor) warns on every synth that Node 20 is past end of life.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    plan = SceptrePlan(SceptreContext(project_path=str(project), command_path=command_path))
    found = {}
    for stack, text in plan.generate().items():
        template, errors = cfnlint.decode.decode_str(text)
        if errors:
            raise ValueError(f"{stack.name} does not parse: {errors}")
        item = Rendered(stack.name, stack.external_name, template)
        found[item.short] = item
    return found


def resource_types(stacks: dict[str, Rendered]) -> set[str]:
    """The resource types the stacks declare (custom resources excluded)."""
    return {
        r["Type"]
        for s in stacks.values()
        for r in s.template.get("Resources", {}).values()
        if not r["Type"].startswith("Custom::")
    }
