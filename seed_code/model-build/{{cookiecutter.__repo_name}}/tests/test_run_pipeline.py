"""`run-pipeline` against moto: uploads, upsert with project tags, start, exit status."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipelines import run_pipeline
from pipelines.code import scripts_digest, training_files
from pipelines.settings import DATASET, SCRIPTS_DIR

BUCKET = "sagemaker-p-abc123-123456789012-us-east-1"
PIPELINE = "demo-p-abc123"
CONTRACT = {
    "SAGEMAKER_PROJECT_NAME": "demo",
    "SAGEMAKER_PROJECT_ID": "p-abc123",
    "SAGEMAKER_PROJECT_ARN": "arn:aws:sagemaker:us-east-1:123456789012:project/demo",
    "ARTIFACT_BUCKET": BUCKET,
    "SAGEMAKER_PIPELINE_NAME": PIPELINE,
    "SAGEMAKER_PIPELINE_ROLE_ARN": "arn:aws:iam::123456789012:role/PipelineRole",
    "MODEL_PACKAGE_GROUP_NAME": "demo-p-abc123",
}


@pytest.fixture
def sandbox(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Moto with the artifact bucket, and the buildspec's environment contract."""
    for name, value in CONTRACT.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        yield {"s3": s3, "sagemaker": boto3.client("sagemaker")}


def keys(s3: Any, prefix: str) -> set[str]:
    """Object keys under a prefix of the artifact bucket."""
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"] for o in listed}


def body(s3: Any, key: str) -> bytes:
    """One object of the artifact bucket."""
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_uploads_upserts_with_project_tags_and_starts(
    sandbox: dict[str, Any], no_network: list[Any]
) -> None:
    assert run_pipeline.main([]) == 0
    s3, sm = sandbox["s3"], sandbox["sagemaker"]

    code = f"{PIPELINE}/code/{scripts_digest()}"
    assert keys(s3, code) == {
        f"{code}/{n}"
        for n in ("preprocess.py", "evaluate.py", "data_quality.py", "sourcedir.tar.gz")
    }
    assert body(s3, f"{code}/preprocess.py") == (SCRIPTS_DIR / "preprocess.py").read_bytes()
    with tarfile.open(fileobj=io.BytesIO(body(s3, f"{code}/sourcedir.tar.gz"))) as archive:
        assert sorted(archive.getnames()) == [p.name for p in training_files()]
    assert body(s3, f"{PIPELINE}/input/{DATASET.name}") == DATASET.read_bytes()

    described = sm.describe_pipeline(PipelineName=PIPELINE)
    assert described["RoleArn"] == CONTRACT["SAGEMAKER_PIPELINE_ROLE_ARN"]
    assert CONTRACT["SAGEMAKER_PROJECT_ARN"] in described["PipelineDescription"]
    definition = json.loads(described["PipelineDefinition"])
    assert (
        definition["Parameters"][0]["DefaultValue"]
        == f"s3://{BUCKET}/{PIPELINE}/input/{DATASET.name}"
    )
    assert f"s3://{BUCKET}/{code}/preprocess.py" in described["PipelineDefinition"]

    tags = sm.list_tags(ResourceArn=described["PipelineArn"])["Tags"]
    assert {"Key": "sagemaker:project-name", "Value": "demo"} in tags
    assert {"Key": "sagemaker:project-id", "Value": "p-abc123"} in tags
    executions = sm.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]
    assert len(executions) == 1
    assert no_network == []


