"""AWS::CloudWatch::Alarm -> moto's CloudWatch backend (which the sandbox's alarm
extension validates and evaluates). moto's CloudFormation has no alarm type.

Ref is the alarm's name; GetAtt Arn. An unnamed alarm is `<stack>-<LogicalId>-<random>`,
as CloudFormation names it; a new AlarmName replaces it, any other change updates it in
place (PutMetricAlarm overwrites the configuration and keeps the state). Template numbers
may arrive as strings (a Number parameter's Ref): they are read as the API's numbers.
"""

from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

from mlops_seeds.sandbox.cloudformation.resource import Context, SandboxResource, random_name, tags

_NAME_LIMIT = 255


def _backend(context: Context) -> CloudWatchBackend:
    return cloudwatch_backends[context.account_id][context.region]


def _number(properties: dict[str, Any], name: str, kind: type) -> Any:
    value = properties.get(name)
    if value is None:
        return None
    try:
        return kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"Property {name}: {value!r} is not a number") from None


def _boolean(value: Any) -> bool:
    return str(value).lower() != "false" if value is not None else True


class Alarm(SandboxResource):
    """A CloudWatch metric alarm."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = frozenset({"Arn"})

    @classmethod
    def generated_name(cls, context: Context, moto_name: str) -> str:
        """`<stack name>-<LogicalId>-<random>`."""
        stack = context.stack_id.split("/")[1] if "/" in context.stack_id else "stack"
        return random_name(f"{stack}-{context.logical_id}"[: _NAME_LIMIT - 13])

    def _put(self, properties: dict[str, Any]) -> None:
        arguments: dict[str, Any] = dict(
            name=self.name,
            namespace=properties.get("Namespace"),
            metric_name=properties.get("MetricName"),
            metric_data_queries=properties.get("Metrics"),
            comparison_operator=properties.get("ComparisonOperator"),
            evaluation_periods=_number(properties, "EvaluationPeriods", int),
            datapoints_to_alarm=_number(properties, "DatapointsToAlarm", int),
            period=_number(properties, "Period", int),
            threshold=_number(properties, "Threshold", float),
            statistic=properties.get("Statistic"),
            extended_statistic=properties.get("ExtendedStatistic"),
            description=properties.get("AlarmDescription", ""),
            dimensions=[
                {"Name": str(d["Name"]), "Value": str(d["Value"])}
                for d in properties.get("Dimensions") or []
            ],
            alarm_actions=list(properties.get("AlarmActions") or []),
            ok_actions=list(properties.get("OKActions") or []),
            insufficient_data_actions=list(properties.get("InsufficientDataActions") or []),
            unit=properties.get("Unit"),
            actions_enabled=_boolean(properties.get("ActionsEnabled")),
            treat_missing_data=properties.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=properties.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=properties.get("ThresholdMetricId"),
            tags=tags(properties),
        )
        alarm = _backend(self.context).put_metric_alarm(**arguments)
        self.physical_id = self.name
        self.attributes = {"Arn": alarm.alarm_arn}

    def create(self) -> None:
        """PutMetricAlarm."""
        self._put(self.properties)

    def update(self, properties: dict[str, Any]) -> None:
        """PutMetricAlarm again: the configuration is replaced, the state kept."""
        self._put(properties)

    def remove(self) -> None:
        """DeleteAlarms."""
        _backend(self.context).delete_alarms([self.name])
