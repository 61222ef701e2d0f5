"""CloudFormation acting as somebody under IAM: each resource is made, changed and deleted
by the calls its type needs (calls.yaml, checked against the resource provider schemas
cfn-lint ships), as the stack's role when it has one, else as its caller; a refused call
fails the resource, and a refused deletion leaves the stack DELETE_FAILED."""

import json
from functools import lru_cache
from importlib import resources as package_files
from typing import Any

import boto3
import pytest
from accounts import service_trust
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.cloudformation import permissions
from mlops_seeds.sandbox.iam.requests import table as operation_table

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


@lru_cache(maxsize=1)
def _schemas() -> tuple[dict[str, str], Any]:
    base = package_files.files("cfnlint.data.schemas")
    providers = json.loads(base.joinpath("providers", "us-east-1.json").read_text())
    return providers, base.joinpath("resources")


def _handler_permissions(resource_type: str, phase: str) -> set[str] | None:
    providers, resources = _schemas()
    schema = json.loads(resources.joinpath(f"{providers[resource_type]}.json").read_text())
    handler = (schema.get("handlers") or {}).get(phase)
    return set(handler["permissions"]) if handler else None


def _action(call: permissions.Call) -> str:
    service = operation_table()[call.service]
    entry = (service.get("operations") or {}).get(call.operation) or {}
    return f"{service.get('prefix') or call.service}:{entry.get('action', call.operation)}"


def _all_calls(resource_type: str, phase: str) -> list[permissions.Call]:
    """Every call of a type's phase, each `when` and `each` satisfied."""
    specs = permissions.table()[resource_type].get(phase) or []
    found = []
    for spec in specs:
        service, operation = str(spec["op"]).split(".", 1)
        found.append(permissions.Call(service, operation, {}))
    return found


@pytest.mark.parametrize("resource_type", sorted(permissions.table()))
def test_each_call_is_one_the_types_handlers_are_documented_to_make(resource_type: str) -> None:
    assert permissions.table()[resource_type].get("delete"), "no delete calls"
    for phase in ("create", "update", "delete"):
        documented = _handler_permissions(resource_type, phase)
        if documented is None:  # types without a registry schema (CodeBuild::Project)
            continue
        for call in _all_calls(resource_type, phase):
            assert _action(call) in documented, (resource_type, phase, _action(call))


