"""How CloudWatch decides a metric alarm's state, from the CloudWatch User Guide ("Using
Amazon CloudWatch alarms": evaluating an alarm, how alarm state is evaluated when data is
missing, and its two tables of examples, which tests/sandbox/test_alarm_evaluation.py
checks row by row).

- Each period gives one datapoint: the alarm's statistic over the samples in it; a period
  without samples is missing. A datapoint breaches when `value <operator> threshold`.
- CloudWatch retrieves more datapoints than Evaluation Periods (N): the evaluation range.
  The guide's example retrieves 5 for N = 3; the sandbox retrieves N + 2 (its rule for
  other N is not published).
- At least N real datapoints in the range: the most recent N are evaluated.
- Fewer: the real ones are filled to N with the missing-data treatment (breaching,
  notBreaching). `missing` and `ignore` evaluate the real ones alone: ALARM when at least
  M (Datapoints to Alarm) breach, OK when one does not; when every real one breaches but
  fewer than M, ALARM if the oldest is at least M periods old (the guide's "avoiding
  premature transitions"), else INSUFFICIENT_DATA (`missing`) or the state it has
  (`ignore`).
- No real datapoint: INSUFFICIENT_DATA (missing), the state it has (ignore), ALARM
  (breaching), OK (notBreaching).
"""

from __future__ import annotations

import datetime
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
DEFAULT_TREATMENT = "missing"
RANGE_EXTRA = 2  # evaluation range = N + 2 (the guide: 5 datapoints for N = 3)

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


class NotEvaluable(ValueError):
    """An alarm the sandbox cannot evaluate (a metric math or anomaly detection alarm)."""


@dataclass(frozen=True)
class Rule:
    """What an alarm compares: statistic, operator, threshold, M out of N, treatment."""

    statistic: str  # one of STATISTICS, or a percentile "p90", "p99.9"
    comparison: str
    threshold: float
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing: str = DEFAULT_TREATMENT

    def breaches(self, value: float) -> bool:
        """Whether a datapoint is outside the threshold."""
        return OPERATORS[self.comparison](value, self.threshold)


@dataclass(frozen=True)
class Datapoint:
    """One period's value; None when the period had no sample."""

    start: datetime.datetime
    value: float | None


def statistic(name: str, samples: Sequence[float]) -> float:
    """`name` (a statistic or a percentile pNN) of non-empty `samples`."""
    if name == "SampleCount":
        return float(len(samples))
    if name == "Sum":
        return float(sum(samples))
    if name == "Average":
        return float(sum(samples)) / len(samples)
    if name == "Minimum":
        return float(min(samples))
    if name == "Maximum":
        return float(max(samples))
    if name.startswith("p"):
        ordered = sorted(samples)
        rank = math.ceil(float(name[1:]) / 100 * len(ordered))  # nearest rank
        return float(ordered[min(max(rank, 1), len(ordered)) - 1])
    raise NotEvaluable(f"statistic {name} is not evaluated by the sandbox")


def period_start(moment: datetime.datetime, period: int) -> datetime.datetime:
    """The start of the period holding `moment` (periods align to the epoch)."""
    epoch = datetime.datetime(1970, 1, 1)
    seconds = int((moment - epoch).total_seconds())
    return epoch + datetime.timedelta(seconds=seconds - seconds % period)


def datapoints(
    rule: Rule, samples: Iterable[tuple[datetime.datetime, float]], now: datetime.datetime
) -> list[Datapoint]:
    """The evaluation range's datapoints, oldest first: the N + 2 whole periods before the
    one `now` is in."""
    span = rule.evaluation_periods + RANGE_EXTRA
    end = period_start(now, rule.period)
    first = end - datetime.timedelta(seconds=rule.period * span)
    buckets: list[list[float]] = [[] for _ in range(span)]
    for moment, value in samples:
        if first <= moment < end:
            buckets[int((moment - first).total_seconds()) // rule.period].append(value)
    step = datetime.timedelta(seconds=rule.period)
    return [
        Datapoint(first + step * i, statistic(rule.statistic, bucket) if bucket else None)
        for i, bucket in enumerate(buckets)
    ]


def next_state(
    breaching: Sequence[bool | None],
    datapoints_to_alarm: int,
    evaluation_periods: int,
    treat_missing: str,
    current: str,
) -> str:
    """The alarm's state from the evaluation range's datapoints, oldest first (True:
    breaching, False: not, None: missing)."""
    m, n = datapoints_to_alarm, evaluation_periods
    real = [b for b in breaching if b is not None]
    if len(real) >= n:
        return ALARM if sum(real[-n:]) >= m else OK
    if not real:
        return {"missing": INSUFFICIENT_DATA, "ignore": current, "breaching": ALARM}.get(
            treat_missing, OK
        )
    if treat_missing in ("breaching", "notBreaching"):
        filled = real + [treat_missing == "breaching"] * (n - len(real))
        return ALARM if sum(filled) >= m else OK
    if sum(real) >= m:
        return ALARM
    if not all(real):
        return OK
    oldest_age = len(breaching) - next(i for i, b in enumerate(breaching) if b is not None)
    if treat_missing == "missing":
        return ALARM if oldest_age >= m else INSUFFICIENT_DATA
    return current


@dataclass(frozen=True)
class Evaluation:
    """An evaluation's outcome: the new state and CloudWatch's reason for it."""

    state: str
    reason: str
    datapoints: tuple[Datapoint, ...]


def evaluate(
    rule: Rule,
    samples: Iterable[tuple[datetime.datetime, float]],
    now: datetime.datetime,
    current: str,
) -> Evaluation:
    """Evaluate `rule` at `now` over the metric's (timestamp, value) samples."""
    points = datapoints(rule, samples, now)
    marks = [None if p.value is None else rule.breaches(p.value) for p in points]
    state = next_state(
        marks, rule.datapoints_to_alarm, rule.evaluation_periods, rule.treat_missing, current
    )
    return Evaluation(state, reason(rule, points, state, current), tuple(points))


def reason(rule: Rule, points: Sequence[Datapoint], state: str, current: str) -> str:
    """StateReason, in CloudWatch's words."""
    real = [p for p in points if p.value is not None][-rule.evaluation_periods :]
    if not real:
        return (
            f"Insufficient Data: {len(points)} datapoints were unknown."
            if state == INSUFFICIENT_DATA
            else f"no datapoints were received for {len(points)} periods and "
            f"{len(points)} missing datapoints were treated as [{rule.treat_missing}]."
        )
    shown = ", ".join(f"{p.value:g} ({p.start:%d/%m/%y %H:%M:%S})" for p in reversed(real))
    count = sum(1 for p in real if rule.breaches(p.value or 0.0))
    verb = "was" if count == 1 else "were"
    if state == ALARM:
        relation = WORDS[rule.comparison]
    else:
        relation = f"not {WORDS[rule.comparison]}"
        count = len(real) - count
        verb = "was" if count == 1 else "were"
    return (
        f"Threshold Crossed: {count} out of the last {len(real)} datapoints [{shown}] {verb} "
        f"{relation} the threshold ({rule.threshold:g}) (minimum {rule.datapoints_to_alarm} "
        f"datapoint{'s' if rule.datapoints_to_alarm != 1 else ''} for "
        f"{current} -> {state} transition)."
    )
