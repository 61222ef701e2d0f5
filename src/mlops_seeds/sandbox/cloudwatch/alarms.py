"""Metric alarms that CloudWatch evaluates, on moto's CloudWatch backend.

moto stores alarms and metric data but never evaluates an alarm (a new one says OK for
ever). Here:

- PutMetricAlarm refuses what the API reference refuses (a Period other than 10, 20, 30 or
  a multiple of 60; Period x EvaluationPeriods over a day, or over 7 days for periods of an
  hour or more; DatapointsToAlarm over EvaluationPeriods; an unknown TreatMissingData or
  ComparisonOperator); a new alarm starts INSUFFICIENT_DATA, and an updated one keeps its
  state ("When you update an existing alarm, its state is left unchanged").
- CloudWatch evaluates an alarm on a schedule, every minute (every period, for periods under
  a minute): `evaluate_alarm` evaluates it at the latest such tick of the sandbox clock
  (evaluation.py), if one has passed since the alarm was created, updated or set by
  SetAlarmState ("This temporary state change lasts only until the next alarm comparison"),
  and records a change of state as AWS does (StateReason, StateReasonData, the timestamp,
  history). DescribeAlarms evaluates the alarms first, so what a client reads is what
  CloudWatch would have decided by then.
- PutMetricData without a Timestamp is stamped with the sandbox clock's time.

Metric math and anomaly detection alarms are stored but not evaluated (their state stays
INSUFFICIENT_DATA, with a reason saying so).
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import Alarm, CloudWatchBackend, MetricDatum, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse

from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.cloudwatch import evaluation
from mlops_seeds.sandbox.cloudwatch.evaluation import INSUFFICIENT_DATA, OPERATORS, TREATMENTS

MAX_EVALUATION_SECONDS = 86400
MAX_LONG_EVALUATION_SECONDS = 7 * 86400  # for periods of an hour or more
TICK_SECONDS = 60  # CloudWatch evaluates alarms every minute (sub-minute periods: each one)
INITIAL_REASON = "Unchecked: Initial alarm creation"
_MARK = "_mlops_seeds_alarms"
_SET_AT = "mlops_seeds_set_at"
_EPOCH = datetime.datetime(1970, 1, 1)
_lock = threading.Lock()

Method = Callable[..., Any]


def check_alarm(
    period: int | None,
    evaluation_periods: int | None,
    datapoints_to_alarm: int | None,
    treat_missing_data: str | None,
    comparison_operator: str | None,
    metric_data_queries: Any,
) -> None:
    """ValidationError for a metric alarm the API refuses."""
    valid_period = period is not None and (
        period in (10, 20, 30) or (period > 0 and period % 60 == 0)
    )
    if not metric_data_queries and not valid_period:
        raise ValidationError(
            f"Period {period} is invalid: valid values are 10, 20, 30, and any multiple of 60."
        )
    if evaluation_periods is None or evaluation_periods < 1:
        raise ValidationError(f"EvaluationPeriods {evaluation_periods} must be at least 1.")
    limit = MAX_LONG_EVALUATION_SECONDS if (period or 0) >= 3600 else MAX_EVALUATION_SECONDS
    if period and period * evaluation_periods > limit:
        raise ValidationError(
            f"The evaluation period of the alarm, Period x EvaluationPeriods = "
            f"{period * evaluation_periods} seconds, cannot exceed {limit}."
        )
    if datapoints_to_alarm is not None and not 1 <= datapoints_to_alarm <= evaluation_periods:
        raise ValidationError(
            f"DatapointsToAlarm {datapoints_to_alarm} must be from 1 to EvaluationPeriods "
            f"({evaluation_periods})."
        )
    if treat_missing_data is not None and treat_missing_data not in TREATMENTS:
        raise ValidationError(
            f"Option {treat_missing_data} is not supported. Supported options for parameter "
            "TreatMissingData are missing, ignore, breaching and notBreaching."
        )
    known = (
        *OPERATORS,
        "LessThanLowerOrGreaterThanUpperThreshold",
        "LessThanLowerThreshold",
        "GreaterThanUpperThreshold",
    )
    if comparison_operator not in known:
        raise ValidationError(
            f"1 validation error detected: Value '{comparison_operator}' at "
            "'comparisonOperator' failed to satisfy constraint: Member must satisfy enum "
            f"value set: [{', '.join(known)}]"
        )


def rule_of(alarm: Alarm) -> evaluation.Rule:
    """The alarm's evaluation rule; NotEvaluable for metric math and anomaly detection."""
    if alarm.metric_data_queries or alarm.comparison_operator not in OPERATORS:
        raise evaluation.NotEvaluable(
            "metric math and anomaly detection alarms are not evaluated by the sandbox"
        )
    statistic = alarm.extended_statistic or alarm.statistic
    if not statistic:
        raise evaluation.NotEvaluable("the alarm has no statistic")
    return evaluation.Rule(
        statistic=str(statistic),
        comparison=str(alarm.comparison_operator),
        threshold=float(alarm.threshold),
        period=int(alarm.period),
        evaluation_periods=int(alarm.evaluation_periods),
        datapoints_to_alarm=int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
        treat_missing=str(alarm.treat_missing_data or evaluation.DEFAULT_TREATMENT),
    )


