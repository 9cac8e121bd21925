"""What each role needs and lacks, measured the issue's way, from the RENDERED templates.

    python -m permissions.coverage

"Needs" = the CloudFormation registry's handler permissions (create/update/delete/read for
the CloudFormation service role; read for the drift runner and the GitHub Actions role) of the
resource types in the rendered templates, valid IAM actions only. "Lacks" = needs minus the
action names the rendered role's policies grant. It reads the roles from the rendered pipeline
and drift-monitor templates (and the GitHub role's policy file), never from the generator, so
it also catches a template that gained a resource type after the policies were generated.
"""

import fnmatch
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from permissions import reference, registry
from permissions.render import ROOT, environments, render

GITHUB_POLICY = Path("policies") / "generated" / "github-drift-check.json"


@dataclass(frozen=True)
class Row:
    """One role's line of the table."""

    role: str
    needs: frozenset[str]
    lacks: frozenset[str]


def resource_types(templates: list[dict[str, Any]]) -> set[str]:
    """Resource types declared by the templates (custom resources excluded)."""
    return {
        r["Type"]
        for t in templates
        for r in t.get("Resources", {}).values()
        if not r["Type"].startswith("Custom::")
    }


def needs(templates: list[dict[str, Any]], handlers: tuple[str, ...]) -> tuple[set, set]:
    """(valid IAM actions the handlers declare, names dropped as not IAM actions)."""
    valid, dropped = set(), set()
    for resource_type in resource_types(templates):
        for name in registry.permissions(resource_type, handlers):
            if reference.is_action(name):
                valid.add(reference.canonical(name))
            else:
                dropped.add(f"{resource_type}: {name}")
    return valid, dropped


def _actions(document: dict[str, Any]) -> set[str]:
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    found = set()
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        action = statement.get("Action", [])
        found |= set(action if isinstance(action, list) else [action])
    return found


def granted(template: dict[str, Any], role: str) -> set[str]:
    """Action names (patterns) the template's policies grant the role with logical id ``role``:
    its inline policies, AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources naming it, and
    managed policies of the template it lists in ManagedPolicyArns."""
    resources = template["Resources"]
    properties = resources[role].get("Properties", {})
    found = set()
    for policy in properties.get("Policies", []):
        found |= _actions(policy["PolicyDocument"])
    attached = {a["Ref"] for a in properties.get("ManagedPolicyArns", []) if isinstance(a, dict)}
    for name, resource in resources.items():
        if resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        if {"Ref": role} in resource["Properties"].get("Roles", []) or name in attached:
            found |= _actions(resource["Properties"]["PolicyDocument"])
    return found


def lacks(needed: set[str], patterns: set[str]) -> set[str]:
    """Needed actions no pattern grants (IAM matches action names case-insensitively)."""
    lowered = [p.lower() for p in patterns]
    return {a for a in needed if not any(fnmatch.fnmatchcase(a.lower(), p) for p in lowered)}


def trusted_role(template: dict[str, Any], service: str) -> str:
    """The logical id of the one role the template lets ``service`` assume."""
    found = [
        name
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role"
        and service in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    if len(found) != 1:
        raise ValueError(f"expected one role trusted by {service}, found {found}")
    return found[0]


def runner_role(template: dict[str, Any]) -> str:
    """The logical id of the drift monitor's CodeBuild project's role."""
    (project,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"
    ]
    return project["Properties"]["ServiceRole"]["Fn::GetAtt"][0]


def service_role_row(env: str, workload: list[dict], pipeline: dict) -> tuple[Row, set[str]]:
    """The CloudFormation service role's row: workload types' deploy handlers."""
    needed, dropped = needs(workload, registry.DEPLOY_HANDLERS)
    role = trusted_role(pipeline, "cloudformation.amazonaws.com")
    row = Row(f"{env} CloudFormation service role", frozenset(needed),
              frozenset(lacks(needed, granted(pipeline, role))))  # fmt: skip
    return row, dropped


def table(
    by_env: dict[str, dict[str, dict[str, Any]]],
    workload_stacks: list[str],
    github_policy: dict[str, Any],
) -> tuple[list[Row], set[str]]:
    """Every row, from each environment's rendered templates by stack ("service": template)."""
    rows, dropped = [], set()
    every = []
    for env, stacks in by_env.items():
        workload = [stacks[s] for s in workload_stacks]
        row, gone = service_role_row(env, workload, stacks["pipeline"])
        rows.append(row)
        dropped |= gone
        everything = list(stacks.values())
        every += everything
        needed, gone = needs(everything, registry.READ_HANDLERS)
        dropped |= gone
        monitor = stacks["drift-monitor"]
        missing = lacks(needed, granted(monitor, runner_role(monitor)))
        rows.append(Row(f"{env} drift runner", frozenset(needed), frozenset(missing)))
    needed, gone = needs(every, registry.READ_HANDLERS)
    dropped |= gone
    missing = lacks(needed, _actions(github_policy))
    rows.append(Row(f"GitHub Actions role ({'+'.join(by_env)})", frozenset(needed),
                    frozenset(missing)))  # fmt: skip
    return rows, dropped


def format_table(rows: list[Row], dropped: set[str]) -> str:
    """The table as Markdown, then what each lacks and the dropped names."""
    lines = ["| role | needs | lacks |", "|---|---|---|"]
    lines += [f"| {r.role} | {len(r.needs)} | {len(r.lacks)} |" for r in rows]
    for row in rows:
        if row.lacks:
            lines.append(f"\n{row.role} lacks: {', '.join(sorted(row.lacks))}")
    lines.append(f"\nDropped, not IAM actions ({len(dropped)}):")
    lines += [f"- {name}" for name in sorted(dropped)]
    return "\n".join(lines)


def main(project: Path = ROOT) -> int:
    """Print the table; exit 1 when any role lacks an action."""
    import yaml

    config = yaml.safe_load((project / "config" / "config.yaml").read_text())
    by_env = {
        env: {name: s.template for name, s in render(env, project).items()}
        for env in environments(project)
    }
    github = json.loads((project / GITHUB_POLICY).read_text())
    rows, dropped = table(by_env, config["workload_stacks"], github)
    print(format_table(rows, dropped))
    return 1 if any(r.lacks for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
