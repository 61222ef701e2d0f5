"""Model package group resource policies: the API (Put/Get/DeleteModelPackageGroupPolicy),
and another account reading the group's packages only when the group's policy and its own
policies both allow it (IAM's cross-account evaluation), through the API and through a
CloudFormation stack making a model from the package."""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from accounts import role_allowed
from botocore.exceptions import ClientError

from mlops_seeds import aws

GROUP = "churn-models"
SPOKE = "111111111111"
HUB = "123456789012"
CONTAINER = {
    "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0",
    "ModelDataUrl": "s3://artifacts/model.tar.gz",
}


@pytest.fixture
def sm(hub: boto3.Session) -> Any:
    return aws.client("sagemaker", hub)


@pytest.fixture
def package(sm: Any) -> str:
    """An approved package of the hub's group; its ARN."""
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    arn: str = sm.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [CONTAINER],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    return arn


def policy(account: str, *actions: str) -> str:
    group = f"arn:aws:sagemaker:us-east-1:{HUB}:model-package-group/{GROUP}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Deploy",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": list(actions),
                    "Resource": [
                        group,
                        f"arn:aws:sagemaker:us-east-1:{HUB}:model-package/{GROUP}/*",
                    ],
                }
            ],
        }
    )


def denied(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")
    return str(caught.value.response["Error"]["Message"])


def test_another_account_reads_the_packages_only_with_the_groups_policy(
    sm: Any, package: str, spoke: Callable[..., boto3.Session]
) -> None:
    other = aws.client("sagemaker", spoke(SPOKE))
    message = denied(lambda: other.describe_model_package(ModelPackageName=package))
    assert f"arn:aws:sts::{SPOKE}:assumed-role/OrganizationAccountAccessRole" in message
    assert f"perform: sagemaker:DescribeModelPackage on resource: {package}" in message
    assert "because no resource-based policy allows" in message

    sm.put_model_package_group_policy(
        ModelPackageGroupName=GROUP,
        ResourcePolicy=policy(
            SPOKE, "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"
        ),
    )
    described = other.describe_model_package(ModelPackageName=package)
    assert described["ModelPackageArn"] == package
    group_arn = f"arn:aws:sagemaker:us-east-1:{HUB}:model-package-group/{GROUP}"
    listed = other.list_model_packages(ModelPackageGroupName=group_arn)["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in listed] == [package]
    # What the policy does not grant stays denied: the group itself, approving a package.
    denied(lambda: other.describe_model_package_group(ModelPackageGroupName=group_arn))
    denied(
        lambda: other.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Rejected")
    )
    # Another account than the one named is denied too.
    third = aws.client("sagemaker", spoke("222222222222"))
    denied(lambda: third.describe_model_package(ModelPackageName=package))

    assert (
        json.loads(
            sm.get_model_package_group_policy(ModelPackageGroupName=GROUP)["ResourcePolicy"]
        )["Statement"][0]["Sid"]
        == "Deploy"
    )
    sm.delete_model_package_group_policy(ModelPackageGroupName=GROUP)
    denied(lambda: other.describe_model_package(ModelPackageName=package))


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        ({"ModelPackageGroupName": "bad_name", "ResourcePolicy": "{}"}, "regular expression"),
        (
            {"ModelPackageGroupName": "missing", "ResourcePolicy": policy(SPOKE, "sagemaker:*")},
            "Model Package Group missing does not exist",
        ),
        (
            {"ModelPackageGroupName": GROUP, "ResourcePolicy": "not json"},
            "not a valid policy document",
        ),
    ],
)
def test_bad_policies_are_refused(
    sm: Any, package: str, request_: dict[str, str], words: str
) -> None:
    with pytest.raises(ClientError) as caught:
        sm.put_model_package_group_policy(**request_)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert words in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError, match="has no resource policy"):
        sm.get_model_package_group_policy(ModelPackageGroupName=GROUP)


MODEL_STACK = """\
Parameters:
  PackageArn: {Type: String}
  RoleArn: {Type: String}
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !Ref RoleArn
      PrimaryContainer:
        ModelPackageName: !Ref PackageArn
"""


def test_a_stack_in_another_account_makes_a_model_from_the_package_only_with_the_policy(
    sm: Any, package: str, spoke: Callable[..., boto3.Session]
) -> None:
    session = spoke(SPOKE)
    role = aws.client("iam", session).create_role(
        RoleName="model",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    cfn = aws.client("cloudformation", session)
    parameters = [
        {"ParameterKey": "PackageArn", "ParameterValue": package},
        {"ParameterKey": "RoleArn", "ParameterValue": role},
    ]
    cfn.create_stack(StackName="no-policy", TemplateBody=MODEL_STACK, Parameters=parameters)
    stack = cfn.describe_stacks(StackName="no-policy")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="no-policy")["StackEvents"]
    reasons = " ".join(e.get("ResourceStatusReason", "") for e in events)
    assert (
        "sagemaker:DescribeModelPackage" in reasons and "HandlerErrorCode: AccessDenied" in reasons
    )

    sm.put_model_package_group_policy(
        ModelPackageGroupName=GROUP, ResourcePolicy=policy(SPOKE, "sagemaker:DescribeModelPackage")
    )
    cfn.create_stack(StackName="with-policy", TemplateBody=MODEL_STACK, Parameters=parameters)
    assert cfn.describe_stacks(StackName="with-policy")["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )
    model = aws.client("sagemaker", session).list_models()["Models"][0]["ModelName"]
    described = aws.client("sagemaker", session).describe_model(ModelName=model)
    assert described["PrimaryContainer"]["ModelPackageName"] == package


def test_create_model_from_another_accounts_package_needs_the_groups_policy(
    sm: Any, package: str, spoke: Callable[..., boto3.Session]
) -> None:
    session = spoke(SPOKE)
    role = f"arn:aws:iam::{SPOKE}:role/OrganizationAccountAccessRole"
    other = aws.client("sagemaker", session)

    def create(name: str) -> Any:
        return other.create_model(
            ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"ModelPackageName": package}
        )

    message = denied(lambda: create("refused"))
    assert f"sagemaker:DescribeModelPackage on resource: {package}" in message
    sm.put_model_package_group_policy(
        ModelPackageGroupName=GROUP, ResourcePolicy=policy(SPOKE, "sagemaker:DescribeModelPackage")
    )
    create("allowed")
    assert other.describe_model(ModelName="allowed")["ModelName"] == "allowed"


def test_deleting_a_groups_policy_is_authorized_on_the_group(sm: Any, package: str) -> None:
    sm.put_model_package_group_policy(
        ModelPackageGroupName=GROUP, ResourcePolicy=policy(SPOKE, "sagemaker:DescribeModelPackage")
    )
    keeper = aws.client(
        "sagemaker",
        role_allowed(
            HUB,
            "keeper",
            {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "sagemaker:DeleteModelPackageGroupPolicy",
                "Resource": f"arn:aws:sagemaker:us-east-1:{HUB}:model-package-group/{GROUP}",
            },
        ),
    )
    message = denied(lambda: keeper.delete_model_package_group_policy(ModelPackageGroupName=GROUP))
    assert "with an explicit deny" in message
