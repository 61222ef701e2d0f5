"""UpdateModelPackage changes what the request gives and keeps the rest (API reference:
every member but ModelPackageArn is optional; moto 5.2.5 dropped the others)."""

from typing import Any

import boto3
import pytest

from mlops_seeds import aws

GROUP = "churn-p-abc123"
METADATA = {"git-commit": "0123abc", "training-job": "churn-train-1"}


@pytest.fixture
def sagemaker(hub: boto3.Session) -> Any:
    return aws.client("sagemaker", hub)


@pytest.fixture
def package(sagemaker: Any) -> str:
    """A pending package of GROUP with customer metadata and a description."""
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelPackageDescription="churn model",
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties=METADATA,
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
                    "ModelDataUrl": "s3://artifacts/model.tar.gz",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    return arn


def test_approving_a_package_keeps_its_other_fields(sagemaker: Any, package: str) -> None:
    before = sagemaker.describe_model_package(ModelPackageName=package)
    sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
    after = sagemaker.describe_model_package(ModelPackageName=package)
    assert after["ModelApprovalStatus"] == "Approved"
    assert after["CustomerMetadataProperties"] == METADATA
    assert after["ModelPackageDescription"] == "churn model"
    assert after["InferenceSpecification"] == before["InferenceSpecification"]


def test_an_update_without_a_status_keeps_the_status_and_description(
    sagemaker: Any, package: str
) -> None:
    sagemaker.update_model_package(
        ModelPackageArn=package,
        ModelApprovalStatus="Approved",
        ApprovalDescription="metrics above the bar",
    )
    sagemaker.update_model_package(
        ModelPackageArn=package, CustomerMetadataProperties={"reviewer": "ana"}
    )
    after = sagemaker.describe_model_package(ModelPackageName=package)
    assert after["ModelApprovalStatus"] == "Approved"
    assert after["ApprovalDescription"] == "metrics above the bar"
    assert after["CustomerMetadataProperties"] == {**METADATA, "reviewer": "ana"}


def test_metadata_keys_are_changed_and_removed_by_name(sagemaker: Any, package: str) -> None:
    sagemaker.update_model_package(
        ModelPackageArn=package,
        CustomerMetadataProperties={"git-commit": "4567def"},
        CustomerMetadataPropertiesToRemove=["training-job"],
    )
    after = sagemaker.describe_model_package(ModelPackageName=package)
    assert after["CustomerMetadataProperties"] == {"git-commit": "4567def"}
    assert after["ModelApprovalStatus"] == "PendingManualApproval"
