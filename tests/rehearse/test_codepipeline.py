"""Walking a pipeline made directly through the sandbox's APIs: a CodeCommit source over a
bare git repository, a CodeBuild build, CloudFormation deploys and a manual approval."""

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from mlops_seeds import aws
from mlops_seeds.rehearse.approvals import Approval, ApprovalRequest, reject_all
from mlops_seeds.rehearse.codepipeline import ExecutionRecord, resolve_references, run_pipeline

BUCKET = "pipeline-artifacts"
PIPELINE = "demo-pipeline"

BUILDSPEC = """\
version: 0.2
env:
  exported-variables: [DEPLOYED_NAME]
phases:
  build:
    commands:
      - mkdir -p dist
      - cp template.yml dist/template.yml
      - DEPLOYED_NAME="bucket-$GREETING-$(echo "$COMMIT" | cut -c1-8)"
      - |
        printf '{"Parameters": {"BucketName": "%s"}, "Tags": {"stage": "%s"}}' \
          "$DEPLOYED_NAME" staging > dist/staging.json
      - |
        printf '{"Parameters": {"BucketName": "%s-prod"}}' "$DEPLOYED_NAME" > dist/prod.json
artifacts:
  base-directory: dist
  files: ["**/*"]
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  BucketName: {Type: String}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Ref BucketName}
Outputs:
  Name: {Value: !Ref Bucket}
"""


def _deploy(name: str, stack: str, config: str, run_order: int = 1) -> dict[str, object]:
    return {
        "name": name,
        "actionTypeId": {
            "category": "Deploy",
            "owner": "AWS",
            "provider": "CloudFormation",
            "version": "1",
        },
        "configuration": {
            "ActionMode": "CREATE_UPDATE",
            "StackName": stack,
            "TemplatePath": "BuildArtifact::template.yml",
            "TemplateConfiguration": f"BuildArtifact::{config}",
            "RoleArn": f"arn:aws:iam::222222222222:role/{PIPELINE}-cfn",
        },
        "inputArtifacts": [{"name": "BuildArtifact"}],
        "runOrder": run_order,
    }


def _stages() -> list[dict[str, object]]:
    def kind(category: str, provider: str) -> dict[str, str]:
        return {"category": category, "owner": "AWS", "provider": provider, "version": "1"}

    return [
        {
            "name": "Source",
            "actions": [
                {
                    "name": "AppSource",
                    "namespace": "SourceVariables",
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
                    "name": "BuildTemplates",
                    "namespace": "BuildVariables",
                    "actionTypeId": kind("Build", "CodeBuild"),
                    "configuration": {
                        "ProjectName": "demo-build",
                        "EnvironmentVariables": json.dumps(
                            [
                                {"name": "GREETING", "value": "#{variables.Greeting}"},
                                {"name": "COMMIT", "value": "#{SourceVariables.CommitId}"},
                            ]
                        ),
                    },
                    "inputArtifacts": [{"name": "SourceArtifact"}],
                    "outputArtifacts": [{"name": "BuildArtifact"}],
                }
            ],
        },
        {
            "name": "DeployStaging",
            "actions": [
                _deploy("DeployStagingStack", "demo-staging", "staging.json"),
                {
                    "name": "Approve",
                    "actionTypeId": kind("Approval", "Manual"),
                    "configuration": {"CustomData": "ship #{BuildVariables.DEPLOYED_NAME}?"},
                    "runOrder": 2,
                },
            ],
        },
        {"name": "DeployProd", "actions": [_deploy("DeployProdStack", "demo-prod", "prod.json")]},
    ]


