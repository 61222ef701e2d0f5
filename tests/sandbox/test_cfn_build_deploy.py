"""templates/build-deploy.yaml (as Studio receives it, assembled from its parts) through the
sandbox's CloudFormation: every resource of the CodeCommit path is real in its service's API,
with the names the template gives."""

import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import boto3
import product_templates
import pytest
from accounts import member_admin

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
SPOKE = "222222222222"
SEED_BUCKET = "hub-seed-code"
PROJECT, PROJECT_ID = "churn", "p-abc123def456"
PREFIX = f"sagemaker-{PROJECT}-{PROJECT_ID}"
SEEDS = {
    "seeds/model-build.zip": {
        "README.md": "# model build\n",
        "codebuild-buildspec.yml": "version: 0.2\n",
        "pipelines/run.py": "print('run')\n",
    },
    "seeds/model-deploy.zip": {
        "README.md": "# model deploy\n",
        "buildspec.yml": "version: 0.2\n",
        "endpoint-config-template.yml": "Resources: {}\n",
    },
}


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def hub(sandbox: Sandbox) -> boto3.Session:
    """The hub, holding the seed code bucket and the template."""
    session = aws.make_session()
    s3 = aws.client("s3", session)
    s3.create_bucket(Bucket=SEED_BUCKET)
    for key, files in SEEDS.items():
        s3.put_object(Bucket=SEED_BUCKET, Key=key, Body=_zip(files))
    body = product_templates.text("build-deploy.yaml").encode()
    s3.put_object(Bucket=SEED_BUCKET, Key="templates/build-deploy.yaml", Body=body)
    spoke_reads = {  # as publish grants the spokes (another account's bucket: both must allow)
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{SPOKE}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{SEED_BUCKET}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=SEED_BUCKET, Policy=json.dumps(spoke_reads))
    return session


@pytest.fixture
def spoke(hub: boto3.Session) -> boto3.Session:
    """The spoke account where the project is launched."""
    return member_admin(SPOKE)


def _parameters(**overrides: str) -> list[dict[str, str]]:
    values = {
        "SageMakerProjectName": PROJECT,
        "SageMakerProjectId": PROJECT_ID,
        "SeedCodeBucket": SEED_BUCKET,
        **overrides,
    }
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _launch(spoke: boto3.Session, **overrides: str) -> dict[str, Any]:
    cfn = aws.client("cloudformation", spoke)
    cfn.create_stack(
        StackName="project",
        TemplateURL=f"https://{SEED_BUCKET}.s3.amazonaws.com/templates/build-deploy.yaml",
        Parameters=_parameters(**overrides),
        Capabilities=["CAPABILITY_IAM"],
    )
    stack: dict[str, Any] = cfn.describe_stacks(StackName="project")["Stacks"][0]
    return stack


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def test_repositories_are_seeded_git_repositories(spoke: boto3.Session, tmp_path: Path) -> None:
    assert _launch(spoke)["StackStatus"] == "CREATE_COMPLETE"
    codecommit = aws.client("codecommit", spoke)
    for kind, key in (
        ("modelbuild", "seeds/model-build.zip"),
        ("modeldeploy", "seeds/model-deploy.zip"),
    ):
        repository = codecommit.get_repository(repositoryName=f"{PREFIX}-{kind}")[
            "repositoryMetadata"
        ]
        assert repository["Arn"] == f"arn:aws:codecommit:us-east-1:{SPOKE}:{PREFIX}-{kind}"
        assert repository["cloneUrlHttp"].startswith("file://")
        clone = tmp_path / kind
        _git("clone", "--quiet", repository["cloneUrlHttp"], str(clone))
        files = {
            str(p.relative_to(clone)): p.read_text()
            for p in clone.rglob("*")
            if p.is_file() and ".git" not in p.parts
        }
        assert files == SEEDS[key]
        assert _git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone) == "main"
        assert _git("rev-list", "--count", "HEAD", cwd=clone) == "1"


