"""Schedule expressions as EventBridge takes and runs them: the examples of the User Guide
("Creating an Amazon EventBridge rule that runs on a schedule") are accepted, what it rules
out is refused by PutRule and by CloudFormation, and the next run of each is the one the
calendar gives."""

from datetime import datetime

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.sandbox import schedules

GUIDE_EXAMPLES = [
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0/30 20-2 ? * MON-FRI *)",
    "cron(0 12 * * ? *)",
    "cron(5,35 14 * * ? *)",
    "cron(15 10 ? * 6L 2019-2022)",
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(1 day)",
    "cron(0 0 1 JAN-MAR ? *)",  # month and weekday names, in either case
    "cron(0 0 1 jan,dec ? *)",
    "cron(0 9 ? * sun *)",
]
REFUSED = [
    "rate(1 hours)",  # the guide's own examples of what is not valid
    "rate(5 hour)",
    "rate(1 minutes)",
    "rate(0 minutes)",
    "rate(1 week)",
    "rate(1.5 hours)",
    "rate(5  minutes)",
    "cron(0 * * * *)",  # five fields, as Unix cron writes it
    "cron(0 10 * * MON *)",  # both day fields given
    "cron(0 10 ? * ? *)",  # neither
    "cron(60 * * * ? *)",
    "cron(0 24 * * ? *)",
    "cron(0 0 32 * ? *)",
    "cron(0 0 1 13 ? *)",
    "cron(0 0 ? * 8 *)",
    "cron(0 0 1 * ? 1969)",
    "cron(? 0 1 * ? *)",  # ? only in the day fields
    "cron(0 L 1 * ? *)",  # L only in the day fields
    "cron(0 0 ? * 1W *)",  # W only in Day-of-month
    "cron(0 0 1#2 * ? *)",  # # only in Day-of-week
    "cron(0 0 ? * 3#1,6#3 *)",  # # takes a single expression
    "cron(0/0 * * * ? *)",
    "cron(0 0 ? * 1/2 *)",  # no / in Day-of-week
    "cron(0 0 ? * MON-FRI/2 *)",
    "cron(0 \u00b2 * * ? *)",  # digits are 0-9
    "cron(0 0 1 FEBRUARY ? *)",
    "every day",
    "",
]


@pytest.mark.parametrize("expression", GUIDE_EXAMPLES)
def test_the_guides_examples_are_accepted(expression: str) -> None:
    schedules.parse(expression)


