"""The accounts of the rehearsal and what exists in them before the platform team starts:
a hub, spokes reached through the role AWS Organizations creates in member accounts, and
in each spoke the roles SageMaker Studio creates when projects are enabled."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from mlops_seeds import aws

SPOKES = ("111111111111", "222222222222")
ORGANIZATION_ACCESS_ROLE = "OrganizationAccountAccessRole"
STUDIO_ROLE_PATH = "/service-role/"
STUDIO_ROLE_NAME = "AmazonSageMaker-ExecutionRole-rehearsal"
BOOTSTRAP_STACK = "mlops-seeds-spoke-bootstrap"
_TRUST_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["sagemaker.amazonaws.com", "servicecatalog.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


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


def bootstrap_spoke(world: World, account: str, template: Path, spoke_role: str) -> None:
    """Deploy the spoke bootstrap stack (the role the hub's publish assumes)."""
    cloudformation = aws.client("cloudformation", world.spokes[account])
    cloudformation.create_stack(
        StackName=BOOTSTRAP_STACK,
        TemplateBody=template.read_text(),
        Parameters=[
            {"ParameterKey": "HubAccountId", "ParameterValue": world.hub_account},
            {"ParameterKey": "SpokeRoleName", "ParameterValue": spoke_role},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=BOOTSTRAP_STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )


def enable_projects(world: World, account: str, launch_role: str) -> str:
    """Create what Studio creates when projects are enabled: the Service Catalog launch role
    and a Studio execution role. Returns the execution role's ARN."""
    iam = aws.client("iam", world.spokes[account])
    trust = json.dumps(_TRUST_SAGEMAKER)
    iam.create_role(RoleName=launch_role, AssumeRolePolicyDocument=trust)
    role = iam.create_role(
        RoleName=STUDIO_ROLE_NAME, Path=STUDIO_ROLE_PATH, AssumeRolePolicyDocument=trust
    )
    return str(role["Role"]["Arn"])
