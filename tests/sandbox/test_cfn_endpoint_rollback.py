"""A stack update whose new endpoint config fails to serve: the Endpoint is UPDATE_FAILED,
the stack rolls back to UPDATE_ROLLBACK_COMPLETE, the endpoint keeps its old config and
serves the old model, and nothing the old stack holds is deleted (real model servers)."""

import io
import tarfile
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
import xgboost as xgb
from accounts import member_admin, model_role

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "seed_code/model-deploy/{{cookiecutter.__repo_name}}/endpoint-config-template.yml"
SPOKE = "444444444444"
GROUP = "churn-p-rollback"
BUCKET = "rollback-test-models"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"


def _model_archive() -> tuple[xgb.Booster, bytes]:
    x = np.random.default_rng(0).normal(size=(40, 4))
    booster = xgb.train(
        {"objective": "reg:squarederror", "seed": 0},
        xgb.DMatrix(x, label=x @ np.array([1.0, 2.0, 3.0, 4.0])),
        5,
    )
    data = bytes(booster.save_raw(raw_format="ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return booster, buffer.getvalue()


@pytest.fixture
def spoke(sandbox: Sandbox) -> boto3.Session:
    """The spoke's admin, with the endpoints' model execution role."""
    session = member_admin(SPOKE)
    model_role(session, "model-execution")
    return session


def _package(sagemaker: Any, url: str) -> str:
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": url}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    return arn


def _parameters(package: str) -> list[dict[str, str]]:
    values = {
        "SageMakerProjectName": "churn",
        "ModelExecutionRoleArn": f"arn:aws:iam::{SPOKE}:role/model-execution",
        "ModelPackageName": package,
        "StageName": "staging",
        "DataCaptureUploadPath": f"s3://{BUCKET}/datacapture",
    }
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def test_a_failed_endpoint_update_rolls_the_stack_back_and_keeps_the_old_model(
    spoke: boto3.Session,
) -> None:
    booster, archive = _model_archive()
    s3 = aws.client("s3", spoke)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="good/model.tar.gz", Body=archive)
    sagemaker = aws.client("sagemaker", spoke)
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    good = _package(sagemaker, f"s3://{BUCKET}/good/model.tar.gz")
    bad = _package(sagemaker, f"s3://{BUCKET}/missing/model.tar.gz")
    cfn = aws.client("cloudformation", spoke)
    body = TEMPLATE.read_text()
    cfn.create_stack(StackName="deploy-staging", TemplateBody=body, Parameters=_parameters(good))
    assert cfn.describe_stacks(StackName="deploy-staging")["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )
    config = sagemaker.describe_endpoint(EndpointName="churn-staging")["EndpointConfigName"]
    model = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0][
        "ModelName"
    ]

    cfn.update_stack(StackName="deploy-staging", TemplateBody=body, Parameters=_parameters(bad))

    stack = cfn.describe_stacks(StackName="deploy-staging")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="deploy-staging")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"].endswith("FAILED")]
    assert [(e["LogicalResourceId"], e["ResourceStatus"]) for e in failed] == [
        ("Endpoint", "UPDATE_FAILED")
    ]
    assert "endpoint churn-staging failed to update" in failed[0]["ResourceStatusReason"]
    assert "Could not find model data" in failed[0]["ResourceStatusReason"]
    statuses = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "deploy-staging"]
    assert statuses[:3] == [
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
    ]
    # The endpoint keeps its old config and model, which still exist; the update's are gone.
    endpoint = sagemaker.describe_endpoint(EndpointName="churn-staging")
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", config)
    configs = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    assert [c["EndpointConfigName"] for c in configs] == [config]
    assert [m["ModelName"] for m in sagemaker.list_models()["Models"]] == [model]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["ModelPackageName"] == good
    x = np.random.default_rng(9).normal(size=(2, 4))
    body_csv = "\n".join(",".join(str(v) for v in row) for row in x)
    answer = aws.client("sagemaker-runtime", spoke).invoke_endpoint(
        EndpointName="churn-staging", Body=body_csv, ContentType="text/csv"
    )
    values = [float(v) for v in answer["Body"].read().decode().split()]
    assert values == pytest.approx(booster.predict(xgb.DMatrix(x)).tolist())
