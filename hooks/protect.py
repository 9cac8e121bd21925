"""``!protect``: after a launch, guard the stack against accidental loss.

    hooks:
      after_launch:
        - !protect
            termination_protection: true                        # DeleteStack is refused
            stack_policy: policies/keep-stateful-resources.json # no replacing or deleting data

Both are set on every launch, so a stack created before protection was configured gets it
too, and turning a setting off in config turns it off on AWS. Tearing a protected
environment down is deliberate: python -m scripts.teardown (see the README).
"""

import logging
from pathlib import Path

from sceptre.hooks import Hook

from hooks.outcome import stack_status, stands
from resolvers import stack_call

logger = logging.getLogger(f"sceptre.{__name__}")


class Protect(Hook):
    """Sets termination protection and, if a file is named, the stack policy."""

    def run(self) -> None:
        options = self.argument or {}
        if not isinstance(options, dict) or set(options) - {
            "termination_protection",
            "stack_policy",
        }:
            raise TypeError("!protect takes a mapping with termination_protection and stack_policy")
        call, name = stack_call(self), self.stack.external_name
        status = stack_status(call, name)
        if not stands(status):  # a failed first create must stay deletable
            logger.warning(
                "%s - not protected: the launch ended %s", self.stack.name, status or "DELETED"
            )
            return
        enabled = bool(options.get("termination_protection", False))
        call(
            "cloudformation",
            "update_termination_protection",
            {"StackName": name, "EnableTerminationProtection": enabled},
        )
        policy = options.get("stack_policy")
        if policy:
            body = (Path(self.stack.config["project_path"]) / policy).read_text()
            call("cloudformation", "set_stack_policy", {"StackName": name, "StackPolicyBody": body})
        logger.info(
            "%s - termination protection %s%s",
            self.stack.name,
            "on" if enabled else "off",
            f", stack policy {policy}" if policy else "",
        )
