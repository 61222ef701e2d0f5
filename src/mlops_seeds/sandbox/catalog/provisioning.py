"""Provisioned products: a CloudFormation stack in the caller's account and region, created
from the artifact's template through moto's CloudFormation, with a record per request.

A record's status follows its stack (CREATE_COMPLETE -> SUCCEEDED, *_FAILED or ROLLBACK ->
FAILED, *_IN_PROGRESS -> IN_PROGRESS); its outputs are the stack's outputs plus
CloudformationStackARN, as AWS reports them.
"""

import json
import re
from typing import Any

from moto.cloudformation.models import cloudformation_backends
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from mlops_seeds.sandbox.catalog.context import Caller
from mlops_seeds.sandbox.catalog.enduser import LaunchPath, launchable_product
from mlops_seeds.sandbox.catalog.errors import (
    DuplicateResource,
    InvalidParameters,
    InvalidState,
    ResourceNotFound,
)
from mlops_seeds.sandbox.catalog.model import Artifact, ProvisionedProduct, Record, new_id, now
from mlops_seeds.sandbox.catalog.paging import page, with_token
from mlops_seeds.sandbox.catalog.templates import parse_template
from mlops_seeds.sandbox.catalog.views import artifacts_of
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.principals import SERVICE_CATALOG, Identity

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)$")
ACCESS_LEVELS = ("Account", "Role", "User")


def _cloudformation(caller: Caller) -> Any:
    return cloudformation_backends[caller.account][caller.region]


def _artifact(owner: Any, product: Any, params: dict[str, Any]) -> Artifact:
    artifact_id, name = params.get("ProvisioningArtifactId"), params.get("ProvisioningArtifactName")
    if not artifact_id and not name:
        raise InvalidParameters(
            "Either ProvisioningArtifactId or ProvisioningArtifactName must be specified."
        )
    for artifact in artifacts_of(owner, product.id).values():
        if artifact.id == artifact_id or (not artifact_id and artifact.name == name):
            if not artifact.active:
                raise InvalidParameters(f"Provisioning artifact {artifact.id} is not active.")
            return artifact
    raise ResourceNotFound(f"Provisioning artifact {artifact_id or name} not found.")


def _path(paths: list[LaunchPath], params: dict[str, Any]) -> LaunchPath:
    path_id, name = params.get("PathId"), params.get("PathName")
    if not path_id and not name:
        if len(paths) == 1:
            return paths[0]
        raise InvalidParameters(f"PathId is required: the product has {len(paths)} launch paths")
    for path in paths:
        if path.id == path_id or (not path_id and path.portfolio.display_name == name):
            return path
    raise ResourceNotFound(f"Launch path {path_id or name} not found.")


def _launch_role(caller: Caller, path: LaunchPath, product_id: str) -> str:
    """The role of the path's LAUNCH constraint ('' without one); it must exist in IAM."""
    launch = [c for c in path.constraints(caller, product_id) if c.type == "LAUNCH"]
    if not launch:
        return ""
    document = json.loads(launch[0].parameters)
    if "LocalRoleName" in document:
        role_arn = f"arn:{get_partition(caller.region)}:iam::{caller.account}:role/"
        role_arn += str(document["LocalRoleName"])
    else:
        role_arn = str(document["RoleArn"])
    match = _ROLE_ARN.match(role_arn)
    if match is None:
        raise InvalidParameters(f"Launch role {role_arn} is not an IAM role ARN")
    iam = iam_backends[match["account"]][get_partition(caller.region)]
    if not any(role.name == match["name"] for role in iam.roles.values()):
        raise InvalidParameters(f"Launch role {role_arn} does not exist; cannot assume it")
    return role_arn


def _launching_as(caller: Caller, role_arn: str) -> Identity | None:
    """Who Service Catalog calls CloudFormation as (Service Catalog Administrator Guide,
    "Launch constraints"): the launch role, which it assumes (its trust policy must allow
    servicecatalog.amazonaws.com), else the end user; None when IAM is not enforced."""
    user = acting.caller()
    if user is None or not role_arn:
        return user
    try:
        return acting.identity_as_service(
            SERVICE_CATALOG, role_arn, "servicecatalog", caller.region
        )
    except acting.AccessDenied as denied:
        raise InvalidParameters(
            f"Unable to assume launch role {role_arn}: {denied.message}"
        ) from denied


