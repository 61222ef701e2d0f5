"""ProvisionProduct in a spoke: a CloudFormation stack in the spoke's account, records,
provisioned products, termination."""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from mlops_seeds import aws

SPOKE = "111111111111"
LAUNCH_ROLE = "LaunchRole"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "servicecatalog.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture
def launch(
    sc: Any,
    make_product: Callable[..., tuple[str, str]],
    make_portfolio: Callable[..., str],
    spoke: Callable[..., boto3.Session],
) -> tuple[Any, boto3.Session, str, str]:
    """(studio's client in SPOKE, the spoke admin's session, product id, artifact id) of a hub
    product shared to SPOKE, accepted, with a launch constraint by local role name."""
    product_id, artifact_id = make_product("bucket")
    portfolio_id = make_portfolio()
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    sc.create_constraint(
        PortfolioId=portfolio_id,
        ProductId=product_id,
        Type="LAUNCH",
        Parameters=json.dumps({"LocalRoleName": LAUNCH_ROLE}),
    )
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id,
        PrincipalARN="arn:aws:iam:::role/Studio*",
        PrincipalType="IAM_PATTERN",
    )
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    admin = spoke(SPOKE)
    spoke_sc = aws.client("servicecatalog", admin)
    spoke_sc.accept_portfolio_share(PortfolioId=portfolio_id)
    # A share to an account carries no principals: the spoke associates its own.
    spoke_sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id,
        PrincipalARN="arn:aws:iam:::role/Studio*",
        PrincipalType="IAM_PATTERN",
    )
    iam = aws.client("iam", admin)
    iam.create_role(RoleName=LAUNCH_ROLE, AssumeRolePolicyDocument=TRUST)
    launch = {  # the product's stack and what its templates make
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        ],
    }
    iam.put_role_policy(
        RoleName=LAUNCH_ROLE, PolicyName="launch", PolicyDocument=json.dumps(launch)
    )
    studio = aws.client("servicecatalog", spoke(SPOKE, "StudioExecutionRole"))
    return studio, admin, product_id, artifact_id


def _provision(studio: Any, product_id: str, artifact_id: str, **extra: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "ProductId": product_id,
        "ProvisioningArtifactId": artifact_id,
        "ProvisionedProductName": "my-bucket",
        "ProvisioningParameters": [
            {"Key": "BucketName", "Value": "spoke-provisioned-bucket"},
            {"Key": "Stage", "Value": "prod"},
        ],
    }
    arguments.update(extra)
    detail: dict[str, Any] = studio.provision_product(**arguments)["RecordDetail"]
    return detail


