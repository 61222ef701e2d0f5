"""A pipeline deploying a stack into another account, as CodePipeline does it ("Create a
pipeline in CodePipeline that uses resources from another AWS account"): the deploy
action's roleArn is a role of the target account that the pipeline's role assumes; that role
reads the build's artifact from the pipeline's bucket, encrypted under the pipeline's
customer managed key, and creates the stack with a CloudFormation role of its own account.
Each of the three grants (the role's trust, the key policy, the bucket policy) is needed:
without one, the action fails with AWS's refusal naming the account and the action."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from accounts import member_admin
from test_codepipeline import BUCKET, PIPELINE, TEMPLATE

from mlops_seeds import aws
from mlops_seeds.rehearse.codepipeline import run_pipeline

TOOLING = "222222222222"
TARGET = "333333333333"
PIPELINE_ROLE = f"arn:aws:iam::{TOOLING}:role/{PIPELINE}-role"
DEPLOYER = f"arn:aws:iam::{TARGET}:role/deployer"
BUILDSPEC = """\
version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist && cp template.yml dist/template.yml
      - |
        printf '{"Parameters": {"BucketName": "target-bucket-%s"}}' "$(date +%s)" > dist/config.json
artifacts:
  base-directory: dist
  files: ["**/*"]
"""


def _allow(principal: str, *actions: str, resource: str = "*") -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": list(actions),
        "Resource": resource,
    }


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _target_roles(trusted: str) -> None:
    """The target account's deploy role (trusting `trusted`) and CloudFormation role."""
    iam = aws.client("iam", member_admin(TARGET))
    iam.create_role(
        RoleName="deployer",
        AssumeRolePolicyDocument=_document(
            {"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}
        ),
    )
    deploy = {
        "Effect": "Allow",
        "Action": ["cloudformation:*", "s3:GetObject", "kms:Decrypt", "iam:PassRole"],
        "Resource": "*",
    }
    iam.put_role_policy(
        RoleName="deployer",
        PolicyName="deploy",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [deploy]}),
    )
    iam.create_role(
        RoleName="stacks",
        AssumeRolePolicyDocument=_document(
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudformation.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
    )
    buckets = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    iam.put_role_policy(
        RoleName="stacks",
        PolicyName="buckets",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [buckets]}),
    )


def _stages() -> list[dict[str, Any]]:
    def kind(category: str, provider: str) -> dict[str, str]:
        return {"category": category, "owner": "AWS", "provider": provider, "version": "1"}

    return [
        {
            "name": "Source",
            "actions": [
                {
                    "name": "AppSource",
                    "actionTypeId": kind("Source", "CodeCommit"),
                    "configuration": {"RepositoryName": "app", "BranchName": "main"},
                    "outputArtifacts": [{"name": "SourceArtifact"}],
                }
            ],
        },
        {
            "name": "Build",
            "actions": [
                {
                    "name": "Build",
                    "actionTypeId": kind("Build", "CodeBuild"),
                    "configuration": {"ProjectName": "demo-build"},
                    "inputArtifacts": [{"name": "SourceArtifact"}],
                    "outputArtifacts": [{"name": "BuildArtifact"}],
                }
            ],
        },
        {
            "name": "DeployTarget",
            "actions": [
                {
                    "name": "DeployTargetStack",
                    "actionTypeId": kind("Deploy", "CloudFormation"),
                    "roleArn": DEPLOYER,
                    "configuration": {
                        "ActionMode": "CREATE_UPDATE",
                        "StackName": "target-stack",
                        "TemplatePath": "BuildArtifact::template.yml",
                        "TemplateConfiguration": "BuildArtifact::config.json",
                        "RoleArn": f"arn:aws:iam::{TARGET}:role/stacks",
                    },
                    "inputArtifacts": [{"name": "BuildArtifact"}],
                }
            ],
        },
    ]


@pytest.mark.parametrize("missing", [None, "trust", "key policy", "bucket policy"])
def test_a_deploy_action_in_another_account_needs_each_grant(
    spoke: boto3.Session,
    make_role: Callable[[str, str], str],
    make_project: Callable[..., None],
    bare_repo: Callable[..., str],
    tmp_path: Path,
    missing: str | None,
) -> None:
    url = bare_repo({"buildspec.yml": BUILDSPEC, "template.yml": TEMPLATE})
    aws.client("codecommit", spoke).create_repository(repositoryName="app")
    make_project("demo-build", "buildspec.yml")
    role = make_role(f"{PIPELINE}-role", "codepipeline.amazonaws.com")
    assert role == PIPELINE_ROLE
    kms = aws.client("kms", spoke)
    tooling_root = f"arn:aws:iam::{TOOLING}:root"
    key_statements = [_allow(tooling_root, "kms:*")]
    if missing != "key policy":
        key_statements.append(_allow(DEPLOYER, "kms:Decrypt"))
    key = kms.create_key(Policy=_document(*key_statements))["KeyMetadata"]["Arn"]
    s3 = aws.client("s3", spoke)
    s3.create_bucket(Bucket=BUCKET)
    if missing != "bucket policy":
        s3.put_bucket_policy(
            Bucket=BUCKET,
            Policy=_document(_allow(DEPLOYER, "s3:GetObject", resource=f"arn:aws:s3:::{BUCKET}/*")),
        )
    _target_roles(f"arn:aws:iam::{TOOLING}:role/someone-else" if missing == "trust" else role)
    aws.client("codepipeline", spoke).create_pipeline(
        pipeline={
            "name": PIPELINE,
            "roleArn": role,
            "artifactStore": {
                "type": "S3",
                "location": BUCKET,
                "encryptionKey": {"id": key, "type": "KMS"},
            },
            "stages": _stages(),
        }
    )

    record = run_pipeline(
        spoke,
        PIPELINE,
        tmp_path / "runs",
        echo=print,
        clone_url=lambda session, name: {"app": url}[name],
    )

    target = aws.client("cloudformation", member_admin(TARGET))
    stacks = [s["StackName"] for s in target.list_stacks()["StackSummaries"]]
    if missing is None:
        assert record.status == "Succeeded", record.failed_action
        assert stacks == ["target-stack"]
        assert aws.client("cloudformation", spoke).list_stacks()["StackSummaries"] == []
        return
    failed = record.failed_action
    assert failed is not None and failed.name == "DeployTargetStack"
    assert stacks == []
    expected = {
        "trust": f"not authorized to perform: sts:AssumeRole on resource: {DEPLOYER}",
        "key policy": f"assumed-role/deployer/codepipeline-action is not authorized to perform: "
        f"kms:Decrypt on resource: {key}",
        "bucket policy": "assumed-role/deployer/codepipeline-action is not authorized to perform: "
        f"s3:GetObject on resource: arn:aws:s3:::{BUCKET}/",
    }[missing]
    assert expected in failed.summary, failed.summary
