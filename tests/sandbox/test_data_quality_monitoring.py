"""The monitoring half of the retraining loop, played by the sandbox with the seeds' own
parts: the deploy seed's endpoint template with monitoring on makes the endpoint capture
its requests and a SageMaker pipeline that runs the model-build seed's data_quality.py
against the package's baseline, publishing Model Monitor's drift metrics as the model's
role. Traffic like the training data gives no violation; shifted traffic gives drift
violations, drift metrics and the stack's drift alarm in ALARM; a role that may not
publish, or under which SageMaker may not create the check's job, fails the check with
AWS's line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from test_cloudwatch_alarms import tick_then_hold
from test_hosting import (
    SKLEARN_IMAGE,
    XGBOOST_IMAGE,
    csv_rows,
    features,
    train_xgboost,
    xgboost_archive,
)

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "seed_code/model-deploy/{{cookiecutter.__repo_name}}/endpoint-config-template.yml"
SCRIPT = (
    ROOT / "seed_code/model-build/{{cookiecutter.__repo_name}}/pipelines/scripts/data_quality.py"
)
BUCKET = "sagemaker-monitoring-test"
ACCOUNT = "123456789012"
ROLE_NAME = "model-execution"
PIPELINE = "churn-prod-data-quality"
NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"


def role_policy(publish: bool = True, jobs: bool = True) -> dict[str, Any]:
    """As the project's model role allows: the bucket, the check's job (SageMaker creates it
    as the pipeline's role, passing the role to it) and the data-quality metrics."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        }
    ]
    if jobs:
        statements += [
            {
                "Effect": "Allow",
                "Action": "sagemaker:CreateProcessingJob",
                "Resource": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:processing-job/*",
            },
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}",
                "Condition": {"StringEquals": {"iam:PassedToService": SAGEMAKER}},
            },
        ]
    if publish:
        statements.append(
            {
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringLike": {"cloudwatch:namespace": "aws/sagemaker/*"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def set_role_policy(session: boto3.Session, publish: bool = True, jobs: bool = True) -> None:
    aws.client("iam", session).put_role_policy(
        RoleName=ROLE_NAME,
        PolicyName="host",
        PolicyDocument=json.dumps(role_policy(publish, jobs)),
    )


@pytest.fixture
def hub(sandbox: Sandbox, tmp_path: Path) -> boto3.Session:
    """The model role, the bucket, the script, a baseline of the training features and an
    approved package of a model trained on them."""
    session = aws.make_session()
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": SAGEMAKER}, "Action": "sts:AssumeRole"}
        ],
    }
    aws.client("iam", session).create_role(
        RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust)
    )
    set_role_policy(session)
    s3 = aws.client("s3", session)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="code/data_quality.py", Body=SCRIPT.read_bytes())
    training = tmp_path / "train"
    training.mkdir()
    (training / "train.csv").write_text(csv_rows(features(0, rows=300)))
    subprocess.run(
        [sys.executable, str(SCRIPT), "baseline", "--input-dir", str(training),
         "--output-dir", str(tmp_path / "baseline")],
        check=True, capture_output=True,
    )  # fmt: skip
    for name in ("statistics.json", "constraints.json"):
        s3.put_object(
            Bucket=BUCKET, Key=f"baseline/{name}", Body=(tmp_path / "baseline" / name).read_bytes()
        )
    s3.put_object(Bucket=BUCKET, Key="model.tar.gz", Body=xgboost_archive(train_xgboost(0)))
    return session


def deploy(session: boto3.Session) -> dict[str, str]:
    sagemaker = aws.client("sagemaker", session)
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    package = sagemaker.create_model_package(
        ModelPackageGroupName="churn",
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    values = {
        "SageMakerProjectName": "churn",
        "ModelExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}",
        "ModelPackageName": package,
        "StageName": "prod",
        "DataCaptureUploadPath": f"s3://{BUCKET}/datacapture/prod/1",
        "EnableMonitoring": "true",
        "DataQualityBaselineUri": f"s3://{BUCKET}/baseline",
        "DataQualityScriptUri": f"s3://{BUCKET}/code/data_quality.py",
        "DataQualityImageUri": SKLEARN_IMAGE,
        "MonitoringReportsUri": f"s3://{BUCKET}/monitoring/prod",
        "DriftAlarmPeriodSeconds": "60",  # the check's minute ends at the next evaluation
    }
    cloudformation = aws.client("cloudformation", session)
    cloudformation.create_stack(
        StackName="deploy-prod",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
    )
    stack = cloudformation.describe_stacks(StackName="deploy-prod")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def send(session: boto3.Session, rows: np.ndarray, per_request: int = 20) -> None:
    runtime = aws.client("sagemaker-runtime", session)
    for start in range(0, len(rows), per_request):
        runtime.invoke_endpoint(
            EndpointName="churn-prod",
            Body=csv_rows(rows[start : start + per_request]),
            ContentType="text/csv",
        )


def check(session: boto3.Session) -> dict[str, Any]:
    """Start the monitoring pipeline, wait for its end; its execution and report."""
    sagemaker = aws.client("sagemaker", session)
    arn = sagemaker.start_pipeline_execution(PipelineName=PIPELINE)["PipelineExecutionArn"]
    for _ in range(600):
        execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        if execution["PipelineExecutionStatus"] != "Executing":
            break
        time.sleep(0.1)
    result: dict[str, Any] = {"execution": execution}
    if execution["PipelineExecutionStatus"] == "Succeeded":
        execution_id = arn.rsplit("/", 1)[-1]
        body = aws.client("s3", session).get_object(
            Bucket=BUCKET, Key=f"monitoring/prod/{execution_id}/constraint_violations.json"
        )["Body"]
        result["violations"] = json.loads(body.read())["violations"]
    return result


def drift_metric(session: boto3.Session, feature: str) -> list[float]:
    """The maxima of feature_baseline_drift_<feature> published for the endpoint."""
    answer = aws.client("cloudwatch", session).get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=f"feature_baseline_drift_{feature}",
        Dimensions=[
            {"Name": "Endpoint", "Value": "churn-prod"},
            {"Name": "MonitoringSchedule", "Value": PIPELINE},
        ],
        StartTime="2000-01-01T00:00:00Z",
        EndTime="2100-01-01T00:00:00Z",
        Period=60,
        Statistics=["Maximum"],
    )
    return sorted(d["Maximum"] for d in answer["Datapoints"])


def alarm_state(sandbox: Sandbox, session: boto3.Session, name: str) -> str:
    """The alarm's state at CloudWatch's next evaluation (once a minute)."""
    tick_then_hold(sandbox)
    (alarm,) = aws.client("cloudwatch", session).describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["StateValue"])


def test_the_check_finds_drift_only_in_shifted_traffic_and_needs_leave_to_publish(
    hub: boto3.Session, sandbox: Sandbox
) -> None:
    outputs = deploy(hub)
    assert outputs["DataQualityPipelineName"] == PIPELINE
    alarm = outputs["DataDriftAlarmName"]
    assert alarm == "churn-prod-data-drift"

    send(hub, features(1, rows=200))  # the training distribution
    calm = check(hub)
    assert calm["execution"]["PipelineExecutionStatus"] == "Succeeded", calm["execution"].get(
        "FailureReason"
    )
    assert calm["violations"] == []
    (calm_drift,) = drift_metric(hub, "_c0")
    assert calm_drift < 0.1
    assert alarm_state(sandbox, hub, alarm) != "ALARM"

    shifted = features(2, rows=600)
    shifted[:, 0] += 3.0  # the first feature moves by three standard deviations
    send(hub, shifted)
    drifted = check(hub)
    assert drifted["execution"]["PipelineExecutionStatus"] == "Succeeded"
    kinds = {(v["feature_name"], v["constraint_check_type"]) for v in drifted["violations"]}
    assert kinds == {("_c0", "baseline_drift_check")}
    assert max(drift_metric(hub, "_c0")) > 0.5
    assert alarm_state(sandbox, hub, alarm) == "ALARM"

    set_role_policy(hub, publish=False)
    refused = check(hub)["execution"]
    assert refused["PipelineExecutionStatus"] == "Failed"
    assert (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/SageMaker is not authorized to "
        "perform: cloudwatch:PutMetricData"
    ) in refused["FailureReason"]

    set_role_policy(hub, jobs=False)  # SageMaker cannot start the check's job as the role
    refused = check(hub)["execution"]
    assert refused["PipelineExecutionStatus"] == "Failed"
    assert refused["FailureReason"].startswith(
        "step CheckDataQuality: ClientError: An error occurred (AccessDeniedException) when "
        f"calling the CreateProcessingJob operation: User: arn:aws:sts::{ACCOUNT}:assumed-role/"
        f"{ROLE_NAME}/SageMaker is not authorized to perform: sagemaker:CreateProcessingJob"
    ), refused["FailureReason"]
