"""Steps that reach AWS, against the sandbox server: S3 inputs and outputs, RegisterModel
(into an existing or a new group), CreateModel, and execution variables that need the account."""

from pathlib import Path
from typing import Any

import boto3
from local_kit import ROLE, SKLEARN_IMAGE, Kit

from mlops_seeds.local import run_definition
from mlops_seeds.local.record import SUCCEEDED

COUNT = """
import pathlib, sys
files = pathlib.Path("/opt/ml/processing/in").rglob("*.csv")
rows = sum(len(p.read_text().splitlines()) for p in files)
out = pathlib.Path("/opt/ml/processing/out")
(out / "count.txt").write_text(str(rows))
(out / "deep").mkdir()
(out / "deep" / "arn.txt").write_text(sys.argv[1])
"""


def aws_definition(kit: Kit) -> dict[str, Any]:
    count = kit.processing(
        "Count",
        kit.script("count.py", COUNT),
        inputs={"rows": ("s3://bucket/data/", "/opt/ml/processing/in")},
        outputs={
            "out": (
                {
                    "Std:Join": {
                        "On": "/",
                        "Values": ["s3://bucket/runs", {"Get": "Execution.PipelineExecutionId"}],
                    }
                },
                "/opt/ml/processing/out",
            )
        },
        arguments=[{"Get": "Execution.PipelineExecutionArn"}],
    )
    out_uri = {"Get": "Steps.Count.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}
    model_data = {"Std:Join": {"On": "/", "Values": [out_uri, "count.txt"]}}
    register = {
        "Name": "Register",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": {"Get": "Parameters.Group"},
            "InferenceSpecification": {
                "Containers": [
                    {"Image": SKLEARN_IMAGE, "Environment": {}, "ModelDataUrl": model_data}
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {"ContentType": "application/json", "S3Uri": model_data}
                },
                "Bias": {},
            },
            "ModelApprovalStatus": "Approved",
            "CustomerMetadataProperties": {"origin": "local"},
            "SkipModelValidation": "None",
            "NotAnApiField": "dropped",
        },
    }
    create = {
        "Name": "CreateModel",
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"Image": SKLEARN_IMAGE, "ModelDataUrl": model_data},
        },
    }
    parameters = [{"Name": "Group", "Type": "String", "DefaultValue": "existing-group"}]
    return kit.definition([count, register, create], parameters)


def prepare(session: boto3.Session) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="data/a.csv", Body=b"1\n2\n")
    s3.put_object(Bucket="bucket", Key="data/more/b.csv", Body=b"3\n")
    s3.put_object(Bucket="bucket", Key="elsewhere/c.csv", Body=b"4\n")
    session.client("sagemaker").create_model_package_group(ModelPackageGroupName="existing-group")


def text(session: boto3.Session, key: str) -> str:
    body = session.client("s3").get_object(Bucket="bucket", Key=key)["Body"].read()
    return str(body.decode())


def test_s3_inputs_outputs_register_and_create_model(
    kit: Kit, sandbox_session: boto3.Session
) -> None:
    prepare(sandbox_session)
    record = run_definition(aws_definition(kit), session=sandbox_session, pipeline_name="demo")
    assert record.status == SUCCEEDED, record.failure_reason

    run = record.execution_id
    assert text(sandbox_session, f"runs/{run}/count.txt") == "3"
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/demo/execution/{run}"
    assert text(sandbox_session, f"runs/{run}/deep/arn.txt") == arn
    assert record.step("Count").outputs == {"out": f"s3://bucket/runs/{run}"}

    sagemaker = sandbox_session.client("sagemaker")
    (package,) = sagemaker.list_model_packages(ModelPackageGroupName="existing-group")[
        "ModelPackageSummaryList"
    ]
    described = sagemaker.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["CustomerMetadataProperties"] == {"origin": "local"}
    statistics = described["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["S3Uri"] == f"s3://bucket/runs/{run}/count.txt"
    container = described["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == f"s3://bucket/runs/{run}/count.txt"
    assert record.step("Register").properties["ModelPackageArn"] == package["ModelPackageArn"]

    model_name = record.step("CreateModel").properties["ModelName"]
    assert model_name == record.step("CreateModel").job_name
    model = sagemaker.describe_model(ModelName=model_name)
    assert model["PrimaryContainer"]["ModelDataUrl"] == f"s3://bucket/runs/{run}/count.txt"


def test_register_creates_a_missing_group(kit: Kit, sandbox_session: boto3.Session) -> None:
    prepare(sandbox_session)
    record = run_definition(
        aws_definition(kit), {"Group": "new-group"}, session=sandbox_session, echo=lambda _: None
    )
    assert record.status == SUCCEEDED, record.failure_reason
    sagemaker = sandbox_session.client("sagemaker")
    packages = sagemaker.list_model_packages(ModelPackageGroupName="new-group")
    assert len(packages["ModelPackageSummaryList"]) == 1


def test_a_missing_bucket_fails_the_step_with_the_service_error(
    kit: Kit, sandbox_session: boto3.Session, tmp_path: Path
) -> None:
    record = run_definition(aws_definition(kit), session=sandbox_session, echo=lambda _: None)
    assert record.status == "Failed"
    assert "NoSuchBucket" in (record.step("Count").failure_reason or "")
    assert record.step("Register").status == "NotStarted"


def test_outputs_are_written_under_the_key_the_job_names(
    kit: Kit, sandbox_session: boto3.Session
) -> None:
    """ProcessingOutputConfig.KmsKeyId: every output is written under that key (SSE-KMS),
    and S3 names the key's ARN."""
    prepare(sandbox_session)
    key = sandbox_session.client("kms").create_key()["KeyMetadata"]["Arn"]
    definition = aws_definition(kit)
    count = definition["Steps"][0]
    count["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"] = key
    definition["Steps"] = [count]
    record = run_definition(definition, session=sandbox_session, echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason
    run = record.execution_id
    head = sandbox_session.client("s3").head_object(Bucket="bucket", Key=f"runs/{run}/count.txt")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)
