"""KMS key policies on the sandbox: a key's policy must allow (a statement naming the account
hands the decision to its IAM policies), another account needs both the key policy and its
own policies, and S3 objects under a customer managed key need kms:GenerateDataKey to write
and kms:Decrypt to read, as their caller (the KMS Developer Guide and the S3 User Guide)."""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from accounts import role_allowed
from botocore.exceptions import ClientError

from mlops_seeds import aws

HUB = "123456789012"
SPOKE = "111111111111"
BUCKET = "kms-test-artifacts"


def key_policy(*statements: dict[str, Any]) -> str:
    admin = {
        "Sid": "Admin",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{HUB}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [admin, *statements]})


def use_by(principal: str, *actions: str) -> dict[str, Any]:
    return {
        "Sid": "Use",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": list(actions),
        "Resource": "*",
    }


def bucket_under(s3: Any, key_arn: str) -> None:
    """BUCKET, encrypted by default under `key_arn`."""
    s3.create_bucket(Bucket=BUCKET)
    default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default}]
        },
    )


def share_bucket(s3: Any, *actions: str) -> None:
    """BUCKET's policy: SPOKE may take `actions` on its objects."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{SPOKE}:root"},
        "Action": list(actions),
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))


@pytest.fixture
def kms(hub: boto3.Session) -> Any:
    return aws.client("kms", hub)


def denied(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert error["Code"] in ("AccessDenied", "AccessDeniedException"), error
    return str(error["Message"])


def test_a_key_policy_must_allow_even_in_the_keys_account(hub: boto3.Session, kms: Any) -> None:
    use = {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}
    reader = aws.client("kms", role_allowed(HUB, "kms-user", use))
    only_root = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{HUB}:user/nobody"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )
    closed = kms.create_key(Policy=only_root, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    delegating = kms.create_key(Policy=key_policy())["KeyMetadata"]
    # The account's statement delegates to IAM: the role's own policy allows it.
    reader.encrypt(KeyId=delegating["KeyId"], Plaintext=b"secret")
    message = denied(lambda: reader.encrypt(KeyId=closed["Arn"], Plaintext=b"secret"))
    assert "kms:Encrypt" in message and closed["Arn"] in message
    assert "because no resource-based policy allows" in message
    # Not even the account's root user may use a key whose policy leaves it out.
    denied(lambda: kms.create_alias(AliasName="alias/closed", TargetKeyId=closed["KeyId"]))
    # An alias names its key (and the key's policy).
    kms.create_alias(AliasName="alias/open", TargetKeyId=delegating["KeyId"])
    reader.encrypt(KeyId="alias/open", Plaintext=b"secret")


def test_another_account_needs_the_key_policy(
    hub: boto3.Session, kms: Any, spoke: Callable[..., boto3.Session]
) -> None:
    key = kms.create_key(Policy=key_policy())["KeyMetadata"]
    other = aws.client("kms", spoke(SPOKE))
    message = denied(lambda: other.describe_key(KeyId=key["Arn"]))
    assert f"arn:aws:sts::{SPOKE}:assumed-role/OrganizationAccountAccessRole" in message
    kms.put_key_policy(
        KeyId=key["KeyId"],
        PolicyName="default",
        Policy=key_policy(use_by(f"arn:aws:iam::{SPOKE}:root", "kms:DescribeKey")),
    )
    assert other.describe_key(KeyId=key["Arn"])["KeyMetadata"]["Arn"] == key["Arn"]
    denied(lambda: other.encrypt(KeyId=key["Arn"], Plaintext=b"x"))  # not granted


def test_s3_objects_under_a_customer_key_need_the_key_to_write_and_to_read(
    hub: boto3.Session, kms: Any, spoke: Callable[..., boto3.Session]
) -> None:
    key = kms.create_key(Policy=key_policy())["KeyMetadata"]
    s3 = aws.client("s3", hub)
    bucket_under(s3, key["Arn"])
    s3.put_object(Bucket=BUCKET, Key="model.tar.gz", Body=b"model")
    # An object records its key's ARN, however the request named the key.
    s3.put_object(Bucket=BUCKET, Key="by-id", Body=b"x", SSEKMSKeyId=key["KeyId"],
                  ServerSideEncryption="aws:kms")  # fmt: skip
    for name in ("model.tar.gz", "by-id"):
        assert s3.head_object(Bucket=BUCKET, Key=name)["SSEKMSKeyId"] == key["Arn"]
    share_bucket(s3, "s3:GetObject", "s3:PutObject")
    reader = aws.client("s3", spoke(SPOKE))
    message = denied(lambda: reader.get_object(Bucket=BUCKET, Key="model.tar.gz"))
    assert f"kms:Decrypt on resource: {key['Arn']}" in message
    message = denied(lambda: reader.put_object(Bucket=BUCKET, Key="new.tar.gz", Body=b"x"))
    assert f"kms:GenerateDataKey on resource: {key['Arn']}" in message

    kms.put_key_policy(
        KeyId=key["KeyId"],
        PolicyName="default",
        Policy=key_policy(
            use_by(f"arn:aws:iam::{SPOKE}:root", "kms:Decrypt", "kms:GenerateDataKey")
        ),
    )
    assert reader.get_object(Bucket=BUCKET, Key="model.tar.gz")["Body"].read() == b"model"
    reader.put_object(Bucket=BUCKET, Key="new.tar.gz", Body=b"x")
    # A key policy condition on the service the key is used through holds.
    kms.put_key_policy(
        KeyId=key["KeyId"],
        PolicyName="default",
        Policy=key_policy(
            {
                **use_by(f"arn:aws:iam::{SPOKE}:root", "kms:Decrypt"),
                "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
            }
        ),
    )
    denied(lambda: reader.get_object(Bucket=BUCKET, Key="model.tar.gz"))


def test_objects_under_the_aws_managed_key_are_read_in_its_account_only(
    hub: boto3.Session, kms: Any, spoke: Callable[..., boto3.Session]
) -> None:
    """What S3 writes under aws/s3 (SSE-KMS with no key named, whatever the bucket's default:
    SageMaker's model data when OutputDataConfig names no KmsKeyId) any principal of the
    account may read through S3, needing no KMS permission of its own; another account
    cannot, whatever the bucket policy and its own policies say (the AWS managed key's
    policy admits its account only), while it reads what the bucket's default key holds."""
    shared = kms.create_key(Policy=key_policy(use_by(f"arn:aws:iam::{SPOKE}:root", "kms:Decrypt")))[
        "KeyMetadata"
    ]
    s3 = aws.client("s3", hub)
    bucket_under(s3, shared["Arn"])
    s3.put_object(Bucket=BUCKET, Key="model.tar.gz", Body=b"model", ServerSideEncryption="aws:kms")
    s3.put_object(Bucket=BUCKET, Key="default.tar.gz", Body=b"default")
    share_bucket(s3, "s3:GetObject")
    only_s3 = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    local = aws.client("s3", role_allowed(HUB, "s3-reader", only_s3))
    assert local.get_object(Bucket=BUCKET, Key="model.tar.gz")["Body"].read() == b"model"

    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert s3.head_object(Bucket=BUCKET, Key="model.tar.gz")["SSEKMSKeyId"] == managed["Arn"]
    policy = json.loads(kms.get_key_policy(KeyId=managed["KeyId"], PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Condition"]["StringEquals"] == {
        "kms:CallerAccount": HUB,
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
    }
    everything = {"Effect": "Allow", "Action": ["s3:GetObject", "kms:*"], "Resource": "*"}
    remote = aws.client("s3", role_allowed(SPOKE, "s3-reader", everything))
    message = denied(lambda: remote.get_object(Bucket=BUCKET, Key="model.tar.gz"))
    assert f"kms:Decrypt on resource: {managed['Arn']}" in message
    assert "no resource-based policy allows the kms:Decrypt action" in message
    assert remote.get_object(Bucket=BUCKET, Key="default.tar.gz")["Body"].read() == b"default"


def test_every_operation_on_a_key_is_checked_and_only_cross_account_ones_reach_another_account(
    hub: boto3.Session, kms: Any, spoke: Callable[..., boto3.Session]
) -> None:
    closed = kms.create_key(
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [use_by(f"arn:aws:iam::{HUB}:user/nobody", "kms:*")],
            }
        ),
        BypassPolicyLockoutSafetyCheck=True,
    )["KeyMetadata"]
    denied(lambda: kms.disable_key(KeyId=closed["KeyId"]))  # not even the root user
    denied(lambda: kms.update_key_description(KeyId=closed["KeyId"], Description="mine"))

    shared = kms.create_key(
        Policy=key_policy(use_by(f"arn:aws:iam::{SPOKE}:root", "kms:*")), Description="hub's"
    )["KeyMetadata"]
    other = aws.client("kms", spoke(SPOKE))
    assert other.describe_key(KeyId=shared["Arn"])["KeyMetadata"]["Description"] == "hub's"
    # Administration is not offered to other accounts: the key is not found from there.
    with pytest.raises(ClientError) as caught:
        other.update_key_description(KeyId=shared["Arn"], Description="pwned")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    assert kms.describe_key(KeyId=shared["KeyId"])["KeyMetadata"]["Description"] == "hub's"


def test_decrypt_without_a_key_id_is_checked_against_the_ciphertexts_key(
    hub: boto3.Session, kms: Any
) -> None:
    use = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
    reader = aws.client("kms", role_allowed(HUB, "kms-decrypter", use))
    open_key = kms.create_key(Policy=key_policy())["KeyMetadata"]
    sealed = kms.encrypt(KeyId=open_key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    assert reader.decrypt(CiphertextBlob=sealed)["Plaintext"] == b"secret"
    kms.put_key_policy(
        KeyId=open_key["KeyId"],
        PolicyName="default",
        Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": [use_by(f"arn:aws:iam::{HUB}:root", "kms:Put*")]}
        ),
        BypassPolicyLockoutSafetyCheck=True,
    )
    message = denied(lambda: reader.decrypt(CiphertextBlob=sealed))
    assert f"kms:Decrypt on resource: {open_key['Arn']}" in message
