"""make demo: launch dev and prod on a fresh local emulator, then say what runs.

Starts the emulator (seeded with two images), runs the same commands a user runs,
`sceptre launch -y dev` and `sceptre --var image_tag=TAG launch -y prod`, prints what
CloudFormation and ECS now hold for each environment, checks both for drift, changes dev
by hand, then runs `drift-check dev prod --revert --yes` (it reports the drift, puts dev
back and checks again: exit 0 only when all is in sync), and stops the emulator. Both drift
monitors are synthesized in the background meanwhile (scripts/synthesize_ahead.py), and
Sceptre's 4 s status polls are capped at 0.25 s (emulator.process.quick_polls).
No AWS account and no Docker engine are involved; nothing is left running.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from emulator.process import REGION, ROOT, Emulator, quick_polls
from emulator.seed import IMAGE_TAGS
from hooks.deployment_summary import describe_deployment, format_deployment
from scripts.environment import boto_call, stack_names

SCEPTRE = Path(sys.executable).with_name("sceptre")
PROD_TAG = IMAGE_TAGS[-1]  # prod runs only an explicitly named image


def sceptre(env: dict[str, str], *args: str) -> None:
    """Run the sceptre CLI as a user would; stop the demo if it fails."""
    print(f"\n$ sceptre {' '.join(args)}", flush=True)
    if subprocess.run([str(SCEPTRE), *args], cwd=ROOT, env=env).returncode != 0:
        sys.exit(f"demo: 'sceptre {' '.join(args)}' failed; see its output above")


def synthesize_monitors_ahead(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Synthesize both drift monitors in one background process while dev's first stacks
    launch (scripts/synthesize_ahead.py): on a fresh clone each launch would otherwise load
    the CDK itself, about 10 s each, one after the other."""
    return subprocess.Popen(
        [sys.executable, "-m", "scripts.synthesize_ahead", "dev/drift-monitor.yaml",
         "prod/drift-monitor.yaml"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def environment_summary(environment: str) -> str:
    """The stacks of one environment and the service they run, read back from the emulator."""
    call = boto_call(REGION)
    names = stack_names(environment)
    stacks = sorted(names.values())
    statuses = []
    for name in stacks:
        stack = call("cloudformation", "describe_stacks", {"StackName": name})["Stacks"][0]
        statuses.append(f"{name} {stack['StackStatus']}")
    lines = [f"{environment}", f"  {'stacks':<16} {', '.join(statuses)}"]
    lines += format_deployment(describe_deployment(call, names["service"])).splitlines()[1:]
    return "\n".join(lines)


def drift_check(env: dict[str, str], *args: str) -> int:
    """Run drift-check as a user would; return its exit code (1 means drift, not failure)."""
    print(f"\n$ drift-check {' '.join(args)}", flush=True)
    code = subprocess.run([str(SCEPTRE.with_name("drift-check")), *args], cwd=ROOT, env=env)
    if code.returncode == 2:
        sys.exit("demo: drift-check could not check every stack; see its output above")
    return code.returncode


def change_dev_by_hand() -> None:
    """What drift detection is for: someone changes dev outside CloudFormation."""
    call = boto_call(REGION)
    target = call(
        "cloudformation",
        "describe_stack_resource",
        {"StackName": stack_names("dev")["service"], "LogicalResourceId": "ScalableTarget"},
    )["StackResourceDetail"]["PhysicalResourceId"]
    resource_id, dimension, namespace = target.split("|")
    call(
        "application-autoscaling",
        "register_scalable_target",
        {
            "ServiceNamespace": namespace,
            "ResourceId": resource_id,
            "ScalableDimension": dimension,
            "MaxCapacity": 5,
        },
    )
    call(
        "logs",
        "put_retention_policy",
        {"logGroupName": "/ecs/product-service-dev", "retentionInDays": 14},
    )
    print("\nChanged dev by hand: scaling up to 5 tasks instead of 2, logs kept 14 days, not 7.")


def main() -> int:
    """Run the demo; return the exit code."""
    started = time.monotonic()
    port = int(os.environ.get("EMULATOR_PORT", "0")) or None
    with Emulator(port=port) as emulator:
        env = quick_polls(emulator.child_env())
        os.environ.update(emulator.env())  # for this process's own read-back
        print(f"Local AWS emulator on {emulator.url}, seeded with images {', '.join(IMAGE_TAGS)}")
        print("Sceptre looks at stack status every 0.25 s here, not every 4 s (no need to wait)")
        ahead = synthesize_monitors_ahead(env)
        sceptre(env, "launch", "-y", "dev")
        sceptre(env, "--var", f"image_tag={PROD_TAG}", "launch", "-y", "prod")
        print("\nWhat runs now (read back from CloudFormation and ECS):")
        for environment in ("dev", "prod"):
            print(environment_summary(environment))
        drift_check(env, "dev", "prod")
        change_dev_by_hand()
        # Reports the drift, reverts it, detects again: exit 0 only when all is back in sync.
        if drift_check(env, "dev", "prod", "--revert", "--yes") != 0:
            sys.exit("demo: dev is not back in sync after drift-check --revert; see above")
        ahead.wait()
    print(f"\nDemo finished in {time.monotonic() - started:.0f} s; the emulator is stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