def test_provision_creates_the_stack_in_the_spoke_then_terminate_deletes_it(
    launch: tuple[Any, boto3.Session, str, str], hub: boto3.Session
) -> None:
    studio, admin, product_id, artifact_id = launch
    record = _provision(studio, product_id, artifact_id, Tags=[{"Key": "team", "Value": "ml"}])
    assert record["RecordType"] == "PROVISION_PRODUCT"
    assert record["LaunchRoleArn"] == f"arn:aws:iam::{SPOKE}:role/{LAUNCH_ROLE}"

    described = studio.describe_record(Id=record["RecordId"])
    assert described["RecordDetail"]["Status"] == "SUCCEEDED"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["RecordOutputs"]}
    assert outputs["BucketArn"] == "arn:aws:s3:::spoke-provisioned-bucket"
    stack_arn = outputs["CloudformationStackARN"]
    assert f":{SPOKE}:stack/" in stack_arn

    cloudformation = aws.client("cloudformation", admin)
    stack = cloudformation.describe_stacks(StackName=stack_arn)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters == {"BucketName": "spoke-provisioned-bucket", "Stage": "prod"}
    assert {"Key": "team", "Value": "ml"} in stack["Tags"]
    names = [b["Name"] for b in aws.client("s3", admin).list_buckets()["Buckets"]]
    assert "spoke-provisioned-bucket" in names
    assert aws.client("cloudformation", hub).describe_stacks()["Stacks"] == []

    pp_id = record["ProvisionedProductId"]
    provisioned = studio.describe_provisioned_product(Id=pp_id)["ProvisionedProductDetail"]
    assert (provisioned["Status"], provisioned["Name"], provisioned["Type"]) == (
        "AVAILABLE",
        "my-bucket",
        "CFN_STACK",
    )
    assert provisioned["LastSuccessfulProvisioningRecordId"] == record["RecordId"]
    assert (
        studio.describe_provisioned_product(Name="my-bucket")["ProvisionedProductDetail"]["Id"]
        == pp_id
    )
    found = studio.search_provisioned_products(Filters={"SearchQuery": ["name:my-bucket"]})
    assert found["TotalResultsCount"] == 1
    assert found["ProvisionedProducts"][0]["PhysicalId"] == stack_arn
    assert (
        studio.search_provisioned_products(Filters={"SearchQuery": ["name:other"]})[
            "ProvisionedProducts"
        ]
        == []
    )

    terminated = studio.terminate_provisioned_product(ProvisionedProductId=pp_id)["RecordDetail"]
    assert terminated["RecordType"] == "TERMINATE_PROVISIONED_PRODUCT"
    assert (
        studio.describe_record(Id=terminated["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    )
    assert cloudformation.describe_stacks()["Stacks"] == []
    with pytest.raises(studio.exceptions.ResourceNotFoundException):
        studio.describe_provisioned_product(Id=pp_id)
    with pytest.raises(studio.exceptions.ResourceNotFoundException):
        studio.terminate_provisioned_product(ProvisionedProductId=pp_id)
    assert studio.search_provisioned_products()["ProvisionedProducts"] == []


def test_provision_errors(
    launch: tuple[Any, boto3.Session, str, str], sc: Any, template_url: Callable[..., str]
) -> None:
    studio, admin, product_id, artifact_id = launch
    errors = studio.exceptions
    with pytest.raises(errors.InvalidParametersException, match="Nope is not a template parameter"):
        _provision(
            studio, product_id, artifact_id, ProvisioningParameters=[{"Key": "Nope", "Value": "x"}]
        )
    with pytest.raises(errors.ResourceNotFoundException):
        _provision(studio, "prod-nope", artifact_id)
    with pytest.raises(errors.ResourceNotFoundException):
        _provision(studio, product_id, "pa-nope")
    with pytest.raises(errors.InvalidParametersException, match="ProvisionedProductName"):
        _provision(studio, product_id, artifact_id, ProvisionedProductName="-bad name")
    sc.update_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=artifact_id, Active=False
    )
    with pytest.raises(errors.InvalidParametersException, match="not active"):
        _provision(studio, product_id, artifact_id)
    sc.update_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=artifact_id, Active=True
    )
    _provision(studio, product_id, artifact_id)
    with pytest.raises(errors.DuplicateResourceException):
        _provision(studio, product_id, artifact_id)
    sc.create_provisioning_artifact(
        ProductId=product_id,
        Parameters={"Name": "v2", "Info": {"LoadTemplateFromURL": template_url()}},
    )
    with pytest.raises(sc.exceptions.ResourceInUseException):
        sc.delete_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=artifact_id)
    aws.client("iam", admin).delete_role_policy(RoleName=LAUNCH_ROLE, PolicyName="launch")
    aws.client("iam", admin).delete_role(RoleName=LAUNCH_ROLE)
    with pytest.raises(errors.InvalidParametersException, match="LaunchRole does not exist"):
        _provision(studio, product_id, artifact_id, ProvisionedProductName="second")
    with pytest.raises(errors.ResourceNotFoundException):
        studio.describe_record(Id="rec-nope")


def test_a_failing_stack_fails_the_record(launch: tuple[Any, boto3.Session, str, str]) -> None:
    studio, _, product_id, artifact_id = launch
    record = _provision(studio, product_id, artifact_id, ProvisioningParameters=[])
    described = studio.describe_record(Id=record["RecordId"])["RecordDetail"]
    assert described["Status"] == "FAILED"
    assert described["RecordErrors"][0]["Code"] == "CloudFormationError"
    detail = studio.describe_provisioned_product(Id=record["ProvisionedProductId"])
    assert detail["ProvisionedProductDetail"]["Status"] == "ERROR"


ROLLS_BACK = """
Parameters:
  BucketName: {Type: String, Default: ""}
Resources:
  Checkin:
    Type: Custom::SeedCheckin
    Properties: {ServiceToken: arn:aws:lambda:us-east-1:111111111111:function:nope}
"""


