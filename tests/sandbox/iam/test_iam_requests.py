"""The resources a request is authorized against when a name member is given an ARN: the
resource in the ARN's account (never the caller's), a related type by name, any other ARN
as given (so a policy written for this template's resources does not match it)."""

import datetime

import pytest

from mlops_seeds.sandbox.iam.operations import Operation
from mlops_seeds.sandbox.iam.requests import Where, checks

WHERE = Where("aws", "us-east-1", "111111111111")
NOW = datetime.datetime(2026, 12, 1)
HUB = "123456789012"
GROUP = f"arn:aws:sagemaker:us-east-1:{HUB}:model-package-group/Churn"
WEST_GROUP = f"arn:aws:sagemaker:us-west-2:{HUB}:model-package-group/churn"
OWN_GROUP = "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/churn"


def resources(service: str, operation: str, **params: str) -> list[tuple[str, str | None]]:
    found = checks(Operation(service, operation, params), WHERE, NOW).requests[0].resources
    return [(r.arn, r.account) for r in found]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (  # a group of another account: that account's group
            ("sagemaker", "DescribeModelPackageGroup", {"ModelPackageGroupName": GROUP}),
            [(f"arn:aws:sagemaker:us-east-1:{HUB}:model-package-group/churn", HUB)],
        ),
        (  # a group's ARN names its packages
            ("sagemaker", "ListModelPackages", {"ModelPackageGroupName": WEST_GROUP}),
            [(f"arn:aws:sagemaker:us-west-2:{HUB}:model-package/churn/*", HUB)],
        ),
        (  # a name: the caller's account
            ("sagemaker", "DescribeModelPackageGroup", {"ModelPackageGroupName": "churn"}),
            [(OWN_GROUP, "111111111111")],
        ),
        (  # a stack id is the stack's ARN, kept whole (its name is in it)
            ("cloudformation", "DescribeStacks",
             {"StackName": f"arn:aws:cloudformation:us-east-1:{HUB}:stack/deploy-prod/1234-abcd"}),
            [(f"arn:aws:cloudformation:us-east-1:{HUB}:stack/deploy-prod/1234-abcd", None)],
        ),
        (  # an ARN of another type (an S3 access point for a bucket): as given, no bucket
            ("s3", "ListObjectsV2", {"Bucket": f"arn:aws:s3:us-east-1:{HUB}:accesspoint/ap"}),
            [(f"arn:aws:s3:us-east-1:{HUB}:accesspoint/ap", None)],
        ),
    ],
)  # fmt: skip
def test_a_name_given_as_an_arn(
    call: tuple[str, str, dict[str, str]], expected: list[tuple[str, str | None]]
) -> None:
    service, operation, params = call
    found = resources(service, operation, **params)
    assert [arn for arn, _ in found] == [arn for arn, _ in expected]
    for (_, account), (_, wanted) in zip(found, expected, strict=True):
        if wanted is not None:
            assert account == wanted
