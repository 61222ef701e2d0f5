"""The alarm evaluation against the CloudWatch User Guide's tables ("How alarm state is
evaluated when data is missing", AlarmThatSendsEmail.md in awsdocs/amazon-cloudwatch-user-
guide): each row's datapoints under each missing-data treatment, and the periods and
statistics that make the datapoints."""

import datetime

import pytest

from mlops_seeds.sandbox.cloudwatch.evaluation import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Rule,
    datapoints,
    evaluate,
    next_state,
    statistic,
)

RETAIN = "retain"
COLUMNS = ("missing", "ignore", "breaching", "notBreaching")

# Datapoints oldest first (0 not breaching, X breaching, - missing) and the guide's state
# for MISSING, IGNORE, BREACHING, NOT BREACHING.
THREE_OF_THREE = [
    ("0 - X - X", (OK, OK, OK, OK)),
    ("0 - - - -", (OK, OK, OK, OK)),
    ("- - - - -", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
    ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("- - - - X", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
    ("X - - - -", (ALARM, RETAIN, ALARM, OK)),
]
TWO_OF_THREE = [
    ("0 - X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 0 X 0 X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 - X - -", (OK, OK, ALARM, OK)),
    ("- - - - 0", (OK, OK, ALARM, OK)),
    ("- - - - X", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
]


def marks(row: str) -> list[bool | None]:
    return [None if c == "-" else c == "X" for c in row.split()]


def cases(table: list[tuple[str, tuple[str, ...]]], m: int) -> list[tuple[str, int, str, str]]:
    return [
        (row, m, treatment, expected)
        for row, states in table
        for treatment, expected in zip(COLUMNS, states, strict=True)
    ]


@pytest.mark.parametrize(
    ("row", "m", "treatment", "expected"), cases(THREE_OF_THREE, 3) + cases(TWO_OF_THREE, 2)
)
@pytest.mark.parametrize("current", [OK, ALARM, INSUFFICIENT_DATA])
def test_the_guides_tables(row: str, m: int, treatment: str, expected: str, current: str) -> None:
    state = next_state(marks(row), m, 3, treatment, current)
    assert state == (current if expected == RETAIN else expected)


START = datetime.datetime(2026, 12, 1, 10, 0, 0)


def at(minutes: float) -> datetime.datetime:
    return START + datetime.timedelta(minutes=minutes)


def test_datapoints_are_whole_periods_before_now_with_the_statistic() -> None:
    rule = Rule("Average", "GreaterThanThreshold", 0.5, 60, 3, 3)
    samples = [(at(0.1), 1.0), (at(0.9), 0.0), (at(2.5), 1.0), (at(4.0), 1.0), (at(5.2), 9.0)]
    points = datapoints(rule, samples, at(5.5))  # the period from 10:05 is not whole yet
    assert [p.start for p in points] == [at(i) for i in range(5)]
    assert [p.value for p in points] == [0.5, None, 1.0, None, 1.0]


def test_an_alarm_from_samples_and_its_reason() -> None:
    rule = Rule("Sum", "GreaterThanOrEqualToThreshold", 2, 60, 2, 2, "notBreaching")
    samples = [(at(m), 1.0) for m in (1.1, 1.2, 2.3, 2.4, 2.5)]
    done = evaluate(rule, samples, at(3.0), OK)
    assert done.state == ALARM
    assert done.reason.startswith("Threshold Crossed: 2 out of the last 2 datapoints [3 (")
    assert "greater than or equal to the threshold (2)" in done.reason
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in done.reason
    quiet = evaluate(rule, samples, at(9.0), ALARM)  # the range holds no sample any more
    assert quiet.state == OK


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SampleCount", 4),
        ("Sum", 10),
        ("Average", 2.5),
        ("Minimum", 1),
        ("Maximum", 4),
        ("p50", 2),
        ("p75", 3),
        ("p100", 4),
        ("p0", 1),
    ],
)
def test_statistics(name: str, expected: float) -> None:
    assert statistic(name, [3.0, 1.0, 4.0, 2.0]) == expected