def _stack_parameters(artifact: Artifact, params: dict[str, Any]) -> dict[str, str]:
    declared = parse_template(artifact.template_body, artifact.template_url).get("Parameters")
    values = {
        str(p["Key"]): str(p.get("Value", "")) for p in params.get("ProvisioningParameters") or []
    }
    unknown = sorted(set(values) - set(declared or {}))
    if unknown:
        raise InvalidParameters(f"ProvisioningParameters: {unknown[0]} is not a template parameter")
    return values


def _stack(caller: Caller, stack_id: str) -> Any | None:
    cloudformation = _cloudformation(caller)
    return cloudformation.stacks.get(stack_id) or cloudformation.deleted_stacks.get(stack_id)


def _status(caller: Caller, record: Record) -> str:
    if record.final_status:
        return record.final_status
    if record.errors:
        return "FAILED"
    stack = _stack(caller, record.stack_id)
    if stack is None:
        return "SUCCEEDED" if record.type == "TERMINATE_PROVISIONED_PRODUCT" else "FAILED"
    status = str(stack.status)
    if status.endswith("FAILED") or "ROLLBACK" in status:
        return "FAILED"
    return "IN_PROGRESS" if status.endswith("IN_PROGRESS") else "SUCCEEDED"


def _record_errors(caller: Caller, record: Record) -> list[dict[str, str]]:
    """The record's errors; for a stack that failed, its status reason, as AWS reports it."""
    if record.errors:
        return record.errors
    stack = _stack(caller, record.stack_id) if record.stack_id else None
    if stack is None or _status(caller, record) != "FAILED":
        return []
    reason = str(getattr(stack, "stack_status_reason", "") or stack.status)
    return [{"Code": "CloudFormationError", "Description": reason}]


def _record_detail(caller: Caller, record: Record) -> dict[str, Any]:
    detail = {
        "RecordId": record.id,
        "ProvisionedProductName": record.provisioned_product_name,
        "Status": _status(caller, record),
        "CreatedTime": record.created,
        "UpdatedTime": record.created,
        "ProvisionedProductType": "CFN_STACK",
        "RecordType": record.type,
        "ProvisionedProductId": record.provisioned_product_id,
        "ProductId": record.product_id,
        "ProvisioningArtifactId": record.artifact_id,
        "PathId": record.path_id,
        "RecordErrors": _record_errors(caller, record),
        "RecordTags": record.tags,
    }
    if record.launch_role_arn:
        detail["LaunchRoleArn"] = record.launch_role_arn
    return detail


