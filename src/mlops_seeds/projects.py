"""Launched SageMaker projects and their upgrade to a newer provisioning artifact of their
Service Catalog product (`mlops-seeds projects`).

A project's stack is updated the way SageMaker does it: UpdateProject with the artifact
and the project's own parameters, which updates its provisioned product
(UpdateProvisionedProduct; the stack update runs as the launch role). Before that, the
plan: a CloudFormation change set of the project's stack to the artifact's template with
the same parameters (the stack's previous values where the project gave none), described
and deleted, so nothing changes until the upgrade is asked for.
"""

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from mlops_seeds import aws, seed_update
from mlops_seeds.containment import subfolder
from mlops_seeds.errors import SeedsError

UPGRADABLE = ("CreateCompleted", "UpdateCompleted", "UpdateFailed")
POLL_SECONDS = 1.0
WAIT_SECONDS = 1800.0  # an upgrade's stack update, at most
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
CLONE_URL_OUTPUT = "RepositoryCloneUrl"  # the product templates' outputs end so
GIT_TIMEOUT = 300.0


class UpgradeFailed(SeedsError):
    """The project's update failed (its stack rolled back); the message says why."""


@dataclass(frozen=True)
class ProjectView:
    """A project, its product and artifact, and the product's newest active artifact."""

    name: str
    status: str
    product_id: str
    product_name: str
    artifact_id: str
    artifact_name: str
    newest_id: str
    newest_name: str
    provisioned_product_id: str = ""
    parameters: tuple[tuple[str, str], ...] = ()  # the project's own ProvisioningParameters

    @property
    def behind(self) -> bool:
        """Whether a newer active artifact than the project's exists."""
        return bool(self.newest_id) and self.newest_id != self.artifact_id


@dataclass
class Upgrade:
    """A project's upgrade plan: the artifact it moves to and the stack's changes."""

    project: ProjectView
    target_id: str
    target_name: str
    stack: str
    parameters: list[dict[str, str]]  # the project's own (UpdateProject's)
    changes: list[dict[str, str]] = field(default_factory=list)  # Action, resource, type


def view(session: boto3.Session, name: str) -> ProjectView:
    """One project as `projects` lists it; SeedsError for a project that does not exist."""
    sagemaker = aws.client("sagemaker", session)
    try:
        described = sagemaker.describe_project(ProjectName=name)
    except ClientError as err:
        raise SeedsError(f"project {name}: {err.response['Error']['Message']}") from None
    details = described.get("ServiceCatalogProvisioningDetails") or {}
    product_id = str(details.get("ProductId", ""))
    artifact_id = str(details.get("ProvisioningArtifactId", ""))
    product_name, artifact_name = "", ""
    newest: dict[str, Any] = {}
    if product_id:  # the product's active artifacts the caller sees, oldest first
        product = aws.client("servicecatalog", session).describe_product(Id=product_id)
        product_name = product["ProductViewSummary"]["Name"]
        artifacts = sorted(product["ProvisioningArtifacts"], key=lambda a: a["CreatedTime"])
        newest = artifacts[-1] if artifacts else {}
        artifact_name = next((a["Name"] for a in artifacts if a["Id"] == artifact_id), "")
    provisioned = described.get("ServiceCatalogProvisionedProductDetails") or {}
    return ProjectView(
        name=name,
        status=str(described["ProjectStatus"]),
        product_id=product_id,
        product_name=str(product_name),
        artifact_id=artifact_id,
        artifact_name=str(artifact_name or "(inactive)"),
        newest_id=str(newest.get("Id", "")),
        newest_name=str(newest.get("Name", "")),
        provisioned_product_id=str(provisioned.get("ProvisionedProductId", "")),
        parameters=tuple(
            (str(p["Key"]), str(p.get("Value", "")))
            for p in details.get("ProvisioningParameters") or []
        ),
    )


def list_projects(session: boto3.Session) -> list[ProjectView]:
    """Every project of the session's account and region, by name."""
    sagemaker = aws.client("sagemaker", session)
    names = [
        str(summary["ProjectName"])
        for page in sagemaker.get_paginator("list_projects").paginate(SortBy="Name")
        for summary in page["ProjectSummaryList"]
    ]
    return [view(session, name) for name in sorted(names)]


def _stack_of(session: boto3.Session, project: ProjectView) -> str:
    """The ARN of the project's stack (its provisioned product's)."""
    name, provisioned = project.name, project.provisioned_product_id
    if not provisioned:
        raise SeedsError(f"project {name}: no provisioned product (status {project.status})")
    catalog = aws.client("servicecatalog", session)
    found = catalog.search_provisioned_products(
        AccessLevelFilter={"Key": "Account", "Value": "self"},
        Filters={"SearchQuery": [f"id:{provisioned}"]},
    )["ProvisionedProducts"]
    if not found or not found[0].get("PhysicalId"):
        raise SeedsError(f"project {name}: its provisioned product {provisioned} has no stack")
    return str(found[0]["PhysicalId"])


