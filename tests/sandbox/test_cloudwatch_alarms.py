"""CloudWatch alarms on the sandbox: PutMetricAlarm's refusals, the state of a new and of
an updated alarm, evaluation from PutMetricData samples, and AWS::CloudWatch::Alarm."""

import datetime
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from accounts import role_allowed
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox, runtime

ALARM = {
    "AlarmName": "errors",
    "Namespace": "Custom/App",
    "MetricName": "Errors",
    "Dimensions": [{"Name": "Service", "Value": "api"}],
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 2,
    "DatapointsToAlarm": 2,
    "Threshold": 5,
    "ComparisonOperator": "GreaterThanThreshold",
}


@pytest.fixture
def cw(sandbox: Sandbox) -> Any:
    return aws.client("cloudwatch", aws.make_session())


def state(cw: Any, name: str = "errors") -> dict[str, Any]:
    alarm: dict[str, Any] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    return alarm


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"Period": 45}, "valid values are 10, 20, 30, and any multiple of 60"),
        ({"Period": 300, "EvaluationPeriods": 289}, "cannot exceed 86400"),
        ({"Period": 3600, "EvaluationPeriods": 169}, "cannot exceed 604800"),
        ({"DatapointsToAlarm": 3}, "must be from 1 to EvaluationPeriods (2)"),
        ({"TreatMissingData": "zero"}, "Supported options for parameter TreatMissingData"),
        ({"ComparisonOperator": "Above"}, "Member must satisfy enum value set"),
    ],
)
def test_put_metric_alarm_refuses_what_the_api_refuses(
    cw: Any, change: dict[str, Any], words: str
) -> None:
    with pytest.raises(ClientError) as caught:
        cw.put_metric_alarm(**{**ALARM, **change})
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert words in caught.value.response["Error"]["Message"]
    assert cw.describe_alarms()["MetricAlarms"] == []


@pytest.mark.parametrize(
    ("namespace", "data", "words"),
    [
        ("Custom/App", [{"Value": float("inf")}], "The value Infinity for parameter "),
        ("Custom/App", [{"Values": [1.0, -(2.0**361)]}], "MetricData.member.1.Values.member.2"),
        ("Custom/App", [{"Value": 1.0}] * 1001, "must not have a size greater than 1000"),
        (
            "Custom/App",
            [{"Value": 1.0, "Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]}],
            "Dimensions must not have a size greater than 30",
        ),
        ("AWS/SageMaker", [{"Value": 1.0}], "The value AWS/SageMaker for parameter Namespace"),
    ],
)
def test_put_metric_data_refuses_what_the_api_refuses(
    cw: Any, namespace: str, data: list[dict[str, Any]], words: str
) -> None:
    with pytest.raises(ClientError) as caught:
        cw.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "m", **d} for d in data])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert words in caught.value.response["Error"]["Message"]
    # Model Monitor's lower-case namespace is not reserved; 2^360 is the largest value.
    cw.put_metric_data(
        Namespace="aws/sagemaker/Endpoints/data-metrics",
        MetricData=[{"MetricName": "m", "Value": 2.0**360}] * 1000,
    )
    assert cw.list_metrics()["Metrics"][0]["Namespace"] == "aws/sagemaker/Endpoints/data-metrics"


