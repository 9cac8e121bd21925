"""Alarms that roll back a bad deploy, and a dashboard, per environment (issue 13).

Rendered for both environments: each alarm's metric, statistic, unit and threshold from
config; the service's deployment alarms; the dashboard's body; the configuration check. Then
dev launched once on the emulator: the alarms and the dashboard exist as CloudWatch holds
them, the service watches the two deployment alarms, and a deployment whose alarm goes into
ALARM rolls back to the previous task definition.

What AWS does, and where it says so:
- AWS/ApplicationELB publishes HTTPCode_Target_5XX_Count, RequestCount, UnHealthyHostCount and
  TargetResponseTime (in seconds) per TargetGroup and LoadBalancer, whose values are
  targetgroup/NAME/ID and app/NAME/ID (docs.aws.amazon.com/elasticloadbalancing/latest/
  application/load-balancer-cloudwatch-metrics.html).
- AWS/ECS publishes CPUUtilization and MemoryUtilization per ClusterName and ServiceName
  (docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html); running and
  desired task counts per service are Container Insights metrics, ECS/ContainerInsights
  RunningTaskCount and DesiredTaskCount (docs.aws.amazon.com/AmazonCloudWatch/latest/
  monitoring/Container-Insights-metrics-ECS.html), so the cluster must have it on.
- A listener's ARN is ...:listener/app/LB-NAME/LB-ID/LISTENER-ID (docs.aws.amazon.com/
  service-authorization/latest/reference/list_elasticloadbalancingv2.html, resource types).
- An alarm on metric math has exactly one query with ReturnData true (docs.aws.amazon.com/
  AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html); FILL(m, 0)
  puts 0 where m has no data point (Using-metric-math.html, the same guide).
- DeploymentConfiguration.Alarms {AlarmNames, Enable, Rollback} (docs.aws.amazon.com/
  AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-deploymentalarms.html):
  a deployment during which one of them goes into ALARM fails and, with Rollback, the last
  completed deployment is restored (docs.aws.amazon.com/AmazonECS/latest/developerguide/
  deployment-alarm-failure.html).
- Ref of AWS::CloudWatch::Alarm is its name; of AWS::CloudWatch::Dashboard its name
  (the two types' reference pages).
"""

import copy
import json
import re
import time

import pytest

from emulator.process import Emulator
from hooks.validate_config import find_problems
from tests.roles import quick, sceptre_in_process
from tests.templates import copy_project, render, resources, stack_config

ENVS = ("dev", "prod")
# Each alarm by logical id: (namespace, metric or None for metric math, statistic, config key).
SINGLE_METRIC = {
    "UnhealthyHostsAlarm": ("AWS/ApplicationELB", "UnHealthyHostCount", "unhealthy_hosts"),
    "ResponseTimeAlarm": ("AWS/ApplicationELB", "TargetResponseTime", "response_time_p90_seconds"),
    "CpuHighAlarm": ("AWS/ECS", "CPUUtilization", "cpu_percent"),
    "MemoryHighAlarm": ("AWS/ECS", "MemoryUtilization", "memory_percent"),
}
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"  # noqa: E501


def service(env: str) -> dict:
    return render(f"{env}/service.yaml")[f"{env}/service"]["template"]


def user_data(env: str) -> dict:
    return stack_config(f"{env}/service.yaml")[f"{env}/service"].sceptre_user_data


def alarms(env: str) -> dict[str, dict]:
    return {
        k: v["Properties"] for k, v in resources(service(env), "AWS::CloudWatch::Alarm").items()
    }


def resolve(value, params: dict):
    """The few intrinsics the alarms' dimensions use, evaluated as CloudFormation does."""
    if isinstance(value, dict) and len(value) == 1:
        (name, arg), = value.items()  # fmt: skip
        if name == "Ref":
            return params[arg]
        if name == "Fn::GetAtt":
            return params[".".join(arg)]
        if name == "Fn::Split":
            return resolve(arg[1], params).split(arg[0])
        if name == "Fn::Select":
            return resolve(arg[1], params)[arg[0]]
        if name == "Fn::Join":
            return arg[0].join(resolve(v, params) for v in arg[1])
    return value


PARAMS = {
    "ListenerArn": LISTENER,
    "TargetGroup.TargetGroupFullName": "targetgroup/tg/73e2d6bc24d8a067",
    "ClusterName": "product-service-dev",
    "Service.Name": "svc",
}


TARGET_GROUP_DIMENSIONS = [
    "TargetGroup",
    "targetgroup/tg/73e2d6bc24d8a067",
    "LoadBalancer",
    "app/web/50dc6c495c0c9188",
]
SERVICE_DIMENSIONS = ["ClusterName", "product-service-dev", "ServiceName", "svc"]


