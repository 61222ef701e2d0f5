"""Service principals acting as their roles, account roots for the sandbox's services, the
organization's member accounts, and the moto IAM fixes they rest on."""

import json
from typing import Any

import pytest
from accounts import service_role, service_trust
from botocore.exceptions import ClientError
from moto.iam.models import iam_backends

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox, organization, runtime
from mlops_seeds.sandbox.iam import acting

ACCOUNT = "123456789012"


def _trust(service: str) -> str:
    return json.dumps(service_trust(service))


def _role(name: str, service: str, *actions: str) -> str:
    return service_role(aws.make_session(), name, service, *actions)


def test_a_service_acts_as_a_role_that_trusts_it(sandbox: Sandbox) -> None:
    arn = _role("builds", "codebuild.amazonaws.com", "s3:ListAllMyBuckets")
    session = runtime.current().session_as("codebuild.amazonaws.com", arn, "build-1")
    caller = aws.client("sts", session).get_caller_identity()
    assert caller["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/builds/build-1"
    aws.client("s3", session).list_buckets()  # the role's own policy allows it
    with pytest.raises(ClientError) as denied:
        aws.client("sagemaker", session).list_endpoints()
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert (
        "assumed-role/builds/build-1 is not authorized to perform: sagemaker:ListEndpoints"
        in (denied.value.response["Error"]["Message"])
    )


def test_a_service_may_not_act_as_a_role_trusting_another(sandbox: Sandbox) -> None:
    arn = _role("pipelines", "codepipeline.amazonaws.com")
    with pytest.raises(acting.AccessDenied) as denied:
        runtime.current().session_as("codebuild.amazonaws.com", arn, "build")
    assert denied.value.message == (
        f"codebuild.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: "
        f"{arn} (its trust policy does not allow codebuild.amazonaws.com)"
    )
    with pytest.raises(acting.AccessDenied, match="the role does not exist"):
        runtime.current().session_as("codebuild.amazonaws.com", f"{arn}-gone", "x")


def test_without_enforcement_a_role_is_assumed_unchecked(sandbox: Sandbox) -> None:
    arn = _role("anyone", "codepipeline.amazonaws.com")
    sandbox.enforce_iam = False
    try:
        session = runtime.current().session_as("codebuild.amazonaws.com", arn, "build")
        assert ":assumed-role/anyone/" in aws.client("sts", session).get_caller_identity()["Arn"]
    finally:
        sandbox.enforce_iam = True


def test_account_roots_act_in_their_account_only_for_the_sandboxs_services(
    sandbox: Sandbox,
) -> None:
    member = runtime.current().account_session("111111111111")
    assert aws.client("sts", member).get_caller_identity()["Account"] == "111111111111"
    names = [r["RoleName"] for r in aws.client("iam", member).list_roles()["Roles"]]
    assert organization.ACCESS_ROLE in names
    assert "AKIAROOT111111111111" not in json.dumps(sandbox.env())  # never handed out


def test_a_client_cannot_pick_its_account_with_motos_header(sandbox: Sandbox) -> None:
    iam = aws.client("iam", aws.make_session())

    def other_account(request: Any, **kwargs: Any) -> None:
        request.headers["x-moto-account-id"] = "111111111111"

    iam.meta.events.register("before-sign.iam.*", other_account)
    names = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert organization.ACCESS_ROLE not in names  # the member account's role: not seen


def test_member_accounts_have_the_organizations_access_role_after_a_reset(
    sandbox: Sandbox,
) -> None:
    for account in organization.MEMBER_ACCOUNTS:
        sandbox.reset()
        backend = iam_backends[account]["aws"]
        role = next(r for r in backend.roles.values() if r.name == organization.ACCESS_ROLE)
        assert list(role.managed_policies) == [organization.ADMINISTRATOR_ACCESS]
        trust = json.loads(role.assume_role_policy_document)
        assert trust["Statement"][0]["Principal"] == {
            "AWS": f"arn:aws:iam::{organization.MANAGEMENT_ACCOUNT}:root"
        }
    admin = aws.assume_role(
        aws.make_session(), f"arn:aws:iam::111111111111:role/{organization.ACCESS_ROLE}"
    )
    aws.client("iam", admin).create_role(RoleName="made", AssumeRolePolicyDocument=_trust("x.y"))


def test_aws_managed_policies_attach_by_arn_in_any_account(sandbox: Sandbox) -> None:
    iam = aws.client("iam", aws.make_session())
    iam.create_role(RoleName="studio", AssumeRolePolicyDocument=_trust("sagemaker.amazonaws.com"))
    arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    iam.attach_role_policy(RoleName="studio", PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName="studio")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]
    with pytest.raises(ClientError) as missing:
        iam.attach_role_policy(RoleName="studio", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"


def test_a_templates_inline_policy_is_kept_as_json_without_novalue_items(
    sandbox: Sandbox,
) -> None:
    template = {
        "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "templated",
                    "AssumeRolePolicyDocument": json.loads(_trust("codebuild.amazonaws.com")),
                    "Policies": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
                                    {
                                        "Fn::If": [
                                            "Never",
                                            {"Effect": "Allow", "Action": "*", "Resource": "*"},
                                            {"Ref": "AWS::NoValue"},
                                        ]
                                    },
                                ],
                            },
                        }
                    ],
                },
            }
        },
    }
    session = aws.make_session()
    aws.client("cloudformation", session).create_stack(
        StackName="inline", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    stored = iam_backends[ACCOUNT]["aws"].get_role("templated").policies["p"]
    assert json.loads(stored)["Statement"] == [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}
    ]