def test_a_stack_that_rolls_back_fails_the_record_with_its_reason(
    launch: tuple[Any, boto3.Session, str, str], sc: Any, template_url: Callable[..., str]
) -> None:
    studio, _, product_id, _ = launch
    artifact = sc.create_provisioning_artifact(
        ProductId=product_id,
        Parameters={
            "Name": "v2",
            "Info": {"LoadTemplateFromURL": template_url("templates/rolls-back.yaml", ROLLS_BACK)},
        },
    )["ProvisioningArtifactDetail"]["Id"]
    record = _provision(studio, product_id, artifact, ProvisioningParameters=[])
    described = studio.describe_record(Id=record["RecordId"])["RecordDetail"]
    assert described["Status"] == "FAILED"
    [error] = described["RecordErrors"]
    assert error["Code"] == "CloudFormationError"
    assert "Checkin" in error["Description"] and "CodeCommit" in error["Description"]


def test_provision_and_terminate_tokens_are_idempotent(
    launch: tuple[Any, boto3.Session, str, str],
) -> None:
    studio, admin, product_id, artifact_id = launch
    records = {
        _provision(studio, product_id, artifact_id, ProvisionToken="once")["RecordId"]
        for _ in range(2)
    }
    assert len(records) == 1
    assert len(aws.client("cloudformation", admin).describe_stacks()["Stacks"]) == 1
    pp_id = studio.search_provisioned_products()["ProvisionedProducts"][0]["Id"]
    terminations = {
        studio.terminate_provisioned_product(ProvisionedProductId=pp_id, TerminateToken="bye")[
            "RecordDetail"
        ]["RecordId"]
        for _ in range(2)
    }
    assert len(terminations) == 1


def test_retain_physical_resources_keeps_the_stack(
    launch: tuple[Any, boto3.Session, str, str],
) -> None:
    studio, admin, product_id, artifact_id = launch
    record = _provision(studio, product_id, artifact_id)
    studio.terminate_provisioned_product(
        ProvisionedProductName="my-bucket", RetainPhysicalResources=True
    )
    assert len(aws.client("cloudformation", admin).describe_stacks()["Stacks"]) == 1
    with pytest.raises(studio.exceptions.ResourceNotFoundException):
        studio.describe_provisioned_product(Id=record["ProvisionedProductId"])


def test_terminate_deletes_as_the_launch_role_and_a_refusal_fails_the_record(
    launch: tuple[Any, boto3.Session, str, str],
) -> None:
    studio, admin, product_id, artifact_id = launch
    iam = aws.client("iam", admin)
    keep_buckets = {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}
    iam.put_role_policy(
        RoleName=LAUNCH_ROLE,
        PolicyName="keep",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [keep_buckets]}),
    )
    pp_id = _provision(studio, product_id, artifact_id)["ProvisionedProductId"]

    record = studio.terminate_provisioned_product(ProvisionedProductId=pp_id)["RecordDetail"]

    described = studio.describe_record(Id=record["RecordId"])["RecordDetail"]
    assert described["Status"] == "FAILED"
    assert described["RecordErrors"][0]["Description"] == (
        "The following resource(s) failed to delete: [Bucket]. "
    )
    provisioned = studio.describe_provisioned_product(Id=pp_id)["ProvisionedProductDetail"]
    assert provisioned["LastRecordId"] == record["RecordId"]
    cloudformation = aws.client("cloudformation", admin)
    (stack,) = cloudformation.describe_stacks()["Stacks"]
    assert stack["StackStatus"] == "DELETE_FAILED"
    events = cloudformation.describe_stack_events(StackName=stack["StackId"])["StackEvents"]
    refusal = next(e for e in events if e["LogicalResourceId"] == "Bucket")["ResourceStatusReason"]
    assert f"assumed-role/{LAUNCH_ROLE}/servicecatalog is not authorized" in refusal

    iam.delete_role_policy(RoleName=LAUNCH_ROLE, PolicyName="keep")
    again = studio.terminate_provisioned_product(ProvisionedProductId=pp_id)["RecordDetail"]
    assert studio.describe_record(Id=again["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    assert cloudformation.describe_stacks()["Stacks"] == []
