"""A kept rehearsal's session plays what AWS does by itself: scheduled rules run their targets
when their expression says (as the target's role, refused as EventBridge would be), and an
alarm's change of state is sent to EventBridge, whose rules notify."""

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from accounts import member_admin
from event_topics import topic_eventbridge_may_publish_to

from mlops_seeds import aws
from mlops_seeds.rehearse.kept import KeptSession, scheduled_event
from mlops_seeds.rehearse.runs import PipelineRuns

SPOKE = "222222222222"
PROD = "444444444444"
REGION = "us-east-1"
PIPELINE = "nightly-check"
PIPELINE_ARN = f"arn:aws:sagemaker:{REGION}:{SPOKE}:pipeline/{PIPELINE}"
T0 = datetime(2026, 12, 3, 10, 0, 30)
STOP = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "Mode", "Type": "String", "DefaultValue": "by-hand"}],
    "Steps": [{"Name": "Stop", "Type": "Fail", "Arguments": {}}],
}


@pytest.fixture
def kept(spoke: boto3.Session, tmp_path: Path) -> tuple[KeptSession, list[str]]:
    lines: list[str] = []
    runs = PipelineRuns(spoke, tmp_path, tmp_path / "sandbox", lines.append)
    return KeptSession(runs, lines.append), lines


@pytest.fixture
def pipeline(spoke: boto3.Session, make_role: Callable[[str, str], str]) -> None:
    role = make_role("pipeline-role", "sagemaker.amazonaws.com")
    aws.client("sagemaker", spoke).create_pipeline(
        PipelineName=PIPELINE, PipelineDefinition=json.dumps(STOP), RoleArn=role
    )


def _events_role(spoke: boto3.Session, name: str, actions: list[str]) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = aws.client("iam", spoke)
    arn = str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": PIPELINE_ARN}],
    }
    iam.put_role_policy(RoleName=name, PolicyName="start", PolicyDocument=json.dumps(policy))
    return arn


def _schedule(spoke: boto3.Session, name: str, expression: str, role: str, **rule: Any) -> None:
    events = aws.client("events", spoke)
    events.put_rule(Name=name, ScheduleExpression=expression, **rule)
    target = {
        "Id": "check",
        "Arn": PIPELINE_ARN,
        "RoleArn": role,
        "SageMakerPipelineParameters": {
            "PipelineParameterList": [{"Name": "Mode", "Value": "scheduled"}]
        },
    }
    events.put_targets(Rule=name, Targets=[target])


def _alarm(session: boto3.Session) -> Any:
    """An alarm named drift; the account's CloudWatch client."""
    cloudwatch = aws.client("cloudwatch", session)
    cloudwatch.put_metric_alarm(
        AlarmName="drift",
        Namespace="aws/sagemaker/Endpoints/data-metrics",
        MetricName="feature_baseline_drift_x",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.1,
        ComparisonOperator="GreaterThanThreshold",
    )
    return cloudwatch


def _executions(spoke: boto3.Session) -> int:
    sagemaker = aws.client("sagemaker", spoke)
    return len(
        sagemaker.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]
    )


@pytest.mark.usefixtures("pipeline")
def test_a_rate_runs_its_target_each_period_as_the_targets_role(
    spoke: boto3.Session, kept: tuple[KeptSession, list[str]]
) -> None:
    session, lines = kept
    role = _events_role(spoke, "starts-checks", ["sagemaker:StartPipelineExecution"])
    _schedule(spoke, "every-five", "rate(5 minutes)", role)
    _schedule(spoke, "paused", "rate(1 minute)", role, State="DISABLED")
    session.tick(T0)  # first seen: the rate counts from here
    assert _executions(spoke) == 0
    session.tick(T0 + timedelta(minutes=4, seconds=59))
    assert _executions(spoke) == 0
    session.tick(T0 + timedelta(minutes=5))
    assert _executions(spoke) == 1
    session.tick(T0 + timedelta(minutes=9))
    assert _executions(spoke) == 1
    session.tick(T0 + timedelta(minutes=10, seconds=1))
    assert _executions(spoke) == 2
    assert sum(line.startswith("started arn:aws:sagemaker:") for line in lines) == 2
    sagemaker = aws.client("sagemaker", spoke)
    for execution in sagemaker.list_pipeline_executions(PipelineName=PIPELINE)[
        "PipelineExecutionSummaries"
    ]:  # the target's SageMakerPipelineParameters
        given = sagemaker.list_pipeline_parameters_for_execution(
            PipelineExecutionArn=execution["PipelineExecutionArn"]
        )["PipelineParameters"]
        assert given == [{"Name": "Mode", "Value": "scheduled"}]
    assert session.runs.refusals == []