def dimensions(found: list[dict]) -> dict[str, str]:
    return {d["Name"]: resolve(d["Value"], PARAMS) for d in found}


# --- rendered ---


@pytest.mark.parametrize("env", ENVS)
def test_every_alarm_has_its_config_threshold_and_the_metric_aws_publishes(env):
    config = user_data(env)["alarms"]
    found = alarms(env)
    assert set(found) == {*SINGLE_METRIC, "TargetErrorRateAlarm", "TasksBelowDesiredAlarm"}
    for logical_id, (namespace, metric, key) in SINGLE_METRIC.items():
        alarm = found[logical_id]
        assert (alarm["Namespace"], alarm["MetricName"]) == (namespace, metric)
        assert alarm["Threshold"] == config[key]
        assert alarm["Period"] == 60
        assert alarm["EvaluationPeriods"] == config["evaluation_periods"]
        assert (
            alarm["AlarmName"]
            == f"product-service-{env}-"
            + {
                "UnhealthyHostsAlarm": "unhealthy-hosts",
                "ResponseTimeAlarm": "response-time-p90",
                "CpuHighAlarm": "cpu-high",
                "MemoryHighAlarm": "memory-high",
            }[logical_id]
        )
    # The load balancer's metrics are per target group and load balancer: app/NAME/ID is the
    # listener ARN's middle part.
    assert dimensions(found["UnhealthyHostsAlarm"]["Dimensions"]) == {
        "TargetGroup": "targetgroup/tg/73e2d6bc24d8a067",
        "LoadBalancer": "app/web/50dc6c495c0c9188",
    }
    assert found["UnhealthyHostsAlarm"]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert dimensions(found["CpuHighAlarm"]["Dimensions"]) == {
        "ClusterName": "product-service-dev",
        "ServiceName": "svc",
    }
    # p90 is an extended statistic, not a Statistic; the threshold is in seconds.
    response = found["ResponseTimeAlarm"]
    assert response["ExtendedStatistic"] == "p90" and "Statistic" not in response
    assert 0 < response["Threshold"] <= 5


@pytest.mark.parametrize("env", ENVS)
def test_the_5xx_rate_is_metric_math_over_the_request_count(env):
    alarm = alarms(env)["TargetErrorRateAlarm"]
    assert alarm["Threshold"] == user_data(env)["alarms"]["target_5xx_percent"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    returned = [q for q in alarm["Metrics"] if q["ReturnData"]]
    assert [q["Id"] for q in returned] == ["rate"]
    assert queries["rate"]["Expression"] == "100 * FILL(errors, 0) / requests"
    for query_id, metric in (("errors", "HTTPCode_Target_5XX_Count"), ("requests", "RequestCount")):
        stat = queries[query_id]["MetricStat"]
        assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]) == (
            "AWS/ApplicationELB",
            metric,
        )
        assert (stat["Stat"], stat["Period"]) == ("Sum", 60)
        assert (
            dimensions(stat["Metric"]["Dimensions"])["LoadBalancer"] == "app/web/50dc6c495c0c9188"
        )
    # No request in a minute is no data, not a breach.
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("env", ENVS)
def test_running_tasks_below_desired_uses_container_insights_which_the_cluster_turns_on(env):
    alarm = alarms(env)["TasksBelowDesiredAlarm"]
    metrics = {
        q["Id"]: (q["MetricStat"]["Metric"]["Namespace"], q["MetricStat"]["Metric"]["MetricName"])
        for q in alarm["Metrics"]
        if "MetricStat" in q
    }
    assert metrics == {
        "desired": ("ECS/ContainerInsights", "DesiredTaskCount"),
        "running": ("ECS/ContainerInsights", "RunningTaskCount"),
    }
    (expression,) = [q for q in alarm["Metrics"] if q["ReturnData"]]
    assert expression["Expression"] == "desired - running"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    cluster = render(f"{env}/cluster.yaml")[f"{env}/cluster"]["template"]
    settings = cluster["Resources"]["Cluster"]["Properties"]["ClusterSettings"]
    assert {"Name": "containerInsights", "Value": "enabled"} in settings


def test_dev_is_looser_than_prod():
    dev, prod = user_data("dev")["alarms"], user_data("prod")["alarms"]
    for key in ("target_5xx_percent", "response_time_p90_seconds", "cpu_percent", "memory_percent"):
        assert dev[key] > prod[key], key
    assert dev["evaluation_periods"] >= prod["evaluation_periods"]


