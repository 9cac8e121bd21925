"""The ``drift-check`` console script."""

import argparse
import json
import logging
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from sceptre.exceptions import SceptreException

from drift.detect import detect_all, load_stacks
from drift.notify import notify
from drift.report import exit_code, table, to_json, to_markdown
from drift.revert_command import Options, revert


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="drift-check",
        description="Detect CloudFormation drift on every stack of the named StackGroups. "
        "Exit 0: all in sync; 1: drift found; 2: detection failed or a stack is missing. "
        "With --revert: 0 all in sync afterwards, 1 drift remains, 2 a revert failed.",
    )
    parser.add_argument("groups", nargs="+", metavar="GROUP", help="StackGroup, e.g. dev prod")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write it as Markdown")
    parser.add_argument(
        "--project-dir", type=Path, default=Path.cwd(), help="the Sceptre project (default: .)"
    )
    parser.add_argument(
        "--timeout", type=float, default=300, help="seconds to wait per stack (default: 300)"
    )
    revert = parser.add_argument_group("putting drift back (drift-aware change sets)")
    revert.add_argument(
        "--revert",
        action="store_true",
        help="put drifted stacks back to their templates: preview, ask, execute, check again",
    )
    revert.add_argument("--yes", action="store_true", help="with --revert: do not ask")
    revert.add_argument(
        "--dry-run", action="store_true", help="with --revert: preview only, change nothing"
    )
    revert.add_argument(
        "--allow-replacement",
        action="store_true",
        help="with --revert: also run a revert that replaces or deletes a resource",
    )
    args = parser.parse_args(argv)
    if (args.yes or args.dry_run or args.allow_replacement) and not args.revert:
        parser.error("--yes, --dry-run and --allow-replacement go with --revert")
    return args


def fail(message: str) -> int:
    """Print one line saying what went wrong and what to do; return exit code 2."""
    print(f"drift-check: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Run the check; return the exit code."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="drift-check: %(message)s")
    config = args.project_dir / "config"
    for group in args.groups:
        if not (config / group).is_dir():
            known = ", ".join(sorted(p.name for p in config.iterdir() if p.is_dir()))
            return fail(f"no StackGroup '{group}' in {config} (known: {known or 'none'})")
    if args.revert and not (args.yes or args.dry_run) and not sys.stdin.isatty():
        return fail(
            "--revert asks before it changes a stack, but there is no terminal to ask on; "
            "pass --yes to revert without asking, or --dry-run to preview only"
        )
    try:
        stacks = load_stacks(args.groups, args.project_dir)
    except SceptreException as error:
        return fail(f"cannot read the Sceptre config: {error}")

    results = detect_all(stacks, timeout=args.timeout)
    print(table(args.groups, results), end="", flush=True)
    # The alert tells what was found, and what the revert did about it.
    found, code, postscript = results, exit_code(results), ""
    if args.revert:
        options = Options(args.yes, args.dry_run, args.allow_replacement, args.timeout)
        try:
            outcome = revert(args.groups, stacks, results, options)
        except SceptreException as error:  # credentials or endpoint, said in one line
            return fail(f"cannot revert: {error}")
        code, results, postscript = outcome.code, outcome.results, outcome.summary()
        print(f"\n{postscript}", end="", flush=True)
    if args.json:
        args.json.write_text(json.dumps(to_json(args.groups, results), indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(to_markdown(args.groups, results))
    for result in results:
        if result.error:
            print(f"drift-check: {result.stack}: {result.status}: {result.error}", file=sys.stderr)

    try:
        for topic in notify(stacks, found, postscript):
            print(f"drift-check: notified {topic}", file=sys.stderr)
    except (ClientError, BotoCoreError) as error:
        return fail(f"could not publish to the drift topic ({error}); check drift_topic_arn")
    return code


if __name__ == "__main__":
    sys.exit(main())
