"""SageMaker projects, launched as Studio launches them: CreateProject provisions the Service
Catalog product in the caller's account, through the sandbox's Service Catalog, with the
ProvisioningParameters plus SageMakerProjectName and SageMakerProjectId, and tags the
provisioned product (and so its stack) with sagemaker:project-name and sagemaker:project-id.

A project's status is read from its Service Catalog records, which follow the stack. As in
AWS, a product the caller cannot launch or a template without the two SageMaker parameters
does not fail the call: the project is CreateFailed with the reason. Differences from AWS:
provisioning runs within the call (no Pending phase); the provisioned product is named
`SageMaker-<project name>-<project id>`; project tags through ListTags are not offered.

UpdateProject updates the provisioned product (Service Catalog UpdateProvisionedProduct,
as the caller) to the artifact given (else the current one) with the parameters given plus
the project's name and id; the project reads UpdateCompleted or UpdateFailed from that
record (a failed update leaves the stack as it was). Its Tags are refused here: AWS updates
them only under a tag update constraint, which the sandbox does not keep.
"""

import re
from typing import Any

from moto.utilities.utils import get_partition

from mlops_seeds.sandbox.catalog import enduser, provisioning
from mlops_seeds.sandbox.catalog.context import Caller
from mlops_seeds.sandbox.catalog.errors import CatalogError
from mlops_seeds.sandbox.catalog.install import LOCK as CATALOG_LOCK
from mlops_seeds.sandbox.sagemaker.errors import Conflict, Validation, constraint
from mlops_seeds.sandbox.sagemaker.model import LOCK, Project, backend, new_id, now, state_of
from mlops_seeds.sandbox.sagemaker.paging import page, sort_by, sort_order, with_token, within

NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
DESCRIPTION_MAX = 1024
MAX_TAGS = 50
PROJECT_NAME_PARAMETER = "SageMakerProjectName"
PROJECT_ID_PARAMETER = "SageMakerProjectId"
NAME_TAG = "sagemaker:project-name"
ID_TAG = "sagemaker:project-id"
SORT_KEYS = ("CreationTime", "Name")
CREATE_STATUS = {"SUCCEEDED": "CreateCompleted", "FAILED": "CreateFailed"}
DELETE_STATUS = {"SUCCEEDED": "DeleteCompleted", "FAILED": "DeleteFailed"}
UPDATE_STATUS = {"SUCCEEDED": "UpdateCompleted", "FAILED": "UpdateFailed"}
UPDATABLE = ("CreateCompleted", "UpdateCompleted", "UpdateFailed")


def _tags(tags: Any) -> list[dict[str, str]]:
    tags = tags or []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise constraint(tags, "tags", f"Member must have length less than or equal to {MAX_TAGS}")
    for tag in tags:
        key = str(tag.get("Key") or "")
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise constraint(key, "tags.member.key", "Member must be 1-128 characters, not aws:")
        if len(str(tag.get("Value", ""))) > 256:
            raise constraint(tag["Value"], "tags.member.value", "Member must be at most 256")
    return [{"Key": str(t["Key"]), "Value": str(t.get("Value", ""))} for t in tags]


def _details(params: dict[str, Any]) -> dict[str, Any]:
    details = params.get("ServiceCatalogProvisioningDetails")
    if not isinstance(details, dict) or not details.get("ProductId"):
        raise Validation(
            "ServiceCatalogProvisioningDetails.ProductId is required: the sandbox launches "
            "projects from Service Catalog products"
        )
    keys = ("ProductId", "ProvisioningArtifactId", "PathId", "ProvisioningParameters")
    return {key: details[key] for key in keys if details.get(key)}


def _latest_artifact(caller: Caller, product_id: str) -> str:
    """The newest active provisioning artifact, as SageMaker picks when none is given."""
    described = enduser.describe_product(caller, {"Id": product_id})
    artifacts = sorted(described["ProvisioningArtifacts"], key=lambda a: a["CreatedTime"])
    if not artifacts:
        raise Validation(f"Product {product_id} has no active provisioning artifact")
    return str(artifacts[-1]["Id"])


def _provision(caller: Caller, project: Project) -> None:
    """ProvisionProduct as Studio calls it; a refusal is recorded as the project's failure."""
    details = project.provisioning
    ours = {PROJECT_NAME_PARAMETER: project.name, PROJECT_ID_PARAMETER: project.id}
    parameters = [
        p for p in details.get("ProvisioningParameters") or [] if p.get("Key") not in ours
    ]
    parameters += [{"Key": key, "Value": value} for key, value in ours.items()]
    tags = [t for t in project.tags if t["Key"] not in (NAME_TAG, ID_TAG)]
    tags += [{"Key": NAME_TAG, "Value": project.name}, {"Key": ID_TAG, "Value": project.id}]
    with CATALOG_LOCK:
        try:
            if not details.get("ProvisioningArtifactId"):
                details["ProvisioningArtifactId"] = _latest_artifact(caller, details["ProductId"])
            request = {
                **{k: v for k, v in details.items() if k != "ProvisioningParameters"},
                "ProvisionedProductName": f"SageMaker-{project.name}-{project.id}",
                "ProvisioningParameters": parameters,
                "Tags": tags,
                "ProvisionToken": project.id,
            }
            record = provisioning.provision_product(caller, request)["RecordDetail"]
        except (CatalogError, Validation) as err:
            code = getattr(err, "code", "ValidationException")
            project.failure = f"{code}: {err.message}"
            return
    project.record_id = str(record["RecordId"])
    project.provisioned_product_id = str(record["ProvisionedProductId"])


