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

On commands that create, change or delete stacks (``delete`` and ``prune`` included), the
environment's credentials must also be its own account's when config/config.yaml names one per
environment (hooks/account_check.py): the same seam, so the refusal comes before any hook or
change.
"""

import os
import threading
from pathlib import Path
from typing import Any

import click
from sceptre.config.reader import ConfigReader
from sceptre.context import SceptreContext
from sceptre.stack import Stack

from hooks.account_check import check_account, is_changing_command
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
_configs: dict[tuple[str, str], dict[str, Any]] = {}


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
    hooks/config_schema.py (every problem is printed to stderr the first time), and, on a
    command that changes stacks, WrongAccountError if its credentials are another account's
    (hooks/account_check.py)."""
    words = command_words()
    if not is_checked_command(words) and not is_changing_command(words):
        return  # looking at stacks: no rule applies
    project_path, folder = str(stack.config["project_path"]), str(stack.config["stack_group_path"])
    problems, first_time = _read(project_path, folder)
    if is_checked_command(words):
        refuse(Path(project_path), folder, problems, report=first_time)
    if is_changing_command(words) and is_in_command_path(folder):
        check_account(folder, _configs[project_path, folder])


def is_in_command_path(folder: str) -> bool:
    """Whether the command's PATH argument names this stack group, a stack of it, or a folder
    holding it. `sceptre delete` builds every stack of the project (to find what depends on
    the deleted one); only the command's own groups act, so only they are account-checked."""
    context = click.get_current_context(silent=True)
    path = (context.params.get("path") if context else None) or ""
    path = path.removesuffix(".yaml").strip("/")
    return not path or f"{path}/".startswith(f"{folder}/") or folder.startswith(f"{path}/")


def check_folder(project_path: str, folder: str) -> None:
    """Raise InvalidConfigError if the stack group in config/FOLDER breaks a rule; every
    problem is printed to stderr the first time this process checks the folder."""
    problems, first_time = _read(project_path, folder)
    refuse(Path(project_path), folder, problems, report=first_time)


def _read(project_path: str, folder: str) -> tuple[list[tuple[str, Any, str]], bool]:
    """The folder's configuration problems, and whether this is the first time they are read."""
    with _lock:
        key = (project_path, folder)
        first_time = key not in _checked
        if first_time:
            config = environment_config(project_path, folder)
            kind = config.get("config_schema", "environment")
            _checked[key] = find_problems(config, folder, kind)
            _configs[key] = config
        return _checked[key], first_time