def plan(session: boto3.Session, name: str, artifact_id: str = "") -> Upgrade:
    """The upgrade of project `name` to `artifact_id` (default: the newest active one): the
    changes CloudFormation would make to its stack (a change set, deleted after)."""
    project = view(session, name)
    if project.status not in UPGRADABLE:
        raise SeedsError(f"project {name} is {project.status}: it cannot be upgraded now")
    target = artifact_id or project.newest_id
    if not target:
        raise SeedsError(f"project {name}: its product {project.product_id} has no active artifact")
    catalog = aws.client("servicecatalog", session)
    try:
        artifact = catalog.describe_provisioning_artifact(
            ProductId=project.product_id, ProvisioningArtifactId=target, Verbose=True
        )
    except ClientError as err:
        raise SeedsError(f"--artifact {target}: {err.response['Error']['Message']}") from None
    parameters = [{"Key": key, "Value": value} for key, value in project.parameters]
    stack = _stack_of(session, project)
    name_of_target = str(artifact["ProvisioningArtifactDetail"]["Name"])
    upgrade = Upgrade(project, target, name_of_target, stack, parameters)
    upgrade.changes = _changes(session, stack, str(artifact["Info"]["TemplateUrl"]), parameters)
    return upgrade


def _changes(
    session: boto3.Session, stack: str, template_url: str, given: list[dict[str, str]]
) -> list[dict[str, str]]:
    """A change set of `stack` to the template at `template_url`: the values given, the
    stack's previous ones for its other parameters the template still declares."""
    cloudformation = aws.client("cloudformation", session)
    declared = {
        str(p["ParameterKey"])
        for p in cloudformation.get_template_summary(TemplateURL=template_url).get("Parameters")
        or []
    }
    current = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    values = {p["Key"]: p["Value"] for p in given}
    parameters: list[dict[str, Any]] = [
        {"ParameterKey": key, "ParameterValue": value}
        for key, value in values.items()
        if key in declared
    ]
    parameters += [
        {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
        for p in current.get("Parameters") or []
        if p["ParameterKey"] in declared and p["ParameterKey"] not in values
    ]
    name = f"mlops-seeds-plan-{int(time.time())}"
    created = cloudformation.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        TemplateURL=template_url,
        Parameters=parameters,
        Capabilities=CAPABILITIES,
        ChangeSetType="UPDATE",
    )
    try:
        described = cloudformation.describe_change_set(ChangeSetName=created["Id"])
        return [
            {
                "Action": str(change["ResourceChange"].get("Action", "")),
                "LogicalResourceId": str(change["ResourceChange"].get("LogicalResourceId", "")),
                "ResourceType": str(change["ResourceChange"].get("ResourceType", "")),
                "Replacement": str(change["ResourceChange"].get("Replacement", "")),
            }
            for change in described.get("Changes") or []
            if change.get("ResourceChange")
        ]
    finally:
        cloudformation.delete_change_set(ChangeSetName=created["Id"])


def upgrade(
    session: boto3.Session,
    planned: Upgrade,
    echo: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """UpdateProject to the planned artifact with the project's parameters; wait for it to
    settle; the project's status. SeedsError with the reason when the update failed (the
    stack rolled back to where it was)."""
    name = planned.project.name
    sagemaker = aws.client("sagemaker", session)
    sagemaker.update_project(
        ProjectName=name,
        ServiceCatalogProvisioningUpdateDetails={
            "ProvisioningArtifactId": planned.target_id,
            "ProvisioningParameters": planned.parameters,
        },
    )
    waited = 0.0
    while True:
        described = sagemaker.describe_project(ProjectName=name)
        status = str(described["ProjectStatus"])
        if status != "UpdateInProgress":
            break
        if waited >= WAIT_SECONDS:
            raise SeedsError(f"project {name}: still UpdateInProgress after {WAIT_SECONDS:.0f} s")
        echo(f"project {name}: {status}")
        sleep(POLL_SECONDS)
        waited += POLL_SECONDS
    if status != "UpdateCompleted":
        reason = (described.get("ServiceCatalogProvisionedProductDetails") or {}).get(
            "ProvisionedProductStatusMessage", "no reason given"
        )
        raise UpgradeFailed(f"project {name}: {status}, its stack rolled back: {reason}")
    return status


def repositories(session: boto3.Session, name: str) -> dict[str, str]:
    """The project's repositories, as its stack's outputs name them: label (ModelBuild,
    ModelDeploy) -> the URL to clone (a CodeCommit repository's own cloneUrlHttp)."""
    cloudformation = aws.client("cloudformation", session)
    stack_id = _stack_of(session, view(session, name))
    stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    codecommit = aws.client("codecommit", session)
    found = {}
    for output in stack.get("Outputs") or []:
        key, url = str(output["OutputKey"]), str(output["OutputValue"])
        if not key.endswith(CLONE_URL_OUTPUT):
            continue
        if "://git-codecommit." in url:
            repository = url.rstrip("/").rsplit("/", 1)[-1]
            metadata = codecommit.get_repository(repositoryName=repository)
            url = str(metadata["repositoryMetadata"]["cloneUrlHttp"])
        found[key.removesuffix(CLONE_URL_OUTPUT)] = url
    return found


def offer_seed_updates(
    session: boto3.Session, name: str, root: Path, workdir: Path
) -> seed_update.Offered:
    """Clone each of the project's repositories into `workdir` and offer each one behind
    its seed in `root` the update on a branch pushed to it (SeedsError naming the conflicts
    when one cannot merge)."""
    clones = {}
    for label, url in repositories(session, name).items():
        clone = subfolder(workdir, label, what=f"repository output {label!r}")
        done = subprocess.run(
            ["git", "clone", "--quiet", url, str(clone)],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise SeedsError(f"project {name}: cannot clone {url}: {done.stderr.strip()}")
        clones[label] = clone
    return seed_update.offer_updates(root, clones)
