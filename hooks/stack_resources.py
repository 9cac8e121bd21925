"""``!stack_resources``: after a launch, say which declared resources the stack really has.

    hooks:
      after_launch:
        - !stack_resources

On AWS every declared resource exists once a launch succeeds. The local emulator skips
resource types it cannot create (moto's CloudFormation warns and goes on), so this hook
names them: a launch that "worked" there says plainly what it did not create.
"""

from typing import Any

import yaml
from sceptre.hooks import Hook

from hooks.outcome import stack_status, stands
from resolvers import AwsCall, stack_call


# libyaml's parser when PyYAML has it (its wheels do): the pure-Python one took ~0.29 s of
# CPU per pipeline template (33 KB), ~5 times as long, on every launch of an environment.
# Same constructors, so the same data.
class _TemplateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Reads a CloudFormation template, taking intrinsic functions (!Ref, !Sub...) as data."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def load_template(body: str | dict[str, Any]) -> dict[str, Any]:
    """A template as data (as GetTemplate may already return it); !Ref and friends -> None."""
    if isinstance(body, dict):
        return body
    return yaml.load(body, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass


def declared_resources(template_body: str) -> dict[str, str]:
    """Logical id -> resource type of every resource a rendered template declares."""
    template = load_template(template_body)
    return {name: r["Type"] for name, r in template.get("Resources", {}).items()}


def missing_resources(call: AwsCall, stack_name: str, declared: dict[str, str]) -> dict[str, str]:
    """The declared resources (logical id -> type) that the stack does not hold."""
    present: set[str] = set()
    kwargs: dict[str, Any] = {"StackName": stack_name}
    while True:
        page = call("cloudformation", "list_stack_resources", kwargs)
        present |= {r["LogicalResourceId"] for r in page["StackResourceSummaries"]}
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return {name: kind for name, kind in declared.items() if name not in present}


def format_report(stack_name: str, declared: dict[str, str], missing: dict[str, str]) -> str:
    """One line for a complete stack; otherwise a line per missing resource."""
    held = len(declared) - len(missing)
    head = f"{stack_name}: {held} of {len(declared)} declared resources exist"
    if not missing:
        return head
    lines = [head + "; not created by this endpoint (the local emulator skips these types):"]
    lines += [f"  {name} ({kind})" for name, kind in sorted(missing.items())]
    return "\n".join(lines)


class StackResources(Hook):
    """Prints how many declared resources the stack holds and names any it lacks."""

    def run(self) -> None:
        call = stack_call(self)
        if not stands(stack_status(call, self.stack.external_name)):
            return  # a failed launch: Sceptre has printed its events; nothing stands to count
        declared = declared_resources(self.stack.template.body)
        missing = missing_resources(call, self.stack.external_name, declared)
        print(format_report(self.stack.external_name, declared, missing), flush=True)
