"""template_handlers/cached_cdk.py: a CDK stack is synthesized once per distinct input."""

import shutil
import sys
import threading
import types
from collections.abc import Callable

import pytest

from template_handlers.cached_cdk import CachedCdk
from tests.templates import ROOT, configure, render

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
def project(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.delenv("CDK_TEMPLATE_CACHE", raising=False)  # conftest.py shares one cache
    monkeypatch.delenv("CDK_SYNTHESIS_SOCKET", raising=False)  # ... and one synthesizing process
    return tmp_path


def test_a_cached_template_is_returned_without_synthesizing(project):
    first = handler(project)
    cached = project / ".cache" / "cdk" / f"{first.cache_key()}.yaml"
    cached.parent.mkdir(parents=True)
    cached.write_text("Resources: {}\n")  # what an earlier synthesis of this input left
    assert handler(project).handle() == "Resources: {}\n"


def test_copies_of_the_project_share_the_cache_cdk_template_cache_names(
    project, tmp_path_factory, monkeypatch
):
    shared = tmp_path_factory.mktemp("shared-cache")
    monkeypatch.setenv("CDK_TEMPLATE_CACHE", str(shared))
    (shared / f"{handler(project).cache_key()}.yaml").write_text("Resources: {}\n")
    copy = tmp_path_factory.mktemp("copy")
    shutil.copytree(project / "templates", copy / "templates")
    assert handler(copy).handle() == "Resources: {}\n"  # the same input: the key is the same
    assert not (copy / ".cache").exists()


def test_any_change_to_the_input_is_a_new_synthesis(project):
    key = handler(project).cache_key()
    assert handler(project).cache_key() == key  # the same input, the same key
    assert handler(project, schedule="rate(1 hour)").cache_key() != key
    module = project / "templates" / "drift_monitor.py"
    module.write_text(module.read_text() + "\n# changed\n")
    assert handler(project).cache_key() != key


class CountingSynthesizer:
    """Stands in for sceptre-cdk-handler's CDK class (a real synthesis takes ~12 s of Node.js;
    no emulator offers one): counts syntheses and, in the first, lets `during` run."""

    calls = 0
    during: Callable[[], None] = staticmethod(lambda: None)

    def __init__(self, **_: object) -> None:
        pass

    def validate(self) -> None:
        pass

    def handle(self) -> str:
        type(self).calls += 1
        if type(self).calls == 1:
            type(self).during()
        return f"Description: synthesis {type(self).calls}\n"


def test_a_second_run_of_the_same_input_waits_for_the_first_synthesis(project, monkeypatch):
    """Two workers launching dev at once on a fresh clone synthesize it once between them."""
    monkeypatch.setitem(
        sys.modules, "sceptre_cdk_handler.cdk", types.SimpleNamespace(CDK=CountingSynthesizer)
    )
    monkeypatch.setattr(CountingSynthesizer, "calls", 0)
    second: dict[str, str] = {}
    waiting = threading.Thread(target=lambda: second.update(template=handler(project).handle()))

    def start_the_second_run_meanwhile() -> None:
        waiting.start()
        waiting.join(timeout=0.5)  # without the lock it would synthesize, and finish, here
        assert waiting.is_alive(), "the second run did not wait for the first synthesis"

    monkeypatch.setattr(CountingSynthesizer, "during", staticmethod(start_the_second_run_meanwhile))
    first = handler(project).handle()
    waiting.join(timeout=10)
    assert CountingSynthesizer.calls == 1
    assert second["template"] == first == "Description: synthesis 1\n"


def test_a_change_to_the_services_size_leaves_the_drift_monitor_synthesized(tmp_path, monkeypatch):
    """The drift monitor's input is only what it reads (config/*/drift-monitor.yaml does not
    merge in the environment's sceptre_user_data): resizing the service in config.yaml reuses
    the cached template instead of synthesizing it again."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CDK_TEMPLATE_CACHE", str(cache))
    before = render("dev/drift-monitor.yaml", configure(tmp_path / "before", "dev"))
    resized = configure(tmp_path / "resized", "dev", cpu=1024, memory=2048)
    after = render("dev/drift-monitor.yaml", resized)
    assert len(list(cache.glob("*.yaml"))) == 1
    assert after["dev/drift-monitor"]["text"] == before["dev/drift-monitor"]["text"]
    assert "cpu: 1024" in (resized / "config" / "dev" / "config.yaml").read_text()
