"""Shared constants and helpers of the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REGION = "{{ cookiecutter.aws_region }}"
PROJECT_NAME = "{{ cookiecutter.project_name }}"
PROJECT_ID = "{{ cookiecutter.project_id }}"
GROUP = f"{PROJECT_NAME}-{PROJECT_ID}"[:63]
ROLE_ARN = "arn:aws:iam::123456789012:role/model-execution"
BUCKET = f"sagemaker-{PROJECT_ID}-123456789012-{REGION}"[:63]
CONTRACT_VARIABLES = (
    "SAGEMAKER_PROJECT_NAME",
    "SAGEMAKER_PROJECT_ID",
    "SAGEMAKER_PROJECT_ARN",
    "ARTIFACT_BUCKET",
    "MODEL_EXECUTION_ROLE_ARN",
    "MODEL_PACKAGE_GROUP_NAME",
    "MODEL_PACKAGE_ARN",
    "EXPORT_TEMPLATE_NAME",
    "EXPORT_TEMPLATE_STAGING_CONFIG",
    "EXPORT_TEMPLATE_PROD_CONFIG",
    "BUILD_CONFIG",
    "EXPORT_TEST_RESULTS",
    "STAGING_MODEL_EXECUTION_ROLE_ARN",
    "PROD_MODEL_EXECUTION_ROLE_ARN",
    "STAGING_DATA_CAPTURE_BUCKET",
    "PROD_DATA_CAPTURE_BUCKET",
    "ENDPOINT_TEST_ROLE_ARN",
)


BASELINE = f"s3://{BUCKET}/{GROUP}/executions/abc/baseline/baseline"
DATA_QUALITY_SCRIPT = f"s3://{BUCKET}/{GROUP}/code/0123456789ab/data_quality.py"
DATA_QUALITY_IMAGE = (
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
)


def data_quality(statistics: str = BASELINE, constraints: str = BASELINE) -> dict[str, Any]:
    """A package's data-quality baseline, as the model-build seed registers it."""
    return {
        "ModelDataQuality": {
            "Statistics": {
                "ContentType": "application/json",
                "S3Uri": f"{statistics}/statistics.json",
            },
            "Constraints": {
                "ContentType": "application/json",
                "S3Uri": f"{constraints}/constraints.json",
            },
        }
    }


def create_package(sagemaker: Any, group: str, status: str, baseline: bool = True) -> str:
    """Register a model package in the group with the given approval status (and, as the
    model-build seed registers them, its data-quality baseline and the script and image
    that made it)."""
    extra: dict[str, Any] = {}
    if baseline:
        extra = {
            "DriftCheckBaselines": data_quality(),
            "CustomerMetadataProperties": {
                "data_quality_script": DATA_QUALITY_SCRIPT,
                "data_quality_image": DATA_QUALITY_IMAGE,
            },
        }
    response = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        **extra,
    )
    return str(response["ModelPackageArn"])


def read_json(path: Path) -> Any:
    """Load a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))