def test_codebuild_projects_carry_the_environment(spoke: boto3.Session) -> None:
    stack = _launch(spoke)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    codebuild = aws.client("codebuild", spoke)
    projects = codebuild.batch_get_projects(
        names=[f"{PREFIX}-modelbuild", f"{PREFIX}-modeldeploy", f"{PREFIX}-staging-test"]
    )["projects"]
    assert [p["name"] for p in projects] == [
        f"{PREFIX}-modelbuild",
        f"{PREFIX}-modeldeploy",
        f"{PREFIX}-staging-test",
    ]
    build = projects[0]
    assert build["source"] == {"type": "CODEPIPELINE", "buildspec": "codebuild-buildspec.yml"}
    assert build["artifacts"] == {"type": "CODEPIPELINE"}
    assert build["serviceRole"].startswith(f"arn:aws:iam::{SPOKE}:role/")
    assert build["timeoutInMinutes"] == 480
    variables = {
        v["name"]: (v["value"], v["type"]) for v in build["environment"]["environmentVariables"]
    }
    assert variables["SAGEMAKER_PROJECT_NAME"] == (PROJECT, "PLAINTEXT")
    assert variables["ARTIFACT_BUCKET"] == (outputs["ArtifactBucketName"], "PLAINTEXT")
    assert variables["MODEL_PACKAGE_GROUP_NAME"] == (f"{PROJECT}-{PROJECT_ID}", "PLAINTEXT")
    assert variables["SAGEMAKER_PROJECT_ARN"][0] == (
        f"arn:aws:sagemaker:us-east-1:{SPOKE}:project/{PROJECT}"
    )
    role = variables["SAGEMAKER_PIPELINE_ROLE_ARN"][0]
    iam = aws.client("iam", spoke)
    assert iam.get_role(RoleName=role.split("/")[-1])["Role"]["Arn"] == role
    assert build["environment"]["image"] == "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
    assert projects[2]["source"]["buildspec"] == "test/buildspec.yml"


def test_codepipelines_have_the_full_structure(spoke: boto3.Session) -> None:
    stack = _launch(spoke)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    codepipeline = aws.client("codepipeline", spoke)
    deploy = codepipeline.get_pipeline(name=f"{PREFIX}-modeldeploy")["pipeline"]
    assert deploy["pipelineType"] == "V2"
    assert deploy["artifactStore"] == {"type": "S3", "location": outputs["ArtifactBucketName"]}
    assert deploy["roleArn"].startswith(f"arn:aws:iam::{SPOKE}:role/")
    assert deploy["variables"][0]["name"] == "ModelPackageArn"
    assert [s["name"] for s in deploy["stages"]] == [
        "Source",
        "Build",
        "DeployStaging",
        "DeployProd",
    ]
    source = deploy["stages"][0]["actions"][0]
    assert source["actionTypeId"] == {
        "category": "Source",
        "owner": "AWS",
        "provider": "CodeCommit",
        "version": "1",
    }
    assert source["configuration"] == {
        "RepositoryName": f"{PREFIX}-modeldeploy",
        "BranchName": "main",
        "PollForSourceChanges": "false",
    }
    assert source["outputArtifacts"] == [{"name": "SourceArtifact"}]
    build = deploy["stages"][1]["actions"][0]
    assert build["configuration"]["ProjectName"] == f"{PREFIX}-modeldeploy"
    assert json.loads(build["configuration"]["EnvironmentVariables"])[0]["name"] == (
        "MODEL_PACKAGE_ARN"
    )
    staging = deploy["stages"][2]["actions"]
    assert [(a["name"], a["runOrder"]) for a in staging] == [
        ("DeployStagingEndpoint", 1),
        ("TestStagingEndpoint", 2),
        ("ApproveDeployment", 3),
    ]
    assert staging[0]["configuration"]["StackName"] == f"{PREFIX}-deploy-staging"
    assert staging[0]["configuration"]["TemplateConfiguration"] == (
        "BuildArtifact::staging-config-export.json"
    )
    assert staging[1]["inputArtifacts"] == [{"name": "SourceArtifact"}, {"name": "BuildArtifact"}]
    assert "triggers" not in deploy
    build_pipeline = codepipeline.get_pipeline(name=f"{PREFIX}-modelbuild")["pipeline"]
    assert build_pipeline["stages"][1]["actions"][0]["configuration"] == {
        "ProjectName": f"{PREFIX}-modelbuild"
    }
    tags = codepipeline.list_tags_for_resource(
        resourceArn=f"arn:aws:codepipeline:us-east-1:{SPOKE}:{PREFIX}-modelbuild"
    )["tags"]
    assert {"key": "mlops-seeds:seed-checkin", "value": "codecommit"} in tags


def _push_event(repository: str, branch: str) -> str:
    return json.dumps(
        {
            "id": "1",
            "source": "aws.codecommit",
            "detail-type": "CodeCommit Repository State Change",
            "account": SPOKE,
            "region": "us-east-1",
            "time": "2026-01-01T00:00:00Z",
            "resources": [f"arn:aws:codecommit:us-east-1:{SPOKE}:{repository}"],
            "detail": {
                "event": "referenceUpdated",
                "referenceType": "branch",
                "referenceName": branch,
            },
        }
    )


