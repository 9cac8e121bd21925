"""tests/cdk_synthesis.py and cached_cdk's CDK_SYNTHESIS_SOCKET: another process synthesizes.

The tests use the run's synthesizing process when the run has one (conftest.py starts it on
the first miss), else one of their own: either way the CDK is loaded once, not per test.
"""

import datetime
import os
import shutil
import sys
import types
from collections.abc import Iterator

import pytest
import yaml
from sceptre.exceptions import SceptreException, TemplateHandlerArgumentsInvalidError

from template_handlers.cached_cdk import CachedCdk
from tests import cdk_synthesis
from tests.templates import ROOT

ARGUMENTS = {
    "path": "drift_monitor.py",
    "class_name": "DriftMonitor",
    "deployment_type": "bootstrapless",
    "bootstrapless_config": {"file_asset_bucket_name": "unused"},
}


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    """The run's synthesis socket, or a relay of this module's own."""
    if os.environ.get(cdk_synthesis.VARIABLE):
        yield os.environ[cdk_synthesis.VARIABLE]
        return
    relay = cdk_synthesis.SynthesisRelay()
    yield relay.path
    relay.close()


@pytest.fixture
def project(tmp_path, monkeypatch, address):
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.setenv("CDK_TEMPLATE_CACHE", str(tmp_path / "cache"))  # a miss, whatever ran
    monkeypatch.setenv(cdk_synthesis.VARIABLE, address)
    return tmp_path


def user_data(schedule: str) -> dict:
    """The drift monitor's sceptre_user_data (config/dev/drift-monitor.yaml), schedule given."""
    return {
        "environment": "dev",
        "stack_prefix": "product-service-dev-",
        "schedule": schedule,
        "source": {"owner": "o", "repo": "r", "branch": "main"},
        "runner_policies": {"policies": []},
        "auto_revert": False,
        "workload_stacks": ["service"],
        "service_role": "",
        "deploy_policies": {"policies": []},
    }


def drift_monitor(project, user: dict, arguments: dict = ARGUMENTS) -> CachedCdk:
    """dev/drift-monitor's handler in the project copy, with this input."""
    return CachedCdk(
        name="dev/drift-monitor",
        arguments=arguments,
        sceptre_user_data=user,
        stack_group_config={"project_path": str(project)},
    )


def test_the_synthesis_there_uses_this_processs_input(project):
    # A schedule no other test uses: the template can only hold it if the input travelled.
    handler = drift_monitor(project, user_data("rate(7 hours)"))
    template = yaml.safe_load(handler.handle())
    rules = [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert [rule["Properties"]["ScheduleExpression"] for rule in rules] == ["rate(7 hours)"]
    assert (project / "cache" / f"{handler.cache_key()}.yaml").is_file()


def test_an_error_of_the_cdk_handler_there_is_raised_here_as_its_class(project):
    # The cdk handler's schema admits only the synthesizer's own settings in
    # bootstrapless_config; cached_cdk's own schema admits any.
    handler = drift_monitor(
        project,
        user_data("rate(1 day)"),
        {**ARGUMENTS, "bootstrapless_config": {"no_such_setting": "x"}},
    )
    with pytest.raises(TemplateHandlerArgumentsInvalidError, match="no_such_setting"):
        handler.handle()


def test_no_process_at_the_address_says_how_to_synthesize_here(project, monkeypatch):
    monkeypatch.setenv(cdk_synthesis.VARIABLE, str(project / "no-socket"))
    handler = drift_monitor(project, user_data("rate(2 days)"))
    with pytest.raises(SceptreException, match="unset CDK_SYNTHESIS_SOCKET"):
        handler.handle()


class HereSynthesizer:
    """Stands in for sceptre-cdk-handler's CDK class in this process (a real one would load
    the CDK here, ~10 s of CPU): says where it ran."""

    def __init__(self, **_: object) -> None:
        pass

    def validate(self) -> None:
        pass

    def handle(self) -> str:
        return "Description: synthesized here\n"


def test_an_input_json_cannot_carry_is_synthesized_here(project, monkeypatch):
    monkeypatch.setitem(
        sys.modules, "sceptre_cdk_handler.cdk", types.SimpleNamespace(CDK=HereSynthesizer)
    )
    # YAML reads an unquoted 2026-12-07 as a date, which JSON has no type for.
    handler = drift_monitor(
        project, {**user_data("rate(3 days)"), "since": datetime.date(2026, 12, 7)}
    )
    assert handler.handle() == "Description: synthesized here\n"
