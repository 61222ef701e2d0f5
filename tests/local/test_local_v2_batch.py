"""Batch inference as SDK v2 builds it, on the sandbox: a FrameworkProcessor (its runproc.sh
unpacks the source folder and installs its requirements), an SKLearn script-mode estimator
whose script imports the training toolkit under its former name, a RegisterModel whose
model has an entry point (the SDK's RepackModel step runs its
`_repack_script_launcher.sh`), a CreateModel, a Transform with DataProcessing, and a Fail
step joining the transform's output path. The runner runs it, then the sandbox's SageMaker
API runs it again with the Fail branch taken."""

import io
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

import boto3
import joblib
import numpy as np
import pytest
from accounts import service_role
from local_kit import read, real_paths, run_through_api, sdk_definition

from mlops_seeds import aws
from mlops_seeds.local import run_definition
from mlops_seeds.local.record import SUCCEEDED
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

pytestmark = real_paths

PIPELINE = Path(__file__).parent / "pipelines" / "v2_batch" / "pipeline_v2.py"
BUCKET = "batch-bucket"
ROLE_NAME = "BatchRole"
ROLE = f"arn:aws:iam::123456789012:role/{ROLE_NAME}"
GROUP = "batch-models"


def _csv(rows: np.ndarray) -> bytes:
    return "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in rows).encode()


@pytest.fixture
def definition(
    sandbox_session: boto3.Session, sdk_v2_python: str, tmp_path: Path
) -> dict[str, Any]:
    """The data in the sandbox, and the definition SDK v2 prints (uploading the code). It
    runs on a copy: SDK v2 writes its repack scripts into the model's source folder."""
    pipeline = Path(shutil.copytree(PIPELINE.parent, tmp_path / "pipeline")) / PIPELINE.name
    s3 = aws.client("s3", sandbox_session)
    s3.create_bucket(Bucket=BUCKET)
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (40, 2))
    raw = np.column_stack([x, 3 * x[:, 0] - x[:, 1] + 1])  # label last: Prepare moves it
    s3.put_object(Bucket=BUCKET, Key="batch/raw/raw.csv", Body=_csv(raw))
    score = np.column_stack([np.arange(100, 105), rng.uniform(0, 1, (5, 2))])
    s3.put_object(Bucket=BUCKET, Key="batch/score/part.csv", Body=_csv(score))
    env = {**os.environ, "SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    decoded: dict[str, Any] = sdk_definition(sdk_v2_python, pipeline, [BUCKET, ROLE, GROUP], env)
    return decoded


def test_prepare_train_register_create_and_transform_as_v2_builds_them(
    definition: dict[str, Any],
    sandbox_session: boto3.Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # requirements come from the image's packages
    repack = next(s for s in definition["Steps"] if s["Name"].endswith("RepackModel"))
    launcher = json.loads(repack["Arguments"]["HyperParameters"]["sagemaker_program"])
    assert launcher == "_repack_script_launcher.sh"

    work = tmp_path / "runs"
    record = run_definition(definition, session=sandbox_session, workdir=work, echo=print)
    logs = "\n".join(p.read_text() for p in sorted(work.rglob("std*.log")))
    assert record.status == SUCCEEDED, f"{record.failure_reason}\n{logs}"
    seen = json.loads(read(sandbox_session, f"s3://{BUCKET}/batch/seen/seen.json"))
    assert seen["cwd"] == "/opt/ml/processing/input/code"  # runproc.sh's cd
    assert seen["prefix"].endswith("/Prepare/python")  # the step's own environment

    repacked = record.step(repack["Name"]).properties["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(fileobj=io.BytesIO(read(sandbox_session, repacked))) as archive:
        assert {"model.joblib", "code/inference.py"} <= set(archive.getnames())
        archive.extractall(tmp_path / "model", filter="data")
    sagemaker = aws.client("sagemaker", sandbox_session)
    (package,) = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)[
        "ModelPackageSummaryList"
    ]
    described = sagemaker.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    assert described["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == repacked

    model = joblib.load(tmp_path / "model" / "model.joblib")
    score = np.loadtxt(
        io.BytesIO(read(sandbox_session, f"s3://{BUCKET}/batch/score/part.csv")), delimiter=","
    )
    out = read(sandbox_session, f"s3://{BUCKET}/batch/predictions/part.csv.out").decode()
    rows = [line.split(",") for line in out.splitlines()]
    assert [int(float(r[0])) for r in rows] == list(range(100, 105))  # joined ids
    assert np.allclose([float(r[1]) for r in rows], model.predict(score[:, 1:]), atol=1e-6)

    service_role(sandbox_session, ROLE_NAME, SAGEMAKER, "s3:*", "sagemaker:*", "iam:PassRole")
    described, steps = run_through_api(
        sandbox_session, definition, "BatchPipeline", ROLE, {"Stop": "yes"}
    )
    assert described["PipelineExecutionStatus"] == "Failed"
    reason = f"stopped after s3://{BUCKET}/batch/predictions"
    assert steps["Stopped"]["Metadata"] == {"Fail": {"ErrorMessage": reason}}
    assert steps["StopHere"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert steps["Score"]["Metadata"]["TransformJob"]["Arn"].startswith(
        "arn:aws:sagemaker:us-east-1:123456789012:transform-job/pipelines-"
    )
    packages = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)
    assert len(packages["ModelPackageSummaryList"]) == 2  # one per run
    again = read(sandbox_session, f"s3://{BUCKET}/batch/predictions/part.csv.out").decode()
    assert again == out
