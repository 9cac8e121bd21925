"""Check a stack's environment configuration on every command that renders or changes it.

Sceptre 4.7 runs hooks only around some actions, each stack file lists its own hooks, and
hook dictionaries cannot be inherited with ``hooks_inheritance: merge`` (docs/
sceptre-upstream.md). So ``!validate_config`` on the cluster stack alone is skipped by
``sceptre update``, ``create``, ``diff``, ``generate`` or a one-stack launch.

The seam used instead: Sceptre calls a resolver's ``setup()`` when it attaches the resolver to
a stack, while it builds the plan, before any command runs and so before anything calls AWS.
Every stack file wraps config/config.yaml's ``cloudformation_service_role`` in
``!checked_config`` (resolvers/checked_config.py), whose ``setup()`` calls
``check_environment`` here. (Not config/config.yaml itself: tools and tests read the
config.yaml files as plain YAML, which a custom tag would break.) Errors in ``setup()`` are
never turned into placeholders (as errors in ``resolve()`` are for diff, generate and
validate), so the refusal holds on every path.

What is checked is the stack group's own configuration (config/config.yaml and the
environment's config.yaml, merged by Sceptre's own reader), not the stack's, whose
``sceptre_user_data`` may carry keys of the stack file. Each environment is checked once per
process. Commands that only read or delete (``status``, ``list``, ``describe``, ``drift``,
``delete``, ``prune``, ``dump config``, ...) are not refused: a broken configuration must not
stand in the way of looking at or tearing down what runs.
"""

import os
import threading
from pathlib import Path
from typing import Any

import click
from sceptre.config.reader import ConfigReader
from sceptre.context import SceptreContext
from sceptre.stack import Stack

from hooks.validate_config import find_problems, refuse

# Sub-commands of `sceptre` that neither render nor change a stack (cli/__init__.py).
READ_OR_DELETE = {
    ("delete",),
    ("prune",),
    ("status",),
    ("describe",),
    ("list",),
    ("drift",),
    ("fetch-remote-template",),
    ("set-policy",),
    ("new",),
    ("dump", "config"),
}

_lock = threading.Lock()
_checked: dict[tuple[str, str], list[tuple[str, Any, str]]] = {}


def command_words() -> tuple[str, ...] | None:
    """The sceptre sub-command being run, e.g. ("launch",) or ("dump", "template").

    None outside the sceptre CLI (Sceptre used as a library): then every plan is checked.
    """
    context = click.get_current_context(silent=True)
    if context is None:
        return None
    words = []
    while context.parent is not None:
        words.append(context.info_name or "")
        context = context.parent
    return tuple(reversed(words))


def is_checked_command(words: tuple[str, ...] | None) -> bool:
    """Whether a command renders or changes stacks, so its configuration must be sound."""
    if words is None:
        return True
    return not any(words[: len(skipped)] == skipped for skipped in READ_OR_DELETE)


def environment_config(project_path: str, folder: str) -> dict[str, Any]:
    """The stack group's merged configuration, read as Sceptre reads it for the group.

    Uses the `--var`s of the running sceptre command, if any.
    """
    context = click.get_current_context(silent=True)
    user_variables = dict(context.find_root().obj or {}).get("user_variables") if context else {}
    sceptre_context = SceptreContext(
        project_path=project_path, command_path=folder, user_variables=user_variables or {}
    )
    reader = ConfigReader(sceptre_context)
    # _read is what construct_stacks uses for a group's config.yaml; Sceptre has no public
    # way to get a group's configuration without building its stacks.
    return reader._read(os.path.join(folder, sceptre_context.config_file))


def check_environment(stack: Stack) -> None:
    """Raise InvalidConfigError if the stack's environment configuration breaks a rule of
    hooks/config_schema.py; every problem is printed to stderr the first time."""
    if not is_checked_command(command_words()):
        return
    check_folder(str(stack.config["project_path"]), str(stack.config["stack_group_path"]))


def check_folder(project_path: str, folder: str) -> None:
    """Raise InvalidConfigError if the stack group in config/FOLDER breaks a rule; every
    problem is printed to stderr the first time this process checks the folder."""
    with _lock:
        key = (project_path, folder)
        first_time = key not in _checked
        if first_time:
            config = environment_config(project_path, folder)
            kind = config.get("config_schema", "environment")
            _checked[key] = find_problems(config, folder, kind)
        problems = _checked[key]
    refuse(Path(project_path), folder, problems, report=first_time)
