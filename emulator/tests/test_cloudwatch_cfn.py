"""emulator/cloudwatch_cfn.py and emulator/deployment_alarms.py: CloudWatch alarms and
dashboards made through CloudFormation as AWS makes them, their drift, and ECS deployments
that an alarm fails and rolls back.

What AWS does, and where it says so:
- AWS::CloudWatch::Alarm: Ref is the alarm's name, GetAtt Arn its ARN; Metrics holds metric
  math queries (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
  aws-resource-cloudwatch-alarm.html).
- A new alarm starts in INSUFFICIENT_DATA; updating one overwrites its configuration and
  leaves its state unchanged (docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/
  API_PutMetricAlarm.html).
- PutDashboard refuses a body that is not a JSON object (API_PutDashboard.html, same guide).
- An ECS deployment whose watched alarm goes into ALARM fails (rolloutState FAILED) and, with
  rollback, the last completed deployment is restored; a steady deployment with alarms stays
  IN_PROGRESS for a bake time (docs.aws.amazon.com/AmazonECS/latest/developerguide/
  deployment-alarm-failure.html). A deployment started while the alarm is already in ALARM
  ignores it (AWS Copilot's documentation of ECS alarm rollbacks, aws/copilot-cli#4512).
"""

import json
import uuid

import pytest

from emulator.process import Emulator
from emulator.tests.stacks import until

START = 0.2
BAKE = 1.0


@pytest.fixture(scope="module")
def emulator():
    settings = {"EMULATOR_TASK_START_SECONDS": str(START), "EMULATOR_BAKE_SECONDS": str(BAKE)}
    with Emulator(seed=False, settings=settings) as running:
        yield running


def error_rate_alarm(name: str, threshold: float = 5) -> dict:
    """A metric math alarm: 5xx count over request count, in percent."""

    def query(query_id: str, metric: str) -> dict:
        return {
            "Id": query_id,
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ApplicationELB",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/tg/0123"}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
        }

    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": name,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "Threshold": threshold,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "Topic"}],
            "Metrics": [
                query("errors", "HTTPCode_Target_5XX_Count"),
                query("requests", "RequestCount"),
                {"Id": "rate", "Expression": "100 * errors / requests", "ReturnData": True},
            ],
        },
    }


def template(name: str, threshold: float = 5, body: str | None = None) -> str:
    latency = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": f"{name}-latency",
            "Namespace": "AWS/ApplicationELB",
            "MetricName": "TargetResponseTime",
            "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/tg/0123"}],
            "ExtendedStatistic": "p90",
            "Period": 60,
            "EvaluationPeriods": 2,
            "Threshold": 1.5,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    }
    widgets = '{"widgets": [{"type": "alarm", "properties": {"alarms": ["${Errors.Arn}"]}}]}'
    return json.dumps(
        {
            "Resources": {
                "Topic": {"Type": "AWS::SNS::Topic"},
                "Errors": error_rate_alarm(f"{name}-errors", threshold),
                "Latency": latency,
                "Board": {
                    "Type": "AWS::CloudWatch::Dashboard",
                    "Properties": {
                        "DashboardName": name,
                        "DashboardBody": body if body is not None else {"Fn::Sub": widgets},
                    },
                },
            },
            "Outputs": {
                "ErrorsName": {"Value": {"Ref": "Errors"}},
                "ErrorsArn": {"Value": {"Fn::GetAtt": ["Errors", "Arn"]}},
            },
        }
    )


@pytest.fixture(scope="module")
def stack(emulator):
    """A stack of two alarms and a dashboard; its name (also the alarms' prefix)."""
    name = f"cw-{uuid.uuid4().hex[:8]}"
    cfn = emulator.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=template(name))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    return name


def alarm(emulator, name: str) -> dict:
    (found,) = emulator.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found


