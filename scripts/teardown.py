"""Tear an environment down on purpose, protected or not.

    python -m scripts.teardown ENVIRONMENT --confirm PROJECT-ENVIRONMENT

A protected environment (prod) refuses `sceptre delete`: CloudFormation keeps its stacks
while termination protection is on. This turns protection off for that environment's
stacks only, runs `sceptre delete -y ENVIRONMENT`, and lists what the templates keep on
purpose (DeletionPolicy: Retain), such as prod's logs, for you to remove by hand if you
really mean to. The confirmation must name the environment in full, e.g.
product-service-prod, so a slip of the keyboard cannot delete the wrong one.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from botocore.exceptions import ClientError

from hooks.stack_resources import load_template
from scripts.environment import ROOT, boto_call, stack_names


def retained_resources(call, stack: str) -> list[str]:
    """Resources of a stack whose template keeps them when the stack is deleted."""
    template = call("cloudformation", "get_template", {"StackName": stack})["TemplateBody"]
    body = load_template(template)
    kept = [n for n, r in body.get("Resources", {}).items() if r.get("DeletionPolicy") == "Retain"]
    if not kept:
        return []
    listed = call("cloudformation", "list_stack_resources", {"StackName": stack})
    ids = {r.get("LogicalResourceId"): r for r in listed["StackResourceSummaries"]}
    return [
        f"{ids[n]['ResourceType']} {ids[n].get('PhysicalResourceId')}" for n in kept if n in ids
    ]


def main(argv: list[str] | None = None) -> int:
    """Tear the environment down; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environment")
    parser.add_argument("--confirm", required=True, help="the environment's full name")
    args = parser.parse_args(argv)

    names = stack_names(args.environment)
    expected = names["cluster"].removesuffix("-cluster")
    if args.confirm != expected:
        print(f"--confirm must be {expected!r} to tear down {args.environment}", file=sys.stderr)
        return 2
    call, kept = boto_call(), []
    for stack in names.values():
        try:
            kept += retained_resources(call, stack)
            call(
                "cloudformation",
                "update_termination_protection",
                {"StackName": stack, "EnableTerminationProtection": False},
            )
        except ClientError as error:
            if "does not exist" not in str(error):
                raise
    sceptre = Path(sys.executable).with_name("sceptre")
    deleted = subprocess.run([str(sceptre), "delete", "-y", args.environment], cwd=ROOT)
    if deleted.returncode != 0:
        return deleted.returncode
    print(f"{args.environment} is torn down.")
    if kept:
        print("Kept on purpose (DeletionPolicy: Retain); delete by hand if you mean to:")
        print("\n".join(f"  {item}" for item in kept))
    return 0


if __name__ == "__main__":
    sys.exit(main())
