"""The bench scripts' computations, on the real rendered templates (nothing timed here)."""

from pathlib import Path

import pytest

from bench import cost, rollout
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