@pytest.fixture
def pipeline(
    spoke: boto3.Session,
    make_role: Callable[[str, str], str],
    make_project: Callable[..., None],
    bare_repo: Callable[..., str],
) -> Callable[[str], str]:
    """A pipeline over a fresh bare repository whose buildspec.yml is given; the
    repository's URL (the pipeline's CodeCommit repository "app" resolves to it)."""

    def make(buildspec: str) -> str:
        url = bare_repo({"buildspec.yml": buildspec, "template.yml": TEMPLATE})
        aws.client("s3", spoke).create_bucket(Bucket=BUCKET)
        aws.client("codecommit", spoke).create_repository(repositoryName="app")
        make_project("demo-build", "buildspec.yml", {"GREETING": "from-project"})
        make_role(f"{PIPELINE}-cfn", "cloudformation.amazonaws.com")
        aws.client("codepipeline", spoke).create_pipeline(
            pipeline={
                "name": PIPELINE,
                "roleArn": make_role(f"{PIPELINE}-role", "codepipeline.amazonaws.com"),
                "artifactStore": {"type": "S3", "location": BUCKET},
                "stages": _stages(),
                "variables": [{"name": "Greeting", "defaultValue": "hello"}],
            }
        )
        return url

    return make


def _run(
    spoke: boto3.Session, url: str, tmp_path: Path, **kwargs: object
) -> tuple[ExecutionRecord, list[str]]:
    lines: list[str] = []
    record = run_pipeline(
        spoke,
        PIPELINE,
        tmp_path / "runs",
        echo=lines.append,
        clone_url=lambda session, name: {"app": url}[name],
        **kwargs,  # type: ignore[arg-type]
    )
    return record, lines


def _stack(spoke: boto3.Session, name: str) -> dict[str, object] | None:
    stacks = aws.client("cloudformation", spoke).list_stacks()["StackSummaries"]
    return next((s for s in stacks if s["StackName"] == name), None)


def test_pipeline_runs_source_build_deploy_approval_and_prod(
    spoke: boto3.Session, pipeline: Callable[[str], str], tmp_path: Path
) -> None:
    url = pipeline(BUILDSPEC)
    asked: list[ApprovalRequest] = []

    def approve(request: ApprovalRequest) -> Approval:
        asked.append(request)
        return Approval(True, "looks good")

    record, lines = _run(spoke, url, tmp_path, approver=approve, variables={"Greeting": "hi"})
    assert record.succeeded, [(a.name, a.summary) for a in record.actions]
    assert [a.name for a in record.actions] == [
        "AppSource",
        "BuildTemplates",
        "DeployStagingStack",
        "Approve",
        "DeployProdStack",
    ]
    commit = record.action("AppSource").variables["CommitId"]
    deployed = f"bucket-hi-{commit[:8]}"
    assert record.action("BuildTemplates").variables == {"DEPLOYED_NAME": deployed}
    assert asked == [ApprovalRequest(PIPELINE, "DeployStaging", "Approve", f"ship {deployed}?")]
    s3 = aws.client("s3", spoke)
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {deployed, f"{deployed}-prod"} <= buckets
    staging = aws.client("cloudformation", spoke).describe_stacks(StackName="demo-staging")
    assert staging["Stacks"][0]["Tags"] == [{"Key": "stage", "Value": "staging"}]
    assert record.action("DeployStagingStack").variables == {"Name": deployed}
    artifact = record.action("BuildTemplates").outputs["BuildArtifact"]
    assert artifact.key.startswith(f"{PIPELINE}/BuildArtif/")
    body = s3.get_object(Bucket=BUCKET, Key=artifact.key)["Body"].read()
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert names == ["prod.json", "staging.json", "template.yml"]
    source = record.action("AppSource").outputs["SourceArtifact"]
    source_zip = s3.get_object(Bucket=BUCKET, Key=source.key)["Body"].read()
    assert zipfile.ZipFile(io.BytesIO(source_zip)).namelist() == ["buildspec.yml", "template.yml"]
    assert lines[-1].startswith(f"{PIPELINE}: Succeeded in ")


def test_second_run_with_nothing_to_change_succeeds(
    spoke: boto3.Session, pipeline: Callable[[str], str], tmp_path: Path
) -> None:
    url = pipeline(BUILDSPEC)
    first, _ = _run(spoke, url, tmp_path)
    second, _ = _run(spoke, url, tmp_path)
    assert first.succeeded and second.succeeded
    assert "no updates are to be performed" in second.action("DeployStagingStack").summary


