"""Refuse to change an environment with another account's credentials.

With an account per environment (``accounts`` in config/config.yaml), launching dev with the
tools account's or prod's credentials is the classic day-one mistake: CloudFormation would
happily create a second dev in the wrong account. Before any change, the environment's
credentials (its ``sceptre_role`` or ``profile``, else the ambient ones, exactly as Sceptre's
ConnectionManager uses them) are asked who they are (sts:GetCallerIdentity, which needs no
permission: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)
and the answer's account must be the environment's.

Called from hooks/environment_check.py when a stack is attached to the plan, so it runs before
any hook or stack operation, once per environment and process, and only for commands that
change stacks. With ``accounts`` empty (one account, the default) nothing is asked.
"""

import os
import threading
from typing import Any

from sceptre.connection_manager import ConnectionManager
from sceptre.exceptions import SceptreException

from resolvers import connection_call

# Sub-commands of `sceptre` that create, change or delete stacks (Sceptre 4.7's cli/).
CHANGING = {"launch", "create", "update", "delete", "execute", "prune", "set-policy"}

# The `shared` group is the tools account's; every other group is an environment.
TOOLS_GROUP = "shared"

_lock = threading.Lock()
# Who the credentials are, per (region, profile, role) and the ambient credentials that the
# ConnectionManager starts from: one question per process even for many stacks.
_callers: dict[tuple[str | None, ...], str] = {}
AMBIENT = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")


class WrongAccountError(SceptreException):
    """The credentials belong to another AWS account than the environment's."""


def account_key(config: dict[str, Any]) -> str:
    """The key of ``accounts`` naming this stack group's account: "tools" or the environment."""
    environment = str(config.get("environment", ""))
    return "tools" if environment == TOOLS_GROUP else environment


def expected_account(config: dict[str, Any]) -> str:
    """The account this stack group belongs to ("" in a single-account layout)."""
    return str((config.get("accounts") or {}).get(account_key(config)) or "")


def is_changing_command(words: tuple[str, ...] | None) -> bool:
    """Whether a sceptre command changes stacks. None is Sceptre used as a library, which in
    this project only renders or reads (drift-check, permissions.generate): not checked, so
    rendering stays offline."""
    return bool(words) and words[0] in CHANGING


def check_account(folder: str, config: dict[str, Any]) -> None:
    """Raise WrongAccountError unless the group's credentials are its account's.

    config is the group's merged configuration (region, profile, sceptre_role, accounts).
    """
    expected = expected_account(config)
    if not expected:
        return
    region, profile = str(config["region"]), config.get("profile") or None
    role = config.get("sceptre_role") or None
    key = (region, profile, role, *(os.environ.get(name) for name in AMBIENT))
    with _lock:
        if key not in _callers:
            call = connection_call(ConnectionManager(region, profile, None, role))
            _callers[key] = call("sts", "get_caller_identity", {})["Arn"]
    caller = _callers[key]
    actual = caller.split(":")[4]
    if actual == expected:
        return
    via = f"sceptre_role {role}" if role else f"profile {profile}" if profile else "credentials"
    raise WrongAccountError(
        f"refused before any change: {folder} belongs to account {expected} "
        f"(accounts.{account_key(config)} in config/config.yaml), but its {via} are "
        f"account {actual} ({caller}). Use that account's credentials: set sceptre_role "
        f"(or profile) in config/{folder}/config.yaml, or log in to the right account."
    )
