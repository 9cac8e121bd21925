"""A launch with another account's credentials is refused before anything changes.

With an account per environment (``accounts`` in config/config.yaml), every command that
changes stacks first asks STS who its credentials are (hooks/account_check.py). The cases run
the sceptre CLI in this process on a copy of the project against an emulator of this module's
own with two accounts: the `testing` keys are moto's default account, which plays the tools
account; dev's account is an AWS Organizations member account whose
OrganizationAccountAccessRole the environment's ``sceptre_role`` names.
"""

from pathlib import Path

import pytest
import yaml

from emulator import seed
from emulator.process import Emulator
from hooks.account_check import expected_account
from tests.roles import Ran, quick, sceptre_in_process
from tests.templates import copy_project

TOOLS, DEV, PROD = "123456789012", "111111111111", "222222222222"
ACCOUNTS = {"tools": TOOLS, "dev": DEV, "prod": PROD}


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def dev_role(emulator: Emulator) -> str:
    return seed.member_account(emulator.url, "us-east-1", DEV, management_account=TOOLS)


def configure(project: Path, file: str, change: dict) -> None:
    """Set keys of a config file (plain YAML, as the README's multi-account walk edits it)."""
    path = project / "config" / file
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), **change}))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copied = copy_project(tmp_path)
    configure(copied, "config.yaml", {"accounts": ACCOUNTS})
    return copied


def run(emulator: Emulator, project: Path, *args: str) -> Ran:
    return sceptre_in_process(project, quick(emulator.child_env()), *args)


def state(emulator: Emulator) -> tuple:
    """What a refused launch must leave as it was: stacks and roles of the tools account."""
    cfn, iam = emulator.client("cloudformation"), emulator.client("iam")
    stacks = sorted(s["StackName"] for s in cfn.list_stacks()["StackSummaries"])
    roles = sorted(r["RoleName"] for r in iam.list_roles()["Roles"])
    return stacks, roles


def test_the_shared_group_is_the_tools_account_and_one_account_asks_nothing() -> None:
    assert expected_account({"environment": "shared", "accounts": ACCOUNTS}) == TOOLS
    assert expected_account({"environment": "prod", "accounts": ACCOUNTS}) == PROD
    # The default layout: no account named, so no account to compare with.
    empty = {"tools": "", "dev": "", "prod": ""}
    assert expected_account({"environment": "dev", "accounts": empty}) == ""
    assert expected_account({"environment": "dev"}) == ""


def test_dev_launched_with_the_tools_accounts_credentials_is_refused_before_any_change(
    emulator: Emulator, project: Path
) -> None:
    before = state(emulator)
    result = run(emulator, project, "launch", "-y", "dev")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"dev belongs to account {DEV} (accounts.dev in config/config.yaml)" in output
    assert f"are account {TOOLS}" in output
    assert "Traceback" not in output
    # Not even the hooks that run first (the pipeline's service-linked roles, the cluster's
    # preflight) ran: the tools account has the same stacks and roles as before.
    assert state(emulator) == before


def test_a_role_in_the_wrong_account_is_named_in_the_refusal(
    emulator: Emulator, project: Path, dev_role: str
) -> None:
    configure(project, "prod/config.yaml", {"sceptre_role": dev_role})
    result = run(emulator, project, "delete", "-y", "prod/service.yaml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"prod belongs to account {PROD}" in output
    assert f"sceptre_role {dev_role} are account {DEV}" in output


def test_the_environments_own_role_passes_the_check(
    emulator: Emulator, project: Path, dev_role: str
) -> None:
    configure(project, "dev/config.yaml", {"sceptre_role": dev_role})
    # Deleting a stack that does not exist changes nothing: Sceptre says so and exits 0,
    # after the account check, which delete passes through like every changing command.
    result = run(emulator, project, "delete", "-y", "dev/service.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "refused" not in result.stdout + result.stderr


def test_the_tools_account_is_checked_for_the_shared_group(
    emulator: Emulator, project: Path
) -> None:
    configure(project, "config.yaml", {"accounts": {**ACCOUNTS, "tools": "999999999999"}})
    result = run(emulator, project, "launch", "-y", "shared")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "shared belongs to account 999999999999 (accounts.tools in config/config.yaml)" in output
