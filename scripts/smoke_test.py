"""Smoke test: wait until an environment's service runs its desired count of tasks.

    python -m scripts.smoke_test ENVIRONMENT [--timeout SECONDS]

Exit 0 once running equals desired (and is not zero), 1 if that does not happen in time.
"""

import argparse
import sys
import time

from hooks.deployment_summary import Deployment, describe_deployment, format_deployment
from scripts.environment import boto_call, stack_names


def wait_until_steady(environment: str, timeout: float, interval: float = 10) -> Deployment:
    """Poll the service until it runs its desired count; raise TimeoutError otherwise."""
    call, stack = boto_call(), stack_names(environment)["service"]
    deadline = time.monotonic() + timeout
    while True:
        deployment = describe_deployment(call, stack)
        if deployment.desired and deployment.running == deployment.desired:
            return deployment
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{environment}: {deployment.running} of {deployment.desired} tasks running "
                f"after {timeout:.0f} s"
            )
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    """Run the smoke test; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environment")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    try:
        deployment = wait_until_steady(args.environment, args.timeout)
    except TimeoutError as error:
        print(f"smoke test failed: {error}", file=sys.stderr)
        return 1
    print(f"smoke test passed:\n{format_deployment(deployment)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
