"""``!drift_preview``: before a launch changes a stack, say which hand changes it may overwrite.

    hooks:
      before_launch:
        - !drift_preview        # or: !drift_preview {timeout: 60}

The project's stack files pass ``timeout: DRIFT_PREVIEW_SECONDS`` (environment; default 30).

A launch puts the template's values on every resource it updates, so a property someone
changed by hand on such a resource is lost. Before the launch, the hook runs drift detection
on the stack (drift/detect.py) and prints each drifted property, its value now and the
template's, as a warning. It does not stop the launch: the launch is how the configuration is
meant to be deployed, and a hand change worth keeping belongs in config/<env>/config.yaml;
stopping would also block every pipeline deploy for drift nobody needs. Use
``drift-check ENV --revert`` to put drift back, or copy the change into the config first.

Quiet and quick where there is nothing to say: for a stack that does not exist yet (nothing
can have drifted) the one DetectStackDrift call answers so at once; an in-sync stack prints
nothing. Detection takes
seconds on AWS (it reads every resource), so it is bounded by ``timeout`` seconds (default
30; 0 turns the hook off): past it, or when detection cannot run (no rights to detect
drift, say), the hook warns in one line that it could not check, and the launch goes on.
"""

import logging
from typing import Any

from sceptre.exceptions import InvalidHookArgumentTypeError
from sceptre.hooks import Hook

from drift.detect import DRIFTED, FAILED, MISSING, StackDrift, detect
from drift.report import columns

DEFAULT_TIMEOUT = 30  # seconds; a launch should not wait minutes for a warning
POLL = 0.5  # seconds between DescribeStackDriftDetectionStatus calls

logger = logging.getLogger(f"sceptre.{__name__}")


def timeout_of(argument: Any) -> float:
    """The hook's timeout: its argument's ``timeout`` (seconds), or the default."""
    if argument in (None, ""):
        return DEFAULT_TIMEOUT
    value = argument.get("timeout", DEFAULT_TIMEOUT) if isinstance(argument, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise InvalidHookArgumentTypeError(
            f"!drift_preview takes nothing or {{timeout: SECONDS}} (0 turns it off), "
            f"not {argument!r}"
        )
    return float(value)


def warning(result: StackDrift) -> str:
    """What to tell the person launching, or "" when there is nothing to say."""
    if result.status == DRIFTED:
        rows = [(d.resource, d.property, d.actual, d.expected) for d in result.differences]
        table = columns(("RESOURCE", "PROPERTY", "NOW (BY HAND)", "TEMPLATE"), rows)
        return (
            f"{len(rows)} hand change(s); the launch overwrites those on the "
            "resources it updates (keep one: put it in the config first; put all back: "
            f"drift-check {result.group} --revert):\n{table}"
        )
    if result.status == FAILED:
        return (
            f"could not check for hand changes before the launch ({result.error}); launching anyway"
        )
    return ""


class DriftPreview(Hook):
    """Warns, before a launch, about the stack's drifted properties; never stops the launch."""

    def run(self) -> None:
        """Detect drift on the stack, if it exists, and log a warning when it drifted."""
        timeout = timeout_of(self.argument)
        if not timeout:
            return
        result = detect(self.stack, timeout=timeout, poll=POLL)
        if result.status == MISSING:  # never launched: nothing to overwrite
            return
        message = warning(result)
        if message:
            logger.warning("%s - drift_preview: %s", self.stack.name, message)
