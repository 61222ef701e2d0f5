"""The model-build seed's own pipeline, run end to end by the runner against moto's S3 and
SageMaker: each framework option, registered when the metric meets the threshold and
stopped by the FailStep when it does not."""

import io
import json
import tarfile

import boto3
import pytest
from local_kit import ModelBuildRepo

from mlops_seeds.local import run_definition
from mlops_seeds.local.record import FAILED, SKIPPED, SUCCEEDED

COMBOS = [("xgboost", "regression"), ("sklearn", "classification")]
GATES = {
    "regression": ("RmseThreshold", "regression_metrics", "rmse", "-1"),
    "classification": ("AccuracyThreshold", "binary_classification_metrics", "accuracy", "1.01"),
}
MODEL_FILES = {
    "xgboost": ["xgboost-model"],
    "sklearn": ["code", "code/inference.py", "model.joblib"],
}
STEPS = [
    "PreprocessData",
    "TrainModel",
    "EvaluateModel",
    "CheckMetricThreshold",
    "RegisterModel",
    "FailMetricThreshold",
]


def read(session: boto3.Session, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bytes(session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.mark.parametrize("model_build", COMBOS, indirect=True, ids=["-".join(c) for c in COMBOS])
def test_the_pipeline_registers_a_model_that_meets_the_threshold(
    model_build: ModelBuildRepo, sandbox_session: boto3.Session
) -> None:
    model_build.upload(sandbox_session)
    sandbox_session.client("sagemaker").create_model_package_group(
        ModelPackageGroupName=model_build.group
    )
    record = run_definition(model_build.definition, session=sandbox_session, echo=lambda _: None)

    assert record.status == SUCCEEDED, record.failure_reason
    assert [s.name for s in record.steps] == STEPS
    assert record.step("FailMetricThreshold").status == SKIPPED
    sagemaker = sandbox_session.client("sagemaker")
    (summary,) = sagemaker.list_model_packages(ModelPackageGroupName=model_build.group)[
        "ModelPackageSummaryList"
    ]
    package = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["CustomerMetadataProperties"] == {
        "framework": model_build.framework,
        "problem_type": model_build.problem_type,
    }
    model_uri = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert model_uri == record.step("TrainModel").properties["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(fileobj=io.BytesIO(read(sandbox_session, model_uri))) as archive:
        assert sorted(archive.getnames()) == MODEL_FILES[model_build.framework]

    _, section, metric, _ = GATES[model_build.problem_type]
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]
    report = json.loads(read(sandbox_session, statistics["S3Uri"]))
    evaluation = record.step("EvaluateModel").properties["PropertyFiles"]["EvaluationReport"]
    assert report == evaluation
    assert report[section][metric]["value"] > 0


@pytest.mark.parametrize("model_build", COMBOS[:1], indirect=True, ids=["-".join(COMBOS[0])])
def test_a_threshold_the_model_cannot_meet_stops_the_pipeline_at_the_fail_step(
    model_build: ModelBuildRepo, sandbox_session: boto3.Session
) -> None:
    model_build.upload(sandbox_session)
    parameter, section, metric, impossible = GATES[model_build.problem_type]
    record = run_definition(
        model_build.definition,
        {parameter: impossible},
        session=sandbox_session,
        echo=lambda _: None,
    )

    assert record.status == FAILED
    assert record.step("RegisterModel").status == SKIPPED
    fail = record.step("FailMetricThreshold")
    assert fail.status == FAILED
    value = record.step("EvaluateModel").properties["PropertyFiles"]["EvaluationReport"][section][
        metric
    ]["value"]
    assert fail.failure_reason == (
        f"Test RMSE {value} does not meet the threshold (<=) {float(impossible)}"
    )
    groups = sandbox_session.client("sagemaker").list_model_package_groups()
    assert groups["ModelPackageGroupSummaryList"] == []
