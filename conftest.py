"""Fixtures shared by tests/ and emulator/tests/."""

import atexit
import gc
import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from emulator.process import REGION, Emulator, serve_children, share_start_up
from emulator.shared_loader import share_in_sessions
from tests import cdk_synthesis, in_process_caches
from tests.roles import forget_sceptre_connections

ROOT = Path(__file__).resolve().parent

# The suite writes bytecode even where PYTHONDONTWRITEBYTECODE is set (CI images and this
# workplace's shells set it): else every process of the run compiles the project's modules
# from source again (each fork server the emulator layer, each sceptre or drift-check process
# the resolvers and hooks), and pytest rewrites every test file's asserts in every worker
# (about 3 s of CPU each). The bytecode lands in __pycache__ folders, which git ignores.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Emulators started by tests inherit this: ECS tasks start in 0.3 s, not the 1 s `make demo`
# shows, so launches wait less. Tests of the waiting itself set their own start period.
os.environ.setdefault("EMULATOR_TASK_START_SECONDS", "0.3")
# ... and a drift detection completes 0.2 s after DetectStackDrift, not 1 s: every relaunch of
# a stack runs one first (!drift_preview), and drift-check one per stack. Tests of a
# detection still running set their own.
os.environ.setdefault("EMULATOR_DRIFT_SECONDS", "0.2")
# Copies of the project share the checkout's CDK template cache (template_handlers/
# cached_cdk.py): each copy would otherwise synthesize the drift monitor again, ~10 s of CPU.
os.environ.setdefault("CDK_TEMPLATE_CACHE", str(ROOT / ".cache" / "cdk"))
# Each worker forks its emulators from fork servers that have imported moto and the layer,
# built the backends and seeded once (emulator/forkserver.py): a start costs 0.1 s of CPU,
# not 4 s. The workers share their main process's fork servers (serve_children): one import
# of moto and one seeding for the run, not one per worker (about 5 s of CPU each).
share_start_up()
if "PYTEST_XDIST_WORKER" not in os.environ:
    serve_children()
    # ... and one process, started on the first miss of the CDK template cache (a fresh
    # clone's), synthesizes for them all: each process that synthesizes loads the CDK first,
    # about 10 s of CPU (tests/cdk_synthesis.py).
    _synthesis = cdk_synthesis.share_with_children()
    if _synthesis is not None:
        atexit.register(_synthesis.close)
# Fixtures and in-process Sceptre runs make a boto3 Session each: one botocore data loader
# for them all, so botocore's JSON models are read once per worker, not once per Session.
share_in_sessions()
# In-process Sceptre reads every config file afresh for each plan: its Jinja compiles, YAML
# parses, entry point lookups and botocore's client methods are done once per worker, each
# returning what the skipped call would (tests/in_process_caches.py).
in_process_caches.install()


# The test files that keep a worker busy longest (seconds of wall time each in a whole run,
# bench/cpu_per_file.py), longest first. pytest-xdist hands out whole files (--dist loadfile)
# in collection order, which it would otherwise reorder by test count: these files hold few
# tests each, so they came last, and a worker that picked one up near the end ran it alone
# while the others had finished. Started first, they overlap with the many short files. A
# stale list costs time only, never a result.
LONGEST_FIRST = (
    "tests/test_launch.py",  # ~53 s, mostly waiting for tasks
    "tests/test_drift_check.py",  # ~48 s
    "tests/test_drift_revert.py",  # ~38 s
    "tests/test_launch_prod.py",  # ~31 s
    "tests/test_bad_inputs.py",  # ~30 s
    "tests/test_multi_account.py",  # ~29 s
    "tests/test_readme.py",  # ~27 s
    "tests/test_scanners.py",  # ~23 s
    "tests/test_interrupted_race.py",  # ~23 s; the interrupted launches: Sceptre's 4 s polls
    "tests/test_interrupted_ctrl_c.py",  # ~15 s
    "tests/test_interrupted_launches.py",  # ~12 s
    "tests/test_empty_account.py",  # ~21 s
    "tests/test_deploy_environment.py",  # ~19 s
    "tests/test_certificate_arn.py",  # ~17 s
    "tests/test_templates.py",  # ~16 s
    "emulator/tests/test_forkserver.py",  # ~16 s
    "tests/test_service_config.py",  # ~15 s
    "tests/test_pipeline_roles.py",  # ~14 s
    "emulator/tests/test_task_lifecycle.py",  # ~13 s
    "tests/test_account_layouts.py",  # ~12 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the files of LONGEST_FIRST first, in that order; then the others by test count,
    most first (pytest-xdist's own order, turned off in pyproject.toml by
    --no-loadscope-reorder so that this one holds). Each file's tests keep their order."""
    rank = {path: number for number, path in enumerate(LONGEST_FIRST)}
    counts = Counter(item.nodeid.split("::")[0] for item in items)

    def order(item: pytest.Item) -> tuple[int, int]:
        path = item.nodeid.split("::")[0]
        return (rank[path], 0) if path in rank else (len(rank), -counts[path])

    items.sort(key=order)  # stable: a file's tests stay in order, and files stay whole


def pytest_runtest_teardown() -> None:
    """Move what the test left alive out of the cyclic garbage collector's reach (gc.freeze).

    A worker keeps growing caches (botocore's models, Sceptre's and Jinja's, the emulator
    clients), and each full collection walked all of them again: 3-4 s of CPU per worker in a
    run, measured with gc.callbacks; about 1 s with this. The cost: cyclic garbage a test
    leaves uncollected stays in memory (peak RSS per worker +0-70 MB, measured)."""
    gc.freeze()


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One seeded emulator for the whole run; tests that change shared state use their own."""
    with Emulator() as running:
        yield running


@pytest.fixture(scope="session")
def slow_aws() -> Iterator:
    """A boto3 client factory for an unseeded emulator whose ECS tasks take 2 s to start, so
    a stack holding a service is still being created 2 s after CreateStack: for tests of
    what other clients see meanwhile."""
    with Emulator(seed=False, settings={"EMULATOR_TASK_START_SECONDS": "2"}) as running:
        yield running.client


@pytest.fixture
def aws_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Point boto3 and Sceptre in this process at the session emulator."""
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    # Sceptre keeps boto3 sessions and clients per class for the process's lifetime; a test
    # file run earlier on this worker may have left ones bound to its own emulator's endpoint.
    forget_sceptre_connections()
    return emulator


@pytest.fixture
def aws(aws_env: Emulator):
    """A boto3 client factory for the emulator: aws("ec2")."""
    session = boto3.Session(region_name=REGION)
    return lambda service, region=REGION: session.client(service, region_name=region)