def test_a_second_run_updates_the_same_pipeline(sandbox: dict[str, Any]) -> None:
    assert run_pipeline.main([]) == 0
    assert run_pipeline.main(["--parameter", "ProcessingInstanceType=ml.m5.large"]) == 0
    sm = sandbox["sagemaker"]
    assert [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]] == [PIPELINE]
    executions = sm.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]
    assert len(executions) == 2
    arn = sm.describe_pipeline(PipelineName=PIPELINE)["PipelineArn"]
    tag_keys = {t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
    assert {"sagemaker:project-name", "sagemaker:project-id"} <= tag_keys
    parameters = {
        e["PipelineExecutionArn"]: sm.list_pipeline_parameters_for_execution(
            PipelineExecutionArn=e["PipelineExecutionArn"]
        ).get("PipelineParameters", [])
        for e in executions
    }
    assert [{"Name": "ProcessingInstanceType", "Value": "ml.m5.large"}] in parameters.values()


def test_a_given_input_uri_is_used_and_nothing_is_uploaded_there(sandbox: dict[str, Any]) -> None:
    given = "s3://someone-elses-bucket/data/"
    assert run_pipeline.main(["--input-data-uri", given]) == 0
    s3, sm = sandbox["s3"], sandbox["sagemaker"]
    assert keys(s3, f"{PIPELINE}/input/") == set()
    definition = json.loads(sm.describe_pipeline(PipelineName=PIPELINE)["PipelineDefinition"])
    assert definition["Parameters"][0] == {
        "Name": "InputDataUrl",
        "Type": "String",
        "DefaultValue": given,
    }


def test_without_a_role_it_fails_with_one_line(
    sandbox: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SAGEMAKER_PIPELINE_ROLE_ARN")
    assert run_pipeline.main([]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "SAGEMAKER_PIPELINE_ROLE_ARN" in err[0]
    assert sandbox["sagemaker"].list_pipelines()["PipelineSummaries"] == []


def test_a_bad_parameter_is_refused_before_anything_is_uploaded(sandbox: dict[str, Any]) -> None:
    assert run_pipeline.main(["--parameter", "no-equals-sign"]) == 1
    assert keys(sandbox["s3"], "") == set()


class ScriptedClient:
    """Answers describe/list calls from a script of (execution status, step statuses)."""

    def __init__(self, script: list[tuple[str, dict[str, str]]]) -> None:
        self.script = script
        self.calls = 0

    def describe_pipeline_execution(self, **kwargs: str) -> dict[str, Any]:
        self.calls += 1
        return {"PipelineExecutionStatus": self.script[self.calls - 1][0]}

    def get_paginator(self, name: str) -> Any:
        steps = self.script[self.calls - 1][1]
        page = {
            "PipelineExecutionSteps": [{"StepName": n, "StepStatus": s} for n, s in steps.items()]
        }
        return type("Paginator", (), {"paginate": lambda self, **kwargs: [page]})()


def test_wait_prints_step_changes_until_a_final_status(capsys: pytest.CaptureFixture[str]) -> None:
    client = ScriptedClient(
        [
            ("Executing", {"PreprocessData": "Executing"}),
            ("Executing", {"PreprocessData": "Executing"}),
            ("Executing", {"PreprocessData": "Succeeded", "TrainModel": "Executing"}),
            ("Failed", {"PreprocessData": "Succeeded", "TrainModel": "Failed"}),
        ]
    )
    sleeps: list[float] = []
    assert run_pipeline.wait(client, "arn", poll_seconds=3, sleep=sleeps.append) == "Failed"
    assert sleeps == [1, 1, 1]  # a second while the wait is short
    assert capsys.readouterr().out.splitlines() == [
        "  PreprocessData: Executing",
        "  PreprocessData: Succeeded",
        "  TrainModel: Executing",
        "  TrainModel: Failed",
    ]


def test_wait_pauses_a_tenth_of_the_time_waited_up_to_poll_seconds() -> None:
    client = ScriptedClient([("Executing", {})] * 60 + [("Succeeded", {})])
    sleeps: list[float] = []
    assert run_pipeline.wait(client, "arn", poll_seconds=30, sleep=sleeps.append) == "Succeeded"
    assert sleeps[:10] == [1] * 10
    assert sleeps[10:13] == pytest.approx([1.0, 1.1, 1.21])
    assert sleeps[-1] == 30
    # Each pause ends within a tenth (or a second) of the time waited before it.
    for index, pause in enumerate(sleeps):
        assert pause <= max(1, sum(sleeps[:index]) / 10) + 1e-9


def test_wait_exits_non_zero_when_the_execution_fails(
    sandbox: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run_pipeline, "wait", lambda client, arn, poll_seconds: "Failed")
    assert run_pipeline.main(["--wait"]) == 1
    assert "execution Failed" in capsys.readouterr().out
