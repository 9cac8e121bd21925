"""The bench scripts' computations, on the real rendered templates (nothing timed here)."""

import os
import subprocess
from pathlib import Path

import pytest

from bench import cost, rollout, setup
from bench.launch import STACKS_PER_ENVIRONMENT, make_project
from tests.templates import render


@pytest.mark.parametrize(("env", "floor"), [("dev", 5 + 5), ("prod", 10 + 30)])
def test_rollout_floor_is_one_check_interval_plus_the_deregistration_delay(env, floor):
    timing = rollout.environment_timing(env)
    assert timing.floor == floor <= rollout.GOALS[env]
    assert timing.by_threshold == 2 * timing.interval + timing.deregistration_delay


def test_rollout_references_are_the_usual_quotes():
    assert rollout.ELB_DEFAULTS.by_threshold == 450
    assert rollout.COPILOT_DEFAULTS.by_threshold == 210
    assert all("goal" not in row.against for row in rollout.rows()[2:])


def test_cost_reads_the_environments_shape_from_the_templates():
    dev, prod = cost.environment_shape("dev"), cost.environment_shape("prod")
    assert (dev.vcpu, dev.memory_gb) == (prod.vcpu, prod.memory_gb) == (0.25, 0.5)
    assert (dev.min_tasks, dev.max_tasks, prod.min_tasks, prod.max_tasks) == (1, 2, 2, 10)
    assert (dev.spot_share, prod.spot_share) == (1.0, 0.0)
    assert (dev.public_ip_per_task, prod.public_ip_per_task) == (True, False)
    assert dev.load_balancer and prod.load_balancer


def test_cost_of_a_task_month_follows_the_price_table():
    prices = {
        "fargate": {"vcpu_hour": 1.0, "gb_hour": 0.5, "spot_discount": 0.5},
        "application_load_balancer": {"hour": 0.0, "lcu_hour": 0.0},
        "public_ipv4": {"hour": 0.0},
        "cloudwatch_logs": {"ingestion_gb": 0.0},
    }
    shape = cost.Shape(1.0, 2.0, 2, 3, 1.0, False, False)
    found = cost.estimate(shape, cost.Traffic(lcu=0, log_gb=0), prices)
    task_month = (1.0 * 1.0 + 2.0 * 0.5) * 0.5 * cost.HOURS_PER_MONTH
    assert found.total == pytest.approx(2 * task_month)
    assert found.ceiling == pytest.approx(3 * task_month)


def test_launch_bench_environments_are_copies_of_dev_that_render(tmp_path: Path):
    project = make_project(tmp_path, 2)
    rendered = render("bench", project)
    assert len(rendered) == 2 * STACKS_PER_ENVIRONMENT
    names = {
        found["template"]["Resources"]["Cluster"]["Properties"]["ClusterName"]
        for name, found in rendered.items()
        if name.endswith("/cluster")
    }
    assert names == {"product-service-env-1", "product-service-env-2"}


# bench/setup.py: how a timed `make` splits into phases and what the table says (no clone).


