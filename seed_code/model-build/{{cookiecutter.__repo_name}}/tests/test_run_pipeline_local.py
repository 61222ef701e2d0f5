"""`run-pipeline --local` against moto: the whole pipeline on the shipped data, run on this
machine by mlops-seeds' local runner (skipped when mlops-seeds is not installed)."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipelines import run_pipeline
from pipelines.settings import FRAMEWORK, PROBLEM_TYPE
from tests.support import REPO, import_pipeline

BUCKET = "sagemaker-p-abc123-123456789012-us-east-1"
GROUP = "demo-p-abc123"
CONTRACT = {
    "SAGEMAKER_PROJECT_NAME": "demo",
    "SAGEMAKER_PROJECT_ID": "p-abc123",
    "ARTIFACT_BUCKET": BUCKET,
    "SAGEMAKER_PIPELINE_NAME": "demo-p-abc123",
    "SAGEMAKER_PIPELINE_ROLE_ARN": "arn:aws:iam::123456789012:role/PipelineRole",
    "MODEL_PACKAGE_GROUP_NAME": GROUP,
}
# What each framework's model archive holds.
MODEL_FILES = {
    "xgboost": ["xgboost-model"],
    "sklearn": ["code", "code/inference.py", "model.joblib"],
}


@pytest.fixture
def local_runner() -> None:
    """Skip unless mlops-seeds (which carries the local runner) is installed."""
    pytest.importorskip("mlops_seeds.local")


@pytest.fixture
def sandbox(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Moto with the artifact bucket and the model package group the project template makes."""
    for name, value in CONTRACT.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        sagemaker = boto3.client("sagemaker")
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        yield {"s3": s3, "sagemaker": sagemaker}


def packages(sagemaker: Any) -> list[dict[str, Any]]:
    """The group's model packages, described."""
    listed = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    return [sagemaker.describe_model_package(ModelPackageName=p["ModelPackageArn"]) for p in listed]


def s3_bytes(s3: Any, uri: str) -> bytes:
    """An object of the artifact bucket by its URI."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def s3_json(s3: Any, uri: str) -> Any:
    """A JSON object of the artifact bucket by its URI."""
    return json.loads(s3_bytes(s3, uri))


def test_local_run_registers_the_model_when_it_meets_the_threshold(
    local_runner: None, sandbox: dict[str, Any], tmp_path: Path
) -> None:
    record_path = tmp_path / "record.json"
    assert run_pipeline.main(["--local", "--record", str(record_path)]) == 0

    (package,) = packages(sandbox["sagemaker"])
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    gate = import_pipeline().GATE
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["S3Uri"].endswith("/evaluation.json")
    report = s3_json(sandbox["s3"], statistics["S3Uri"])
    section, name, _ = gate.json_path.split(".")
    value = report[section][name]["value"]
    threshold = gate.default_threshold
    assert value >= threshold if gate.higher_is_better else value <= threshold

    record = json.loads(record_path.read_text())
    assert record["status"] == "Succeeded"
    statuses = {step["name"]: step["status"] for step in record["steps"]}
    assert statuses["RegisterModel"] == "Succeeded"
    assert statuses["FailMetricThreshold"] == "Skipped"
    assert sandbox["sagemaker"].list_pipelines()["PipelineSummaries"] == []
    properties = {step["name"]: step["properties"] for step in record["steps"]}

    # The package's report is the evaluation step's, its model the training job's.
    evaluation = properties["EvaluateModel"]["PropertyFiles"]["EvaluationReport"]
    assert report == evaluation
    model_uri = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert model_uri == properties["TrainModel"]["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(fileobj=io.BytesIO(s3_bytes(sandbox["s3"], model_uri))) as archive:
        assert sorted(archive.getnames()) == MODEL_FILES[FRAMEWORK]

    # What the monitoring of its endpoints needs: the options it was built with, the
    # data-quality check's script and image, and the baseline of the training data.
    metadata = package["CustomerMetadataProperties"]
    assert (metadata["framework"], metadata["problem_type"]) == (FRAMEWORK, PROBLEM_TYPE)
    script = s3_bytes(sandbox["s3"], metadata["data_quality_script"])
    assert script == (REPO / "pipelines" / "scripts" / "data_quality.py").read_bytes()
    baseline = properties["BaselineDataQuality"]["AppSpecification"]["ImageUri"]
    assert metadata["data_quality_image"] == baseline
    data_quality = package["ModelMetrics"]["ModelDataQuality"]
    assert package["DriftCheckBaselines"]["ModelDataQuality"] == data_quality
    statistics = s3_json(sandbox["s3"], data_quality["Statistics"]["S3Uri"])
    constraints = s3_json(sandbox["s3"], data_quality["Constraints"]["S3Uri"])
    (train,) = [
        o
        for o in properties["PreprocessData"]["ProcessingOutputConfig"]["Outputs"]
        if o["OutputName"] == "train"
    ]
    rows = s3_bytes(sandbox["s3"], f"{train['S3Output']['S3Uri']}/train.csv").splitlines()
    features = [f"_c{i}" for i in range(len(rows[0].split(b",")) - 1)]  # not the target
    assert statistics["dataset"]["item_count"] == len(rows)
    assert [f["name"] for f in statistics["features"]] == features
    assert [f["name"] for f in constraints["features"]] == features


def test_local_run_stops_at_the_fail_step_when_the_threshold_cannot_be_met(
    local_runner: None, sandbox: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    gate = import_pipeline().GATE
    impossible = "1.01" if gate.higher_is_better else "-1"
    assert run_pipeline.main(["--local", "--parameter", f"{gate.parameter}={impossible}"]) == 1

    assert packages(sandbox["sagemaker"]) == []
    captured = capsys.readouterr()
    assert "execution Failed" in captured.out
    assert f"FailMetricThreshold: Test {gate.name}" in captured.err
    assert f"does not meet the threshold ({gate.rule}) {float(impossible)}" in captured.err


def test_local_run_refuses_an_unknown_parameter_before_uploading(
    local_runner: None, sandbox: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_pipeline.main(["--local", "--parameter", "NoSuchParameter=1"]) == 2
    assert sandbox["s3"].list_objects_v2(Bucket=BUCKET).get("Contents", []) == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "NoSuchParameter" in err[0]


def test_local_run_without_mlops_seeds_says_so_in_one_line(
    sandbox: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "mlops_seeds.local", None)  # import fails as if absent
    assert run_pipeline.main(["--local"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "mlops-seeds" in err[0]
    assert sandbox["s3"].list_objects_v2(Bucket=BUCKET).get("Contents", []) == []