def test_a_metric_math_alarm_is_created_with_its_queries_in_insufficient_data(emulator, stack):
    found = alarm(emulator, f"{stack}-errors")
    assert found["StateValue"] == "INSUFFICIENT_DATA"
    assert [q["Id"] for q in found["Metrics"]] == ["errors", "requests", "rate"]
    assert found["Metrics"][2] == {
        "Id": "rate",
        "Expression": "100 * errors / requests",
        "ReturnData": True,
    }
    stat = found["Metrics"][0]["MetricStat"]
    assert stat["Metric"]["MetricName"] == "HTTPCode_Target_5XX_Count"
    assert (stat["Period"], stat["Stat"]) == (60, "Sum")
    assert (found["Threshold"], found["EvaluationPeriods"], found["DatapointsToAlarm"]) == (5, 3, 3)
    (topic,) = emulator.client("sns").list_topics()["Topics"]
    assert found["AlarmActions"] == [topic["TopicArn"]]

    latency = alarm(emulator, f"{stack}-latency")
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == ("p90", 1.5)


def test_ref_is_the_name_and_arn_the_alarm_arn(emulator, stack):
    outputs = emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    values = {o["OutputKey"]: o["OutputValue"] for o in outputs["Outputs"]}
    assert values["ErrorsName"] == f"{stack}-errors"
    assert values["ErrorsArn"] == alarm(emulator, f"{stack}-errors")["AlarmArn"]
    # arn:aws:cloudwatch:region:account:alarm:name (ARN formats of the IAM service reference)
    assert values["ErrorsArn"] == f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{stack}-errors"


def test_the_dashboard_body_is_substituted(emulator, stack):
    board = emulator.client("cloudwatch").get_dashboard(DashboardName=stack)
    body = json.loads(board["DashboardBody"])
    arn = alarm(emulator, f"{stack}-errors")["AlarmArn"]
    assert body["widgets"][0]["properties"]["alarms"] == [arn]


def test_drift_sees_alarms_and_the_dashboard_in_sync_then_a_changed_threshold(emulator, stack):
    cfn = emulator.client("cloudformation")

    def detect() -> dict:
        detection = cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
        until(
            lambda: (
                cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)[
                    "DetectionStatus"
                ]
                != "DETECTION_IN_PROGRESS"
            )
        )
        drifts = cfn.describe_stack_resource_drifts(StackName=stack)["StackResourceDrifts"]
        return {d["LogicalResourceId"]: d for d in drifts}

    drifts = detect()
    for name in ("Errors", "Latency", "Board"):
        assert drifts[name]["StackResourceDriftStatus"] == "IN_SYNC", drifts[name]

    cloudwatch = emulator.client("cloudwatch")
    cloudwatch.put_metric_alarm(  # a hand change: the latency alarm's threshold
        AlarmName=f"{stack}-latency",
        Namespace="AWS/ApplicationELB",
        MetricName="TargetResponseTime",
        Dimensions=[{"Name": "TargetGroup", "Value": "targetgroup/tg/0123"}],
        ExtendedStatistic="p90",
        Period=60,
        EvaluationPeriods=2,
        Threshold=3,
        ComparisonOperator="GreaterThanThreshold",
    )
    latency = detect()["Latency"]
    assert latency["StackResourceDriftStatus"] == "MODIFIED"
    assert [(d["PropertyPath"], d["ExpectedValue"]) for d in latency["PropertyDifferences"]] == [
        ("/Threshold", "1.5")
    ]


def test_an_update_keeps_the_alarm_state_and_a_broken_dashboard_body_fails(emulator):
    name = f"cw-{uuid.uuid4().hex[:8]}"
    cfn, cloudwatch = emulator.client("cloudformation"), emulator.client("cloudwatch")
    cfn.create_stack(StackName=name, TemplateBody=template(name))
    cloudwatch.set_alarm_state(AlarmName=f"{name}-errors", StateValue="ALARM", StateReason="t")
    cfn.update_stack(StackName=name, TemplateBody=template(name, threshold=9))
    found = alarm(emulator, f"{name}-errors")
    assert (found["Threshold"], found["StateValue"]) == (9, "ALARM")

    broken = f"cw-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=broken, TemplateBody=template(broken, body='{"widgets": ['))
    status = cfn.describe_stacks(StackName=broken)["Stacks"][0]["StackStatus"]
    assert status != "CREATE_COMPLETE"
    assert cloudwatch.list_dashboards(DashboardNamePrefix=broken)["DashboardEntries"] == []