def provision_product(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ProvisionProduct: a stack from the artifact's template with the given parameters."""
    state = caller.state
    token = params.get("ProvisionToken")
    if token and state.tokens.get(token) in state.records:
        return {"RecordDetail": _record_detail(caller, state.records[state.tokens[token]])}
    owner, product, paths = launchable_product(caller, params, "ProductId", "ProductName")
    artifact = _artifact(owner, product, params)
    path = _path(paths, params)
    name = str(params.get("ProvisionedProductName") or "")
    if not _NAME.match(name):
        raise InvalidParameters(f"ProvisionedProductName {name!r} must match {_NAME.pattern}")
    if any(pp.name == name for pp in state.provisioned.values()):
        raise DuplicateResource(f"Provisioned product {name} already exists.")
    role_arn = _launch_role(caller, path, product.id)
    values = _stack_parameters(artifact, params)
    tags = [{"Key": t["Key"], "Value": t["Value"]} for t in params.get("Tags") or []]
    pp_id, record_id = new_id("pp"), new_id("rec")
    stack_name = f"SC-{caller.account}-{pp_id}"
    errors: list[dict[str, str]] = []
    stack_id = ""
    try:
        launching = _launching_as(caller, role_arn)
        if launching is not None:  # the launch role calls CreateStack itself
            acting.authorize(
                launching, "cloudformation", "CreateStack", {"StackName": stack_name}, caller.region
            )
        with acting.serving(launching):
            stack = _cloudformation(caller).create_stack(
                name=stack_name,
                template=artifact.template_body,
                parameters=values,
                tags={t["Key"]: t["Value"] for t in tags},
            )
        stack_id = str(stack.stack_id)
    except Exception as err:  # moto's CloudFormation errors: the record fails, as in AWS
        errors.append({"Code": "CloudFormationError", "Description": str(err)})
    record = Record(
        id=record_id,
        type="PROVISION_PRODUCT",
        provisioned_product_id=pp_id,
        provisioned_product_name=name,
        product_id=product.id,
        artifact_id=artifact.id,
        path_id=path.id,
        stack_id=stack_id,
        launch_role_arn=role_arn,
        tags=tags,
        errors=errors,
    )
    state.records[record.id] = record
    partition = get_partition(caller.region)
    state.provisioned[pp_id] = ProvisionedProduct(
        id=pp_id,
        name=name,
        arn=f"arn:{partition}:servicecatalog:{caller.region}:{caller.account}:stack/{name}/{pp_id}",
        product_id=product.id,
        product_name=product.name,
        artifact_id=artifact.id,
        artifact_name=artifact.name,
        stack_id=stack_id,
        stack_name=stack_name,
        launch_role_arn=role_arn,
        user_arn=caller.arn,
        idempotency_token=str(token or ""),
        tags=tags,
        last_record_id=record.id,
    )
    if token:
        state.tokens[token] = record.id
    return {"RecordDetail": _record_detail(caller, record)}


def describe_record(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeRecord: status from the stack, outputs from its Outputs."""
    record = caller.state.records.get(params["Id"])
    if record is None:
        raise ResourceNotFound(f"Record {params['Id']} not found.")
    outputs: list[dict[str, str]] = []
    stack = _stack(caller, record.stack_id)
    if stack is not None and record.type == "PROVISION_PRODUCT":
        outputs.append({"OutputKey": "CloudformationStackARN", "OutputValue": stack.stack_id})
        for output in stack.outputs or []:
            entry = {"OutputKey": output["OutputKey"], "OutputValue": str(output["OutputValue"])}
            if output.get("Description"):
                entry["Description"] = str(output["Description"])
            outputs.append(entry)
    found, token = page(outputs, params)
    return with_token(
        {"RecordDetail": _record_detail(caller, record), "RecordOutputs": found}, token
    )


def _provisioned(caller: Caller, pp_id: str | None, name: str | None) -> ProvisionedProduct:
    if bool(pp_id) == bool(name):
        raise InvalidParameters("Specify exactly one of the provisioned product id or name")
    for pp in caller.state.provisioned.values():
        if pp.id == pp_id or (not pp_id and pp.name == name):
            return pp
    raise ResourceNotFound(f"Provisioned product {pp_id or name} not found.")


def _pp_status(caller: Caller, pp: ProvisionedProduct) -> str:
    record = caller.state.records[pp.last_record_id]
    status = _status(caller, record)
    if status == "FAILED" and record.type == "UPDATE_PROVISIONED_PRODUCT" and not record.errors:
        stack = _stack(caller, pp.stack_id)
        if stack is not None and stack.status == "UPDATE_ROLLBACK_COMPLETE":
            return "TAINTED"  # the update failed and the stack is back as it was
    return {"SUCCEEDED": "AVAILABLE", "FAILED": "ERROR"}.get(status, "UNDER_CHANGE")


def _pp_detail(caller: Caller, pp: ProvisionedProduct) -> dict[str, Any]:
    status = _pp_status(caller, pp)
    detail: dict[str, Any] = {
        "Name": pp.name,
        "Arn": pp.arn,
        "Type": "CFN_STACK",
        "Id": pp.id,
        "Status": status,
        "CreatedTime": pp.created,
        "IdempotencyToken": pp.idempotency_token,
        "LastRecordId": pp.last_record_id,
        "LastProvisioningRecordId": pp.last_record_id,
        "ProductId": pp.product_id,
        "ProvisioningArtifactId": pp.artifact_id,
    }
    if pp.last_successful_record_id:
        detail["LastSuccessfulProvisioningRecordId"] = pp.last_successful_record_id
    if status == "AVAILABLE":
        detail["LastSuccessfulProvisioningRecordId"] = pp.last_record_id
    else:
        errors = _record_errors(caller, caller.state.records[pp.last_record_id])
        detail["StatusMessage"] = errors[0]["Description"] if errors else status
    if pp.launch_role_arn:
        detail["LaunchRoleArn"] = pp.launch_role_arn
    return detail


def describe_provisioned_product(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeProvisionedProduct: by Id or Name."""
    pp = _provisioned(caller, params.get("Id"), params.get("Name"))
    return {"ProvisionedProductDetail": _pp_detail(caller, pp), "CloudWatchDashboards": []}


def _search_fields(caller: Caller, pp: ProvisionedProduct) -> dict[str, str]:
    return {
        "name": pp.name,
        "id": pp.id,
        "arn": pp.arn,
        "productId": pp.product_id,
        "productName": pp.product_name,
        "provisioningArtifactId": pp.artifact_id,
        "provisioningArtifactName": pp.artifact_name,
        "status": _pp_status(caller, pp),
        "type": "CFN_STACK",
    }


def _query_matches(fields: dict[str, str], query: str) -> bool:
    key, sep, value = query.partition(":")
    if sep and key in fields:
        return fields[key] == value
    return query.lower() in fields["name"].lower()


def search_provisioned_products(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """SearchProvisionedProducts: the account's provisioned products (AccessLevelFilter
    User=self keeps the caller's own); Filters.SearchQuery terms are `field:value` or text."""
    level = params.get("AccessLevelFilter") or {"Key": "Account", "Value": "self"}
    if level.get("Key") not in ACCESS_LEVELS:
        raise InvalidParameters(f"AccessLevelFilter.Key must be one of {ACCESS_LEVELS}")
    found = list(caller.state.provisioned.values())
    if level["Key"] == "User":
        found = [pp for pp in found if pp.user_arn == caller.arn]
    queries = (params.get("Filters") or {}).get("SearchQuery") or []
    found = [
        pp for pp in found if all(_query_matches(_search_fields(caller, pp), q) for q in queries)
    ]
    sort_by = params.get("SortBy")
    if sort_by:
        found.sort(key=lambda pp: _search_fields(caller, pp).get(sort_by, ""))
    if params.get("SortOrder") == "DESCENDING":
        found.reverse()
    found_page, token = page(found, params)
    items = []
    for pp in found_page:
        item = _pp_detail(caller, pp)
        item.pop("LaunchRoleArn", None)
        item.update(
            Tags=pp.tags,
            PhysicalId=pp.stack_id,
            ProductName=pp.product_name,
            ProvisioningArtifactName=pp.artifact_name,
            UserArn=pp.user_arn,
        )
        items.append(item)
    return with_token({"ProvisionedProducts": items, "TotalResultsCount": len(found)}, token)


def terminate_provisioned_product(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """TerminateProvisionedProduct: deletes the stack (unless RetainPhysicalResources)."""
    state = caller.state
    token = params.get("TerminateToken")
    if token and state.tokens.get(token) in state.records:
        return {"RecordDetail": _record_detail(caller, state.records[state.tokens[token]])}
    pp = _provisioned(
        caller, params.get("ProvisionedProductId"), params.get("ProvisionedProductName")
    )
    errors: list[dict[str, str]] = []
    stack = _stack(caller, pp.stack_id) if pp.stack_id else None
    if stack is not None and not params.get("RetainPhysicalResources"):
        try:  # as the launch role, which calls DeleteStack itself
            launching = _launching_as(caller, pp.launch_role_arn)
            if launching is not None:
                acting.authorize(
                    launching,
                    "cloudformation",
                    "DeleteStack",
                    {"StackName": stack.name},
                    caller.region,
                )
            with acting.serving(launching):
                _cloudformation(caller).delete_stack(pp.stack_id)
        except Exception as err:  # moto's CloudFormation errors
            errors.append({"Code": "CloudFormationError", "Description": str(err)})
        if stack.status == "DELETE_FAILED":  # the stack's reason is the record's error
            errors.append(
                {"Code": "CloudFormationError", "Description": str(stack.stack_status_reason)}
            )
        if params.get("IgnoreErrors"):  # Service Catalog lets go of it all the same
            errors = []
    provision = state.records[pp.last_record_id]
    record = Record(
        id=new_id("rec"),
        type="TERMINATE_PROVISIONED_PRODUCT",
        provisioned_product_id=pp.id,
        provisioned_product_name=pp.name,
        product_id=pp.product_id,
        artifact_id=pp.artifact_id,
        path_id=provision.path_id,
        stack_id=pp.stack_id,
        launch_role_arn=pp.launch_role_arn,
        tags=pp.tags,
        errors=errors,
        created=now(),
    )
    state.records[record.id] = record
    if not errors:
        del state.provisioned[pp.id]
    else:
        pp.last_record_id = record.id
    if token:
        state.tokens[token] = record.id
    return {"RecordDetail": _record_detail(caller, record)}


def _update_values(
    caller: Caller, pp: ProvisionedProduct, artifact: Artifact, params: dict[str, Any]
) -> dict[str, str]:
    """The stack's parameters for an update: each given value, the stack's current value
    where UsePreviousValue says so; a parameter not given takes the new template's default,
    as UpdateStack does."""
    declared = parse_template(artifact.template_body, artifact.template_url).get("Parameters")
    stack = _stack(caller, pp.stack_id)
    previous = dict(getattr(stack, "parameters", None) or {}) if stack is not None else {}
    values = {}
    for item in params.get("ProvisioningParameters") or []:
        key = str(item.get("Key") or "")
        if key not in (declared or {}):
            raise InvalidParameters(f"ProvisioningParameters: {key} is not a template parameter")
        if item.get("UsePreviousValue"):
            if key not in previous:
                raise InvalidParameters(
                    f"ProvisioningParameters: {key} has no previous value to use"
                )
            values[key] = str(previous[key])
        else:
            values[key] = str(item.get("Value", ""))
    return values


def update_provisioned_product(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateProvisionedProduct: the stack updated to the artifact's template (the current
    one when none is given) with the parameters, as the path's launch role. A failed update
    rolls the stack back: the record FAILED with CloudFormation's reason, the product
    TAINTED at its previous artifact."""
    state = caller.state
    token = str(params.get("UpdateToken") or "")
    if not 1 <= len(token) <= 128:
        raise InvalidParameters("UpdateToken is required (1 to 128 characters)")
    if state.tokens.get(token) in state.records:
        return {"RecordDetail": _record_detail(caller, state.records[state.tokens[token]])}
    pp = _provisioned(
        caller, params.get("ProvisionedProductId"), params.get("ProvisionedProductName")
    )
    if _pp_status(caller, pp) in ("UNDER_CHANGE", "PLAN_IN_PROGRESS"):
        raise InvalidState(f"Provisioned product {pp.id} is under change; try again later.")
    if params.get("ProductId") and params["ProductId"] != pp.product_id:
        raise InvalidParameters(
            f"ProductId {params['ProductId']} is not the product of provisioned product {pp.id}"
        )
    owner, product, paths = launchable_product(
        caller, {"ProductId": pp.product_id}, "ProductId", "ProductName"
    )
    if not params.get("ProvisioningArtifactId") and not params.get("ProvisioningArtifactName"):
        params = {**params, "ProvisioningArtifactId": pp.artifact_id}
    artifact = _artifact(owner, product, params)
    previous_record = state.records[pp.last_record_id]
    path = _path(paths, {"PathId": previous_record.path_id, **params})
    role_arn = _launch_role(caller, path, product.id)
    values = _update_values(caller, pp, artifact, params)
    tags = [{"Key": t["Key"], "Value": t["Value"]} for t in params.get("Tags") or pp.tags]
    errors: list[dict[str, str]] = []
    previous_record.final_status = _status(caller, previous_record)
    try:
        launching = _launching_as(caller, role_arn)
        if launching is not None:  # the launch role calls UpdateStack itself
            acting.authorize(
                launching,
                "cloudformation",
                "UpdateStack",
                {"StackName": pp.stack_name},
                caller.region,
            )
        with acting.serving(launching):
            _cloudformation(caller).update_stack(
                name=pp.stack_id,
                template=artifact.template_body,
                role_arn=None,
                parameters=[
                    {"ParameterKey": key, "ParameterValue": value} for key, value in values.items()
                ],
                tags={t["Key"]: t["Value"] for t in tags},
            )
    except Exception as err:  # moto's CloudFormation errors: the record fails, as in AWS
        errors.append({"Code": "CloudFormationError", "Description": str(err)})
    record = Record(
        id=new_id("rec"),
        type="UPDATE_PROVISIONED_PRODUCT",
        provisioned_product_id=pp.id,
        provisioned_product_name=pp.name,
        product_id=product.id,
        artifact_id=artifact.id,
        path_id=path.id,
        stack_id=pp.stack_id,
        launch_role_arn=role_arn,
        tags=tags,
        errors=errors,
        created=now(),
    )
    state.records[record.id] = record
    if previous_record.final_status == "SUCCEEDED":
        pp.last_successful_record_id = previous_record.id
    pp.last_record_id = record.id
    if _status(caller, record) == "SUCCEEDED":
        pp.artifact_id, pp.artifact_name = artifact.id, artifact.name
        pp.launch_role_arn, pp.tags = role_arn, tags
        pp.last_successful_record_id = record.id
    state.tokens[token] = record.id
    return {"RecordDetail": _record_detail(caller, record)}


OPERATIONS = {
    "ProvisionProduct": provision_product,
    "UpdateProvisionedProduct": update_provisioned_product,
    "DescribeRecord": describe_record,
    "DescribeProvisionedProduct": describe_provisioned_product,
    "SearchProvisionedProducts": search_provisioned_products,
    "TerminateProvisionedProduct": terminate_provisioned_product,
}
