"""Synthesize CDK stacks into template_handlers/cached_cdk.py's cache, in one process.

    python -m scripts.synthesize_ahead dev/drift-monitor.yaml prod/drift-monitor.yaml

Loading the CDK into Node.js (jsii) costs about 10 s of CPU per process, and on a fresh
clone each `sceptre launch` pays it again for its own drift monitor. `make demo` runs this in
the background while dev's first stacks launch: one load for both environments, while the
launch mostly waits on the emulator. A launch that reaches its monitor first waits on the
cache's lock rather than synthesizing twice; once cached, launches skip the CDK entirely.
It renders with the same configuration and environment as the launch, so the cache keys
match.
"""

import sys

from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

from emulator.process import ROOT


def synthesize(paths: list[str]) -> None:
    """Render each stack's template (for a cached_cdk stack: synthesize and cache it)."""
    for path in paths:
        SceptrePlan(SceptreContext(project_path=str(ROOT), command_path=path)).generate()


def main(argv: list[str] | None = None) -> int:
    """Synthesize the stacks named on the command line; exit 1 on the first failure."""
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m scripts.synthesize_ahead STACK_PATH...", file=sys.stderr)
        return 2
    try:
        synthesize(paths)
    except Exception as error:  # the launch synthesizes again and reports it properly
        print(f"synthesize_ahead: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