def test_event_rules_target_the_pipelines(spoke: boto3.Session) -> None:
    _launch(spoke)
    events = aws.client("events", spoke)
    names = sorted(r["Name"] for r in events.list_rules(NamePrefix="sagemaker-")["Rules"])
    assert names == [
        f"sagemaker-{PROJECT_ID}-model-approval",
        f"sagemaker-{PROJECT_ID}-modelbuild-commit",
        f"sagemaker-{PROJECT_ID}-modeldeploy-commit",
        f"sagemaker-{PROJECT_ID}-notify-deploy-failed",
        f"sagemaker-{PROJECT_ID}-notify-package-pending",
        f"sagemaker-{PROJECT_ID}-notify-pipeline-failed",
        f"sagemaker-{PROJECT_ID}-retrain-on-drift",
    ]
    topic = f"arn:aws:sns:us-east-1:{SPOKE}:{PREFIX}-notifications"
    retrain = events.list_targets_by_rule(Rule=f"sagemaker-{PROJECT_ID}-retrain-on-drift")
    assert [t["Arn"] for t in retrain["Targets"]] == [
        f"arn:aws:codepipeline:us-east-1:{SPOKE}:{PREFIX}-modelbuild",
        topic,
    ]
    for name in ("deploy-failed", "package-pending", "pipeline-failed"):
        notify = events.list_targets_by_rule(Rule=f"sagemaker-{PROJECT_ID}-notify-{name}")
        assert [(t["Arn"], t.get("RoleArn")) for t in notify["Targets"]] == [(topic, None)]
    rule = events.describe_rule(Name=f"sagemaker-{PROJECT_ID}-modelbuild-commit")
    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert [t["Arn"] for t in targets] == [
        f"arn:aws:codepipeline:us-east-1:{SPOKE}:{PREFIX}-modelbuild"
    ]
    assert targets[0]["RoleArn"].startswith(f"arn:aws:iam::{SPOKE}:role/")
    pattern = rule["EventPattern"]
    push = _push_event(f"{PREFIX}-modelbuild", "main")
    assert events.test_event_pattern(EventPattern=pattern, Event=push)["Result"]
    other = _push_event(f"{PREFIX}-modelbuild", "feature")
    assert not events.test_event_pattern(EventPattern=pattern, Event=other)["Result"]


def test_model_package_group_and_bucket(spoke: boto3.Session) -> None:
    stack = _launch(spoke)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    group = aws.client("sagemaker", spoke).describe_model_package_group(
        ModelPackageGroupName=outputs["ModelPackageGroupName"]
    )
    assert group["ModelPackageGroupArn"] == (
        f"arn:aws:sagemaker:us-east-1:{SPOKE}:model-package-group/{PROJECT}-{PROJECT_ID}"
    )
    assert group["ModelPackageGroupDescription"] == (
        f"Models registered by SageMaker project {PROJECT}."
    )
    s3 = aws.client("s3", spoke)
    s3.put_object(Bucket=outputs["ArtifactBucketName"], Key="data/x.csv", Body=b"1,2\n")
    policy = json.loads(s3.get_bucket_policy(Bucket=outputs["ArtifactBucketName"])["Policy"])
    assert policy["Statement"][0]["Sid"] == "DenyInsecureTransport"


def test_deleting_the_stack_keeps_only_what_it_retains(spoke: boto3.Session) -> None:
    _launch(spoke)
    repository = aws.client("codecommit", spoke).get_repository(
        repositoryName=f"{PREFIX}-modelbuild"
    )["repositoryMetadata"]
    aws.client("cloudformation", spoke).delete_stack(StackName="project")
    codebuild = aws.client("codebuild", spoke)
    assert codebuild.batch_get_projects(names=[f"{PREFIX}-modelbuild"])["projects"] == []
    assert aws.client("codepipeline", spoke).list_pipelines()["pipelines"] == []
    assert aws.client("events", spoke).list_rules(NamePrefix="sagemaker-")["Rules"] == []
    # DeletionPolicy: Retain on the repositories and the model registry, as in AWS.
    assert Path(repository["cloneUrlHttp"].removeprefix("file://")).is_dir()
    aws.client("sagemaker", spoke).describe_model_package_group(
        ModelPackageGroupName=f"{PROJECT}-{PROJECT_ID}"
    )


def test_third_party_providers_fail_fast_and_roll_back(spoke: boto3.Session) -> None:
    stack = _launch(
        spoke,
        SourceProvider="GitHub",
        CodeConnectionArn=f"arn:aws:codeconnections:us-east-1:{SPOKE}:connection/0a1b2c3d-aaaa",
        ModelBuildRepositoryFullName="acme/churn-build",
        ModelDeployRepositoryFullName="acme/churn-deploy",
    )
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "SourceProvider=CodeCommit" in stack["StackStatusReason"]
    events = aws.client("cloudformation", spoke).describe_stack_events(StackName="project")
    failed = [e for e in events["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["ResourceType"] for e in failed] == ["Custom::SeedCheckin"]
    assert "SourceProvider=CodeCommit" in failed[0]["ResourceStatusReason"]
    assert "GitHub, GitLab or Bitbucket" in failed[0]["ResourceStatusReason"]
    codebuild = aws.client("codebuild", spoke)
    assert codebuild.list_projects()["projects"] == []
    roles = aws.client("iam", spoke).list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == ["OrganizationAccountAccessRole"]  # the admin's
