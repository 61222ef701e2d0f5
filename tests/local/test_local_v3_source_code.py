"""SDK v3's script mode: a FrameworkProcessor's runproc.sh unpacks its source folder and
installs its requirements; ModelTrainer with SourceCode runs the SDK's own `sm_drivers` through
a ContainerEntrypoint (requirements installed, the toolkit's environment, the entry
script), and a model with an entry point gets the SDK's RepackModel step. Both run on the
sandbox with the container's real paths, and the repacked model serves its inference code,
for a CreateModel and a Transform with DataProcessing. The runner runs the pipeline, then the
sandbox's SageMaker API runs it again with its Fail step (joining the transform's output
path) taken."""

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
from local_kit import read, real_paths, run_through_api, sdk_definition

from mlops_seeds import aws
from mlops_seeds.local import run_definition
from mlops_seeds.local.record import SUCCEEDED
from mlops_seeds.sandbox.hosting import endpoints, sklearn_container
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

pytestmark = real_paths

PIPELINE = Path(__file__).parent / "pipelines" / "source_code" / "pipeline_v3.py"
BUCKET = "script-bucket"
ROLE_NAME = "ScriptRole"
ROLE = f"arn:aws:iam::123456789012:role/{ROLE_NAME}"
GROUP = "script-models"


def _definition(session: boto3.Session) -> dict[str, Any]:
    """The definition the SDK prints; it uploads the code and its drivers to the sandbox."""
    aws.client("s3", session).create_bucket(Bucket=BUCKET)
    env = {**os.environ, "SAGEMAKER_VALIDATE_ROLE": "false"}
    decoded: dict[str, Any] = sdk_definition(sys.executable, PIPELINE, [BUCKET, ROLE, GROUP], env)
    return decoded


def test_the_drivers_train_and_the_repacked_model_serves_its_inference_code(
    sandbox_session: boto3.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # requirements come from the image's packages
    definition = _definition(sandbox_session)
    s3 = aws.client("s3", sandbox_session)
    s3.put_object(Bucket=BUCKET, Key="train/rows.csv", Body=b"1,0\n2,0\n6,0\n")
    s3.put_object(Bucket=BUCKET, Key="score/part.csv", Body=b"7,1,2\n8,3,4\n")
    steps = {s["Name"]: s for s in definition["Steps"]}
    repacks = [n for n in steps if "RepackModel" in n]  # one for the package, one the model
    assert len(repacks) == 2
    assert all(
        steps[n]["Arguments"]["AlgorithmSpecification"]["ContainerEntrypoint"] for n in repacks
    )
    (repack,) = [n for n in repacks if n.startswith("RegisterScript")]

    work = tmp_path / "runs"
    record = run_definition(definition, session=sandbox_session, workdir=work, echo=print)
    logs = "\n".join(p.read_text() for p in sorted(work.rglob("std*.log")))
    assert record.status == SUCCEEDED, f"{record.failure_reason}\n{logs}"

    prepared = json.loads(read(sandbox_session, f"s3://{BUCKET}/prepared/seen.json"))
    assert prepared["cwd"] == "/opt/ml/processing/input/code"  # runproc.sh's cd
    assert prepared["prefix"].endswith("/Prepare/python")  # the step's own environment
    assert prepared["helper"] == "from the source folder"
    assert prepared["args"] == ["--flag", "on"]

    trained = record.step("TrainScript").properties["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(fileobj=io.BytesIO(read(sandbox_session, trained))) as archive:
        member = archive.extractfile("model.json")
        assert member is not None
        model = json.loads(member.read())
    assert model == {"mean": 6.0, "hyperparameters": {"scale": 2}}  # mean 3, scaled by 2

    repacked = record.step(repack).properties["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(fileobj=io.BytesIO(read(sandbox_session, repacked))) as archive:
        assert {"model.json", "code/inference.py"} <= set(archive.getnames())
        archive.extractall(tmp_path / "model", filter="data")
    sagemaker = aws.client("sagemaker", sandbox_session)
    (package,) = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)[
        "ModelPackageSummaryList"
    ]
    described = sagemaker.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    (container,) = described["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == repacked

    env = endpoints.local_environment(container["Environment"], tmp_path / "model", tmp_path)
    handler = sklearn_container.load(tmp_path / "model", env)
    reply = handler.invoke(b"1,2\n3,4\n", "text/csv", "application/json")
    assert json.loads(reply.body) == [6.0, 6.0]

    out = read(sandbox_session, f"s3://{BUCKET}/predictions/part.csv.out").decode()
    assert [line.split(",") for line in out.splitlines()] == [["7", "6.0"], ["8", "6.0"]]

    service_role(sandbox_session, ROLE_NAME, SAGEMAKER, "s3:*", "sagemaker:*", "iam:PassRole")
    described, run_steps = run_through_api(
        sandbox_session, definition, "ScriptPipeline", ROLE, {"Stop": "yes"}
    )
    assert described["PipelineExecutionStatus"] == "Failed"
    reason = f"stopped after s3://{BUCKET}/predictions"
    assert run_steps["Stopped"]["Metadata"] == {"Fail": {"ErrorMessage": reason}}
    assert sorted(run_steps) == sorted([*steps, "Stopped"])  # the Fail step is nested
    listed = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)
    assert len(listed["ModelPackageSummaryList"]) == 2  # one per run