@pytest.mark.parametrize("env", ENVS)
def test_the_service_rolls_back_on_the_5xx_and_response_time_alarms(env):
    configuration = service(env)["Resources"]["Service"]["Properties"]["DeploymentConfiguration"]
    assert configuration["Alarms"] == {
        "AlarmNames": [{"Ref": "TargetErrorRateAlarm"}, {"Ref": "ResponseTimeAlarm"}],
        "Enable": True,
        "Rollback": True,
    }
    # The circuit breaker stays: either method can fail a deployment.
    assert configuration["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


@pytest.mark.parametrize("env", ENVS)
def test_without_a_topic_no_alarm_notifies_and_with_one_each_notifies_it(env, tmp_path):
    assert all("AlarmActions" not in a for a in alarms(env).values())

    topic = "arn:aws:sns:us-east-1:123456789012:ops"
    project = copy_project(tmp_path)
    path = project / "config" / env / "config.yaml"
    default = "environment_variable.ALARM_TOPIC_ARN | default('')"
    path.write_text(path.read_text().replace(default, f"'{topic}'"))
    template = render(f"{env}/service.yaml", project)[f"{env}/service"]["template"]
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [topic]
        assert alarm["Properties"]["OKActions"] == [topic]


@pytest.mark.parametrize("env", ENVS)
def test_the_dashboard_shows_the_alarms_metrics_and_states(env):
    dashboard = service(env)["Resources"]["Dashboard"]["Properties"]
    assert dashboard["DashboardName"] == f"product-service-{env}"
    text, variables = dashboard["DashboardBody"]["Fn::Sub"]
    values = {
        **PARAMS,
        "AWS::Region": "us-east-1",
        "LoadBalancer": resolve(variables["LoadBalancer"], PARAMS),
        **{f"{a}.Arn": f"arn:{a}" for a in alarms(env)},
    }
    body = json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text))
    shown = set()
    for widget in body["widgets"]:
        rows = widget["properties"].get("metrics", [])
        for i, row in enumerate(rows):
            full = [rows[i - 1][k] if v == "." else v for k, v in enumerate(row)]
            rows[i] = full
            shown.add((full[0], full[1]))
            assert full[2:] in (TARGET_GROUP_DIMENSIONS, SERVICE_DIMENSIONS)
    assert {
        ("AWS/ApplicationELB", "RequestCount"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ApplicationELB", "TargetResponseTime"),
        ("AWS/ApplicationELB", "UnHealthyHostCount"),
        ("AWS/ECS", "CPUUtilization"),
        ("AWS/ECS", "MemoryUtilization"),
        ("ECS/ContainerInsights", "RunningTaskCount"),
        ("ECS/ContainerInsights", "DesiredTaskCount"),
    } <= shown
    (states,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(states["properties"]["alarms"]) == sorted(f"arn:{a}" for a in alarms(env))


# --- the configuration check ---


def config(env: str) -> dict:
    stack = stack_config(env + "/cluster.yaml")[f"{env}/cluster"]
    return copy.deepcopy({k: v for k, v in stack.config.items() if k != "hooks"})


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"cpu_percent": 150}, "sceptre_user_data.alarms.cpu_percent"),
        ({"target_5xx_percent": 0}, "sceptre_user_data.alarms.target_5xx_percent"),
        ({"evaluation_periods": 1441}, "sceptre_user_data.alarms.evaluation_periods"),
        ({"response_time_p90_seconds": "1s"}, "sceptre_user_data.alarms.response_time_p90_seconds"),
        ({"unhealthy_hosts": 0}, "sceptre_user_data.alarms.unhealthy_hosts"),
    ],
)
def test_bad_thresholds_are_refused_by_key(change, key):
    bad = config("dev")
    bad["sceptre_user_data"]["alarms"].update(change)
    assert key in [k for k, _, _ in find_problems(bad, "dev")]


def test_a_topic_that_is_not_an_sns_arn_is_refused():
    bad = config("prod")
    bad["sceptre_user_data"]["alarm_topic_arn"] = "ops@example.com"
    assert "sceptre_user_data.alarm_topic_arn" in [k for k, _, _ in find_problems(bad, "prod")]


@pytest.mark.parametrize("env", ENVS)
def test_the_shipped_alarms_pass(env):
    assert find_problems(config(env), env) == []


# --- on the emulator ---


@pytest.fixture(scope="module")
def emulator():
    # A one-second bake time (emulator/deployment_alarms.py): the window in which the
    # rollback test trips an alarm before the deployment completes.
    settings = {"EMULATOR_BAKE_SECONDS": "1"}  # tasks start as the suite's (conftest.py)
    with Emulator(settings=settings) as running:
        yield running


