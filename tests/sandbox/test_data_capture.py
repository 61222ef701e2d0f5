"""Data capture: an endpoint whose config has a DataCaptureConfig writes each answered
request to S3 in SageMaker's capture format, as the model's execution role; a role that may
not write loses the capture (the request still succeeds) and the server log says why."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import boto3
import pytest
from accounts import service_role
from test_hosting import (
    XGBOOST_IMAGE,
    csv_rows,
    features,
    server_of,
    train_xgboost,
    xgboost_archive,
)

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.hosting import capture
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

CAPTURE_BUCKET = "capture-test-data"
KEY = re.compile(
    r"^monitoring/capture/ep/AllTraffic/\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$"
)
HEADER = {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}


@pytest.fixture
def hub(sandbox: Sandbox) -> boto3.Session:
    session = aws.make_session()
    aws.client("s3", session).create_bucket(Bucket=CAPTURE_BUCKET)
    return session


def capture_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{CAPTURE_BUCKET}/monitoring/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": HEADER,
    }
    return config | overrides


def serve(hub: boto3.Session, role: str, **capture_options: Any) -> Any:
    """Endpoint `ep` of an XGBoost model run as `role`, capturing as configured."""
    sm = aws.client("sagemaker", hub)
    model = xgboost_archive(train_xgboost(0))
    aws.client("s3", hub).put_object(Bucket=CAPTURE_BUCKET, Key="model.tar.gz", Body=model)
    url = f"s3://{CAPTURE_BUCKET}/model.tar.gz"
    sm.create_model(
        ModelName="m",
        ExecutionRoleArn=role,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": url},
    )
    sm.create_endpoint_config(
        EndpointConfigName="ep-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        DataCaptureConfig=capture_config(**capture_options),
    )
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="ep-config")
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"
    return aws.client("sagemaker-runtime", hub)


def captured(hub: boto3.Session) -> dict[str, dict[str, Any]]:
    """{key: the JSON line} of every capture file."""
    s3 = aws.client("s3", hub)
    listing = s3.list_objects_v2(Bucket=CAPTURE_BUCKET, Prefix="monitoring/").get("Contents") or []
    found = {}
    for item in listing:
        body = s3.get_object(Bucket=CAPTURE_BUCKET, Key=item["Key"])["Body"].read().decode()
        (line,) = body.splitlines()
        found[item["Key"]] = json.loads(line)
    return found


def writer(hub: boto3.Session) -> str:
    """A model role that may read the model and write captures."""
    return service_role(
        hub, "capturing-model", SAGEMAKER, "s3:GetObject", "s3:ListBucket", "s3:PutObject"
    )


def test_each_answered_request_is_captured_in_the_capture_format(hub: boto3.Session) -> None:
    smr = serve(hub, writer(hub))
    bodies = [csv_rows(features(seed, rows=2)) for seed in (1, 2)]
    answers = [
        smr.invoke_endpoint(EndpointName="ep", Body=b, ContentType="text/csv")["Body"].read()
        for b in bodies
    ]

    files = captured(hub)
    assert len(files) == 2 and all(KEY.match(k) for k in files), sorted(files)
    records = list(files.values())
    assert {r["captureData"]["endpointInput"]["data"] for r in records} == set(bodies)
    assert {r["captureData"]["endpointOutput"]["data"] for r in records} == {
        a.decode() for a in answers
    }
    for record in records:
        assert set(record) == {"captureData", "eventMetadata", "eventVersion"}
        assert record["eventVersion"] == "0"
        assert record["captureData"]["endpointInput"]["observedContentType"] == "text/csv"
        assert record["captureData"]["endpointInput"]["mode"] == "INPUT"
        assert record["captureData"]["endpointInput"]["encoding"] == "CSV"
        output = record["captureData"]["endpointOutput"]
        assert (output["mode"], output["encoding"]) == ("OUTPUT", "CSV")
        assert output["observedContentType"] == "text/csv; charset=utf-8"
        assert re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", record["eventMetadata"]["inferenceTime"]
        )
    for key, record in files.items():
        assert key.endswith(f"-{record['eventMetadata']['eventId']}.jsonl")


def test_only_the_options_chosen_are_captured_and_unlisted_types_are_base64(
    hub: boto3.Session,
) -> None:
    smr = serve(
        hub,
        writer(hub),
        CaptureOptions=[{"CaptureMode": "Input"}],
        CaptureContentTypeHeader={"JsonContentTypes": ["application/json"]},
    )
    body = csv_rows(features(3, rows=1))
    smr.invoke_endpoint(EndpointName="ep", Body=body, ContentType="text/csv")

    (record,) = captured(hub).values()
    assert set(record["captureData"]) == {"endpointInput"}
    data = record["captureData"]["endpointInput"]
    assert data["encoding"] == "BASE64"
    assert base64.b64decode(data["data"]).decode() == body


@pytest.mark.parametrize(
    "options", [{"InitialSamplingPercentage": 0}, {"EnableCapture": False}], ids=["0%", "disabled"]
)
def test_nothing_is_captured_at_zero_percent_or_when_disabled(
    hub: boto3.Session, options: dict[str, Any]
) -> None:
    smr = serve(hub, writer(hub), **options)
    smr.invoke_endpoint(
        EndpointName="ep", Body=csv_rows(features(4, rows=1)), ContentType="text/csv"
    )
    assert captured(hub) == {}


def test_a_role_that_may_not_write_loses_the_capture_and_the_log_says_why(
    hub: boto3.Session,
) -> None:
    role = service_role(hub, "reading-model", SAGEMAKER, "s3:GetObject", "s3:ListBucket")
    smr = serve(hub, role)

    answer = smr.invoke_endpoint(
        EndpointName="ep", Body=csv_rows(features(5, rows=1)), ContentType="text/csv"
    )

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert captured(hub) == {}
    log = server_of("ep").log.read_text()
    assert (
        "User: arn:aws:sts::123456789012:assumed-role/reading-model/SageMaker is not authorized "
        f"to perform: s3:PutObject on resource: arn:aws:s3:::{CAPTURE_BUCKET}/monitoring/"
    ) in log


def test_content_types_are_matched_without_their_parameters() -> None:
    assert capture.encoding("text/csv; charset=utf-8", HEADER) == "CSV"
    assert capture.encoding("Application/JSON", HEADER) == "JSON"
    assert capture.encoding("application/x-npy", HEADER) == "BASE64"
    assert capture.encoding("text/csv", {}) == "BASE64"  # no header listed: base64
    assert capture.modes({"CaptureOptions": [{"CaptureMode": "InputAndOutput"}]}) == {
        "INPUT",
        "OUTPUT",
    }