def _dimensions(items: Iterable[Any]) -> frozenset[tuple[str, str]]:
    return frozenset((str(d.name), str(d.value)) for d in items)


def samples_of(backend: CloudWatchBackend, alarm: Alarm) -> list[tuple[datetime.datetime, float]]:
    """The (timestamp, value) samples of the alarm's metric: same namespace, name and
    exactly the same dimensions (CloudWatch treats each combination as its own metric)."""
    wanted = _dimensions(alarm.dimensions)
    found = []
    for datum in list(backend.metric_data):
        if (
            isinstance(datum, MetricDatum)
            and datum.namespace == alarm.namespace
            and datum.name == alarm.metric_name
            and _dimensions(datum.dimensions) == wanted
        ):
            found.append((_naive(datum.timestamp), float(datum.value)))
    return found


def _naive(moment: Any) -> datetime.datetime:
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment  # type: ignore[no-any-return]


def _last_tick(alarm: Alarm, now: datetime.datetime) -> datetime.datetime:
    """The latest moment CloudWatch evaluated the alarm by `now`."""
    every = min(int(alarm.period or TICK_SECONDS), TICK_SECONDS)
    return evaluation.period_start(now, max(every, 1))


def evaluate_alarm(
    backend: CloudWatchBackend, alarm: Alarm, now: datetime.datetime | None = None
) -> str:
    """Evaluate `alarm` as CloudWatch had by `now` (default: the sandbox clock's now):
    at its latest evaluation tick, if one passed since it was put or set; record a change
    of state. Returns the state."""
    moment = now or runtime.clock().now()
    tick = _last_tick(alarm, moment)
    since = max(_naive(alarm.configuration_updated_timestamp), getattr(alarm, _SET_AT, _EPOCH))
    if tick <= since:
        return str(alarm.state_value)
    try:
        rule = rule_of(alarm)
        with _lock:
            done = evaluation.evaluate(rule, samples_of(backend, alarm), tick, alarm.state_value)
    except evaluation.NotEvaluable as err:
        if alarm.state_value != INSUFFICIENT_DATA:
            alarm.update_state(f"Sandbox: {err}", "{}", INSUFFICIENT_DATA)
        return INSUFFICIENT_DATA
    if done.state != alarm.state_value:
        data = {
            "version": "1.0",
            "queryDate": tick.isoformat(timespec="milliseconds") + "+0000",
            "statistic": rule.statistic,
            "period": rule.period,
            "recentDatapoints": [p.value for p in done.datapoints if p.value is not None],
            "threshold": rule.threshold,
            "evaluatedDatapoints": [
                {"timestamp": p.start.isoformat() + "+0000", "value": p.value}
                for p in done.datapoints
                if p.value is not None
            ],
        }
        alarm.update_state(done.reason, json.dumps(data), done.state)
        alarm.state_updated_timestamp = tick
    return done.state


