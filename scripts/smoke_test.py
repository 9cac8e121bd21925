"""Smoke test: wait until an environment's service has rolled out and runs its desired count.

    python -m scripts.smoke_test ENVIRONMENT [--timeout SECONDS] [--interval SECONDS]

Exit 0 once the service's deployment is COMPLETED and running equals desired (not zero);
1 if its deployment fails (the ECS deployment circuit breaker tripped, or ECS rolled it back)
or that does not happen in time. A failure names ECS's reason and its latest service events
(why tasks stopped, e.g. "Task failed ELB health checks").
"""

import argparse
import sys
import time
from typing import Any

from hooks.deployment_summary import Deployment, describe_deployment, format_deployment
from resolvers import AwsCall
from scripts.environment import boto_call, stack_names


class DeploymentFailed(Exception):
    """ECS gave up on the deployment being watched."""


def _service(call: AwsCall, deployment: Deployment) -> dict[str, Any]:
    found = call(
        "ecs",
        "describe_services",
        {"cluster": deployment.cluster, "services": [deployment.service]},
    )
    return found["services"][0]


def _events(service: dict[str, Any], count: int = 5) -> str:
    return "".join(f"\n  {e['message']}" for e in service.get("events", [])[:count])


def wait_until_steady(environment: str, timeout: float, interval: float = 10) -> Deployment:
    """Poll the service until its deployment completes with its desired count running.

    Raises DeploymentFailed when the deployment being watched fails or is rolled back (ECS's
    rolloutState, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html),
    TimeoutError when it is still in progress after ``timeout`` seconds.
    """
    call, stack = boto_call(), stack_names(environment)["service"]
    deadline = time.monotonic() + timeout
    watched = None
    while True:
        deployment = describe_deployment(call, stack)
        service = _service(call, deployment)
        rollouts = service.get("deployments", [])
        primary = rollouts[0] if rollouts else {}
        watched = watched or primary.get("id")  # the newest deployment when polling began
        for rollout in rollouts:
            if rollout["id"] == watched and rollout.get("rolloutState") == "FAILED":
                raise DeploymentFailed(
                    f"{environment}: deployment {rollout['id']} failed: "
                    f"{rollout.get('rolloutStateReason', '')}{_events(service)}"
                )
        if watched and watched not in {r["id"] for r in rollouts}:
            raise DeploymentFailed(
                f"{environment}: deployment {watched} was replaced by {primary.get('id')} "
                f"(rolled back?){_events(service)}"
            )
        state = primary.get("rolloutState", "COMPLETED")  # no rollout state: not ECS-managed
        done = state == "COMPLETED" and len(rollouts) <= 1
        if done and deployment.desired and deployment.running == deployment.desired:
            return deployment
        progress = f"{deployment.running} of {deployment.desired} tasks running, rollout {state}"
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{environment}: {progress} after {timeout:.0f} s{_events(service)}")
        print(f"waiting: {progress}", file=sys.stderr, flush=True)
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    """Run the smoke test; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environment")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--interval", type=float, default=10, help="seconds between polls")
    args = parser.parse_args(argv)
    try:
        deployment = wait_until_steady(args.environment, args.timeout, args.interval)
    except (TimeoutError, DeploymentFailed) as error:
        print(f"smoke test failed: {error}", file=sys.stderr)
        return 1
    print(f"smoke test passed:\n{format_deployment(deployment)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
