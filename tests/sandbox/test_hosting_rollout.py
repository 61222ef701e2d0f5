"""Deployment guardrails on the sandbox: UpdateEndpoint with a blue/green DeploymentConfig
shifts traffic step by step and rolls back when an auto-rollback alarm fires, the
endpoint's invocation metrics feed the alarms, and the API's refusals.

The sandbox clock runs 120 times faster here: a 60 s alarm period takes half a second.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import joblib
import numpy as np
import pytest
from accounts import service_role
from botocore.exceptions import ClientError
from sklearn.linear_model import LinearRegression
from test_hosting import SKLEARN_IMAGE, csv_rows, features, tar_gz

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox, runtime
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

SCALE = 120
BUCKET = "rollout-test-models"
ENDPOINT = "guarded"
ENVIRONMENT = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
}
SERVING = """\
import joblib, numpy as np
def model_fn(model_dir):
    return joblib.load(model_dir + "/model.joblib")
def predict_fn(data, model):
    x = np.asarray(data, dtype=float).reshape(-1, 4)
    if FAIL and (x[:, 0] > 0).any():
        raise ValueError("the new post-processing breaks on a positive first feature")
    return model.predict(x)
"""


def archive(fail: bool) -> bytes:
    x = features(3)
    model = LinearRegression().fit(x, x @ np.array([1.0, 2.0, 3.0, 4.0]))
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    script = f"FAIL = {fail}\n{SERVING}".encode()
    return tar_gz({"model.joblib": buffer.getvalue(), "code/inference.py": script})


@pytest.fixture
def fast(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.time_scale = SCALE
    try:
        yield sandbox
    finally:
        sandbox.time_scale = 1


@contextmanager
def one_real_minute_before_the_next_evaluation(sandbox: Sandbox) -> Iterator[None]:
    """From the start of a sandbox minute (CloudWatch evaluates alarms each minute), the
    sandbox's clock at the wall clock's pace, then at SCALE again."""
    clock = runtime.clock()
    now = clock.now()
    clock.sleep(60 - now.second - now.microsecond / 1e6 + 0.5)
    sandbox.time_scale = 1
    try:
        yield
    finally:
        sandbox.time_scale = SCALE


@pytest.fixture
def hub(fast: Sandbox) -> boto3.Session:
    return aws.make_session()


@pytest.fixture
def sm(hub: boto3.Session) -> Any:
    return aws.client("sagemaker", hub)


@pytest.fixture
def cw(hub: boto3.Session) -> Any:
    return aws.client("cloudwatch", hub)


@pytest.fixture
def role(hub: boto3.Session) -> str:
    """A model execution role that may read the models and the rollback alarms."""
    reads = ("s3:GetObject", "s3:ListBucket", "cloudwatch:DescribeAlarms")
    return service_role(hub, "guarded-model", SAGEMAKER, *reads)


@pytest.fixture
def config(hub: boto3.Session, sm: Any, role: str) -> Callable[[str, bool], str]:
    """config(name, fail) -> an endpoint config serving a model that fails (or not) on
    requests whose first feature is positive."""
    s3 = aws.client("s3", hub)
    s3.create_bucket(Bucket=BUCKET)

    def make(name: str, fail: bool) -> str:
        s3.put_object(Bucket=BUCKET, Key=f"{name}.tar.gz", Body=archive(fail))
        container = {
            "Image": SKLEARN_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/{name}.tar.gz",
            "Environment": ENVIRONMENT,
        }
        sm.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer=container)
        variant = {
            "VariantName": "AllTraffic",
            "ModelName": name,
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 2,
        }
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
        return name

    return make


def new_fleet_alarm(cw: Any, config_name: str, name: str = "new-fleet-5xx") -> str:
    """The Guide's new-fleet alarm, on the 5xx error rate."""
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Statistic="Average",
        Dimensions=[
            {"Name": "EndpointName", "Value": ENDPOINT},
            {"Name": "VariantName", "Value": "AllTraffic"},
            {"Name": "EndpointConfigName", "Value": config_name},
        ],
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.1,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    return name


def canary(alarm: str, percent: int = 50, wait: int = 600) -> dict[str, Any]:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": percent},
                "WaitIntervalInSeconds": wait,
            },
            "TerminationWaitInSeconds": 60,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]},
    }


def traffic_until_done(sm: Any, smr: Any, limit: float = 30.0) -> tuple[int, int]:
    """Invoke the endpoint (rows with either sign of the first feature) while it updates;
    (answered, model errors)."""
    rows = csv_rows(features(21, rows=8)).splitlines()
    answered = errors = 0
    started = time.monotonic()
    while sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "Updating":
        assert time.monotonic() - started < limit, "the update did not end"
        for row in rows:
            try:
                smr.invoke_endpoint(EndpointName=ENDPOINT, Body=row, ContentType="text/csv")
                answered += 1
            except ClientError as err:
                assert err.response["Error"]["Code"] == "ModelError"
                errors += 1
    return answered, errors