def state_of(account: str, region: str, name: str) -> str | None:
    """The state of alarm `name` evaluated now; None when there is no such alarm."""
    backend = cloudwatch_backends[account][region]
    alarm = backend.alarms.get(name)
    return None if alarm is None else evaluate_alarm(backend, alarm)


def _put_metric_alarm(original: Method) -> Method:
    def put_metric_alarm(self: CloudWatchBackend, name: str, **kwargs: Any) -> Alarm:
        if not kwargs.get("rule"):  # a composite alarm has an AlarmRule instead
            check_alarm(
                kwargs.get("period"),
                kwargs.get("evaluation_periods"),
                kwargs.get("datapoints_to_alarm"),
                kwargs.get("treat_missing_data"),
                kwargs.get("comparison_operator"),
                kwargs.get("metric_data_queries"),
            )
        before = self.alarms.get(name)
        alarm: Alarm = original(self, name, **kwargs)
        alarm.configuration_updated_timestamp = runtime.clock().now()
        if before is not None:
            alarm.state_value = before.state_value
            alarm.state_reason = before.state_reason
            alarm.state_reason_data = before.state_reason_data
            alarm.state_updated_timestamp = before.state_updated_timestamp
            alarm.history = before.history
        else:
            alarm.state_value = INSUFFICIENT_DATA
            alarm.state_reason = INITIAL_REASON
        return alarm

    put_metric_alarm.__doc__ = original.__doc__
    return put_metric_alarm


def _set_alarm_state(original: Method) -> Method:
    def set_alarm_state(self: CloudWatchBackend, alarm_name: str, *args: Any, **kw: Any) -> None:
        original(self, alarm_name, *args, **kw)
        alarm = self.alarms[alarm_name]
        now = runtime.clock().now()
        alarm.state_updated_timestamp = now
        setattr(alarm, _SET_AT, now)  # kept until the next evaluation

    set_alarm_state.__doc__ = original.__doc__
    return set_alarm_state


def _put_metric_data(original: Method) -> Method:
    def put_metric_data(
        self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]
    ) -> None:
        now = runtime.clock().now()
        stamped = [d if d.get("Timestamp") else {**d, "Timestamp": now} for d in metric_data]
        original(self, namespace, stamped)

    put_metric_data.__doc__ = original.__doc__
    return put_metric_data


def _describe_alarms(original: Method) -> Method:
    def describe_alarms(self: CloudWatchResponse) -> Any:
        backend = self.cloudwatch_backend
        for alarm in list(backend.alarms.values()):
            if not alarm.rule:
                evaluate_alarm(backend, alarm)
        return original(self)

    describe_alarms.__doc__ = original.__doc__
    return describe_alarms


def install() -> None:
    """Patch moto's CloudWatch (once)."""
    if getattr(CloudWatchBackend, _MARK, False):
        return
    CloudWatchBackend.put_metric_alarm = _put_metric_alarm(  # type: ignore[method-assign]
        CloudWatchBackend.put_metric_alarm
    )
    CloudWatchResponse.describe_alarms = _describe_alarms(  # type: ignore[method-assign]
        CloudWatchResponse.describe_alarms
    )
    CloudWatchBackend.set_alarm_state = _set_alarm_state(  # type: ignore[method-assign]
        CloudWatchBackend.set_alarm_state
    )
    CloudWatchBackend.put_metric_data = _put_metric_data(  # type: ignore[method-assign]
        CloudWatchBackend.put_metric_data
    )
    setattr(CloudWatchBackend, _MARK, True)
