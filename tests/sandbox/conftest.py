"""Sandbox fixtures: one server for the session, emptied before each test, the environment
pointing at it; the hub is the default account, spokes are reached by STS assume-role."""

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from accounts import member_admin, user_role

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox

TEMPLATE_BUCKET = "sandbox-test-templates"
TEMPLATE = """\
Parameters:
  BucketName:
    Type: String
    Description: name of the bucket
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Ref BucketName
      Tags:
        - Key: stage
          Value: !Ref Stage
Outputs:
  BucketArn:
    Description: the bucket
    Value: !GetAtt Bucket.Arn
"""


@pytest.fixture
def hub(sandbox: Sandbox) -> boto3.Session:
    """A session of the default (hub) account."""
    return aws.make_session()


@pytest.fixture
def sc(hub: boto3.Session) -> Any:
    """The hub's Service Catalog client."""
    return aws.client("servicecatalog", hub)


@pytest.fixture
def spoke(hub: boto3.Session) -> Callable[..., boto3.Session]:
    """spoke(account, role="Admin"): the account's admin (its OrganizationAccountAccessRole),
    or a session of `role` there (a Studio user's role, made when missing)."""

    def assume(account: str, role: str = "Admin") -> boto3.Session:
        return member_admin(account) if role == "Admin" else user_role(account, role)

    return assume


@pytest.fixture
def template_url(hub: boto3.Session) -> Callable[..., str]:
    """template_url(key, body=TEMPLATE): upload a template to the hub's bucket, return its URL."""
    s3 = aws.client("s3", hub)
    s3.create_bucket(Bucket=TEMPLATE_BUCKET)

    def upload(key: str = "templates/bucket.yaml", body: str = TEMPLATE) -> str:
        s3.put_object(Bucket=TEMPLATE_BUCKET, Key=key, Body=body.encode())
        return f"https://{TEMPLATE_BUCKET}.s3.amazonaws.com/{key}"

    return upload


@pytest.fixture
def make_product(sc: Any, template_url: Callable[..., str]) -> Callable[..., tuple[str, str]]:
    """make_product(name, version="v1", **extra): (product id, initial artifact id)."""

    def make(name: str, version: str = "v1", **extra: Any) -> tuple[str, str]:
        response = sc.create_product(
            Name=name,
            Owner="platform",
            ProductType="CLOUD_FORMATION_TEMPLATE",
            ProvisioningArtifactParameters={
                "Name": version,
                "Info": {"LoadTemplateFromURL": template_url()},
            },
            **extra,
        )
        return (
            response["ProductViewDetail"]["ProductViewSummary"]["ProductId"],
            response["ProvisioningArtifactDetail"]["Id"],
        )

    return make


@pytest.fixture
def make_portfolio(sc: Any) -> Callable[..., str]:
    """make_portfolio(name): a hub portfolio id."""

    def make(name: str = "seeds", **extra: Any) -> str:
        response = sc.create_portfolio(DisplayName=name, ProviderName="platform", **extra)
        return str(response["PortfolioDetail"]["Id"])

    return make