@pytest.fixture(scope="module")
def launched(emulator, tmp_path_factory) -> Emulator:
    """dev's service and what it depends on, launched once (in-process Sceptre)."""
    project = copy_project(tmp_path_factory.mktemp("launch"))
    env = {**quick(emulator.child_env()), "DRIFT_PREVIEW_SECONDS": "0"}
    result = sceptre_in_process(project, env, "launch", "-y", "dev/service.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    return emulator


def dev_service(emulator) -> dict:
    ecs = emulator.client("ecs")
    (arn,) = ecs.list_services(cluster="product-service-dev")["serviceArns"]
    return ecs.describe_services(cluster="product-service-dev", services=[arn])["services"][0]


def test_the_launch_creates_the_alarms_and_the_dashboard(launched):
    cloudwatch, elb = launched.client("cloudwatch"), launched.client("elbv2")
    found = {
        a["AlarmName"]: a
        for a in cloudwatch.describe_alarms(AlarmNamePrefix="product-service-dev-")["MetricAlarms"]
    }
    assert set(found) == {
        f"product-service-dev-{s}"
        for s in (
            "target-5xx-rate",
            "unhealthy-hosts",
            "response-time-p90",
            "cpu-high",
            "memory-high",
            "tasks-below-desired",
        )
    }
    # A new alarm has no data yet.
    assert {a["StateValue"] for a in found.values()} == {"INSUFFICIENT_DATA"}
    (balancer,) = elb.describe_load_balancers()["LoadBalancers"]
    expected_lb = balancer["LoadBalancerArn"].split(":loadbalancer/")[1]
    latency = found["product-service-dev-response-time-p90"]
    assert {d["Name"]: d["Value"] for d in latency["Dimensions"]}["LoadBalancer"] == expected_lb
    assert latency["Threshold"] == 2
    cpu = found["product-service-dev-cpu-high"]
    names = {d["Name"]: d["Value"] for d in cpu["Dimensions"]}
    assert names == {
        "ClusterName": "product-service-dev",
        "ServiceName": dev_service(launched)["serviceName"],
    }

    body = json.loads(
        cloudwatch.get_dashboard(DashboardName="product-service-dev")["DashboardBody"]
    )
    (states,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(states["properties"]["alarms"]) == sorted(a["AlarmArn"] for a in found.values())


def test_the_service_watches_the_two_deployment_alarms(launched):
    alarms_config = dev_service(launched)["deploymentConfiguration"]["alarms"]
    assert alarms_config == {
        "alarmNames": [
            "product-service-dev-target-5xx-rate",
            "product-service-dev-response-time-p90",
        ],
        "enable": True,
        "rollback": True,
    }


def test_a_deployment_whose_alarm_goes_into_alarm_rolls_back(launched):
    ecs, cloudwatch = launched.client("ecs"), launched.client("cloudwatch")
    before = dev_service(launched)
    previous = before["taskDefinition"]
    definition = ecs.describe_task_definition(taskDefinition=previous)["taskDefinition"]
    keep = ("family", "containerDefinitions", "cpu", "memory", "networkMode",
            "requiresCompatibilities", "executionRoleArn", "taskRoleArn")  # fmt: skip
    new = ecs.register_task_definition(**{k: definition[k] for k in keep})["taskDefinition"]
    ecs.update_service(
        cluster="product-service-dev",
        service=before["serviceName"],
        taskDefinition=new["taskDefinitionArn"],
    )
    # The new revision answers 5xx: the metric math alarm trips (set by hand, as CloudWatch
    # would once its data points breach).
    cloudwatch.set_alarm_state(
        AlarmName="product-service-dev-target-5xx-rate",
        StateValue="ALARM",
        StateReason="Threshold Crossed: 5 datapoints were greater than the threshold (10.0).",
    )

    def rolled_back():
        found = dev_service(launched)
        primary = found["deployments"][0]
        return (
            primary["rolloutState"] == "COMPLETED"
            and primary["taskDefinition"] == previous
            and found
        )  # noqa: E501

    deadline = time.monotonic() + 15
    while not (after := rolled_back()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert after, dev_service(launched)
    assert after["taskDefinition"] == previous
    messages = [e["message"] for e in after["events"]]
    assert any("product-service-dev-target-5xx-rate" in m and "failed" in m for m in messages)
    running = ecs.list_tasks(cluster="product-service-dev", serviceName=after["serviceName"])
    tasks = ecs.describe_tasks(cluster="product-service-dev", tasks=running["taskArns"])["tasks"]
    assert {t["taskDefinitionArn"] for t in tasks if t["lastStatus"] == "RUNNING"} == {previous}
