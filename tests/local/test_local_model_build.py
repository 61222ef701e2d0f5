"""The model-build seed's own pipeline, run end to end by the runner against moto's S3 and
SageMaker: each framework option registers a package with the model, its metrics and its
metadata. (The FailStep path runs in the seed's own tests of every combination, in the
sandbox's pipeline executions and in the rehearsal's metric-fails scenario.)"""

import io
import json
import tarfile

import boto3
import pytest
from local_kit import ModelBuildRepo, read

from mlops_seeds.local import run_definition
from mlops_seeds.local.record import SKIPPED, SUCCEEDED, ExecutionRecord

COMBOS = [("xgboost", "regression"), ("sklearn", "classification")]
METRICS = {  # the evaluation report's section and metric of each problem type
    "regression": ("regression_metrics", "rmse"),
    "classification": ("binary_classification_metrics", "accuracy"),
}
MODEL_FILES = {
    "xgboost": ["xgboost-model"],
    "sklearn": ["code", "code/inference.py", "model.joblib"],
}
STEPS = [
    "PreprocessData",
    "BaselineDataQuality",
    "TrainModel",
    "EvaluateModel",
    "CheckMetricThreshold",
    "RegisterModel",
    "FailMetricThreshold",
]


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
    metadata = package["CustomerMetadataProperties"]
    assert (metadata["framework"], metadata["problem_type"]) == (
        model_build.framework,
        model_build.problem_type,
    )
    script = read(sandbox_session, metadata["data_quality_script"])
    assert script == (model_build.scripts / "data_quality.py").read_bytes()
    baseline = record.step("BaselineDataQuality").properties["AppSpecification"]["ImageUri"]
    assert metadata["data_quality_image"] == baseline
    model_uri = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert model_uri == record.step("TrainModel").properties["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(fileobj=io.BytesIO(read(sandbox_session, model_uri))) as archive:
        assert sorted(archive.getnames()) == MODEL_FILES[model_build.framework]

    section, metric = METRICS[model_build.problem_type]
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]
    report = json.loads(read(sandbox_session, statistics["S3Uri"]))
    evaluation = record.step("EvaluateModel").properties["PropertyFiles"]["EvaluationReport"]
    assert report == evaluation
    assert report[section][metric]["value"] > 0

    data_quality = package["ModelMetrics"]["ModelDataQuality"]
    assert package["DriftCheckBaselines"]["ModelDataQuality"] == data_quality
    statistics = json.loads(read(sandbox_session, data_quality["Statistics"]["S3Uri"]))
    constraints = json.loads(read(sandbox_session, data_quality["Constraints"]["S3Uri"]))
    train_rows = read(sandbox_session, train_split(record)).decode().splitlines()
    features = len(train_rows[0].split(",")) - 1  # the target is not a feature
    assert statistics["dataset"]["item_count"] == len(train_rows)
    assert [f["name"] for f in statistics["features"]] == [f"_c{i}" for i in range(features)]
    assert [f["name"] for f in constraints["features"]] == [f"_c{i}" for i in range(features)]


def train_split(record: ExecutionRecord) -> str:
    """The URI of the train split's CSV file."""
    outputs = record.step("PreprocessData").properties["ProcessingOutputConfig"]["Outputs"]
    (train,) = [o for o in outputs if o["OutputName"] == "train"]
    return f"{train['S3Output']['S3Uri']}/train.csv"