def test_calls_follow_what_the_template_asks_for() -> None:
    role = {
        "Path": "/team/",
        "Policies": [{"PolicyName": "a"}, {"PolicyName": "b"}],
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "Tags": [{"Key": "team", "Value": "ml"}],
    }
    made = permissions.calls("AWS::IAM::Role", role, "r")
    assert [
        (c.operation, c.params.get("PolicyName") or c.params.get("PolicyArn")) for c in made
    ] == [
        ("CreateRole", None),
        ("PutRolePolicy", "a"),
        ("PutRolePolicy", "b"),
        ("AttachRolePolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
    ]
    assert made[0].params == {
        "RoleName": "r",
        "Path": "/team/",
        "Tags": [{"Key": "team", "Value": "ml"}],
    }
    bucket = permissions.calls("AWS::S3::Bucket", {"BucketEncryption": {"x": 1}}, "b")
    assert [c.operation for c in bucket] == ["CreateBucket", "PutBucketEncryption"]
    policy = permissions.calls(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyName": "p",
            "ScalingTargetId": (
                "endpoint/e/variant/v|sagemaker:variant:DesiredInstanceCount|sagemaker"
            ),
        },
        "p",
    )
    assert policy[0].params == {
        "PolicyName": "p",
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/e/variant/v",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    pipeline = permissions.calls("AWS::CodePipeline::Pipeline", {"RoleArn": "arn:r"}, "p")
    assert pipeline[0].params == {"pipeline": {"name": "p", "roleArn": "arn:r"}}
    assert permissions.calls("AWS::Unknown::Thing", {}, "x") == []


def _template(*resources: tuple[str, str, dict[str, Any]]) -> str:
    return json.dumps(
        {
            "Resources": {
                name: {"Type": kind, "Properties": properties}
                for name, kind, properties in resources
            }
        }
    )


def _session_with(name: str, *statements: dict[str, Any]) -> boto3.Session:
    hub = aws.make_session()
    iam = aws.client("iam", hub)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    return aws.assume_role(hub, f"arn:aws:iam::{ACCOUNT}:role/{name}")


def _stack(session: boto3.Session, name: str) -> dict[str, Any]:
    cloudformation = aws.client("cloudformation", session)
    stack: dict[str, Any] = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return stack


STACKS = {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"}
ROLE = (
    "Role",
    "AWS::IAM::Role",
    {
        "RoleName": "made-by-stack",
        "AssumeRolePolicyDocument": service_trust("codebuild.amazonaws.com"),
    },
)


def test_a_caller_who_may_not_create_a_role_gets_a_rolled_back_stack(sandbox: Sandbox) -> None:
    session = _session_with(
        "deployer", STACKS, {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    bucket = ("Bucket", "AWS::S3::Bucket", {"BucketName": "made-by-stack"})
    aws.client("cloudformation", session).create_stack(
        StackName="roles",
        TemplateBody=_template(bucket, ROLE),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = _stack(session, "roles")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"] == (
        'Resource handler returned message: "User: arn:aws:sts::123456789012:assumed-role/'
        "deployer/mlops-seeds is not authorized to perform: iam:CreateRole on resource: "
        "arn:aws:iam::123456789012:role/made-by-stack because no identity-based policy allows "
        'the iam:CreateRole action (Service: Iam, Status Code: 403)" '
        "(HandlerErrorCode: AccessDenied)"
    )
    iam = aws.client("iam", aws.make_session())
    with pytest.raises(ClientError):  # nothing left behind, the bucket rolled back too
        iam.get_role(RoleName="made-by-stack")
    assert "made-by-stack" not in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]


def test_a_stack_role_acts_for_the_caller_and_must_trust_cloudformation(
    sandbox: Sandbox,
) -> None:
    iam = aws.client("iam", aws.make_session())
    for name, service in (
        ("stack-role", "cloudformation.amazonaws.com"),
        ("wrong", "x.amazonaws.com"),
    ):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(service_trust(service)))
        iam.put_role_policy(
            RoleName=name,
            PolicyName="p",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
                }
            ),
        )
    session = _session_with(
        "launcher",
        STACKS,
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
    )
    cloudformation = aws.client("cloudformation", session)
    for stack_name, role in (("as-role", "stack-role"), ("untrusted", "wrong")):
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=_template(ROLE)
            if role == "stack-role"
            else _template(("Other", *ROLE[1:])),
            RoleARN=f"arn:aws:iam::{ACCOUNT}:role/{role}",
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    assert _stack(session, "as-role")["StackStatus"] == "CREATE_COMPLETE"  # the role may
    untrusted = _stack(session, "untrusted")
    assert untrusted["StackStatus"] == "ROLLBACK_COMPLETE"
    assert untrusted["StackStatusReason"].startswith(
        f"Role arn:aws:iam::{ACCOUNT}:role/wrong is invalid or cannot be assumed: "
        "cloudformation.amazonaws.com is not authorized to perform: sts:AssumeRole"
    )


def _tagging_on(call: str) -> dict[str, Any]:
    """sagemaker:AddTags, only as part of `call` (SageMaker authorizes the tags a create
    call carries as AddTags with sagemaker:TaggingAction naming the call)."""
    condition = {"StringEquals": {"sagemaker:TaggingAction": call}}
    return {
        "Effect": "Allow",
        "Action": "sagemaker:AddTags",
        "Resource": "*",
        "Condition": condition,
    }


