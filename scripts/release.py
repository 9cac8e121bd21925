"""release.json: what a pipeline built, so later stages and prod deploy exactly that.

release.py write --tag SHA --digest sha256:... --commit SHA > release.json
release.py tag release.json                 # prints the image tag
release.py verify release.json ENVIRONMENT  # exit 1 unless ENVIRONMENT runs that digest

`write` and `tag` need only the standard library: the build stage runs them on CodeBuild's
own Python, where neither Sceptre nor boto3 is installed. `verify` runs in the deploy stage,
which installs the project.
"""

import argparse
import json
import sys
from pathlib import Path


def read(path: Path) -> dict[str, str]:
    """The release recorded in a release.json file."""
    release = json.loads(path.read_text())
    missing = {"image_tag", "image_digest"} - set(release)
    if missing:
        raise SystemExit(
            f"{path}: missing {', '.join(sorted(missing))}; was it written by 'write'?"
        )
    return release


def running_digest(environment: str) -> str:
    """The image digest the environment's service runs now, read back from AWS."""
    # Imported here, not above: they need Sceptre and boto3, which only deploy steps install.
    from hooks.deployment_summary import describe_deployment
    from scripts.environment import boto_call, stack_names

    return describe_deployment(boto_call(), stack_names(environment)["service"]).digest


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="print a release.json")
    write.add_argument("--tag", required=True)
    write.add_argument("--digest", required=True)
    write.add_argument("--commit", required=True)
    tag = commands.add_parser("tag", help="print the release's image tag")
    tag.add_argument("release", type=Path)
    verify = commands.add_parser("verify", help="check an environment runs the release")
    verify.add_argument("release", type=Path)
    verify.add_argument("environment")
    args = parser.parse_args(argv)

    if args.command == "write":
        if not args.digest.startswith("sha256:"):
            parser.error(f"--digest must be sha256:..., got {args.digest!r}")
        release = {"image_tag": args.tag, "image_digest": args.digest, "commit": args.commit}
        print(json.dumps(release, indent=2))
        return 0
    release = read(args.release)
    if args.command == "tag":
        print(release["image_tag"])
        return 0
    running = running_digest(args.environment)
    if running != release["image_digest"]:
        print(
            f"{args.environment} runs {running or 'an image not pinned by digest'}, but the "
            f"release is {release['image_digest']} (tag {release['image_tag']})",
            file=sys.stderr,
        )
        return 1
    print(f"{args.environment} runs release {release['image_tag']} ({running})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