def test_a_canary_that_fails_on_part_of_the_traffic_is_rolled_back(
    sm: Any, cw: Any, hub: boto3.Session, fast: Sandbox, config: Callable[[str, bool], str]
) -> None:
    first, second = config("first", False), config("second", True)
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=first)
    # Not evaluated before CloudWatch's next evaluation (each minute): INSUFFICIENT_DATA.
    # At SCALE a minute is half a second; the alarm is looked at while the next one is a
    # wall-clock minute away.
    with one_real_minute_before_the_next_evaluation(fast):
        alarm = new_fleet_alarm(cw, second)
        assert cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] == (
            "INSUFFICIENT_DATA"
        )

    sm.update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=second, DeploymentConfig=canary(alarm)
    )
    updating = sm.describe_endpoint(EndpointName=ENDPOINT)
    assert updating["EndpointStatus"] == "Updating"
    assert updating["PendingDeploymentSummary"]["EndpointConfigName"] == second
    answered, errors = traffic_until_done(sm, aws.client("sagemaker-runtime", hub))

    ended = sm.describe_endpoint(EndpointName=ENDPOINT)
    assert ended["EndpointStatus"] == "InService"
    assert ended["EndpointConfigName"] == first
    assert f"CloudWatch alarm {alarm} went into ALARM" in ended["FailureReason"]
    assert "traffic step 1 of 2 (50% of traffic on the new fleet)" in ended["FailureReason"]
    assert ended["LastDeploymentConfig"] == canary(alarm)
    assert answered > 0 and errors > 0  # the canary took part of the traffic, and failed
    described = cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]
    assert described["StateValue"] == "ALARM"
    assert "greater than the threshold (0.1)" in described["StateReason"]
    # All traffic is back on the first model: a request the second fails on is answered.
    smr = aws.client("sagemaker-runtime", hub)
    for row in csv_rows(features(21, rows=8)).splitlines():
        smr.invoke_endpoint(EndpointName=ENDPOINT, Body=row, ContentType="text/csv")


def test_a_healthy_canary_shifts_all_traffic_and_the_endpoint_serves_the_new_config(
    sm: Any, cw: Any, hub: boto3.Session, config: Callable[[str, bool], str]
) -> None:
    first, second = config("good-1", False), config("good-2", False)
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=first)
    alarm = new_fleet_alarm(cw, second)

    sm.update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=second, DeploymentConfig=canary(alarm, wait=120)
    )
    answered, errors = traffic_until_done(sm, aws.client("sagemaker-runtime", hub))

    ended = sm.describe_endpoint(EndpointName=ENDPOINT)
    assert (ended["EndpointStatus"], ended["EndpointConfigName"]) == ("InService", second)
    assert "FailureReason" not in ended
    assert (answered, errors) != (0, 0) and errors == 0
    metrics = cw.get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="Invocations",
        Dimensions=[
            {"Name": "EndpointName", "Value": ENDPOINT},
            {"Name": "VariantName", "Value": "AllTraffic"},
            {"Name": "EndpointConfigName", "Value": second},
        ],
        StartTime=ended["LastModifiedTime"].replace(year=2000),
        EndTime=ended["LastModifiedTime"].replace(year=2100),
        Period=86400,
        Statistics=["Sum"],
    )["Datapoints"]
    assert sum(p["Sum"] for p in metrics) > 0  # the new fleet served, and was counted


def refused(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return str(caught.value.response["Error"]["Message"])


def test_deployment_configs_the_api_refuses(
    sm: Any, cw: Any, hub: boto3.Session, config: Callable[[str, bool], str]
) -> None:
    first, second = config("base", False), config("next", False)
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=first)
    alarm = new_fleet_alarm(cw, second)

    def update(deployment: dict[str, Any]) -> Callable[[], Any]:
        return lambda: sm.update_endpoint(
            EndpointName=ENDPOINT, EndpointConfigName=second, DeploymentConfig=deployment
        )

    assert "from 0% to 50%" in refused(update(canary(alarm, percent=60)))
    assert "do not exist" in refused(update(canary("no-such-alarm")))
    rolling = {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
            "WaitIntervalInSeconds": 60,
        }
    }
    assert "RollingUpdatePolicy is not emulated" in refused(update(rolling))
    linear = canary(alarm)
    routing = linear["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    routing["Type"] = "LINEAR"
    assert "LinearStepSize is required" in refused(update(linear))
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == first

    sm.update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=second, DeploymentConfig=canary(alarm, wait=60)
    )
    assert "Cannot update in-progress endpoint" in refused(update(canary(alarm)))
    traffic_until_done(sm, aws.client("sagemaker-runtime", hub))


def test_the_model_role_must_read_the_rollback_alarms(
    sm: Any, cw: Any, hub: boto3.Session, config: Callable[[str, bool], str]
) -> None:
    first = config("read-1", False)
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=first)
    blind = service_role(hub, "blind-model", SAGEMAKER, "s3:GetObject", "s3:ListBucket")
    sm.create_model(
        ModelName="read-2",
        ExecutionRoleArn=blind,
        PrimaryContainer=sm.describe_model(ModelName=first)["PrimaryContainer"],
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "read-2",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 2,
    }
    sm.create_endpoint_config(EndpointConfigName="read-2", ProductionVariants=[variant])
    alarm = new_fleet_alarm(cw, "read-2")

    message = refused(
        lambda: sm.update_endpoint(
            EndpointName=ENDPOINT, EndpointConfigName="read-2", DeploymentConfig=canary(alarm)
        )
    )
    assert "cloudwatch:DescribeAlarms" in message and "blind-model" in message