def test_stack_tags_are_request_tags_of_the_resources_calls(sandbox: Sandbox) -> None:
    tagged_only = {
        "Effect": "Allow",
        "Action": "sagemaker:CreateModelPackageGroup",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestTag/team": "ml"}},
    }
    session = _session_with(
        "registrar", STACKS, tagged_only, _tagging_on("CreateModelPackageGroup")
    )
    cloudformation = aws.client("cloudformation", session)
    group = ("Group", "AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupName": "g1"})
    cloudformation.create_stack(
        StackName="tagged", TemplateBody=_template(group), Tags=[{"Key": "team", "Value": "ml"}]
    )
    assert _stack(session, "tagged")["StackStatus"] == "CREATE_COMPLETE"
    group = ("Group", "AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupName": "g2"})
    cloudformation.create_stack(StackName="untagged", TemplateBody=_template(group))
    untagged = _stack(session, "untagged")
    assert untagged["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "sagemaker:CreateModelPackageGroup" in untagged["StackStatusReason"]
    described = aws.client("sagemaker", aws.make_session()).list_tags(
        ResourceArn=f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/g1"
    )
    assert {"Key": "team", "Value": "ml"} in described["Tags"]


def test_a_create_call_with_tags_also_needs_add_tags_for_that_call(sandbox: Sandbox) -> None:
    # The stack's tags reach CreateModelPackageGroup; AddTags is allowed only as part of
    # CreateModel, so the group cannot be made with them. Without tags it can.
    creates = {"Effect": "Allow", "Action": "sagemaker:CreateModelPackageGroup", "Resource": "*"}
    session = _session_with("tagger", STACKS, creates, _tagging_on("CreateModel"))
    cloudformation = aws.client("cloudformation", session)
    group = ("Group", "AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupName": "g3"})
    cloudformation.create_stack(
        StackName="tagged", TemplateBody=_template(group), Tags=[{"Key": "team", "Value": "ml"}]
    )
    tagged = _stack(session, "tagged")
    assert tagged["StackStatus"] == "ROLLBACK_COMPLETE"
    (failed,) = [
        e
        for e in cloudformation.describe_stack_events(StackName="tagged")["StackEvents"]
        if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == "Group"
    ]
    assert (
        f"is not authorized to perform: sagemaker:AddTags on resource: "
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/g3"
    ) in failed["ResourceStatusReason"]
    group = ("Group", "AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupName": "g4"})
    cloudformation.create_stack(StackName="untagged", TemplateBody=_template(group))
    assert _stack(session, "untagged")["StackStatus"] == "CREATE_COMPLETE"


# ------------------------------------------- key policy lockout (iam/key_lockout.py)
LOCKOUT = "The new key policy will not allow you to update the key policy in the future."
MAKES_KEYS = {"Effect": "Allow", "Action": ["kms:CreateKey", "kms:TagResource"], "Resource": "*"}
CHANGES_KEY_POLICIES = {"Effect": "Allow", "Action": "kms:PutKeyPolicy", "Resource": "*"}


def _refusal(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_key_policy_that_locks_its_creator_out_is_refused(sandbox: Sandbox) -> None:
    # KMS's default policy lets IAM decide; this role may not change key policies.
    kms = aws.client("kms", _session_with("key-maker", MAKES_KEYS))
    assert _refusal(kms.create_key) == ("MalformedPolicyDocumentException", LOCKOUT)
    assert (
        _refusal(lambda: kms.create_key(Tags=[{"TagKey": "team", "TagValue": "ml"}]))[1] == LOCKOUT
    )
    kms.create_key(BypassPolicyLockoutSafetyCheck=True)  # as the API allows, not advised
    # Allowed PutKeyPolicy only on keys already tagged: a key being made has no tags yet.
    tagged_only = {
        **CHANGES_KEY_POLICIES,
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "ml"}},
    }
    kms = aws.client("kms", _session_with("tagged-keys", MAKES_KEYS, tagged_only))
    assert (
        _refusal(lambda: kms.create_key(Tags=[{"TagKey": "team", "TagValue": "ml"}]))[1] == LOCKOUT
    )
    on_create = {**CHANGES_KEY_POLICIES, "Condition": {"Null": {"aws:RequestTag/team": "false"}}}
    kms = aws.client("kms", _session_with("tagging-keys", MAKES_KEYS, on_create))
    kms.create_key(Tags=[{"TagKey": "team", "TagValue": "ml"}])


def test_put_key_policy_may_not_lock_its_caller_out(sandbox: Sandbox) -> None:
    kms = aws.client("kms", _session_with("key-admin", MAKES_KEYS, CHANGES_KEY_POLICIES))
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    elsewhere = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    refused = _refusal(
        lambda: kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(elsewhere))
    )
    assert refused == ("MalformedPolicyDocumentException", LOCKOUT)
    kept = {**elsewhere, "Statement": [*elsewhere["Statement"], _account_administers()]}
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(kept))


