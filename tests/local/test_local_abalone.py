"""AWS's default Studio template's pipeline shape (abalone), written with SDK v3: scikit-learn
preprocessing, the built-in XGBoost algorithm, an evaluation on the XGBoost image, a
condition and a registration. It runs end to end on the sandbox, through the runner and
through the sandbox's SageMaker API."""

import io
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from accounts import service_role
from local_kit import read, run_through_api, sdk_definition

from mlops_seeds import aws
from mlops_seeds.local import run_definition
from mlops_seeds.local.record import SUCCEEDED
from mlops_seeds.sandbox.hosting import xgboost_container
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

PIPELINE = Path(__file__).parent / "pipelines" / "abalone"
sys.path.insert(0, str(PIPELINE))
from dataset import abalone_csv  # noqa: E402

BUCKET = "abalone-bucket"
ACCOUNT = "123456789012"
ROLE_NAME = "AbalonePipelineRole"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
GROUP = "abalone-models"
STEPS = [
    "PreprocessAbaloneData",
    "TrainAbaloneModel",
    "EvaluateAbaloneModel",
    "CheckMseAbaloneEvaluation",
    "RegisterAbaloneModel",
]


@pytest.fixture(scope="module", params=["v3", "v2"])
def sdk(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The SDK major version and the Python that has it."""
    version = str(request.param)
    python = sys.executable if version == "v3" else request.getfixturevalue("sdk_v2_python")
    return version, python


@pytest.fixture(scope="module")
def definition(sdk: tuple[str, str]) -> dict[str, Any]:
    """The pipeline's definition, printed by the SDK in its own process (offline)."""
    version, python = sdk
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        SAGEMAKER_VALIDATE_ROLE="false",
        SAGEMAKER_SUPPRESS_V2_WARNING="1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="offline",
        AWS_SECRET_ACCESS_KEY="offline",
    )
    script = PIPELINE / f"pipeline_{version}.py"
    decoded: dict[str, Any] = sdk_definition(python, script, [BUCKET, ROLE, GROUP], env)
    return decoded


def steps_of(definition: dict[str, Any]) -> list[str]:
    """The steps a passing run runs: the template's (v2 names the registration
    `<name>-RegisterModel`)."""
    register = [
        step["Name"]
        for outer in definition["Steps"]
        for step in outer.get("Arguments", {}).get("IfSteps", [])
    ]
    assert len(register) == 1 and register[0].startswith("RegisterAbaloneModel")
    return [*STEPS[:-1], register[0]]


def upload(session: boto3.Session) -> None:
    """The bucket, the two scripts and the dataset where the definition reads them."""
    s3 = aws.client("s3", session)
    s3.create_bucket(Bucket=BUCKET)
    for name in ("preprocess.py", "evaluate.py"):
        s3.put_object(
            Bucket=BUCKET, Key=f"abalone/code/{name}", Body=(PIPELINE / name).read_bytes()
        )
    s3.put_object(Bucket=BUCKET, Key="abalone/data/abalone.csv", Body=abalone_csv().encode())


# One full run per SDK v2 definition (CI time): the API test runs it.
@pytest.mark.parametrize("sdk", ["v3"], indirect=True)
def test_the_runner_trains_evaluates_and_registers_the_built_in_xgboost_model(
    definition: dict[str, Any], sandbox_session: boto3.Session, tmp_path: Path
) -> None:
    upload(sandbox_session)
    record = run_definition(definition, session=sandbox_session, echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason
    assert [s.name for s in record.steps if s.status == SUCCEEDED] == steps_of(definition)

    train = record.step("TrainAbaloneModel").properties
    assert train["HyperParameters"]["num_round"] == "50"
    assert {m["MetricName"] for m in train["FinalMetricDataList"]} == {
        "train:rmse",
        "validation:rmse",
    }
    model_uri = train["ModelArtifacts"]["S3ModelArtifacts"]
    sagemaker = aws.client("sagemaker", sandbox_session)
    (package,) = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)[
        "ModelPackageSummaryList"
    ]
    described = sagemaker.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    (container,) = described["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == model_uri
    assert container["Image"].endswith("/sagemaker-xgboost:1.7-1")

    evaluation = record.step("EvaluateAbaloneModel").properties
    report_uri = evaluation["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    mse = json.loads(read(sandbox_session, f"{report_uri}/evaluation.json"))
    assert mse["regression_metrics"]["mse"]["value"] <= 6.0

    # The registered model data is what the built-in algorithm's server serves.
    with tarfile.open(fileobj=io.BytesIO(read(sandbox_session, model_uri))) as archive:
        archive.extractall(tmp_path / "model", filter="data")
    handler = xgboost_container.load(tmp_path / "model", {})
    row = "1,0,0,0.5,0.4,0.1,0.3,0.1"  # one-hot sex and five scaled measures
    reply = handler.invoke(row.encode(), "text/csv", "text/csv")
    assert 1 <= float(reply.body) <= 29


def test_the_sandboxs_sagemaker_api_runs_it_to_the_same_end(
    definition: dict[str, Any], sandbox_session: boto3.Session
) -> None:
    upload(sandbox_session)
    service_role(sandbox_session, ROLE_NAME, SAGEMAKER, "s3:*", "sagemaker:*", "iam:PassRole")
    described, steps = run_through_api(sandbox_session, definition, "AbalonePipeline", ROLE)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    assert sorted(steps) == sorted(steps_of(definition))
    sagemaker = aws.client("sagemaker", sandbox_session)
    packages = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert len(packages) == 1
