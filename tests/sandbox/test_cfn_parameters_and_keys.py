"""CloudFormation's Systems Manager parameter types, read as the caller (User Guide,
"CloudFormation-supplied parameter types"), and `AWS::KMS::Key` with its KeyPolicy, Tags
and rotation, made by the calls its handler makes and usable as its policy says."""

import json
from typing import Any

import boto3
import pytest
from accounts import member_admin, role_allowed
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox

ACCOUNT = "111111111111"
PARAMETER = "/mlops-seeds/deploy-accounts/staging"
PARAMETER_ARN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/mlops-seeds/deploy-accounts/staging"
READS_PARAMETER = """\
Parameters:
  StagingAccountId:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /mlops-seeds/deploy-accounts/staging
    AllowedValues: [/mlops-seeds/deploy-accounts/staging, /team/staging]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub deploys-to-${StagingAccountId}
Outputs:
  Staging:
    Value: !Ref StagingAccountId
"""
STACKS = {"Effect": "Allow", "Action": ["cloudformation:*", "sns:*"], "Resource": "*"}


def _create(session: boto3.Session, name: str, body: str, **extra: Any) -> dict[str, Any]:
    cloudformation = aws.client("cloudformation", session)
    cloudformation.create_stack(StackName=name, TemplateBody=body, **extra)
    stack: dict[str, Any] = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return stack


def test_a_parameter_type_reads_the_parameter_as_the_caller(sandbox: Sandbox) -> None:
    admin = member_admin(ACCOUNT)
    aws.client("ssm", admin).put_parameter(Name=PARAMETER, Value="333333333333", Type="String")
    reader = role_allowed(
        ACCOUNT,
        "reader",
        STACKS,
        {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": PARAMETER_ARN},
    )
    stack = _create(reader, "reads", READS_PARAMETER)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Outputs"][0]["OutputValue"] == "333333333333"
    # the parameter's ARN has no second "/": another parameter's permission does not match
    other = role_allowed(
        ACCOUNT,
        "other",
        STACKS,
        {
            "Effect": "Allow",
            "Action": "ssm:GetParameters",
            "Resource": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/mlops-seeds/other",
        },
    )
    with pytest.raises(ClientError) as refused:
        _create(other, "refused", READS_PARAMETER)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"].startswith(
        "AccessDenied. User doesn't have permission to call ssm:GetParameters ("
    )
    assert f"ssm:GetParameters on resource: {PARAMETER_ARN}" in error["Message"]
    stacks = aws.client("cloudformation", admin).list_stacks()["StackSummaries"]
    assert [s["StackName"] for s in stacks] == ["reads"]  # nothing half-made


def test_a_missing_parameter_refuses_the_stack(sandbox: Sandbox) -> None:
    admin = member_admin(ACCOUNT)
    with pytest.raises(ClientError) as refused:
        _create(admin, "missing", READS_PARAMETER)
    assert refused.value.response["Error"] == {
        "Type": "Sender",
        "Code": "ValidationError",
        "Message": f"Parameters: [ssm:{PARAMETER}] cannot be found.",
    }


def test_only_the_name_given_is_read_not_the_default_it_replaces(sandbox: Sandbox) -> None:
    admin = member_admin(ACCOUNT)
    aws.client("ssm", admin).put_parameter(
        Name="/team/staging", Value="555555555555", Type="String"
    )
    given = [{"ParameterKey": "StagingAccountId", "ParameterValue": "/team/staging"}]
    stack = _create(admin, "given", READS_PARAMETER, Parameters=given)  # no default exists
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Outputs"][0]["OutputValue"] == "555555555555"


def _key_template(policy: dict[str, Any], rotation: bool = True) -> str:
    return json.dumps(
        {
            "Resources": {
                "Key": {
                    "Type": "AWS::KMS::Key",
                    "Properties": {
                        "KeyPolicy": policy,
                        "EnableKeyRotation": rotation,
                        "Tags": [{"Key": "sagemaker:project-id", "Value": "p-1"}],
                    },
                }
            },
            "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
        }
    )


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_a_key_is_made_with_its_policy_tags_and_rotation(sandbox: Sandbox) -> None:
    admin = member_admin(ACCOUNT)
    user = f"arn:aws:iam::{ACCOUNT}:role/user"
    policy = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {"Effect": "Allow", "Principal": {"AWS": user}, "Action": "kms:Encrypt", "Resource": "*"},
    )
    maker = role_allowed(
        ACCOUNT,
        "maker",
        {"Effect": "Allow", "Action": ["cloudformation:*", "kms:CreateKey"], "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*"},
        # KMS's lockout check: the policy given must let its creator change it again
        {"Effect": "Allow", "Action": "kms:PutKeyPolicy", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "kms:EnableKeyRotation",
            "Resource": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/sagemaker:project-id": "p-1"}},
        },
    )
    stack = _create(maker, "key", _key_template(policy))
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    key = stack["Outputs"][0]["OutputValue"]
    kms = aws.client("kms", admin)
    assert json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]) == policy
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [
        {"TagKey": "sagemaker:project-id", "TagValue": "p-1"}
    ]
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True
    # the policy is the key's: a role it names may use the key with no IAM policy of its own
    nothing_of_kms = {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}
    user_session = role_allowed(ACCOUNT, "user", nothing_of_kms)
    encrypted = aws.client("kms", user_session).encrypt(KeyId=key, Plaintext=b"x")
    assert encrypted["KeyId"] == key


@pytest.mark.parametrize(
    ("missing", "action"),
    [("kms:CreateKey", "kms:CreateKey"), ("rotation", "kms:EnableKeyRotation")],
)
def test_a_key_its_maker_may_not_make_fails_with_the_refused_action(
    sandbox: Sandbox, missing: str, action: str
) -> None:
    statements = [{"Effect": "Allow", "Action": ["cloudformation:*"], "Resource": "*"}]
    if missing != "kms:CreateKey":
        statements.append(
            {"Effect": "Allow", "Action": ["kms:CreateKey", "kms:TagResource"], "Resource": "*"}
        )
    maker = role_allowed(ACCOUNT, "maker", *statements)
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    stack = _create(maker, "key", _key_template(_policy(root)))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = aws.client("cloudformation", maker).describe_stack_events(StackName="key")
    reasons = " ".join(e.get("ResourceStatusReason", "") for e in events["StackEvents"])
    assert "assumed-role/maker/" in reasons and f"not authorized to perform: {action}" in reasons