def _account_administers() -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def test_a_stack_role_that_could_not_change_its_keys_policy_fails_the_key(
    sandbox: Sandbox,
) -> None:
    key = ("Key", "AWS::KMS::Key", {"KeyPolicy": {"Version": "2012-10-17", "Statement": [
        _account_administers()]}})  # fmt: skip
    session = _session_with("key-stacks", STACKS, MAKES_KEYS)
    cloudformation = aws.client("cloudformation", session)
    cloudformation.create_stack(StackName="keys", TemplateBody=_template(key))
    assert _stack(session, "keys")["StackStatus"] == "ROLLBACK_COMPLETE"
    (failed,) = [
        e
        for e in cloudformation.describe_stack_events(StackName="keys")["StackEvents"]
        if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == "Key"
    ]
    assert failed["ResourceStatusReason"] == (
        f'Resource handler returned message: "{LOCKOUT} (Service: Kms, Status Code: 400)" '
        "(HandlerErrorCode: InvalidRequest)"
    )
    session = _session_with("key-stacks-2", STACKS, MAKES_KEYS, CHANGES_KEY_POLICIES)
    aws.client("cloudformation", session).create_stack(
        StackName="kept", TemplateBody=_template(key)
    )
    assert _stack(session, "kept")["StackStatus"] == "CREATE_COMPLETE"


# ---------------------------------------------------------------- deletion (deletion.py)
WITHOUT_DELETE_ROLE_POLICY = {
    "Effect": "Allow",
    "Action": [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "iam:DeleteRole",
        "s3:*",
    ],
    "Resource": "*",
}
INLINE = (
    "Policy",
    "AWS::IAM::Policy",
    {
        "PolicyName": "inline",
        "Roles": [{"Ref": "Role"}],
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
        },
    },
)
BUCKET = ("Bucket", "AWS::S3::Bucket", {"BucketName": "deleted-by-stack"})


def _stack_role(name: str, *statements: dict[str, Any]) -> str:
    """A role CloudFormation may assume, allowed `statements`."""
    iam = aws.client("iam", aws.make_session())
    trust = service_trust("cloudformation.amazonaws.com")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def _deployer() -> Any:
    session = _session_with(
        "deployer", STACKS, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
    )
    return aws.client("cloudformation", session)


def _described(cloudformation: Any, name: str) -> dict[str, Any]:
    stack: dict[str, Any] = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return stack


def _bucket_names() -> list[str]:
    return [b["Name"] for b in aws.client("s3", aws.make_session()).list_buckets()["Buckets"]]


def _failed_events(cloudformation: Any, stack: str) -> dict[str, str]:
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    return {
        e["LogicalResourceId"]: e["ResourceStatusReason"]
        for e in events
        if e["ResourceStatus"] == "DELETE_FAILED" and e["LogicalResourceId"] != stack
    }


