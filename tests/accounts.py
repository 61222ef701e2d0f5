"""Sessions in the sandbox's accounts, reached as AWS allows under enforced IAM: a member
account's admin through the role AWS Organizations makes there, and users' roles made
before they are assumed (assuming a role that does not exist is refused, as in AWS)."""

import json
from typing import Any

import boto3

from mlops_seeds import aws
from mlops_seeds.sandbox import organization
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

STUDIO_POLICY = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


def member_admin(account: str) -> boto3.Session:
    """An admin session in `account`, as the management account (the sandbox's root)
    reaches a member: the account joins the organization (AWS Organizations makes its
    OrganizationAccountAccessRole) and that role is assumed."""
    organization.bootstrap(members=(account,))
    role = f"arn:aws:iam::{account}:role/{organization.ACCESS_ROLE}"
    return aws.assume_role(aws.make_session(), role, "admin")


def user_role(
    account: str, name: str, policy_arn: str = STUDIO_POLICY, path: str = "/"
) -> boto3.Session:
    """A session of role `name` in `account` (made when missing, at `path`, trusting the
    management account, with `policy_arn` attached: by default a Studio user's
    AmazonSageMakerFullAccess)."""
    hub = aws.make_session()
    admin = hub if account == organization.MANAGEMENT_ACCOUNT else member_admin(account)
    iam = aws.client("iam", admin)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{organization.MANAGEMENT_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    try:
        iam.get_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust))
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    arn = f"arn:aws:iam::{account}:role{path}{name}"
    return aws.assume_role(hub, arn, name.lower()[:32])


def role_allowed(account: str, name: str, *statements: dict[str, Any]) -> boto3.Session:
    """A session of role `name` in `account` whose only policy is a customer managed one
    made of `statements` (made with the role)."""
    admin = (
        aws.make_session()
        if account == organization.MANAGEMENT_ACCOUNT
        else (member_admin(account))
    )
    document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    arn = aws.client("iam", admin).create_policy(PolicyName=name, PolicyDocument=document)[
        "Policy"
    ]["Arn"]
    return user_role(account, name, arn)


def bootstrap_spoke(account: str, template: str) -> None:
    """Deploy the spoke bootstrap template in `account` (as its admin), as a platform team
    does before publishing to it."""
    cloudformation = aws.client("cloudformation", member_admin(account))
    cloudformation.create_stack(
        StackName="mlops-seeds-spoke-bootstrap",
        TemplateBody=template,
        Parameters=[
            {"ParameterKey": "HubAccountId", "ParameterValue": organization.MANAGEMENT_ACCOUNT}
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    status = cloudformation.describe_stacks(StackName="mlops-seeds-spoke-bootstrap")
    assert status["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE", status


def service_trust(service: str) -> dict[str, Any]:
    """A trust policy letting AWS service `service` assume the role."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [statement]}


def service_role(session: boto3.Session, name: str, service: str, *actions: str) -> str:
    """A role of `session`'s account that `service` may assume, allowed `actions` on any
    resource (none when no action is given); its ARN."""
    iam = aws.client("iam", session)
    trust = json.dumps(service_trust(service))
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    if actions:
        allowed = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
        document = {"Version": "2012-10-17", "Statement": [allowed]}
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    return str(role["Role"]["Arn"])


def model_role(session: boto3.Session, name: str = "model", read: bool = True) -> str:
    """A model execution role in `session`'s account (SageMaker may assume it; with `read`,
    it may read any S3 object: buckets of other accounts still need their policy). Its ARN."""
    reads = ("s3:GetObject", "s3:ListBucket") if read else ()
    return service_role(session, name, SAGEMAKER, *reads)
