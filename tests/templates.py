"""Render the project's stacks through Sceptre, offline, for template tests."""

import functools
import shutil
from pathlib import Path
from typing import Any

import cfnlint.decode
import yaml
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "prod")


@functools.cache  # the CDK drift-monitor stack takes ~10 s to synthesize: once per run is enough
def render(command_path: str, project: Path = ROOT) -> dict[str, dict[str, Any]]:
    """Templates of every stack under command_path, keyed by stack name ("dev/service").

    Cached: treat the result as read-only. Sorted by name: Sceptre renders a group's stacks
    in no fixed order, and tests parametrized from this must collect alike on every worker."""
    plan = SceptrePlan(SceptreContext(project_path=str(project), command_path=command_path))
    rendered = {}
    for stack, text in plan.generate().items():
        template, errors = cfnlint.decode.decode_str(text)
        assert not errors, f"{stack.name} does not parse: {errors}"
        rendered[stack.name] = {"text": text, "template": template}
    return dict(sorted(rendered.items()))


def stack_names(group: str, project: Path = ROOT) -> list[str]:
    """The stacks of a StackGroup ("dev/service"...), sorted, from its config files alone:
    what render(group) keys its templates by, known without rendering (for parametrizing at
    collection, which every test worker does for every file, including files it never runs)."""
    folder = project / "config" / group
    return sorted(f"{group}/{p.stem}" for p in folder.glob("*.yaml") if p.name != "config.yaml")


@functools.cache
def _cfn_lint_rules(region: str) -> tuple[Any, Any]:
    """cfn-lint's configuration and rules, built once per test worker: loading the rules
    costs 0.6 s of CPU, more than linting most templates (cfn-lint's own command line builds
    them once for all the templates it is given, too)."""
    from cfnlint.api import ManualArgs
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    config = ConfigMixIn(**ManualArgs(include_checks=["I"], regions=[region]))
    return config, Runner(config).rules


def cfn_lint(text: str, region: str = "us-east-1") -> list[str]:
    """cfn-lint's findings on a template, informational rules (I) included."""
    # Imported here: its rules (and sympy) would cost every test worker's collection.
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import run_template_by_data

    template, errors = decode_str(text)
    if errors or template is None:
        return [str(e) for e in errors]
    return [str(f) for f in run_template_by_data(template, *_cfn_lint_rules(region))]


@functools.cache
def rendered(env: str) -> dict[str, dict[str, Any]]:
    """The project's own stacks of one environment, rendered once per test run."""
    return render(env)


def copy_project(tmp_path: Path) -> Path:
    """What Sceptre reads of the project, in a temporary folder, to change some of it."""
    project = tmp_path / "project"
    for folder in ("config", "templates", "policies"):
        shutil.copytree(ROOT / folder, project / folder)
    return project


def configure(tmp_path: Path, env: str, **user_data: Any) -> Path:
    """A copy of the project whose env has some sceptre_user_data keys changed.

    A mapping value is merged into the key's mapping; anything else replaces it.
    """
    project = copy_project(tmp_path)
    config_file = project / "config" / env / "config.yaml"
    config = yaml.safe_load(config_file.read_text())
    for key, value in user_data.items():
        current = config["sceptre_user_data"].get(key)
        merged = {**current, **value} if isinstance(current, dict) else value
        config["sceptre_user_data"][key] = merged
    config_file.write_text(yaml.safe_dump(config))
    return project


def variant(tmp_path: Path, env: str, **user_data: Any) -> dict[str, dict[str, Any]]:
    """The env's stacks, keyed "service" etc., rendered with sceptre_user_data changed."""
    project = configure(tmp_path, env, **user_data)
    return {name.split("/")[1]: found for name, found in render(env, project).items()}


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