def dry_run_commands(target: str) -> list[str]:
    """Every recipe line `make TARGET` would run on a fresh clone (make -n -B: nothing runs)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    out = subprocess.run(
        ["make", "-n", "-B", target], cwd=setup.ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.replace("\\\n", " ").splitlines()
    return [line for line in lines if line.strip()]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("demo", {"uv (.venv-tools)", ".venv", ".venv-emulator", "npm ci", "demo"}),
        (
            "test",
            {"uv (.venv-tools)", ".venv", ".venv-emulator", ".venv-scanners", "npm ci", "lint"}
            | {"pytest"},
        ),
    ],
)
def test_every_recipe_line_of_the_makefile_falls_in_a_named_phase(target, expected):
    found = {setup.phase_of(line) for line in dry_run_commands(target)}
    assert setup.OTHER not in found
    assert found - {"set-up, all"} == expected


def test_uv_running_in_a_venv_recipe_counts_for_that_venv_not_for_the_uv_install():
    line = ".venv-tools/bin/uv pip install --quiet --python .venv-emulator/bin/python -r x.txt"
    assert setup.phase_of(line) == ".venv-emulator"
    assert setup.phase_of(".venv-tools/bin/uv venv --python python3 .venv") == ".venv"
    assert setup.phase_of("python3 -m pip install --target .venv-tools uv==0.13.8") == (
        "uv (.venv-tools)"
    )
    assert setup.phase_of(".venv/bin/python -m scripts.demo") == "demo"


def test_phases_span_their_commands_and_list_in_start_order():
    log = [
        setup.Command(100.0, 103.0, 0, "python3 -m pip install --target .venv-tools uv"),
        setup.Command(103.0, 104.0, 0, ".venv-tools/bin/uv venv .venv"),
        setup.Command(103.5, 106.0, 0, "npm ci --no-audit"),
        setup.Command(104.0, 130.0, 0, ".venv/bin/python -m compileall -q .venv/lib"),
        setup.Command(103.2, 120.0, 0, ".venv-emulator/bin/python -m compileall -q x"),
        setup.Command(130.0, 190.0, 0, ".venv/bin/python -m scripts.demo"),
    ]
    found = {phase.name: phase for phase in setup.phases(log)}
    assert [p.name for p in setup.phases(log)] == [
        "uv (.venv-tools)",
        ".venv",
        ".venv-emulator",
        "npm ci",
        "demo",
    ]
    assert (found[".venv"].start, found[".venv"].end) == (103.0, 130.0)
    assert found[".venv"].seconds == 27.0 and found[".venv"].busy == 27.0
    assert found["demo"].seconds == 60.0


def test_the_wrapper_shell_logs_each_command_with_its_exit_code(tmp_path: Path):
    wrapper, log = tmp_path / "sh", tmp_path / "log"
    wrapper.write_text(setup.WRAPPER)
    wrapper.chmod(0o755)
    env = {**os.environ, "BENCH_SETUP_LOG": str(log)}
    ran = subprocess.run([wrapper, "-c", "echo out; exit 3"], env=env, capture_output=True)
    subprocess.run([wrapper, "-c", "printf 'a\\tb\\n'\ntrue"], env=env, check=True)
    first, second = setup.parse_log(log.read_text())
    assert ran.returncode == 3 and ran.stdout == b"out\n"
    assert (first.returncode, first.text) == (3, "echo out; exit 3")
    assert first.start <= first.end <= second.start
    assert (second.returncode, second.text) == (0, "printf 'a\\tb\\n' true")


def run_of(seconds: float, returncode: int = 0, target: str = "demo") -> setup.Run:
    """A run of TARGET that took SECONDS, its one command the whole of it."""
    command = setup.Command(0.0, seconds, returncode, ".venv/bin/python -m scripts.demo")
    return setup.Run(target, "cold", 0.0, seconds, returncode, (command,), 1.0, 2.0)


def test_the_report_states_each_goal_met_missed_or_the_run_failed():
    assert setup.run_rows(run_of(90.0))[0].against == "goal <= 90 s (met); load 1.0 -> 2.0"
    assert setup.run_rows(run_of(90.5))[0].against.startswith("goal <= 90 s (MISSED)")
    assert setup.run_rows(run_of(181.0, target="test"))[0].against.startswith("goal <= 180 s")
    assert setup.run_rows(run_of(10.0, returncode=2))[0].against.startswith("failed")
    rows = setup.run_rows(run_of(42.0))
    assert [(r.figure, r.value) for r in rows] == [
        ("total, cold caches", "42.0 s"),
        ("  demo", "42.0 s"),
    ]


def test_every_package_cache_points_into_the_fresh_folder(tmp_path: Path):
    base = {"UV_CACHE_DIR": "/home/u/.cache/uv", "NPM_CONFIG_CACHE": "/home/u/.npm", "X": "1"}
    env = setup.cache_env({**base, "PIP_NO_CACHE_DIR": "1"}, tmp_path)
    caches = ["UV_CACHE_DIR", "PIP_CACHE_DIR", "npm_config_cache"]
    caches += ["JSII_RUNTIME_PACKAGE_CACHE_ROOT", "XDG_CACHE_HOME"]
    for variable in caches:
        assert Path(env[variable]).parent == tmp_path and Path(env[variable]).is_dir()
    assert len({env[v] for v in caches}) == len(caches)
    assert "NPM_CONFIG_CACHE" not in env and "PIP_NO_CACHE_DIR" not in env and env["X"] == "1"
