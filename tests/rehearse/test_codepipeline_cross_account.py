"""A pipeline deploying a stack into another account, as CodePipeline does it ("Create a
pipeline in CodePipeline that uses resources from another AWS account"): the deploy
action's roleArn is the target account's deploy role (made by
service_catalog/target-bootstrap.yaml), which the pipeline's role assumes; that role reads
the build's artifact from the pipeline's bucket, encrypted under the pipeline's customer
managed key, and creates the stack with the bootstrap's stacks role. Each of the three
grants (the deploy role's trust, the key policy, the bucket policy) is needed: without one,
the action fails with AWS's refusal naming the account and the action."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from accounts import member_admin
from test_codepipeline import PIPELINE

from mlops_seeds import aws
from mlops_seeds.rehearse.codepipeline import run_pipeline

TOOLING = "222222222222"
TARGET = "333333333333"
BUCKET = f"sagemaker-p-demo-{TOOLING}-us-east-1"  # as the products name artifact buckets
PIPELINE_ROLE = f"arn:aws:iam::{TOOLING}:role/{PIPELINE}-role"
DEPLOYER = f"arn:aws:iam::{TARGET}:role/MlopsSeedsTargetDeployRole"
BOOTSTRAP = Path(__file__).resolve().parents[2] / "service_catalog" / "target-bootstrap.yaml"
# What the target stack makes: what the bootstrap's stacks role may (a rollback alarm).
TEMPLATE = """\
Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: demo-prod-new-fleet-5xx-rate
      Namespace: AWS/SageMaker
      MetricName: Invocation5XXErrors
      Statistic: Average
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0.05
      ComparisonOperator: GreaterThanThreshold
"""
BUILDSPEC = """\
version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist && cp template.yml dist/template.yml
      - echo '{}' > dist/config.json
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


def _bootstrap(trusted_path: str) -> None:
    """The target account's bootstrap, trusting the tooling account's roles at the path."""
    cloudformation = aws.client("cloudformation", member_admin(TARGET))
    cloudformation.create_stack(
        StackName="mlops-seeds-target-bootstrap",
        TemplateBody=BOOTSTRAP.read_text(),
        Parameters=[
            {"ParameterKey": "ToolingAccountId", "ParameterValue": TOOLING},
            {"ParameterKey": "TrustedRolePath", "ParameterValue": trusted_path},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName="mlops-seeds-target-bootstrap")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")


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
                        "StackName": "sagemaker-demo-prod",
                        "TemplatePath": "BuildArtifact::template.yml",
                        "TemplateConfiguration": "BuildArtifact::config.json",
                        "RoleArn": f"arn:aws:iam::{TARGET}:role/MlopsSeedsTargetStacksRole",
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
    _bootstrap("/elsewhere/" if missing == "trust" else "/")
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
    stacks.remove("mlops-seeds-target-bootstrap")
    if missing is None:
        assert record.status == "Succeeded", record.failed_action
        assert stacks == ["sagemaker-demo-prod"]
        alarms = aws.client("cloudwatch", member_admin(TARGET)).describe_alarms()["MetricAlarms"]
        assert [a["AlarmName"] for a in alarms] == ["demo-prod-new-fleet-5xx-rate"]
        assert aws.client("cloudformation", spoke).list_stacks()["StackSummaries"] == []
        return
    failed = record.failed_action
    assert failed is not None and failed.name == "DeployTargetStack"
    assert stacks == []
    expected = {
        "trust": f"not authorized to perform: sts:AssumeRole on resource: {DEPLOYER}",
        "key policy": "assumed-role/MlopsSeedsTargetDeployRole/codepipeline-action is not "
        f"authorized to perform: kms:Decrypt on resource: {key}",
        "bucket policy": "assumed-role/MlopsSeedsTargetDeployRole/codepipeline-action is not "
        f"authorized to perform: s3:GetObject on resource: arn:aws:s3:::{BUCKET}/",
    }[missing]
    assert expected in failed.summary, failed.summary
