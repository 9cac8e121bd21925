"""``drift-check --revert``: preview, confirm, put back, detect again, and the exit code.

Only stacks drift detection found DRIFTED are touched; stacks in sync, missing or not checked
are left alone. Exit 0 when every stack is in sync at the end, 1 when drift remains (each
stack says why: refused, not confirmed, a dry run, or nothing CloudFormation could put
back), 2 when a change set, a revert or a detection failed.
"""

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TextIO

from sceptre.stack import Stack

from drift.detect import DRIFTED, IN_SYNC, StackDrift, detect
from drift.report import columns, count, exit_code, table
from drift.revert import (
    PREVIEW_COLUMNS,
    RevertPlan,
    discard,
    execute,
    plan_revert,
    preview_rows,
)
from resolvers import AwsCall, stack_call


@dataclass(frozen=True)
class Options:
    """How to revert: the command line's --yes, --dry-run, --allow-replacement, --timeout."""

    yes: bool = False
    dry_run: bool = False
    allow_replacement: bool = False
    timeout: float = 300
    poll: float = 1


@dataclass
class Outcome:
    """What --revert did: the exit code, the final detection, and one line per stack."""

    code: int
    results: list[StackDrift]
    notes: list[str]

    def summary(self) -> str:
        """The notes as text, for the report and the alert."""
        return "".join(f"{note}\n" for note in self.notes)


def aws(stack: Stack) -> AwsCall:
    """The project's AWS call bound to the stack's connection manager (resolvers.stack_call)."""
    return stack_call(SimpleNamespace(stack=stack))


def ask(question: str) -> bool:
    """Ask on the terminal; only "y" or "yes" agrees."""
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _parallel(function: Callable, items: list) -> list:
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(len(items), 8)) as pool:
        return list(pool.map(function, items))


def revert(
    groups: list[str],
    stacks: list[Stack],
    results: list[StackDrift],
    options: Options,
    confirm: Callable[[str], bool] = ask,
    out: TextIO | None = None,
) -> Outcome:
    """Revert every drifted stack of results (a detection of stacks); print the preview and the
    final report to out (sys.stdout as it is at the call). confirm is asked once for all
    stacks unless options.yes or dry_run."""
    out = out or sys.stdout
    by_name = {s.name: s for s in stacks}
    drifted = [r for r in results if r.status == DRIFTED]
    if not drifted:
        return Outcome(exit_code(results), results, ["Nothing to revert: no stack drifted."])

    def plan(result: StackDrift) -> RevertPlan:
        return plan_revert(
            aws(by_name[result.stack]),
            result.stack,
            result.stack_name,
            allow_replacement=options.allow_replacement,
            timeout=options.timeout,
            poll=options.poll,
        )

    plans = _parallel(plan, drifted)
    rows = preview_rows(plans)
    print(f"\nThe revert puts back ({count(len(rows), 'change')}):\n", file=out)
    print(columns(PREVIEW_COLUMNS, rows) if rows else "(nothing)", file=out, flush=True)

    notes = []
    runnable = [p for p in plans if p.change_set]
    for p in plans:
        if p.error:
            notes.append(f"{p.stack}: FAILED: {p.error}")
        elif p.refused:
            notes.append(f"{p.stack}: refused: {p.refused}")
        elif p.empty:
            notes.append(
                f"{p.stack}: nothing to put back: CloudFormation's drift-aware change set has "
                "no changes for this drift (properties it does not revert); change them by "
                "hand or in the template"
            )
    if runnable and options.dry_run:
        for p in runnable:
            discard(aws(by_name[p.stack]), p)
            notes.append(f"{p.stack}: dry run: not reverted (its change set is deleted)")
        runnable = []
    elif runnable and not options.yes:
        question = f"\nRevert {count(len(runnable), 'stack')} as shown? [y/N] "
        if not confirm(question):
            for p in runnable:
                discard(aws(by_name[p.stack]), p)
                notes.append(f"{p.stack}: not reverted: not confirmed (nothing changed)")
            runnable = []

    _parallel(lambda p: execute(aws(by_name[p.stack]), p, poll=options.poll), runnable)
    for p in runnable:
        if p.error:
            notes.append(f"{p.stack}: FAILED: {p.error}")

    executed = [p for p in plans if p.executed]
    again = {
        r.stack: r
        for r in _parallel(
            lambda p: detect(by_name[p.stack], options.timeout, options.poll), executed
        )
    }
    final = [again.get(r.stack, r) for r in results]
    for p in executed:
        if not p.error and again[p.stack].status == DRIFTED:
            left = ", ".join(f"{d.resource}/{d.property}" for d in again[p.stack].differences)
            notes.append(f"{p.stack}: still drifted after the revert: {left}")
        elif not p.error and again[p.stack].status == IN_SYNC:
            notes.append(f"{p.stack}: reverted, in sync")
    if executed:
        print(f"\nAfter the revert:\n\n{table(groups, final)}", end="", file=out, flush=True)

    code = exit_code(final)
    if any(p.error for p in plans):
        code = 2
    return Outcome(code, final, notes)