@pytest.mark.usefixtures("pipeline")
def test_a_cron_runs_at_its_minute_in_utc(
    spoke: boto3.Session, kept: tuple[KeptSession, list[str]]
) -> None:
    session, _ = kept
    role = _events_role(spoke, "starts-checks", ["sagemaker:StartPipelineExecution"])
    _schedule(spoke, "at-ten-past", "cron(10 * * * ? *)", role)
    session.tick(T0)
    session.tick(datetime(2026, 12, 3, 10, 9, 59))
    assert _executions(spoke) == 0
    session.tick(datetime(2026, 12, 3, 10, 10, 0))
    assert _executions(spoke) == 1


@pytest.mark.usefixtures("pipeline")
def test_a_role_that_may_not_start_the_pipeline_loses_the_run_with_iams_refusal(
    spoke: boto3.Session, kept: tuple[KeptSession, list[str]]
) -> None:
    session, lines = kept
    role = _events_role(spoke, "describes-only", ["sagemaker:DescribePipeline"])
    _schedule(spoke, "every-minute", "rate(1 minute)", role)
    session.tick(T0)
    session.tick(T0 + timedelta(minutes=1))
    assert _executions(spoke) == 0
    (refusal,) = session.runs.refusals
    assert refusal.startswith(f"rule every-minute could not start pipeline/{PIPELINE}: ")
    assert "is not authorized to perform: sagemaker:StartPipelineExecution" in refusal
    assert refusal in lines


