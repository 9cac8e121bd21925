"""Rollout floor per environment: seconds from a new task starting to the old one gone.

Computed from the rendered templates (the target group's health check and deregistration
delay), not measured: the emulator has no real tasks or load balancer.

A rolling deploy (minimum 100 %, maximum 200 %) replaces each old task like this:

1. the new task starts and ECS registers it in the target group;
2. the load balancer checks it every ``interval`` seconds. A newly registered target needs
   one passing check to be healthy, whatever the healthy threshold (ECS developer guide,
   "Optimize load balancer health check parameters"); that check comes at most one interval
   after registration;
3. ECS then deregisters the old task, which keeps serving its in-flight requests for the
   ``deregistration delay`` (draining), then is stopped.

    floor = interval + deregistration_delay

All new tasks start together (maximum 200 %), so the floor is the same for 2 tasks or 10.
It leaves out what configuration does not set: image pull and application start, the few
seconds ECS and ELB take to act on a state change, and the old task's shutdown after
SIGTERM (immediate for a well-behaved server).

The figure usually quoted, and the time a task needs to take traffic again after failing
checks, counts the healthy threshold instead of one check:

    by threshold = healthy_threshold x interval + deregistration_delay

With ELB's defaults (30 s x 5, 300 s) that is the familiar 450 s, and 210 s with Copilot's
60 s deregistration delay; both are printed beside the floor. The goals are checked
against the floor.
"""

from dataclasses import dataclass

from bench.report import Row, format_table, only_resource, rendered_templates

GOALS = {"dev": 15, "prod": 40}  # seconds, issue 5


@dataclass(frozen=True)
class HealthTiming:
    """The target group settings that decide how fast a deploy is."""

    name: str
    interval: int
    healthy_threshold: int
    deregistration_delay: int

    @property
    def floor(self) -> int:
        """Seconds from a new task registering to the old one gone (one passing check)."""
        return self.interval + self.deregistration_delay

    @property
    def by_threshold(self) -> int:
        """The same, counting the healthy threshold: the usual quote, and recovery time."""
        return self.healthy_threshold * self.interval + self.deregistration_delay

    def describe(self) -> str:
        """The inputs, in one phrase."""
        return (
            f"check every {self.interval} s, {self.healthy_threshold} to recover, "
            f"drain {self.deregistration_delay} s"
        )


# ELB's own defaults, which CDK's ecs-patterns keep; Copilot changes only the delay.
ELB_DEFAULTS = HealthTiming("ELB/CDK defaults", 30, 5, 300)
COPILOT_DEFAULTS = HealthTiming("Copilot defaults", 30, 5, 60)


def environment_timing(env: str) -> HealthTiming:
    """The health timing the environment's rendered service template declares."""
    group = only_resource(
        rendered_templates(env)["service"], "AWS::ElasticLoadBalancingV2::TargetGroup"
    )["Properties"]
    attributes = {a["Key"]: a["Value"] for a in group.get("TargetGroupAttributes", [])}
    return HealthTiming(
        env,
        interval=int(group.get("HealthCheckIntervalSeconds", ELB_DEFAULTS.interval)),
        healthy_threshold=int(group.get("HealthyThresholdCount", ELB_DEFAULTS.healthy_threshold)),
        deregistration_delay=int(
            attributes.get(
                "deregistration_delay.timeout_seconds", ELB_DEFAULTS.deregistration_delay
            )
        ),
    )


def rows(environments: tuple[str, ...] = ("dev", "prod")) -> list[Row]:
    """One row per environment, then the two references."""
    result = []
    for env in environments:
        timing = environment_timing(env)
        against = f"{timing.by_threshold} s by threshold"
        if env in GOALS:
            verdict = "met" if timing.floor <= GOALS[env] else "NOT MET"
            against = f"goal <= {GOALS[env]} s: {verdict}; {against}"
        result.append(Row("rollout", f"{env}: {timing.describe()}", f"{timing.floor} s", against))
    for reference in (ELB_DEFAULTS, COPILOT_DEFAULTS):
        result.append(
            Row(
                "rollout",
                f"{reference.name}: {reference.describe()}",
                f"{reference.floor} s",
                f"{reference.by_threshold} s by threshold",
            )
        )
    return result


NOTES = (
    "rollout: interval + deregistration delay (a new target needs one passing check); "
    "'by threshold' counts healthy threshold x interval instead, as usually quoted.",
)


def main() -> int:
    """Print the rollout rows as a table."""
    print(format_table(rows(), NOTES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
