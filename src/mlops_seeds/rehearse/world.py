"""The accounts of the rehearsal and what exists in them before the platform team starts:
a hub, spokes, and a staging and a production account (where products that deploy to
other accounts serve), reached through the role AWS Organizations creates in member
accounts, and in each spoke the roles SageMaker Studio creates when projects are enabled."""

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import WaiterError

from mlops_seeds import aws
from mlops_seeds.bounded_parsing import load_yaml
from mlops_seeds.errors import SeedsError
from mlops_seeds.rehearse.stacks import failure_reason
from mlops_seeds.sandbox import organization
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

SPOKES = organization.MEMBER_ACCOUNTS
# The accounts a multi-account rehearsal serves staging and production from.
STAGING_ACCOUNT, PROD_ACCOUNT = organization.DEPLOY_ACCOUNTS
TARGET_BOOTSTRAP_STACK = "mlops-seeds-target-bootstrap"
ORGANIZATION_ACCESS_ROLE = organization.ACCESS_ROLE
STUDIO_ROLE_PATH = "/service-role/"
STUDIO_ROLE_NAME = "AmazonSageMaker-ExecutionRole-rehearsal"
BOOTSTRAP_STACK = "mlops-seeds-spoke-bootstrap"
PROJECT_ROLES = "data/sagemaker_project_roles.yaml"
SAGEMAKER_LAUNCH_ROLE = "AmazonSageMakerServiceCatalogProductsLaunchRole"
STUDIO_ROLE_POLICY = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


def _trust(service: str) -> str:
    """A trust policy letting AWS service `service` assume the role."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@dataclass
class World:
    """Sessions for the hub's admin and each spoke's admin."""

    hub: boto3.Session
    hub_account: str
    region: str
    spokes: dict[str, boto3.Session] = field(default_factory=dict)

    def role_arn(self, account: str, name: str, path: str = "/") -> str:
        """The ARN of role `name` in `account`."""
        return f"arn:aws:iam::{account}:role{path}{name}"


def connect(spokes: tuple[str, ...] = SPOKES) -> World:
    """The hub (the default credentials) and an admin session in each spoke."""
    hub = aws.make_session()
    world = World(hub=hub, hub_account=aws.account_id(hub), region=aws.region_of(hub))
    for account in spokes:
        arn = world.role_arn(account, ORGANIZATION_ACCESS_ROLE)
        world.spokes[account] = aws.assume_role(hub, arn, "rehearsal-admin")
    return world


def bootstrap_spoke(
    world: World,
    account: str,
    template: Path,
    spoke_role: str,
    launch_role: str,
    deploy_accounts: tuple[str, str] | None = None,
) -> None:
    """Deploy the spoke bootstrap stack (the role the hub's publish assumes, the launch
    role, the boundary of the projects' roles, and where its projects deploy: this account,
    or the (staging, prod) accounts given)."""
    parameters = {
        "HubAccountId": world.hub_account,
        "SpokeRoleName": spoke_role,
        "LaunchRoleName": launch_role,
    }
    if deploy_accounts is not None:
        parameters["StagingAccountId"], parameters["ProdAccountId"] = deploy_accounts
    _deploy(world, account, BOOTSTRAP_STACK, template, parameters)


def bootstrap_target(world: World, account: str, template: Path, tooling_account: str) -> None:
    """Deploy the target bootstrap stack in a staging or production account: the roles the
    tooling account's projects deploy, host and test their endpoints with."""
    parameters = {"ToolingAccountId": tooling_account}
    _deploy(world, account, TARGET_BOOTSTRAP_STACK, template, parameters)


def _deploy(
    world: World, account: str, stack: str, template: Path, parameters: dict[str, str]
) -> None:
    """Create `stack` in `account` as its admin and wait for it; SeedsError with the reason."""
    cloudformation = aws.client("cloudformation", world.spokes[account])
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=template.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    try:
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    except WaiterError as err:
        reason = failure_reason(cloudformation, stack)
        raise SeedsError(f"{stack} in {account}: {reason}") from err


def sagemaker_project_roles() -> dict[str, Any]:
    """The roles SageMaker creates when projects are enabled (data/sagemaker_project_roles.yaml):
    `path`, and `roles`: name -> {service, policy}."""
    text = resources.files("mlops_seeds").joinpath(PROJECT_ROLES).read_text()
    data: dict[str, Any] = load_yaml(text, f"mlops_seeds/{PROJECT_ROLES}")
    return data


def enable_projects(world: World, account: str) -> str:
    """Create what SageMaker creates when projects are enabled in Studio: its project roles
    (launch role included), each trusting its service and carrying its AWS-managed policy,
    and a Studio execution role with AmazonSageMakerFullAccess (the default Studio setup's).
    Returns the Studio role's ARN."""
    iam = aws.client("iam", world.spokes[account])
    made = sagemaker_project_roles()
    for name, role in made["roles"].items():
        if not _exists(iam, name):
            iam.create_role(
                RoleName=name, Path=made["path"], AssumeRolePolicyDocument=_trust(role["service"])
            )
            iam.attach_role_policy(RoleName=name, PolicyArn=role["policy"])
    role = iam.create_role(
        RoleName=STUDIO_ROLE_NAME,
        Path=STUDIO_ROLE_PATH,
        AssumeRolePolicyDocument=_trust(SAGEMAKER),
    )
    iam.attach_role_policy(RoleName=STUDIO_ROLE_NAME, PolicyArn=STUDIO_ROLE_POLICY)
    return str(role["Role"]["Arn"])


def _exists(iam: Any, name: str) -> bool:
    try:
        iam.get_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True
