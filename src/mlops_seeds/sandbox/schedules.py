"""EventBridge schedule expressions, as PutRule takes them and as a scheduled rule runs
("Creating an Amazon EventBridge rule that runs on a schedule", EventBridge User Guide).

- `rate(value unit)`: a positive whole number and minute, hour or day; singular for 1,
  plural for more (`rate(1 hours)` and `rate(5 hour)` are refused). It runs every period,
  counted from the rule's creation.
- `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in UTC: six fields, each with
  the values and wildcards the guide lists (`, - *` everywhere, `/` in all but Day-of-week,
  `?` in either day field, `L` and `W` in Day-of-month, `L` and `#` in Day-of-week; months
  JAN-DEC, weekdays SUN-SAT = 1-7, in either case). One of the two day fields must be `?`,
  and only one: a value or `*` in one needs `?` in the other. A range may wrap (`20-2` in
  Hours: 20:00 to 02:00). `#` takes a single expression (`3#1,6#3` is refused).

moto accepts any `cron(...)` and `rate(1 minutes)`; PutRule (and so CloudFormation's
AWS::Events::Rule) is refused here as AWS refuses it: "Parameter ScheduleExpression is not
valid." `parse` also tells when a rule runs next, for a sandbox that plays its schedules.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.events.exceptions import ValidationException
from moto.events.models import EventsBackend

_MARK = "_mlops_seeds_schedules"
INVALID = "Parameter ScheduleExpression is not valid."
_RATE = re.compile(r"rate\(([0-9]+) (minute|hour|day)(s?)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_DIGITS = re.compile(r"[0-9]+")
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
YEARS = (1970, 2199)


class InvalidSchedule(ValueError):
    """A schedule expression EventBridge refuses; the message says why (AWS's own is
    INVALID, whatever the reason)."""


@dataclass(frozen=True)
class Rate:
    """rate(...): every `seconds`, from the rule's creation."""

    seconds: int

    def next_after(self, after: datetime.datetime, created: datetime.datetime) -> datetime.datetime:
        """The first run later than `after` of a rule created at `created`."""
        periods = max(0, int((after - created).total_seconds() // self.seconds)) + 1
        try:
            return created + datetime.timedelta(seconds=periods * self.seconds)
        except OverflowError:  # past year 9999: never, as far as anyone will wait
            return datetime.datetime.max


@dataclass(frozen=True)
class Cron:
    """cron(...): the minutes, hours, months and years it runs in, and its day rule."""

    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day: Callable[[datetime.date], bool]

    def next_after(
        self, after: datetime.datetime, created: datetime.datetime | None = None
    ) -> datetime.datetime | None:
        """The first whole minute later than `after` it runs in (`created` plays no part, as
        for a rate it does); None if it never does again
        (the last year it names is past, or its days never come, as cron(0 0 30 2 ? *))."""
        start = after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        day = start.date()
        while day.year <= max(self.years):
            if day.year not in self.years:
                day = datetime.date(day.year + 1, 1, 1)
                continue
            if day.month in self.months and self.day(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        when = datetime.datetime(day.year, day.month, day.day, hour, minute)
                        if when >= start:
                            return when
            day += datetime.timedelta(days=1)
        return None


Schedule = Rate | Cron


def parse(expression: str) -> Schedule:
    """The schedule of `expression`; InvalidSchedule saying why EventBridge refuses it."""
    if expression.startswith("rate("):
        return _rate(expression)
    if expression.startswith("cron(") and expression.endswith(")"):
        return _cron(expression[len("cron(") : -1])
    raise InvalidSchedule(f"{expression!r}: neither rate(value unit) nor cron(fields)")


def _rate(expression: str) -> Rate:
    found = _RATE.fullmatch(expression)
    if not found:
        raise InvalidSchedule(f"{expression!r}: rate(value unit), unit minute, hour or day")
    value, unit, plural = int(found[1]), found[2], found[3]
    if value < 1:
        raise InvalidSchedule(f"{expression!r}: the value must be a positive number")
    if (value == 1) == bool(plural):
        raise InvalidSchedule(f"{expression!r}: {unit} for 1, {unit}s for more")
    return Rate(value * _UNIT_SECONDS[unit])


def _cron(body: str) -> Cron:
    fields = body.split(" ")
    if len(fields) != 6 or not all(fields):
        raise InvalidSchedule(f"cron({body}): six fields separated by single spaces")
    minute, hour, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise InvalidSchedule(f"cron({body}): one of Day-of-month and Day-of-week must be ?")
    if day_of_month == "?":
        day: Callable[[datetime.date], bool] = _weekday_rule(day_of_week)
    else:
        day = _month_day_rule(day_of_month)
    return Cron(
        minutes=_values(minute, 0, 59),
        hours=_values(hour, 0, 23),
        months=_values(month, 1, 12, _MONTHS),
        years=_values(year, *YEARS),
        day=day,
    )


def _number(text: str, low: int, high: int, names: dict[str, int] | None = None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidSchedule(f"{text!r} is not from {low} to {high}")
    return int(text)


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    """A field of `, - * /` over low..high (a range may wrap past high to low)."""
    found: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = _number(step_text, 1, high - low + 1) if step_text else 1
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first_text, _, last_text = span.partition("-")
            first, last = (
                _number(first_text, low, high, names),
                _number(last_text, low, high, names),
            )
        else:
            first = _number(span, low, high, names)
            last = high if step_text else first  # 1/10: from 1 on, every 10
        size = high - low + 1
        count = (last - first) % size + 1  # a range that wraps: 20-2 in hours
        found.update(low + (first - low + i) % size for i in range(0, count, step))
    return frozenset(found)


def _month_day_rule(field: str) -> Callable[[datetime.date], bool]:
    """Day-of-month: `, - * /` over 1-31, or L (the last day), LW (the last weekday), nW
    (the weekday nearest the nth, within the month)."""
    if field == "L":
        return lambda d: d.day == _days_in(d)
    if field == "LW":
        return lambda d: d == _nearest_weekday(d, _days_in(d))
    if field.endswith("W"):
        target = _number(field[:-1], 1, 31)
        return lambda d: d == _nearest_weekday(d, min(target, _days_in(d)))
    days = _values(field, 1, 31)
    return lambda d: d.day in days


def _weekday_rule(field: str) -> Callable[[datetime.date], bool]:
    """Day-of-week (1 = SUN ... 7 = SAT): `, - *`, or L (Saturday), nL (the last such day of
    the month), n#k (the kth such day of the month)."""
    if "#" in field:
        weekday_text, _, nth_text = field.partition("#")
        weekday, nth = _number(weekday_text, 1, 7, _WEEKDAYS), _number(nth_text, 1, 5)
        return lambda d: _weekday(d) == weekday and (d.day - 1) // 7 + 1 == nth
    if field == "L":
        return lambda d: _weekday(d) == 7
    if field.endswith("L"):
        weekday = _number(field[:-1], 1, 7, _WEEKDAYS)
        return lambda d: _weekday(d) == weekday and d.day + 7 > _days_in(d)
    if "/" in field:
        raise InvalidSchedule(f"{field!r}: no / in Day-of-week")
    weekdays = _values(field, 1, 7, _WEEKDAYS)
    return lambda d: _weekday(d) in weekdays


def _weekday(day: datetime.date) -> int:
    return day.isoweekday() % 7 + 1  # Sunday 1 ... Saturday 7


def _days_in(day: datetime.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: datetime.date, target: int) -> datetime.date:
    """The Monday-to-Friday day nearest the `target`th of `day`'s month, not leaving it."""
    chosen = day.replace(day=target)
    if chosen.weekday() == 5:  # Saturday: the Friday before, or the Monday after the 1st
        chosen += datetime.timedelta(days=-1 if target > 1 else 2)
    elif chosen.weekday() == 6:  # Sunday: the Monday after, or the Friday before the last
        chosen += datetime.timedelta(days=1 if target < _days_in(day) else -2)
    return chosen


def _put_rule(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_rule(self: EventsBackend, name: str, **kwargs: Any) -> Any:
        expression = kwargs.get("scheduled_expression")
        if expression:
            try:
                parse(str(expression))
            except InvalidSchedule as err:
                raise ValidationException(INVALID) from err
        return original(self, name, **kwargs)

    return put_rule


def install() -> None:
    """Refuse the schedule expressions EventBridge refuses (once)."""
    if getattr(EventsBackend, _MARK, False):
        return
    EventsBackend.put_rule = _put_rule(EventsBackend.put_rule)  # type: ignore[method-assign]
    setattr(EventsBackend, _MARK, True)
