"""IAM enforced in the sandbox (its default): a role's policies
decide by action, resource ARN and condition; AWS's AccessDenied shapes and messages."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.iam.operations import operation_of

ACCOUNT = "123456789012"
TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def enforced(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with IAM enforced (its default), as it was left afterwards."""
    before = sandbox.enforce_iam
    sandbox.enforce_iam = True
    try:
        yield sandbox
    finally:
        sandbox.enforce_iam = before


@pytest.fixture
def role_session(sandbox: Sandbox) -> Callable[..., boto3.Session]:
    """role_session(name, *statements, trust=...): a role with one inline policy, and a
    session of it (made while enforcement is still off, or by root, which may assume it)."""
    hub = aws.make_session()
    iam = aws.client("iam", hub)

    def make(
        name: str,
        *statements: dict[str, Any],
        trust: dict[str, Any] = TRUST_ACCOUNT,
        boundary: str | None = None,
    ) -> boto3.Session:
        extra = {"PermissionsBoundary": boundary} if boundary else {}
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **extra)
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=_policy(*statements))
        return aws.assume_role(hub, f"arn:aws:iam::{ACCOUNT}:role/{name}")

    return make


def _denied(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_a_role_reads_its_bucket_and_is_refused_another(
    enforced: Sandbox, role_session: Callable[..., boto3.Session]
) -> None:
    s3_root = aws.client("s3", aws.make_session())
    for bucket in ("mine", "theirs"):
        s3_root.create_bucket(Bucket=bucket)
        s3_root.put_object(Bucket=bucket, Key="k", Body=b"v")
    session = role_session(
        "Reader", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::mine/*"}
    )
    s3 = aws.client("s3", session)
    assert s3.get_object(Bucket="mine", Key="k")["Body"].read() == b"v"
    code, status, message = _denied(lambda: s3.get_object(Bucket="theirs", Key="k"))
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/Reader/{_session_name(session)} is not "
        "authorized to perform: s3:GetObject on resource: arn:aws:s3:::theirs/k because no "
        "identity-based policy allows the s3:GetObject action"
    )


def _session_name(session: boto3.Session) -> str:
    arn = aws.client("sts", session).get_caller_identity()["Arn"]
    return str(arn).rsplit("/", 1)[-1]


def test_an_explicit_deny_wins(
    enforced: Sandbox, role_session: Callable[..., boto3.Session]
) -> None:
    aws.client("s3", aws.make_session()).create_bucket(Bucket="deny-bucket")
    session = role_session(
        "Denied",
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::deny-bucket/secret/*",
        },
    )
    s3 = aws.client("s3", session)
    s3.put_object(Bucket="deny-bucket", Key="open/k", Body=b"")
    code, _, message = _denied(
        lambda: s3.put_object(Bucket="deny-bucket", Key="secret/k", Body=b"")
    )
    assert code == "AccessDenied"
    assert message.endswith(
        "s3:PutObject on resource: arn:aws:s3:::deny-bucket/secret/k with an explicit deny in an "
        "identity-based policy"
    )


def test_assume_role_is_refused_when_the_trust_policy_does_not_name_the_caller(
    enforced: Sandbox, role_session: Callable[..., boto3.Session]
) -> None:
    aws.client("iam", aws.make_session()).create_role(
        RoleName="ForCodeBuild",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "codebuild.amazonaws.com"},
                    }
                ],
            }
        ),
    )
    session = role_session(
        "Caller", {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
    )
    code, status, message = _denied(
        lambda: aws.client("sts", session).assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ForCodeBuild", RoleSessionName="caller"
        )
    )
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith(
        f"sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/ForCodeBuild because no "
        "resource-based policy allows the sts:AssumeRole action"
    )


def test_pass_role_is_checked_when_a_role_is_handed_to_sagemaker(
    enforced: Sandbox, role_session: Callable[..., boto3.Session]
) -> None:
    execution = f"arn:aws:iam::{ACCOUNT}:role/Execution"
    session = role_session("Builder", {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})
    sagemaker = aws.client("sagemaker", session)
    code, status, message = _denied(
        lambda: sagemaker.create_pipeline(
            PipelineName="p", PipelineDefinition="{}", RoleArn=execution
        )
    )
    assert (code, status) == ("AccessDeniedException", 400)
    assert message.endswith(
        f"iam:PassRole on resource: {execution} because no identity-based policy allows the "
        "iam:PassRole action"
    )
    allowed = role_session(
        "Passer",
        {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": execution,
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
    )
    aws.client("sagemaker", allowed).create_pipeline(
        PipelineName="p", PipelineDefinition="{}", RoleArn=execution
    )
    # An endpoint configuration's execution role (inference components, async inference)
    # is passed as well.
    variant = {"VariantName": "v", "ModelName": "m", "InstanceType": "ml.m5.large"}
    configs = {"ProductionVariants": [variant], "ExecutionRoleArn": execution}
    code, _, message = _denied(
        lambda: sagemaker.create_endpoint_config(EndpointConfigName="c", **configs)
    )
    assert code == "AccessDeniedException" and "iam:PassRole on resource" in message


def test_invoke_endpoint_is_decided_by_the_endpoint_arn(
    enforced: Sandbox, role_session: Callable[..., boto3.Session]
) -> None:
    session = role_session(
        "Tester",
        {
            "Effect": "Allow",
            "Action": "sagemaker:InvokeEndpoint",
            "Resource": f"arn:aws:sagemaker:*:{ACCOUNT}:endpoint/staging-*",
        },
    )
    runtime = aws.client("sagemaker-runtime", session)
    code, status, message = _denied(
        lambda: runtime.invoke_endpoint(EndpointName="Prod-Model", Body=b"1")
    )
    assert (code, status) == ("AccessDeniedException", 403)
    assert "endpoint/prod-model because no identity-based policy" in message
    # Allowed by IAM: what follows is moto's own answer for a missing endpoint.
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="Staging-Model", Body=b"1")
    assert "AccessDenied" not in caught.value.response["Error"]["Code"]


def test_a_request_tag_condition_decides_create_model(
    enforced: Sandbox, role_session: Callable[..., boto3.Session]
) -> None:
    execution = f"arn:aws:iam::{ACCOUNT}:role/Execution"
    session = role_session(
        "Tagged",
        {
            "Effect": "Allow",
            "Action": "sagemaker:CreateModel",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/project": "alpha"}},
        },
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": execution},
        {  # the tags of a create call are authorized as AddTags too
            "Effect": "Allow",
            "Action": "sagemaker:AddTags",
            "Resource": "*",
            "Condition": {"StringEquals": {"sagemaker:TaggingAction": "CreateModel"}},
        },
    )
    sagemaker = aws.client("sagemaker", session)
    container = {"Image": "123.dkr.ecr.us-east-1.amazonaws.com/x:1"}
    code, _, _ = _denied(
        lambda: sagemaker.create_model(
            ModelName="m1",
            ExecutionRoleArn=execution,
            PrimaryContainer=container,
            Tags=[{"Key": "project", "Value": "beta"}],
        )
    )
    assert code == "AccessDeniedException"
    sagemaker.create_model(
        ModelName="m2",
        ExecutionRoleArn=execution,
        PrimaryContainer=container,
        Tags=[{"Key": "project", "Value": "alpha"}],
    )


def test_a_resource_tag_condition_decides_describe_model(
    enforced: Sandbox, role_session: Callable[..., boto3.Session]
) -> None:
    root = aws.client("sagemaker", aws.make_session())
    container = {"Image": "123.dkr.ecr.us-east-1.amazonaws.com/x:1"}
    for name, project in (("Ours", "alpha"), ("Theirs", "beta")):
        root.create_model(
            ModelName=name,
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/Execution",
            PrimaryContainer=container,
            Tags=[{"Key": "project", "Value": project}],
        )
    session = role_session(
        "Reader",
        {
            "Effect": "Allow",
            "Action": "sagemaker:DescribeModel",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/project": "alpha"}},
        },
    )
    sagemaker = aws.client("sagemaker", session)
    assert sagemaker.describe_model(ModelName="Ours")["ModelName"] == "Ours"
    code, _, message = _denied(lambda: sagemaker.describe_model(ModelName="Theirs"))
    assert code == "AccessDeniedException"
    assert f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/theirs" in message


def test_root_is_allowed(enforced: Sandbox) -> None:
    session = aws.make_session()
    aws.client("s3", session).create_bucket(Bucket="root-bucket")
    assert aws.client("s3", session).head_bucket(Bucket="root-bucket")


def test_enforcement_is_on_by_default_and_off_lets_everything_through(
    sandbox: Sandbox, role_session: Callable[..., boto3.Session]
) -> None:
    assert sandbox.enforce_iam
    aws.client("s3", aws.make_session()).create_bucket(Bucket="free")
    session = role_session("Nothing")
    with pytest.raises(ClientError):
        aws.client("s3", session).put_object(Bucket="free", Key="k", Body=b"")
    sandbox.enforce_iam = False
    try:
        aws.client("s3", session).put_object(Bucket="free", Key="k", Body=b"")
    finally:
        sandbox.enforce_iam = True


@pytest.mark.parametrize(
    ("signing", "method", "path", "query", "target", "expected"),
    [
        ("s3", "GET", "/b/a/k.txt", "", None, ("s3", "GetObject")),
        ("s3", "GET", "/b", "list-type=2&prefix=x", None, ("s3", "ListObjectsV2")),
        ("s3", "PUT", "/b/k", "tagging", None, ("s3", "PutObjectTagging")),
        ("s3", "GET", "/", "", None, ("s3", "ListBuckets")),
        ("sagemaker", "POST", "/", "", "SageMaker.CreateModel", ("sagemaker", "CreateModel")),
        (
            "sagemaker",
            "POST",
            "/endpoints/e/invocations",
            "",
            None,
            ("sagemaker-runtime", "InvokeEndpoint"),
        ),
        ("sts", "POST", "/", "Action=AssumeRole", None, ("sts", "AssumeRole")),
    ],
)
def test_operations_come_from_botocore_models(
    signing: str,
    method: str,
    path: str,
    query: str,
    target: str | None,
    expected: tuple[str, str],
) -> None:
    headers = {"x-amz-target": target} if target else {}
    found = operation_of(signing, method, path, query, headers, b"")
    assert found is not None
    assert (found.service, found.name) == expected