def test_an_alarms_change_of_state_reaches_the_rules_that_listen(
    spoke: boto3.Session, kept: tuple[KeptSession, list[str]]
) -> None:
    session, lines = kept
    cloudwatch = _alarm(spoke)
    topic = topic_eventbridge_may_publish_to(spoke, "drift-news")
    events = aws.client("events", spoke)
    events.put_rule(
        Name="on-drift",
        EventPattern=json.dumps(
            {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
        ),
    )
    events.put_targets(Rule="on-drift", Targets=[{"Id": "news", "Arn": topic}])
    session.tick(T0)  # the alarm as it is now
    assert not any("matched" in line for line in lines)
    cloudwatch.set_alarm_state(AlarmName="drift", StateValue="ALARM", StateReason="drifted")
    session.tick(T0 + timedelta(seconds=1))
    assert any(line.endswith(" -> ALARM") and "alarm drift:" in line for line in lines)
    assert "event 'CloudWatch Alarm State Change' matched on-drift" in lines
    (told,) = session.runs.notifications
    assert (told.topic, told.rule, told.detail_type) == (
        "drift-news",
        "on-drift",
        "CloudWatch Alarm State Change",
    )
    session.tick(T0 + timedelta(seconds=2))  # no change, nothing sent again
    cloudwatch.set_alarm_state(AlarmName="drift", StateValue="ALARM", StateReason="again")
    session.tick(T0 + timedelta(seconds=3))  # the same state set again: CloudWatch sends nothing
    assert lines.count("event 'CloudWatch Alarm State Change' matched on-drift") == 1


def test_the_scheduled_event_is_as_eventbridge_sends_it() -> None:
    rule = f"arn:aws:events:{REGION}:{SPOKE}:rule/nightly"
    event = scheduled_event(rule, T0)
    assert {k: v for k, v in event.items() if k != "id"} == {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": SPOKE,
        "time": "2026-12-03T10:00:30Z",
        "region": REGION,
        "resources": [rule],
        "detail": {},
    }


def test_an_alarm_of_another_account_is_heard_on_that_accounts_bus_only(
    spoke: boto3.Session, kept: tuple[KeptSession, list[str]]
) -> None:
    """Production in an account of its own: its alarm's event goes to its own bus (the
    spoke's rules hear of it only through a rule sending it on, as the deploy seed's
    DataDriftForwarding does), as on AWS."""
    session, lines = kept
    prod = member_admin(PROD)
    session.runs.stage_sessions["prod"] = prod
    pattern = json.dumps({"source": ["aws.cloudwatch"]})
    aws.client("events", spoke).put_rule(Name="spoke-listens", EventPattern=pattern)
    aws.client("events", spoke).put_targets(
        Rule="spoke-listens",
        Targets=[{"Id": "news", "Arn": topic_eventbridge_may_publish_to(spoke, "spoke-news")}],
    )
    aws.client("events", prod).put_rule(Name="prod-listens", EventPattern=pattern)
    aws.client("events", prod).put_targets(
        Rule="prod-listens",
        Targets=[{"Id": "news", "Arn": topic_eventbridge_may_publish_to(prod, "prod-news")}],
    )
    _alarm(prod)
    session.tick(T0)
    aws.client("cloudwatch", prod).set_alarm_state(
        AlarmName="drift", StateValue="ALARM", StateReason="drifted"
    )
    session.tick(T0 + timedelta(seconds=1))
    assert "event 'CloudWatch Alarm State Change' matched prod-listens" in lines
    assert [(n.topic, n.rule) for n in session.runs.notifications] == [
        ("prod-news", "prod-listens")
    ]
    assert not any("spoke-listens" in line for line in lines)


@pytest.mark.usefixtures("pipeline")
def test_runs_a_long_tick_missed_are_said_and_run_once(
    spoke: boto3.Session, kept: tuple[KeptSession, list[str]]
) -> None:
    session, lines = kept
    role = _events_role(spoke, "starts-checks", ["sagemaker:StartPipelineExecution"])
    _schedule(spoke, "every-minute", "rate(1 minute)", role)
    session.tick(T0)
    session.tick(T0 + timedelta(minutes=5, seconds=30))  # due at +1 .. +5
    assert _executions(spoke) == 1
    assert "schedule every-minute: 4 runs missed while the session was busy" in lines
    session.tick(T0 + timedelta(minutes=5, seconds=45))
    assert _executions(spoke) == 1  # next at +6
    session.tick(T0 + timedelta(minutes=6))
    assert _executions(spoke) == 2


def test_a_pipeline_of_another_account_is_not_started(
    spoke: boto3.Session, kept: tuple[KeptSession, list[str]]
) -> None:
    session, _ = kept
    role = _events_role(spoke, "starts-checks", ["sagemaker:StartPipelineExecution"])
    events = aws.client("events", spoke)
    events.put_rule(Name="elsewhere", ScheduleExpression="rate(1 minute)")
    elsewhere = f"arn:aws:sagemaker:{REGION}:{PROD}:pipeline/{PIPELINE}"
    events.put_targets(Rule="elsewhere", Targets=[{"Id": "c", "Arn": elsewhere, "RoleArn": role}])
    session.tick(T0)
    session.tick(T0 + timedelta(minutes=1))
    (refusal,) = session.runs.refusals
    assert refusal.startswith(f"rule elsewhere could not start pipeline/{PIPELINE}: ")
    assert "not in the rule's account and region" in refusal


@pytest.mark.usefixtures("pipeline")
def test_an_alarm_rule_may_start_a_sagemaker_pipeline_as_its_role(
    spoke: boto3.Session, kept: tuple[KeptSession, list[str]]
) -> None:
    """Retraining by starting the SageMaker pipeline itself (not the build's CodePipeline):
    the rule's target is started as its role, with its parameters."""
    session, _ = kept
    role = _events_role(spoke, "starts-checks", ["sagemaker:StartPipelineExecution"])
    events = aws.client("events", spoke)
    events.put_rule(
        Name="retrain", EventPattern=json.dumps({"detail-type": ["CloudWatch Alarm State Change"]})
    )
    target = {
        "Id": "build",
        "Arn": PIPELINE_ARN,
        "RoleArn": role,
        "SageMakerPipelineParameters": {
            "PipelineParameterList": [{"Name": "Mode", "Value": "retrain"}]
        },
    }
    events.put_targets(Rule="retrain", Targets=[target])
    cloudwatch = _alarm(spoke)
    session.tick(T0)
    cloudwatch.set_alarm_state(AlarmName="drift", StateValue="ALARM", StateReason="drifted")
    session.tick(T0 + timedelta(seconds=1))
    sagemaker = aws.client("sagemaker", spoke)
    (execution,) = sagemaker.list_pipeline_executions(PipelineName=PIPELINE)[
        "PipelineExecutionSummaries"
    ]
    given = sagemaker.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution["PipelineExecutionArn"]
    )["PipelineParameters"]
    assert given == [{"Name": "Mode", "Value": "retrain"}]
