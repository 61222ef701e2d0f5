"""CloudFormation reads a TemplateURL with the caller's permissions: a caller (or an account)
that may not s3:GetObject the template gets AWS's ValidationError, as does a template that
is not there; the bucket's policy can admit another account."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from accounts import member_admin, role_allowed
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.sandbox.cloudformation.template_urls import MESSAGE, bucket_and_key

SPOKE = "111111111111"
BUCKET = "sandbox-test-templates"  # the template_url fixture's, in the hub


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://b.s3.amazonaws.com/t/x.yaml", ("b", "t/x.yaml")),
        ("https://b.s3.eu-west-1.amazonaws.com/x.yaml", ("b", "x.yaml")),
        ("https://b.s3-eu-west-1.amazonaws.com/x.yaml", ("b", "x.yaml")),
        ("https://s3.amazonaws.com/b/t/x.yaml", ("b", "t/x.yaml")),
        ("https://s3.eu-west-1.amazonaws.com/b/x.yaml", ("b", "x.yaml")),
        ("https://s3-bucket.s3.amazonaws.com/x.yaml", ("s3-bucket", "x.yaml")),
        ("http://localhost:5000/b/x.yaml", ("b", "x.yaml")),
    ],
)
def test_a_template_url_names_its_bucket_and_key(url: str, expected: tuple[str, str]) -> None:
    assert bucket_and_key(url) == expected


def _create(session: Any, url: str) -> Any:
    return aws.client("cloudformation", session).create_stack(
        StackName="from-url",
        TemplateURL=url,
        Parameters=[{"ParameterKey": "BucketName", "ParameterValue": "made-from-url"}],
    )


def _refused(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    return str(raised.value.response["Error"]["Message"])


def test_another_account_reads_a_template_only_as_the_bucket_policy_admits(
    hub: Any, template_url: Callable[..., str]
) -> None:
    url = template_url()
    spoke = member_admin(SPOKE)
    assert _refused(lambda: _create(spoke, url)) == MESSAGE
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{SPOKE}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            }
        ],
    }
    aws.client("s3", hub).put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    _create(spoke, url)
    summary = aws.client("cloudformation", spoke).get_template_summary(TemplateURL=url)
    assert [p["ParameterKey"] for p in summary["Parameters"]] == ["BucketName", "Stage"]


def test_a_caller_without_s3_get_object_and_a_missing_template_are_refused(
    hub: Any, template_url: Callable[..., str]
) -> None:
    url = template_url()
    stacks_only = role_allowed(
        "123456789012",
        "StacksOnly",
        {"Effect": "Allow", "Action": ["cloudformation:*", "s3:CreateBucket"], "Resource": "*"},
    )
    assert _refused(lambda: _create(stacks_only, url)) == MESSAGE
    missing = url.replace("bucket.yaml", "nothing.yaml")
    assert _refused(lambda: _create(hub, missing)) == MESSAGE
    _create(hub, url)  # the account's admin reads its own bucket
