"""CloudFormation support, in the emulator, for CloudWatch alarms and dashboards.

moto 5.2.5's CloudWatch API keeps alarms with metric math (PutMetricAlarm ``Metrics``) and
dashboards, but its CloudFormation:
- skips AWS::CloudWatch::Alarm (no model: "No Moto CloudFormation support"), so a stack's
  alarms never exist and a Ref or GetAtt to one fails. This module adds the model: it
  creates the alarm through moto's backend with every property of the type
  (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
  aws-resource-cloudwatch-alarm.html), Metrics as metric data queries; Ref is the alarm's
  name, GetAtt Arn its ARN.
- AWS starts a new alarm in INSUFFICIENT_DATA ("the alarm state is immediately set to
  INSUFFICIENT_DATA", PutMetricAlarm: docs.aws.amazon.com/AmazonCloudWatch/latest/
  APIReference/API_PutMetricAlarm.html); moto starts it in OK. Alarms this module creates
  start as AWS's do (alarms made through the API keep moto's OK: not patched).
- an update overwrites the alarm's configuration but "its state is left unchanged"
  (the same page); moto's PutMetricAlarm makes a new alarm in OK. The update here keeps the
  state. A new AlarmName replaces the alarm (the type's "Update requires: Replacement").
- AWS::CloudWatch::Dashboard has a model, but it puts the body without the check the API
  makes: PutDashboard refuses a body that is not a JSON object (InvalidParameterInput,
  docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html), so a
  template whose DashboardBody is broken would pass here and fail on AWS. The wrapped
  create and update check it first, with the API's error.

Seams: moto's CloudFormation model list (a new CloudFormationModel subclass, as
delivery.py adds its models) and the Dashboard model's create/update classmethods. Nothing
else in moto is patched.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import parsing
from moto.cloudwatch import models as cloudwatch
from moto.cloudwatch.exceptions import DashboardInvalidInputError
from moto.core.common_models import CloudFormationModel


def _backend(account_id: str, region_name: str) -> Any:
    return cloudwatch.cloudwatch_backends[account_id][region_name]


def _queries(metrics: list[dict[str, Any]] | None) -> list[cloudwatch.MetricDataQuery] | None:
    """CloudFormation's Metrics as the metric data queries moto's PutMetricAlarm builds."""
    if not metrics:
        return None
    queries = []
    for query in metrics:
        stat = query.get("MetricStat")
        metric_stat = None
        if stat:
            metric = stat["Metric"]
            metric_stat = cloudwatch.MetricStat(
                metric=cloudwatch.Metric(
                    metric_name=metric["MetricName"],
                    namespace=metric.get("Namespace"),
                    dimensions=[
                        cloudwatch.Dimension(d["Name"], d["Value"])
                        for d in metric.get("Dimensions", [])
                    ],
                ),
                period=stat["Period"],
                stat=stat["Stat"],
                unit=stat.get("Unit"),
            )
        queries.append(
            cloudwatch.MetricDataQuery(
                query_id=query["Id"],
                label=query.get("Label"),
                period=query.get("Period"),
                # CloudFormation's default, as the API's: true.
                return_data=query.get("ReturnData", True),
                expression=query.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries


def _number(value: Any) -> Any:
    return float(value) if value is not None else None


def _integer(value: Any) -> Any:
    return int(value) if value is not None else None


def put_alarm(name: str, props: dict[str, Any], account_id: str, region_name: str) -> Any:
    """Create or overwrite the alarm ``name`` from an AWS::CloudWatch::Alarm's properties."""
    return _backend(account_id, region_name).put_metric_alarm(
        name=name,
        namespace=props.get("Namespace"),
        metric_name=props.get("MetricName"),
        metric_data_queries=_queries(props.get("Metrics")),
        comparison_operator=props["ComparisonOperator"],
        evaluation_periods=_integer(props["EvaluationPeriods"]),
        datapoints_to_alarm=_integer(props.get("DatapointsToAlarm")),
        period=_integer(props.get("Period")),
        threshold=_number(props.get("Threshold")),
        statistic=props.get("Statistic"),
        extended_statistic=props.get("ExtendedStatistic"),
        description=props.get("AlarmDescription"),
        dimensions=props.get("Dimensions") or [],
        alarm_actions=props.get("AlarmActions") or [],
        ok_actions=props.get("OKActions"),
        insufficient_data_actions=props.get("InsufficientDataActions"),
        unit=props.get("Unit"),
        actions_enabled=props.get("ActionsEnabled", True),
        treat_missing_data=props.get("TreatMissingData"),
        evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
        threshold_metric_id=props.get("ThresholdMetricId"),
        tags=props.get("Tags"),
    )


class MetricAlarm(CloudFormationModel):
    """AWS::CloudWatch::Alarm through moto's CloudWatch backend; carries its name and ARN."""

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> MetricAlarm:
        props = cloudformation_json["Properties"]
        alarm = put_alarm(resource_name, props, account_id, region_name)
        alarm.state_value = "INSUFFICIENT_DATA"
        alarm.state_reason = "Unchecked: Initial alarm creation"
        return cls(alarm.name, alarm.alarm_arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> MetricAlarm:
        if new_resource_name != original_resource.name:  # a new name: a new alarm
            cls.delete_from_cloudformation_json(
                original_resource.name, cloudformation_json, account_id, region_name
            )
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        backend = _backend(account_id, region_name)
        before = backend.alarms.get(original_resource.name)
        alarm = put_alarm(
            original_resource.name, cloudformation_json["Properties"], account_id, region_name
        )
        if before is not None:  # the configuration is overwritten, the state kept
            for key in ("state_value", "state_reason", "state_reason_data"):
                setattr(alarm, key, getattr(before, key))
            alarm.state_updated_timestamp = before.state_updated_timestamp
            alarm.history = before.history
        return cls(alarm.name, alarm.alarm_arn)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name, cloudformation_json, account_id, region_name
    ) -> None:
        _backend(account_id, region_name).alarms.pop(resource_name, None)


def check_dashboard_body(body: Any) -> None:
    """Refuse a dashboard body that is not a JSON object, as PutDashboard does."""
    try:
        parsed = json.loads(body) if isinstance(body, str) else None
    except ValueError as error:
        raise DashboardInvalidInputError(f"Body is invalid JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise DashboardInvalidInputError("The dashboard body must be a JSON object")


def _checking(original: Any) -> Any:
    def handler(cls, *args: Any, **kwargs: Any) -> Any:
        json_ = kwargs.get("cloudformation_json") or next(a for a in args if isinstance(a, dict))
        check_dashboard_body(json_["Properties"].get("DashboardBody"))
        return original.__func__(cls, *args, **kwargs)

    handler._emulator_cloudwatch = True  # type: ignore[attr-defined]
    return classmethod(handler)


def install() -> None:
    """Make moto's CloudFormation create alarms and check dashboard bodies. Idempotent."""
    for name in ("create_from_cloudformation_json", "update_from_cloudformation_json"):
        current = cloudwatch.Dashboard.__dict__[name]
        if not getattr(current.__func__, "_emulator_cloudwatch", False):
            setattr(cloudwatch.Dashboard, name, _checking(current))
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    parsing.get_model_list.cache_clear()
    assert parsing.get_model_map()[MetricAlarm.cloudformation_type()] is MetricAlarm