@pytest.mark.parametrize("expression", REFUSED)
def test_what_the_guide_rules_out_is_refused(expression: str) -> None:
    with pytest.raises(schedules.InvalidSchedule):
        schedules.parse(expression)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # every day at 10:00 UTC: the next day once today's has passed
        ("cron(0 10 * * ? *)", "2026-12-03T10:00:00", "2026-12-04T10:00:00"),
        ("cron(0 10 * * ? *)", "2026-12-03T09:59:59", "2026-12-03T10:00:00"),
        # 1/10 is the 1st minute and every 10th after it
        ("cron(1/10 * * * ? *)", "2026-12-03T10:42:00", "2026-12-03T10:51:00"),
        # 20-2 wraps past midnight: Friday 00:00 after Thursday 23:45
        ("cron(0/30 20-2 ? * MON-FRI *)", "2026-12-03T23:45:00", "2026-12-04T00:00:00"),
        # ...and skips the weekend: Saturday 2026-12-05 and Sunday to Monday 00:00
        ("cron(0/30 20-2 ? * MON-FRI *)", "2026-12-05T03:00:00", "2026-12-07T00:00:00"),
        # the 1st of the next month
        ("cron(0 8 1 * ? *)", "2026-12-03T00:00:00", "2027-01-01T08:00:00"),
        # L: the month's last day, 29 February in a leap year
        ("cron(0 0 L * ? *)", "2027-02-01T00:00:00", "2027-02-28T00:00:00"),
        ("cron(0 0 L * ? *)", "2028-02-01T00:00:00", "2028-02-29T00:00:00"),
        # 1W: 1 August 2026 is a Saturday, the nearest weekday in August is Monday the 3rd
        ("cron(0 0 1W * ? *)", "2026-07-31T12:00:00", "2026-08-03T00:00:00"),
        # 31W: 31 May 2026 is a Sunday, the nearest weekday in May is Friday the 29th
        ("cron(0 0 31W 5 ? *)", "2026-05-01T00:00:00", "2026-05-29T00:00:00"),
        # LW: 31 January 2026 is a Saturday, the last weekday is Friday the 30th
        ("cron(0 0 LW 1 ? *)", "2026-01-01T00:00:00", "2026-01-30T00:00:00"),
        # 3#2: the second Tuesday (1 December 2026 is a Tuesday)
        ("cron(0 9 ? * 3#2 *)", "2026-12-03T00:00:00", "2026-12-08T09:00:00"),
        ("cron(0 9 ? * TUE#2 *)", "2026-12-03T00:00:00", "2026-12-08T09:00:00"),
        # ...then not the next Tuesday but January's second (the 1st is a Friday): the 12th
        ("cron(0 9 ? * 3#2 *)", "2026-12-08T09:00:00", "2027-01-12T09:00:00"),
        # 6L: the last Friday of the month, 30 December 2022, the last year it names
        ("cron(15 10 ? * 6L 2019-2022)", "2022-12-01T00:00:00", "2022-12-30T10:15:00"),
        ("cron(15 10 ? * 6L 2019-2022)", "2022-12-30T10:15:00", None),
        # a day that never comes
        ("cron(0 0 30 2 ? *)", "2026-01-01T00:00:00", None),
    ],
)
def test_a_cron_runs_next_when_the_calendar_says(
    expression: str, after: str, expected: str | None
) -> None:
    schedule = schedules.parse(expression)
    assert isinstance(schedule, schedules.Cron)
    found = schedule.next_after(datetime.fromisoformat(after))
    assert found == (datetime.fromisoformat(expected) if expected else None)


def test_a_month_name_is_its_number() -> None:
    schedule = schedules.parse("cron(0 0 1 MAR ? *)")
    assert isinstance(schedule, schedules.Cron)
    assert schedule.next_after(datetime(2026, 12, 3)) == datetime(2027, 3, 1)


def test_a_rate_too_long_to_come_never_comes() -> None:
    schedule = schedules.parse("rate(99999999999 days)")
    assert schedule.next_after(datetime(2026, 12, 3), datetime(2026, 12, 3)) == datetime.max


def test_a_rate_counts_its_periods_from_the_rules_creation() -> None:
    schedule = schedules.parse("rate(5 minutes)")
    created = datetime(2026, 12, 3, 10, 2, 30)
    assert schedule.next_after(created, created) == datetime(2026, 12, 3, 10, 7, 30)
    assert schedule.next_after(datetime(2026, 12, 3, 10, 13), created) == datetime(
        2026, 12, 3, 10, 17, 30
    )


def test_put_rule_refuses_an_invalid_schedule_as_aws_does(hub: boto3.Session) -> None:
    events = aws.client("events", hub)
    with pytest.raises(ClientError) as caught:
        events.put_rule(Name="nightly", ScheduleExpression="rate(1 days)")
    assert caught.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Parameter ScheduleExpression is not valid.",
    }
    assert events.list_rules()["Rules"] == []
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    assert events.describe_rule(Name="nightly")["ScheduleExpression"] == "rate(1 day)"


def test_a_stack_with_an_invalid_schedule_fails_naming_it(hub: boto3.Session) -> None:
    template = {
        "Resources": {
            "Nightly": {
                "Type": "AWS::Events::Rule",
                "Properties": {"ScheduleExpression": "cron(0 2 * * *)", "State": "ENABLED"},
            }
        }
    }
    cloudformation = aws.client("cloudformation", hub)
    cloudformation.create_stack(StackName="schedule", TemplateBody=yaml.safe_dump(template))
    stack = cloudformation.describe_stacks(StackName="schedule")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [
        e
        for e in cloudformation.describe_stack_events(StackName="schedule")["StackEvents"]
        if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert [e["LogicalResourceId"] for e in failed] == ["Nightly"]
    assert "Parameter ScheduleExpression is not valid." in failed[0]["ResourceStatusReason"]
