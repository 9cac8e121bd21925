"""template_handlers/cached_cdk.py: a CDK stack is synthesized once per distinct input."""

import shutil

import pytest

from template_handlers.cached_cdk import CachedCdk
from tests.templates import ROOT

ARGUMENTS = {
    "path": "drift_monitor.py",
    "class_name": "DriftMonitor",
    "deployment_type": "bootstrapless",
}


def handler(project, **user_data) -> CachedCdk:
    return CachedCdk(
        name="dev/drift-monitor",
        arguments=ARGUMENTS,
        sceptre_user_data={"environment": "dev", **user_data},
        stack_group_config={"project_path": str(project)},
    )


@pytest.fixture
def project(tmp_path):
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path


def test_a_cached_template_is_returned_without_synthesizing(project):
    first = handler(project)
    cached = project / ".cache" / "cdk" / f"{first.cache_key()}.yaml"
    cached.parent.mkdir(parents=True)
    cached.write_text("Resources: {}\n")  # what an earlier synthesis of this input left
    assert handler(project).handle() == "Resources: {}\n"


def test_any_change_to_the_input_is_a_new_synthesis(project):
    key = handler(project).cache_key()
    assert handler(project).cache_key() == key  # the same input, the same key
    assert handler(project, schedule="rate(1 hour)").cache_key() != key
    module = project / "templates" / "drift_monitor.py"
    module.write_text(module.read_text() + "\n# changed\n")
    assert handler(project).cache_key() != key
