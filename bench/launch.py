"""Launch time on the emulator for 1, 2, 4 and 8 environments made from the same templates.

For each count, a copy of the project gets that many environment folders under
config/bench/ (copies of dev, renamed, as a third environment would be made), a fresh
emulator starts, and one ``sceptre launch -y bench`` launches them all; the wall time of
that command is the figure. Sceptre launches stacks in batches by dependency (every
environment's cluster, then every load balancer, then every service), each batch's stacks
in parallel, so environments cost far less than one launch each.

The emulator answers at once, so the figures are Sceptre's own overhead, dominated by its
4-second status polling per batch; on AWS each batch takes as long as its slowest stack
(a load balancer: a few minutes). What they show is how the launch grows with the count.
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.report import Row, format_table
from emulator.process import ROOT, Emulator

SCEPTRE = Path(sys.executable).with_name("sceptre")
COUNTS = (1, 2, 4, 8)
STACKS_PER_ENVIRONMENT = 3  # cluster, load balancer, service


def make_project(folder: Path, count: int) -> Path:
    """A copy of the project with ``count`` environments under config/bench/."""
    project = folder / "project"
    for part in ("config", "templates", "policies"):
        shutil.copytree(ROOT / part, project / part)
    dev = yaml.safe_load((project / "config" / "dev" / "config.yaml").read_text())
    workload = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["workload_stacks"]
    for number in range(1, count + 1):
        name = f"env-{number}"
        target = project / "config" / "bench" / name
        target.mkdir(parents=True)
        # The stacks an environment runs, not its pipeline or drift monitor.
        for stack in workload:
            shutil.copy(project / "config" / "dev" / f"{stack}.yaml", target)
        config = {**dev, "environment": name}
        config["stack_tags"] = {**dev["stack_tags"], "Environment": name}
        config["sceptre_user_data"] = {
            **dev["sceptre_user_data"],
            "environment": name,
            "name": f"product-service-{name}",
        }
        (target / "config.yaml").write_text(yaml.safe_dump(config))
    return project


def launch_seconds(count: int) -> float:
    """Wall time of one ``sceptre launch`` of ``count`` environments on a fresh emulator."""
    with tempfile.TemporaryDirectory() as folder, Emulator() as emulator:
        project = make_project(Path(folder), count)
        env = emulator.child_env()
        started = time.monotonic()
        result = subprocess.run(
            [str(SCEPTRE), "launch", "-y", "bench"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        elapsed = time.monotonic() - started
        if result.returncode != 0:
            raise RuntimeError(
                f"launching {count} environments failed:\n{result.stdout}\n{result.stderr}"
            )
        cfn = emulator.client("cloudformation")
        # The bench's own stacks: the emulator also holds its seeded registry stack.
        stacks = [
            s
            for s in cfn.describe_stacks()["Stacks"]
            if s["StackName"].startswith("product-service-bench-")
        ]
        complete = [s for s in stacks if s["StackStatus"] == "CREATE_COMPLETE"]
        if len(complete) != count * STACKS_PER_ENVIRONMENT:
            raise RuntimeError(
                f"expected {count * STACKS_PER_ENVIRONMENT} stacks, found "
                f"{[(s['StackName'], s['StackStatus']) for s in stacks]}"
            )
        return elapsed


def rows(counts: tuple[int, ...] = COUNTS) -> list[Row]:
    """One row per environment count, compared with launching them one by one."""
    result = []
    first = None
    for count in counts:
        seconds = launch_seconds(count)
        first = first or seconds / count
        plural = "environment" if count == 1 else "environments"
        result.append(
            Row(
                "launch",
                f"{count} {plural} ({count * STACKS_PER_ENVIRONMENT} stacks), one sceptre launch",
                f"{seconds:.1f} s",
                (
                    f"{seconds / first:.2f}x one environment; {count} x one = {count * first:.0f} s"
                    if count > 1
                    else "what the rows below are compared with"
                ),
            )
        )
    return result


NOTES = (
    "launch: wall time on the local emulator, fresh for each count; Sceptre launches "
    "each dependency batch in parallel and polls every 4 s.",
)


def main() -> int:
    """Measure and print the launch rows as a table."""
    print(format_table(rows(), NOTES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