def test_failing_build_stops_the_pipeline(
    spoke: boto3.Session, pipeline: Callable[[str], str], tmp_path: Path
) -> None:
    url = pipeline(BUILDSPEC.replace("- mkdir -p dist", "- echo broken >&2 && exit 4"))
    record, lines = _run(spoke, url, tmp_path)
    assert record.status == "Failed"
    assert [(a.name, a.status) for a in record.actions] == [
        ("AppSource", "Succeeded"),
        ("BuildTemplates", "Failed"),
    ]
    assert "exit status 4" in record.action("BuildTemplates").summary
    assert any(line.strip() == "| broken" for line in lines)
    assert _stack(spoke, "demo-staging") is None


def test_rejected_approval_stops_before_prod(
    spoke: boto3.Session, pipeline: Callable[[str], str], tmp_path: Path
) -> None:
    url = pipeline(BUILDSPEC)
    record, _ = _run(spoke, url, tmp_path, approver=reject_all)
    assert record.failed_action is not None
    assert record.failed_action.name == "Approve"
    assert record.failed_action.summary.startswith("Rejected")
    assert _stack(spoke, "demo-staging") is not None
    assert _stack(spoke, "demo-prod") is None


def test_failed_stack_fails_the_action_with_the_stack_events_reason(
    spoke: boto3.Session, pipeline: Callable[[str], str], tmp_path: Path
) -> None:
    url = pipeline(BUILDSPEC)
    record, _ = _run(spoke, url, tmp_path, variables={"Greeting": "x" * 70})
    assert record.failed_action is not None
    assert record.failed_action.name == "DeployStagingStack"
    assert "demo-staging" in record.failed_action.summary
    assert "The specified bucket is not valid" in record.failed_action.summary


def test_references_resolve_or_name_the_unknown_one() -> None:
    namespaces = {"variables": {"A": "1"}, "Src": {"CommitId": "c0ffee"}}
    assert resolve_references("#{variables.A}-#{Src.CommitId}", namespaces) == "1-c0ffee"
    with pytest.raises(Exception, match=r"#\{Src.Nope\}"):
        resolve_references("#{Src.Nope}", namespaces)


def _deny(spoke: boto3.Session, role: str, *actions: str) -> None:
    """Add to `role` an explicit Deny of `actions`."""
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": list(actions), "Resource": "*"}],
    }
    aws.client("iam", spoke).put_role_policy(
        RoleName=role, PolicyName="deny", PolicyDocument=json.dumps(deny)
    )


def test_the_source_and_stack_events_need_only_what_codepipeline_itself_needs(
    spoke: boto3.Session, pipeline: Callable[[str], str], tmp_path: Path
) -> None:
    # SageMaker's CodePipeline role grants neither: the source action does not describe the
    # repository and CodePipeline reads a failed stack's events itself.
    url = pipeline(BUILDSPEC)
    role = f"{PIPELINE}-role"
    _deny(spoke, role, "codecommit:GetRepository", "cloudformation:DescribeStackEvents")
    record, _ = _run(spoke, url, tmp_path, variables={"Greeting": "x" * 70})
    assert record.action("AppSource").status == "Succeeded"
    assert record.failed_action is not None and record.failed_action.name == "DeployStagingStack"
    assert "The specified bucket is not valid" in record.failed_action.summary


@pytest.mark.parametrize(
    "action", ["GetBranch", "GetCommit", "UploadArchive", "GetUploadArchiveStatus"]
)
def test_the_source_action_is_refused_without_each_permission_it_uses(
    spoke: boto3.Session, pipeline: Callable[[str], str], tmp_path: Path, action: str
) -> None:
    url = pipeline(BUILDSPEC)
    _deny(spoke, f"{PIPELINE}-role", f"codecommit:{action}")
    record, _ = _run(spoke, url, tmp_path)
    assert record.failed_action is not None and record.failed_action.name == "AppSource"
    assert (
        f"assumed-role/{PIPELINE}-role/codepipeline is not authorized to perform: "
        f"codecommit:{action} on resource: arn:aws:codecommit:us-east-1:222222222222:app"
    ) in record.failed_action.summary