def test_what_the_stack_role_may_not_delete_stays_with_what_it_refers_to(
    sandbox: Sandbox,
) -> None:
    role_arn = _stack_role("no-delete-role-policy", WITHOUT_DELETE_ROLE_POLICY)
    cloudformation = _deployer()
    cloudformation.create_stack(
        StackName="three",
        TemplateBody=_template(BUCKET, ROLE, INLINE),
        RoleARN=role_arn,
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    assert _described(cloudformation, "three")["StackStatus"] == "CREATE_COMPLETE"

    cloudformation.delete_stack(StackName="three")  # succeeds: the failure is the stack's

    stack = _described(cloudformation, "three")
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert stack["StackStatusReason"] == "The following resource(s) failed to delete: [Policy]. "
    failed = _failed_events(cloudformation, "three")
    assert list(failed) == ["Policy"]  # the role it refers to was not tried
    assert (
        "assumed-role/no-delete-role-policy/AWSCloudFormation is not authorized to perform: "
        f"iam:DeleteRolePolicy on resource: arn:aws:iam::{ACCOUNT}:role/made-by-stack"
    ) in failed["Policy"]
    held = cloudformation.list_stack_resources(StackName="three")["StackResourceSummaries"]
    assert sorted(r["LogicalResourceId"] for r in held) == ["Policy", "Role"]
    iam = aws.client("iam", aws.make_session())
    assert iam.list_role_policies(RoleName="made-by-stack")["PolicyNames"] == ["inline"]
    assert "deleted-by-stack" not in _bucket_names()  # nothing refers to it: deleted
    with pytest.raises(ClientError) as refused:
        cloudformation.update_stack(StackName="three", TemplateBody=_template(BUCKET))
    assert refused.value.response["Error"]["Message"].endswith(
        "is in DELETE_FAILED state and can not be updated."
    )
    with pytest.raises(ClientError) as gone:  # already deleted: not a resource to retain
        cloudformation.delete_stack(StackName="three", RetainResources=["Bucket"])
    assert "Do not specify resources that are in the DELETE_COMPLETE state" in str(gone.value)

    cloudformation.delete_stack(StackName="three", RetainResources=["Policy"])

    assert cloudformation.describe_stacks()["Stacks"] == []
    with pytest.raises(ClientError):  # the role's handler deleted it, inline policy and all
        iam.get_role(RoleName="made-by-stack")


def test_retaining_and_forcing_apply_only_to_a_stack_whose_deletion_failed(
    sandbox: Sandbox,
) -> None:
    no_delete_bucket = {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}
    role_arn = _stack_role(
        "keeps-buckets", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, no_delete_bucket
    )
    cloudformation = _deployer()
    cloudformation.create_stack(StackName="b", TemplateBody=_template(BUCKET), RoleARN=role_arn)
    for option in ({"RetainResources": ["Bucket"]}, {"DeletionMode": "FORCE_DELETE_STACK"}):
        with pytest.raises(ClientError) as refused:
            cloudformation.delete_stack(StackName="b", **option)
        assert refused.value.response["Error"]["Code"] == "ValidationError"
        assert "applies only to a stack in the DELETE_FAILED state" in str(refused.value)
    assert _described(cloudformation, "b")["StackStatus"] == "CREATE_COMPLETE"

    cloudformation.delete_stack(StackName="b")
    assert "explicit deny" in _failed_events(cloudformation, "b")["Bucket"]
    cloudformation.delete_stack(StackName="b")  # a retry fails the same way
    assert _described(cloudformation, "b")["StackStatus"] == "DELETE_FAILED"
    cloudformation.delete_stack(StackName="b", DeletionMode="FORCE_DELETE_STACK")

    assert cloudformation.describe_stacks()["Stacks"] == []
    assert "deleted-by-stack" in _bucket_names()  # left in place


def test_delete_stack_acts_as_the_role_it_is_given(sandbox: Sandbox) -> None:
    cloudformation = _deployer()
    made = _stack_role("maker", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    cannot = _stack_role("reader", {"Effect": "Allow", "Action": "s3:List*", "Resource": "*"})
    cloudformation.create_stack(StackName="b", TemplateBody=_template(BUCKET), RoleARN=made)

    cloudformation.delete_stack(StackName="b", RoleARN=cannot)

    refused = "assumed-role/reader/AWSCloudFormation is not authorized to perform: s3:DeleteBucket"
    assert refused in _failed_events(cloudformation, "b")["Bucket"]
    cloudformation.delete_stack(StackName="b")  # the stack's own role may
    assert cloudformation.describe_stacks()["Stacks"] == []


def test_a_rollback_that_may_not_delete_what_it_made_ends_rollback_failed(
    sandbox: Sandbox,
) -> None:
    role_arn = _stack_role(
        "makes-buckets-only", {"Effect": "Allow", "Action": "s3:CreateBucket", "Resource": "*"}
    )
    cloudformation = _deployer()
    cloudformation.create_stack(
        StackName="half",
        TemplateBody=_template(BUCKET, ROLE),
        RoleARN=role_arn,
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )

    stack = _described(cloudformation, "half")
    assert stack["StackStatus"] == "ROLLBACK_FAILED"
    assert "iam:CreateRole" in stack["StackStatusReason"]  # why the creation failed
    assert "s3:DeleteBucket" in _failed_events(cloudformation, "half")["Bucket"]
    assert "deleted-by-stack" in _bucket_names()


# ---------------------------------------------------------------- an update's clean-up
OTHER_BUCKET = ("Other", "AWS::S3::Bucket", {"BucketName": "dropped-by-update"})


def test_an_update_deletes_what_it_drops_in_clean_up_and_stands_when_it_may_not(
    sandbox: Sandbox,
) -> None:
    keeps_buckets = _stack_role(
        "keeps-buckets",
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
    )
    cloudformation = _deployer()
    cloudformation.create_stack(
        StackName="two", TemplateBody=_template(BUCKET, OTHER_BUCKET), RoleARN=keeps_buckets
    )

    cloudformation.update_stack(StackName="two", TemplateBody=_template(BUCKET))  # its role

    stack = _described(cloudformation, "two")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert stack["RoleARN"] == keeps_buckets  # kept: UpdateStack named no role
    assert "explicit deny" in _failed_events(cloudformation, "two")["Other"]
    held = cloudformation.list_stack_resources(StackName="two")["StackResourceSummaries"]
    assert [r["LogicalResourceId"] for r in held] == ["Bucket"]
    assert "dropped-by-update" in _bucket_names()  # left behind, out of the stack
    events = cloudformation.describe_stack_events(StackName="two")["StackEvents"]
    statuses = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "two"]
    assert statuses[:2] == ["UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"]


def test_a_failed_update_keeps_what_it_would_have_dropped(sandbox: Sandbox) -> None:
    buckets_only = _stack_role("buckets", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    cloudformation = _deployer()
    cloudformation.create_stack(
        StackName="two", TemplateBody=_template(BUCKET, OTHER_BUCKET), RoleARN=buckets_only
    )

    cloudformation.update_stack(  # the role may not make the role: the update fails
        StackName="two", TemplateBody=_template(BUCKET, ROLE), Capabilities=["CAPABILITY_NAMED_IAM"]
    )

    assert _described(cloudformation, "two")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "dropped-by-update" in _bucket_names()
    held = cloudformation.list_stack_resources(StackName="two")["StackResourceSummaries"]
    assert sorted(r["LogicalResourceId"] for r in held) == ["Bucket", "Other"]


def test_a_resource_named_by_its_template_is_not_replaced(sandbox: Sandbox) -> None:
    cloudformation = aws.client("cloudformation", aws.make_session())
    group = {"ModelPackageGroupName": "named", "ModelPackageGroupDescription": "first"}
    cloudformation.create_stack(
        StackName="g", TemplateBody=_template(("Group", "AWS::SageMaker::ModelPackageGroup", group))
    )
    changed = {**group, "ModelPackageGroupDescription": "second"}  # a replacing property
    cloudformation.update_stack(
        StackName="g",
        TemplateBody=_template(("Group", "AWS::SageMaker::ModelPackageGroup", changed)),
    )

    stack = _described(cloudformation, "g")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"] == (
        "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
        "Rename named and update the stack again."
    )
    described = aws.client("sagemaker").describe_model_package_group(ModelPackageGroupName="named")
    assert described["ModelPackageGroupDescription"] == "first"


# ---------------------------------------------------------------- change sets (change_sets.py)
def test_a_change_set_executes_as_the_stack_role_and_rolls_back_when_refused(
    sandbox: Sandbox,
) -> None:
    buckets_only = _stack_role("buckets", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    cloudformation = _deployer()
    created = cloudformation.create_change_set(
        StackName="cs",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody=_template(BUCKET),
        RoleARN=buckets_only,
    )
    cloudformation.execute_change_set(ChangeSetName=created["Id"])
    assert _described(cloudformation, "cs")["StackStatus"] == "CREATE_COMPLETE"
    assert "deleted-by-stack" in _bucket_names()
    with pytest.raises(ClientError) as again:
        cloudformation.execute_change_set(ChangeSetName=created["Id"])
    assert again.value.response["Error"]["Code"] == "InvalidChangeSetStatus"

    update = cloudformation.create_change_set(
        StackName=created["StackId"],  # by its ARN, as the API allows
        ChangeSetName="second",
        ChangeSetType="UPDATE",
        TemplateBody=_template(BUCKET, ROLE),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cloudformation.execute_change_set(ChangeSetName=update["Id"])

    stack = _described(cloudformation, "cs")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    refused = "assumed-role/buckets/AWSCloudFormation is not authorized to perform: iam:CreateRole"
    assert refused in stack["StackStatusReason"]
    described = cloudformation.describe_change_set(ChangeSetName=update["Id"])
    assert described["ExecutionStatus"] == "EXECUTE_FAILED"


def test_a_create_change_set_refused_a_resource_rolls_the_new_stack_back(
    sandbox: Sandbox,
) -> None:
    cloudformation = _deployer()  # no stack role: the caller, who may not make buckets
    created = cloudformation.create_change_set(
        StackName="new", ChangeSetName="c", ChangeSetType="CREATE", TemplateBody=_template(BUCKET)
    )
    cloudformation.execute_change_set(ChangeSetName=created["Id"])

    stack = _described(cloudformation, "new")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    refused = "assumed-role/deployer/mlops-seeds is not authorized to perform: s3:CreateBucket"
    assert refused in stack["StackStatusReason"]
    assert "deleted-by-stack" not in _bucket_names()