# --- ECS deployment alarms ------------------------------------------------------------------


@pytest.fixture
def watched(emulator):
    """A cluster with two task definition revisions, a service of revision 1 watching an
    alarm with rollback, steady; (ecs, cluster, alarm name)."""
    ecs, cloudwatch = emulator.client("ecs"), emulator.client("cloudwatch")
    cluster = f"c-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=cluster)
    for _ in range(2):
        ecs.register_task_definition(
            family=cluster, containerDefinitions=[{"name": "app", "image": "r:1", "memory": 128}]
        )
    name = f"{cluster}-5xx"
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    ecs.create_service(
        cluster=cluster,
        serviceName="s",
        taskDefinition=f"{cluster}:1",
        desiredCount=1,
        deploymentConfiguration={
            "alarms": {"alarmNames": [name], "enable": True, "rollback": True},
        },
    )
    until(lambda: service(ecs, cluster)["deployments"][0]["rolloutState"] == "COMPLETED")
    return ecs, cluster, name


def service(ecs, cluster: str) -> dict:
    return ecs.describe_services(cluster=cluster, services=["s"])["services"][0]


def test_a_steady_deployment_with_alarms_bakes_before_it_completes(watched):
    ecs, cluster, _ = watched
    ecs.update_service(cluster=cluster, service="s", taskDefinition=f"{cluster}:2")
    running = until(lambda: (d := service(ecs, cluster)["deployments"][0])["runningCount"] and d)
    # Its task runs, yet the deployment stays IN_PROGRESS through the bake time.
    assert running["rolloutState"] == "IN_PROGRESS"
    done = until(
        lambda: (s := service(ecs, cluster))["deployments"][0]["rolloutState"] == "COMPLETED" and s
    )
    assert done["taskDefinition"].endswith(f"{cluster}:2")


def test_an_alarm_in_alarm_during_a_deployment_fails_it_and_rolls_back(watched, emulator):
    ecs, cluster, name = watched
    ecs.update_service(cluster=cluster, service="s", taskDefinition=f"{cluster}:2")
    emulator.client("cloudwatch").set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="5xx after the deploy"
    )
    failed = until(
        lambda: [d for d in service(ecs, cluster)["deployments"] if d["rolloutState"] == "FAILED"]
    )
    (deployment,) = failed
    assert deployment["taskDefinition"].endswith(f"{cluster}:2")
    assert name in deployment["rolloutStateReason"]

    # The rollback: the last completed task definition serves again, and stays.
    back = until(
        lambda: (s := service(ecs, cluster))["deployments"][0]["rolloutState"] == "COMPLETED" and s
    )
    assert back["taskDefinition"].endswith(f"{cluster}:1")
    assert len(back["deployments"]) == 1
    messages = [e["message"] for e in back["events"]]
    assert any(name in m and "failed" in m for m in messages), messages
    assert any("rolling back" in m for m in messages), messages


def test_an_alarm_already_in_alarm_when_a_deployment_starts_is_ignored(watched, emulator):
    ecs, cluster, name = watched
    emulator.client("cloudwatch").set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="before the deploy"
    )
    ecs.update_service(cluster=cluster, service="s", taskDefinition=f"{cluster}:2")
    done = until(
        lambda: (
            (s := service(ecs, cluster))["deployments"][0]["rolloutState"] != "IN_PROGRESS" and s
        )
    )
    assert done["deployments"][0]["rolloutState"] == "COMPLETED"
    assert done["taskDefinition"].endswith(f"{cluster}:2")
