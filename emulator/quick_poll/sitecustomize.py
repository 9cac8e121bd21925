"""Sceptre processes against the emulator (emulator.process.quick_polls: tests, make demo).

Sceptre waits 4 s after every look at a stack's status, the last one included, a pace set
for AWS (sceptre/plan/actions.py, _wait_for_completion). The emulator completes a stack
operation within the call that starts it, so each wait only idles. When
SCEPTRE_POLL_SECONDS is set, Sceptre's waits last at most that long; nothing else changes.
Launches whose timing matters (those tests/test_interrupted_launches.py interrupts or
races) do not set it.
"""

import os
import time

_cap = os.environ.get("SCEPTRE_POLL_SECONDS")
if _cap:
    import types

    import sceptre.plan.actions as _actions

    _actions.time = types.SimpleNamespace(sleep=lambda s: time.sleep(min(s, float(_cap))))
