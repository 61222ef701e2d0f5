"""The scientist's side: find the product in the spoke's catalog and launch it as Studio
does (SageMaker CreateProject with Service Catalog provisioning details), then read what
the project's stack made."""

import time
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError

PROJECT_WAIT_SECONDS = 120.0
_TERMINAL = {"CreateCompleted", "CreateFailed"}


@dataclass(frozen=True)
class Project:
    """A launched project and the names its stack reports in its outputs."""

    name: str
    id: str
    arn: str
    stack_name: str
    outputs: dict[str, str]


def find_product(session: boto3.Session, product_name: str) -> tuple[str, str, str]:
    """(product id, provisioning artifact id, launch path id) of the product the caller sees
    by `product_name`: the newest active artifact with DEFAULT guidance, as Studio offers."""
    catalog = aws.client("servicecatalog", session)
    matching = [v for v in _product_views(catalog, product_name) if v["Name"] == product_name]
    if not matching:
        raise SeedsError(f"product {product_name!r} is not visible to {_who(session)}")
    product_id = str(matching[0]["ProductId"])
    listed = catalog.list_provisioning_artifacts(ProductId=product_id)
    artifacts = listed["ProvisioningArtifactDetails"]
    usable = [
        a for a in artifacts if a.get("Active", True) and a.get("Guidance") != "DEPRECATED"
    ] or artifacts
    artifact = max(usable, key=lambda a: a["CreatedTime"])
    paths = catalog.list_launch_paths(ProductId=product_id)["LaunchPathSummaries"]
    return product_id, str(artifact["Id"]), str(paths[0]["Id"])


def _product_views(catalog: Any, text: str) -> list[dict[str, Any]]:
    """Every page of the caller's SearchProducts for `text`."""
    views: list[dict[str, Any]] = []
    token = ""
    while True:
        page = catalog.search_products(
            Filters={"FullTextSearch": [text]}, **({"PageToken": token} if token else {})
        )
        views += page["ProductViewSummaries"]
        token = page.get("NextPageToken") or ""
        if not token:
            return views


def _who(session: boto3.Session) -> str:
    return str(aws.client("sts", session).get_caller_identity()["Arn"])


def create_project(
    session: boto3.Session,
    name: str,
    product: tuple[str, str, str],
    parameters: dict[str, str],
) -> Project:
    """CreateProject, wait for CreateCompleted, and read the project stack's outputs."""
    sagemaker = aws.client("sagemaker", session)
    product_id, artifact_id, path_id = product
    created = sagemaker.create_project(
        ProjectName=name,
        ProjectDescription=f"Rehearsal project {name}",
        ServiceCatalogProvisioningDetails={
            "ProductId": product_id,
            "ProvisioningArtifactId": artifact_id,
            "PathId": path_id,
            "ProvisioningParameters": [{"Key": k, "Value": v} for k, v in parameters.items()],
        },
    )
    described = _wait_for_project(sagemaker, name)
    if described["ProjectStatus"] != "CreateCompleted":
        reason = described.get("ServiceCatalogProvisionedProductDetails", {}).get(
            "ProvisionedProductStatusMessage", "no reason given"
        )
        raise SeedsError(f"project {name}: {described['ProjectStatus']}: {reason}")
    project_id = str(created["ProjectId"])
    stack_name, outputs = _project_stack(session, described)
    return Project(name, project_id, str(created["ProjectArn"]), stack_name, outputs)


def delete_project(session: boto3.Session, name: str) -> str:
    """DeleteProject, as Studio's "Delete project" does, and wait for the project to go;
    '' when it went, else its status and the reason Service Catalog gives."""
    sagemaker = aws.client("sagemaker", session)
    sagemaker.delete_project(ProjectName=name)
    deadline = time.monotonic() + PROJECT_WAIT_SECONDS
    while True:
        try:
            described = sagemaker.describe_project(ProjectName=name)
        except ClientError as err:
            if aws.error_code(err) == "ValidationException":  # "does not exist": it went
                return ""
            raise
        status = str(described["ProjectStatus"])
        if status == "DeleteFailed" or time.monotonic() > deadline:
            reason = described.get("ServiceCatalogProvisionedProductDetails", {}).get(
                "ProvisionedProductStatusMessage", "no reason given"
            )
            return f"project {name}: {status}: {reason}"
        time.sleep(0.5)


def _wait_for_project(sagemaker: Any, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + PROJECT_WAIT_SECONDS
    while True:
        described: dict[str, Any] = sagemaker.describe_project(ProjectName=name)
        if described["ProjectStatus"] in _TERMINAL or time.monotonic() > deadline:
            return described
        time.sleep(0.5)


def _project_stack(session: boto3.Session, described: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The project's stack and its outputs, as Studio reads them with a Studio role's
    permissions: the provisioned product's last record and its outputs (Service Catalog
    Describe*), the stack's ARN among them."""
    catalog = aws.client("servicecatalog", session)
    details = described.get("ServiceCatalogProvisionedProductDetails") or {}
    product = catalog.describe_provisioned_product(Id=details["ProvisionedProductId"])
    record_id = product["ProvisionedProductDetail"]["LastProvisioningRecordId"]
    outputs: dict[str, str] = {}
    token = ""
    while True:
        page = catalog.describe_record(Id=record_id, **({"PageToken": token} if token else {}))
        outputs.update({o["OutputKey"]: o["OutputValue"] for o in page.get("RecordOutputs", [])})
        token = page.get("NextPageToken") or ""
        if not token:
            break
    stack_arn = outputs.pop("CloudformationStackARN", "")
    if not stack_arn:
        raise SeedsError(f"project {described['ProjectName']}: its record names no stack")
    return stack_arn.split(":", 5)[5].split("/")[1], outputs


def approve_latest(session: boto3.Session, group: str, status: str) -> dict[str, Any]:
    """Set the newest package of `group` to `status` (Approved or Rejected), as a reviewer
    does in Studio; returns the package after the change."""
    sagemaker = aws.client("sagemaker", session)
    packages = sagemaker.list_model_packages(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending"
    )["ModelPackageSummaryList"]
    if not packages:
        raise SeedsError(f"model package group {group} has no package to review")
    arn = str(packages[0]["ModelPackageArn"])
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus=status,
        ApprovalDescription=f"{status} in the mlops-seeds rehearsal",
    )
    described: dict[str, Any] = sagemaker.describe_model_package(ModelPackageName=arn)
    return described