def create_project(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """CreateProject: provision the product with the project's name and id."""
    name = str(params.get("ProjectName") or "")
    if not NAME.match(name):
        raise constraint(
            name, "projectName", f"Member must satisfy regular expression pattern: {NAME.pattern}"
        )
    description = str(params.get("ProjectDescription") or "")
    if len(description) > DESCRIPTION_MAX:
        raise constraint(
            "...", "projectDescription", f"Member must have length <= {DESCRIPTION_MAX}"
        )
    details = _details(params)
    tags = _tags(params.get("Tags"))
    state = state_of(backend(caller.account, caller.region))
    project_id = f"p-{new_id()}"
    partition = get_partition(caller.region)
    project = Project(
        name=name,
        id=project_id,
        arn=f"arn:{partition}:sagemaker:{caller.region}:{caller.account}:project/{name.lower()}",
        description=description,
        provisioning=details,
        tags=tags,
        created_by={"IamIdentity": {"Arn": caller.arn}},
        account=caller.account,
        region=caller.region,
        creator_arn=caller.arn,
    )
    with LOCK:
        existing = state.projects.get(name)
        if existing is not None and _status(existing)[0] != "DeleteCompleted":
            raise Validation(f"Project {name} already exists.")
        state.projects[name] = project
    _provision(caller, project)
    return {"ProjectArn": project.arn, "ProjectId": project.id}


def _caller_of(project: Project) -> Caller:
    return Caller(account=project.account, region=project.region, arn=project.creator_arn)


def _record(project: Project, record_id: str) -> dict[str, Any] | None:
    with CATALOG_LOCK:
        try:
            detail = provisioning.describe_record(_caller_of(project), {"Id": record_id})
        except CatalogError:
            return None
    return dict(detail["RecordDetail"])


def _messages(record: dict[str, Any] | None) -> str:
    errors = (record or {}).get("RecordErrors") or []
    return "; ".join(str(e.get("Description", "")) for e in errors)


def _status(project: Project) -> tuple[str, str]:
    """(ProjectStatus, status message) from the project's last record."""
    if project.failure:
        return "CreateFailed", project.failure
    if project.terminate_record_id:
        record = _record(project, project.terminate_record_id)
        status = str((record or {}).get("Status", "SUCCEEDED"))
        return DELETE_STATUS.get(status, "DeleteInProgress"), _messages(record)
    if project.update_record_id:
        record = _record(project, project.update_record_id)
        status = str((record or {}).get("Status", "FAILED"))
        return UPDATE_STATUS.get(status, "UpdateInProgress"), _messages(record)
    record = _record(project, project.record_id)
    if record is None:
        return "CreateFailed", f"record {project.record_id} not found"
    return CREATE_STATUS.get(str(record["Status"]), "CreateInProgress"), _messages(record)


def _visible(caller: Caller, name: str) -> Project:
    """The caller's project by name, unless deleted; else ValidationException (as AWS)."""
    project = state_of(backend(caller.account, caller.region)).projects.get(name)
    if project is None or _status(project)[0] == "DeleteCompleted":
        raise Validation(f"Project {name} does not exist.")
    return project


def describe_project(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeProject: status and the provisioned product, read from Service Catalog."""
    project = _visible(caller, str(params.get("ProjectName") or ""))
    status, message = _status(project)
    described: dict[str, Any] = {
        "ProjectArn": project.arn,
        "ProjectName": project.name,
        "ProjectId": project.id,
        "ProjectDescription": project.description,
        "ServiceCatalogProvisioningDetails": project.provisioning,
        "ProjectStatus": status,
        "CreatedBy": project.created_by,
        "CreationTime": project.created,
        "LastModifiedTime": project.modified or project.created,
        "LastModifiedBy": project.created_by,
    }
    provisioned: dict[str, str] = {}
    if project.provisioned_product_id:
        provisioned["ProvisionedProductId"] = project.provisioned_product_id
    if message:
        provisioned["ProvisionedProductStatusMessage"] = message
    if provisioned:
        described["ServiceCatalogProvisionedProductDetails"] = provisioned
    return described


def list_projects(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListProjects: NameContains, creation time window, sorted (newest first by default)."""
    key = sort_by(params, SORT_KEYS)
    descending = sort_order(params)
    contains = str(params.get("NameContains") or "").lower()
    summaries: list[dict[str, Any]] = []
    for project in state_of(backend(caller.account, caller.region)).projects.values():
        status = _status(project)[0]
        if status == "DeleteCompleted" or contains not in project.name.lower():
            continue
        if not within(project.created, params, "CreationTimeAfter", "CreationTimeBefore"):
            continue
        summaries.append(
            {
                "ProjectName": project.name,
                "ProjectDescription": project.description,
                "ProjectArn": project.arn,
                "ProjectId": project.id,
                "CreationTime": project.created,
                "ProjectStatus": status,
            }
        )
    field = "ProjectName" if key == "Name" else "CreationTime"
    summaries.sort(key=lambda s: str(s[field]) if field == "ProjectName" else s["CreationTime"])
    if descending:
        summaries.reverse()
    found, token = page(summaries, params)
    return with_token({"ProjectSummaryList": found}, token)


def delete_project(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteProject: terminate the provisioned product (its stack is deleted)."""
    project = _visible(caller, str(params.get("ProjectName") or ""))
    status = _status(project)[0]
    if status in ("CreateInProgress", "DeleteInProgress"):
        raise Conflict(f"Project {project.name} is {status}; try again when it settles.")
    if project.provisioned_product_id and (
        not project.terminate_record_id or status == "DeleteFailed"
    ):
        with CATALOG_LOCK:
            try:
                record = provisioning.terminate_provisioned_product(
                    _caller_of(project),
                    {"ProvisionedProductId": project.provisioned_product_id},
                )["RecordDetail"]
            except CatalogError:  # the provisioned product is already gone
                record = None
        if record is not None:
            project.terminate_record_id = str(record["RecordId"])
    if not project.terminate_record_id:  # nothing was provisioned: nothing to wait for
        del state_of(backend(caller.account, caller.region)).projects[project.name]
    return {}


def _update_parameters(project: Project, details: dict[str, Any]) -> list[dict[str, str]]:
    given = details.get("ProvisioningParameters") or []
    if not isinstance(given, list):
        raise Validation(
            "ServiceCatalogProvisioningUpdateDetails.ProvisioningParameters must be a list"
        )
    ours = {PROJECT_NAME_PARAMETER: project.name, PROJECT_ID_PARAMETER: project.id}
    parameters = [
        {"Key": str(p.get("Key")), "Value": str(p.get("Value", ""))}
        for p in given
        if p.get("Key") not in ours
    ]
    return parameters + [{"Key": key, "Value": value} for key, value in ours.items()]


def update_project(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateProject: the description, and the provisioned product updated to the given
    artifact and parameters (Service Catalog's refusal is the call's ValidationException)."""
    project = _visible(caller, str(params.get("ProjectName") or ""))
    status = _status(project)[0]
    if status not in UPDATABLE:
        raise Conflict(f"Project {project.name} is {status}; it can be updated when it settles.")
    if params.get("Tags"):
        raise Validation(
            "Tags: the sandbox does not update a project's tags (AWS needs a tag update "
            "constraint on the product for it)"
        )
    description = params.get("ProjectDescription")
    if description is not None and len(str(description)) > DESCRIPTION_MAX:
        raise constraint(
            "...", "projectDescription", f"Member must have length <= {DESCRIPTION_MAX}"
        )
    details = params.get("ServiceCatalogProvisioningUpdateDetails")
    if details is not None and not isinstance(details, dict):
        raise Validation("ServiceCatalogProvisioningUpdateDetails must be a structure")
    if details:
        artifact = str(
            details.get("ProvisioningArtifactId") or project.provisioning["ProvisioningArtifactId"]
        )
        parameters = _update_parameters(project, details)
        request = {
            "ProvisionedProductId": project.provisioned_product_id,
            "ProvisioningArtifactId": artifact,
            "ProvisioningParameters": parameters,
            "UpdateToken": f"{project.id}-{new_id()}",
        }
        with CATALOG_LOCK:
            try:
                record = provisioning.update_provisioned_product(caller, request)["RecordDetail"]
            except CatalogError as err:
                raise Validation(f"{err.code}: {err.message}") from err
        project.update_record_id = str(record["RecordId"])
        if record["Status"] == "SUCCEEDED":
            mine = [
                p
                for p in parameters
                if p["Key"] not in (PROJECT_NAME_PARAMETER, PROJECT_ID_PARAMETER)
            ]
            project.provisioning = {
                **project.provisioning,
                "ProvisioningArtifactId": artifact,
                **({"ProvisioningParameters": mine} if mine else {}),
            }
    if description is not None:
        project.description = str(description)
    project.modified = now()
    return {"ProjectArn": project.arn}


OPERATIONS = {
    "CreateProject": create_project,
    "UpdateProject": update_project,
    "DescribeProject": describe_project,
    "ListProjects": list_projects,
    "DeleteProject": delete_project,
}
