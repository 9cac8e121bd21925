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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="drift-check",
        description="Detect CloudFormation drift on every stack of the named StackGroups. "
        "Exit 0: all in sync; 1: drift found; 2: detection failed or a stack is missing.",
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
    return parser.parse_args(argv)


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
    try:
        stacks = load_stacks(args.groups, args.project_dir)
    except SceptreException as error:
        return fail(f"cannot read the Sceptre config: {error}")

    results = detect_all(stacks, timeout=args.timeout)
    print(table(args.groups, results), end="", flush=True)
    if args.json:
        args.json.write_text(json.dumps(to_json(args.groups, results), indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(to_markdown(args.groups, results))
    for result in results:
        if result.error:
            print(f"drift-check: {result.stack}: {result.status}: {result.error}", file=sys.stderr)

    try:
        for topic in notify(stacks, results):
            print(f"drift-check: notified {topic}", file=sys.stderr)
    except (ClientError, BotoCoreError) as error:
        return fail(f"could not publish to the drift topic ({error}); check drift_topic_arn")
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
