"""RegisterModel and Model (create model) steps: the same SageMaker API calls the service
makes, in the account of the runner's session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from mlops_seeds.local.context import StepContext, StepResult


def register_model(ctx: StepContext) -> StepResult:
    """CreateModelPackage with the step's arguments (the group is created when missing, as
    the RegisterModel step does); properties are the new package's description."""
    client = ctx.clients.get("sagemaker")
    request = api_request(client, "CreateModelPackage", ctx.evaluate(ctx.step.arguments))
    group = request.get("ModelPackageGroupName")
    if group:
        _ensure_group(client, group)
    arn = client.create_model_package(**request)["ModelPackageArn"]
    described = client.describe_model_package(ModelPackageName=arn)
    properties = plain({k: v for k, v in described.items() if k != "ResponseMetadata"})
    properties["ModelPackageArn"] = arn
    return StepResult(properties=properties, outputs={"model_package": arn})


def create_model(ctx: StepContext) -> StepResult:
    """CreateModel with the step's arguments (a name is made up when none is given)."""
    client = ctx.clients.get("sagemaker")
    request = api_request(client, "CreateModel", ctx.evaluate(ctx.step.arguments))
    request.setdefault("ModelName", ctx.job_name)
    arn = client.create_model(**request)["ModelArn"]
    properties = {**plain(request), "ModelArn": arn}
    return StepResult(properties=properties, outputs={"model": arn})


def api_request(client: Any, operation: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments the operation accepts, with empty objects and lists dropped."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    return {k: v for k, v in prune(arguments).items() if k in members}


def prune(value: Any) -> Any:
    """A JSON tree without empty objects, empty lists and nulls."""
    if isinstance(value, dict):
        pruned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in ({}, [], None)}
    if isinstance(value, list):
        return [prune(v) for v in value if prune(v) not in ({}, [], None)]
    return value


def plain(value: Any) -> Any:
    """A boto3 response as JSON-ready values (datetimes as ISO strings)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _ensure_group(client: Any, group: str) -> None:
    try:
        client.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError:
        client.create_model_package_group(ModelPackageGroupName=group)
