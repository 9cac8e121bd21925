"""Sceptre processes against the emulator (emulator.process.quick_polls: tests, make demo).

Sceptre waits 4 s after every look at a stack's status, the last one included, a pace set
for AWS (sceptre/plan/actions.py, _wait_for_completion). The emulator completes a stack
operation within the call that starts it, so each wait only idles. When
SCEPTRE_POLL_SECONDS is set, Sceptre's waits last at most that long; nothing else changes.
Launches whose timing matters (those tests/test_interrupted_launches.py interrupts or
races) do not set it.

Sceptre's module is capped when something imports it, not here: most processes that
inherit the setting never run Sceptre (the build's tools, the release and smoke-test
scripts), and importing Sceptre at start-up cost each of them about 0.4 s of CPU.
"""

import os
import sys
import time
import types
from importlib.machinery import PathFinder

MODULE = "sceptre.plan.actions"


class CapWhenImported:
    """A finder that lets the usual one load MODULE, then caps its waits at `cap` seconds."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def find_spec(self, name: str, path=None, target=None):
        if name != MODULE:
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_cap(module: types.ModuleType) -> None:
            exec_module(module)
            module.time = types.SimpleNamespace(sleep=lambda s: time.sleep(min(s, self.cap)))

        spec.loader.exec_module = exec_and_cap
        return spec


if _cap := os.environ.get("SCEPTRE_POLL_SECONDS"):
    sys.meta_path.insert(0, CapWhenImported(float(_cap)))