@pytest.fixture
def fast(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox's clock at 600 times the wall clock: a minute passes in 0.1 s."""
    sandbox.time_scale = 600
    try:
        yield sandbox
    finally:
        sandbox.time_scale = 1


def wait_for_tick() -> None:
    """Until the next minute of the sandbox clock (CloudWatch's next evaluation)."""
    start = runtime.clock().now().replace(second=0, microsecond=0)
    while runtime.clock().now() < start + datetime.timedelta(minutes=1):
        time.sleep(0.01)


def tick_then_hold(sandbox: Sandbox) -> None:
    """The next minute of the sandbox clock at 600 times the wall clock, then real time, so
    that the requests that follow (a slow one takes more than 0.1 s, a sandbox minute at
    600x) all fall in that minute and DescribeAlarms evaluates at its tick."""
    sandbox.time_scale = 600
    wait_for_tick()
    sandbox.time_scale = 1


def test_alarm_state_follows_the_samples_at_each_evaluation_and_an_update_keeps_it(
    cw: Any, fast: Sandbox
) -> None:
    tick_then_hold(fast)
    cw.put_metric_alarm(**ALARM)
    fresh = state(cw)  # not evaluated before CloudWatch's next evaluation
    assert (fresh["StateValue"], fresh["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Unchecked: Initial alarm creation",
    )
    minute = runtime.clock().now().replace(second=0, microsecond=0)
    samples = [
        {
            "MetricName": "Errors",
            "Dimensions": ALARM["Dimensions"],
            "Value": 4.0,
            "Timestamp": minute - datetime.timedelta(minutes=m, seconds=s),
        }
        for m in (1, 2)
        for s in (10, 20)
    ]  # two whole minutes of 8 errors each
    other = {**samples[0], "Dimensions": [], "Value": 100.0}  # another metric: no dimension
    cw.put_metric_data(Namespace="Custom/App", MetricData=[*samples, other])
    tick_then_hold(fast)
    alarmed = state(cw)
    assert alarmed["StateValue"] == "ALARM", alarmed["StateReason"]
    assert alarmed["StateReason"].startswith("Threshold Crossed: 2 out of the last 2 datapoints")

    # SetAlarmState holds until the next evaluation, which decides again.
    cw.set_alarm_state(AlarmName="errors", StateValue="OK", StateReason="testing the rollback")
    assert state(cw)["StateValue"] == "OK"
    tick_then_hold(fast)
    assert state(cw)["StateValue"] in ("ALARM", "OK")  # decided from the samples again
    assert state(cw)["StateReason"] != "testing the rollback"

    cw.put_metric_alarm(**{**ALARM, "Threshold": 50})  # an update keeps the state ...
    assert state(cw)["StateValue"] != "INSUFFICIENT_DATA"
    tick_then_hold(fast)
    assert state(cw)["StateValue"] in ("OK", "INSUFFICIENT_DATA")  # ... until evaluated


def test_an_alarm_with_tags_needs_tag_resource(sandbox: Sandbox) -> None:
    put_only = {"Effect": "Allow", "Action": "cloudwatch:PutMetricAlarm", "Resource": "*"}
    cw = aws.client("cloudwatch", role_allowed("123456789012", "alarms", put_only))
    cw.put_metric_alarm(**ALARM)
    with pytest.raises(ClientError, match="cloudwatch:TagResource"):
        cw.put_metric_alarm(**{**ALARM, "Tags": [{"Key": "team", "Value": "ml"}]})


TEMPLATE = """\
Parameters:
  Threshold:
    Type: Number
    Default: 5
Resources:
  Errors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: Custom/App
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: !Ref Threshold
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
Outputs:
  Name:
    Value: !Ref Errors
  Arn:
    Value: !GetAtt Errors.Arn
"""


def test_alarms_made_by_cloudformation(sandbox: Sandbox, cw: Any) -> None:
    session: boto3.Session = aws.make_session()
    cfn = aws.client("cloudformation", session)
    cfn.create_stack(StackName="alarms", TemplateBody=TEMPLATE)
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName="alarms")["Stacks"][0]["Outputs"]
    }
    assert outputs["Name"].startswith("alarms-Errors-")
    made = state(cw, outputs["Name"])
    assert outputs["Arn"] == made["AlarmArn"]
    assert (made["Threshold"], made["StateValue"]) == (5.0, "INSUFFICIENT_DATA")

    cfn.update_stack(
        StackName="alarms",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Threshold", "ParameterValue": "9"}],
    )
    assert state(cw, outputs["Name"])["Threshold"] == 9.0

    bad = TEMPLATE.replace("Period: 60", "Period: 45")
    cfn.create_stack(StackName="bad-alarms", TemplateBody=bad)
    stack = cfn.describe_stacks(StackName="bad-alarms")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"

    cfn.delete_stack(StackName="alarms")
    assert cw.describe_alarms()["MetricAlarms"] == []
