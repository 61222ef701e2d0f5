"""The added CloudFormation types one by one: updates, deletion, failures."""

import io
import json
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from accounts import member_admin, role_allowed, service_role

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

SEEDS = "seed-bucket-of-another-account"
HUB = "123456789012"
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "codepipeline.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@pytest.fixture
def session(sandbox: Sandbox) -> boto3.Session:
    """A spoke account; the seed zip lives in the hub's bucket."""
    hub = aws.make_session()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.md", "seed\n")
        info = zipfile.ZipInfo("bin/run.sh")
        info.external_attr = 0o100755 << 16
        archive.writestr(info, "#!/bin/sh\necho run\n")
    s3 = aws.client("s3", hub)
    s3.create_bucket(Bucket=SEEDS)
    s3.put_object(Bucket=SEEDS, Key="seed.zip", Body=buffer.getvalue())
    spoke_reads = {  # another account's bucket: its policy must allow the read too
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{SEEDS}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=SEEDS, Policy=json.dumps(spoke_reads))
    return member_admin("444444444444")


def _template(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> str:
    return json.dumps({"Resources": resources, "Outputs": outputs or {}})


def _repository(description: str = "first", key: str = "seed.zip") -> dict[str, Any]:
    return {
        "Type": "AWS::CodeCommit::Repository",
        "Properties": {
            "RepositoryName": "repo",
            "RepositoryDescription": description,
            "Code": {"BranchName": "develop", "S3": {"Bucket": SEEDS, "Key": key}},
        },
    }


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def test_repository_lifecycle(session: boto3.Session, tmp_path: Path) -> None:
    cfn = aws.client("cloudformation", session)
    outputs = {
        "Id": {"Value": {"Ref": "Repo"}},
        "Url": {"Value": {"Fn::GetAtt": ["Repo", "CloneUrlHttp"]}},
        "Name": {"Value": {"Fn::GetAtt": ["Repo", "Name"]}},
        "Arn": {"Value": {"Fn::GetAtt": ["Repo", "Arn"]}},
    }
    cfn.create_stack(StackName="s", TemplateBody=_template({"Repo": _repository()}, outputs))
    values = _outputs(cfn, "s")
    codecommit = aws.client("codecommit", session)
    metadata = codecommit.get_repository(repositoryName="repo")["repositoryMetadata"]
    assert values == {
        "Id": metadata["repositoryId"],
        "Url": metadata["cloneUrlHttp"],
        "Name": "repo",
        "Arn": "arn:aws:codecommit:us-east-1:444444444444:repo",
    }
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", values["Url"], str(clone)], check=True, timeout=60)
    assert (clone / "README.md").read_text() == "seed\n"
    assert (clone / "bin" / "run.sh").stat().st_mode & 0o111
    branch = subprocess.run(
        ["git", "branch", "--show-current"], cwd=clone, capture_output=True, text=True, check=True
    )
    assert branch.stdout.strip() == "develop"
    cfn.update_stack(StackName="s", TemplateBody=_template({"Repo": _repository("second")}))
    metadata = codecommit.get_repository(repositoryName="repo")["repositoryMetadata"]
    assert metadata["repositoryDescription"] == "second"
    assert metadata["repositoryId"] == values["Id"]
    cfn.delete_stack(StackName="s")
    with pytest.raises(codecommit.exceptions.RepositoryDoesNotExistException):
        codecommit.get_repository(repositoryName="repo")
    assert not Path(values["Url"].removeprefix("file://")).exists()


def test_a_missing_seed_fails_the_repository(session: boto3.Session) -> None:
    cfn = aws.client("cloudformation", session)
    cfn.create_stack(StackName="s", TemplateBody=_template({"Repo": _repository(key="nope.zip")}))
    assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="s")["StackEvents"]
    reasons = [e["ResourceStatusReason"] for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert reasons == [f"Code.S3: s3://{SEEDS}/nope.zip does not exist"]
    codecommit = aws.client("codecommit", session)
    with pytest.raises(codecommit.exceptions.RepositoryDoesNotExistException):
        codecommit.get_repository(repositoryName="repo")


def test_api_repositories_are_git_repositories_and_reset_removes_them(
    session: boto3.Session, sandbox: Sandbox
) -> None:
    codecommit = aws.client("codecommit", session)
    url = codecommit.create_repository(repositoryName="plain")["repositoryMetadata"]["cloneUrlHttp"]
    path = Path(url.removeprefix("file://"))
    assert (path / "HEAD").read_text() == "ref: refs/heads/main\n"
    sandbox.reset()
    assert not path.exists()


def _project(value: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CodeBuild::Project",
        "Properties": {
            "Name": "build",
            "ServiceRole": "arn:aws:iam::444444444444:role/build",
            "Source": {"Type": "CODEPIPELINE", "BuildSpec": "buildspec.yml"},
            "SecondarySources": [
                {"Type": "S3", "Location": f"{SEEDS}/seed.zip", "SourceIdentifier": "seed"}
            ],
            "Artifacts": {"Type": "CODEPIPELINE"},
            "Environment": {
                "Type": "LINUX_CONTAINER",
                "ComputeType": "BUILD_GENERAL1_SMALL",
                "Image": "aws/codebuild/standard:7.0",
                "EnvironmentVariables": [
                    {"Name": "STAGE", "Value": value},
                    {"Name": "TOKEN", "Value": "/ssm/token", "Type": "PARAMETER_STORE"},
                ],
            },
        },
    }


def _pipeline(branch: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CodePipeline::Pipeline",
        "Properties": {
            "Name": "pipe",
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
            "ArtifactStore": {"Type": "S3", "Location": "artifacts"},
            "Stages": [
                {
                    "Name": "Source",
                    "Actions": [
                        {
                            "Name": "Checkout",
                            "ActionTypeId": {
                                "Category": "Source",
                                "Owner": "AWS",
                                "Provider": "CodeCommit",
                                "Version": "1",
                            },
                            "Configuration": {"RepositoryName": "repo", "BranchName": branch},
                            "OutputArtifacts": [{"Name": "Src"}],
                            "Namespace": "SourceVariables",
                        }
                    ],
                },
                {
                    "Name": "Build",
                    "Actions": [
                        {
                            "Name": "Build",
                            "ActionTypeId": {
                                "Category": "Build",
                                "Owner": "AWS",
                                "Provider": "CodeBuild",
                                "Version": "1",
                            },
                            "Configuration": {"ProjectName": {"Ref": "Project"}},
                            "InputArtifacts": [{"Name": "Src"}],
                        }
                    ],
                },
            ],
        },
    }


def _builds(value: str, branch: str) -> str:
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": ROLE_TRUST},
    }
    return _template(
        {"Role": role, "Project": _project(value), "Pipeline": _pipeline(branch)},
        {"Version": {"Value": {"Fn::GetAtt": ["Pipeline", "Version"]}}},
    )


def test_codebuild_and_codepipeline_follow_stack_updates(session: boto3.Session) -> None:
    cfn = aws.client("cloudformation", session)
    cfn.create_stack(StackName="s", TemplateBody=_builds("staging", "main"))
    codebuild = aws.client("codebuild", session)
    project = codebuild.batch_get_projects(names=["build"])["projects"][0]
    assert project["secondarySources"] == [
        {"type": "S3", "location": f"{SEEDS}/seed.zip", "sourceIdentifier": "seed"}
    ]
    assert project["environment"]["environmentVariables"] == [
        {"name": "STAGE", "value": "staging", "type": "PLAINTEXT"},
        {"name": "TOKEN", "value": "/ssm/token", "type": "PARAMETER_STORE"},
    ]
    codepipeline = aws.client("codepipeline", session)
    pipeline = codepipeline.get_pipeline(name="pipe")["pipeline"]
    assert pipeline["stages"][0]["actions"][0]["namespace"] == "SourceVariables"
    assert pipeline["stages"][1]["actions"][0]["configuration"] == {"ProjectName": "build"}
    assert _outputs(cfn, "s") == {"Version": "1"}
    cfn.update_stack(StackName="s", TemplateBody=_builds("prod", "release"))
    project = codebuild.batch_get_projects(names=["build"])["projects"][0]
    assert project["environment"]["environmentVariables"][0]["value"] == "prod"
    pipeline = codepipeline.get_pipeline(name="pipe")["pipeline"]
    assert pipeline["stages"][0]["actions"][0]["configuration"]["BranchName"] == "release"
    assert pipeline["version"] == 2
    cfn.delete_stack(StackName="s")
    assert codebuild.list_projects()["projects"] == []
    assert codepipeline.list_pipelines()["pipelines"] == []


def test_other_custom_resources_fail_fast(session: boto3.Session) -> None:
    cfn = aws.client("cloudformation", session)
    custom = {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn:aws:lambda:x"}}
    cfn.create_stack(StackName="s", TemplateBody=_template({"Thing": custom}))
    assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="s")["StackEvents"]
    (failed,) = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert "runs no Lambda functions" in failed["ResourceStatusReason"]


def test_event_pattern_checks_the_event(session: boto3.Session) -> None:
    events = aws.client("events", session)
    pattern = json.dumps({"source": ["aws.sagemaker"], "detail": {"Status": ["Approved"]}})
    event = {
        "id": "1",
        "account": "444444444444",
        "source": "aws.sagemaker",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail-type": "SageMaker Model Package State Change",
        "detail": {"Status": "Approved"},
    }
    assert events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"]
    event["detail"] = {"Status": "Rejected"}
    assert not events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"]
    del event["account"]
    with pytest.raises(events.exceptions.ClientError, match="account is required"):
        events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))


def test_list_repositories_sorts_pages_and_refuses_unknown_orders(session: boto3.Session) -> None:
    codecommit = aws.client("codecommit", session)
    for name in ("beta", "alpha", "gamma"):
        codecommit.create_repository(repositoryName=name)
    listed = codecommit.list_repositories()["repositories"]
    assert [r["repositoryName"] for r in listed] == ["alpha", "beta", "gamma"]
    assert all(r["repositoryId"] for r in listed)
    backwards = codecommit.list_repositories(sortBy="repositoryName", order="descending")
    assert [r["repositoryName"] for r in backwards["repositories"]] == ["gamma", "beta", "alpha"]
    assert "nextToken" not in backwards
    with pytest.raises(codecommit.exceptions.InvalidSortByException):
        codecommit.list_repositories(sortBy="size")
    with pytest.raises(codecommit.exceptions.InvalidOrderException):
        codecommit.list_repositories(order="sideways")
    with pytest.raises(codecommit.exceptions.InvalidContinuationTokenException):
        codecommit.list_repositories(nextToken="garbage")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "name",
    [
        "climb",  # '../' * 40 + the victim's absolute path: lands exactly on the victim
        "..",
        "seed.git",
        "x" * 101,
    ],
)
def test_a_repository_name_the_api_refuses_fails_the_stack_and_touches_nothing(
    session: boto3.Session, tmp_path: Path, name: str
) -> None:
    victim = tmp_path / "victim.git"
    (victim / "refs").mkdir(parents=True)
    (victim / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "secret.txt").write_text("the developer's secret\n")
    before = _snapshot(tmp_path)
    if name == "climb":
        name = "../" * 40 + str(tmp_path / "victim").lstrip("/")
    repository = _repository()
    repository["Properties"]["RepositoryName"] = name
    cfn = aws.client("cloudformation", session)
    cfn.create_stack(StackName="s", TemplateBody=_template({"Repo": repository}))
    stack = cfn.describe_stacks(StackName="s")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="s")["StackEvents"]
    (reason,) = [
        e["ResourceStatusReason"] for e in events if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert reason.startswith("The repository name is not valid.")
    cfn.delete_stack(StackName="s")
    assert _snapshot(tmp_path) == before
    assert aws.client("codecommit", session).list_repositories()["repositories"] == []


@pytest.mark.parametrize("name", ["..", ".", "seed.git", "x" * 101, "répo", "a/b"])
def test_the_api_refuses_repository_names_as_codecommit_does(
    session: boto3.Session, name: str
) -> None:
    codecommit = aws.client("codecommit", session)
    with pytest.raises(codecommit.exceptions.InvalidRepositoryNameException):
        codecommit.create_repository(repositoryName=name)
    with pytest.raises(codecommit.exceptions.InvalidRepositoryNameException):
        codecommit.delete_repository(repositoryName=name)
    assert codecommit.list_repositories()["repositories"] == []


def test_the_longest_legal_repository_name_is_a_git_repository(session: boto3.Session) -> None:
    codecommit = aws.client("codecommit", session)
    name = "a.b_c-" + "x" * 94
    url = codecommit.create_repository(repositoryName=name)["repositoryMetadata"]["cloneUrlHttp"]
    assert Path(url.removeprefix("file://")).name == f"{name}.git"


def _sagemaker_pipeline(message: str, role: str) -> str:
    definition = {
        "Version": "2020-12-01",
        "Steps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": message}}],
    }
    pipeline = {
        "Type": "AWS::SageMaker::Pipeline",
        "Properties": {
            "PipelineName": "checks",
            "PipelineDescription": message,
            "RoleArn": role,
            "PipelineDefinition": {"PipelineDefinitionBody": json.dumps(definition)},
        },
    }
    return _template({"Checks": pipeline}, {"Name": {"Value": {"Ref": "Checks"}}})


def test_sagemaker_pipeline_lifecycle_and_its_executions(session: boto3.Session) -> None:
    role = service_role(session, "checks-role", SAGEMAKER)
    cfn, sm = aws.client("cloudformation", session), aws.client("sagemaker", session)
    cfn.create_stack(StackName="p", TemplateBody=_sagemaker_pipeline("first", role))
    assert _outputs(cfn, "p") == {"Name": "checks"}  # Ref: the pipeline's name
    described = sm.describe_pipeline(PipelineName="checks")
    assert (described["RoleArn"], described["PipelineDescription"]) == (role, "first")

    cfn.update_stack(StackName="p", TemplateBody=_sagemaker_pipeline("second", role))
    described = sm.describe_pipeline(PipelineName="checks")
    assert json.loads(described["PipelineDefinition"])["Steps"][0]["Arguments"] == {
        "ErrorMessage": "second"
    }
    arn = sm.start_pipeline_execution(PipelineName="checks")["PipelineExecutionArn"]
    for _ in range(100):
        execution = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if execution["PipelineExecutionStatus"] != "Executing":
            break
        time.sleep(0.1)
    assert execution["PipelineExecutionStatus"] == "Failed"
    assert execution["FailureReason"] == "step Stop: second"

    cfn.delete_stack(StackName="p")
    assert sm.list_pipelines()["PipelineSummaries"] == []


def test_a_sagemaker_pipeline_needs_its_role_passed(sandbox: Sandbox) -> None:
    """CreatePipeline hands the role to SageMaker: the stack's caller needs iam:PassRole."""
    hub = aws.make_session()
    role = service_role(hub, "checks-role", SAGEMAKER)
    stacks = {"Effect": "Allow", "Action": ["cloudformation:*", "sagemaker:*"], "Resource": "*"}
    caller = role_allowed(HUB, "no-pass-role", stacks)
    aws.client("cloudformation", caller).create_stack(
        StackName="p", TemplateBody=_sagemaker_pipeline("first", role)
    )
    stack = aws.client("cloudformation", caller).describe_stacks(StackName="p")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert (
        "is not authorized to perform: iam:PassRole on resource: "
        "arn:aws:iam::123456789012:role/checks-role"
    ) in stack["StackStatusReason"]
    assert aws.client("sagemaker", hub).list_pipelines()["PipelineSummaries"] == []


def test_a_sagemaker_pipeline_definition_can_come_from_s3(session: boto3.Session) -> None:
    """PipelineDefinitionS3Location {Bucket, Key}: read as the stack's caller."""
    role = service_role(session, "checks-role", SAGEMAKER)
    body = json.loads(
        json.loads(_sagemaker_pipeline("from s3", role))["Resources"]["Checks"]["Properties"][
            "PipelineDefinition"
        ]["PipelineDefinitionBody"]
    )
    s3 = aws.client("s3", session)
    s3.create_bucket(Bucket="pipeline-definitions")
    s3.put_object(Bucket="pipeline-definitions", Key="checks.json", Body=json.dumps(body))
    template = json.loads(_sagemaker_pipeline("from s3", role))
    template["Resources"]["Checks"]["Properties"]["PipelineDefinition"] = {
        "PipelineDefinitionS3Location": {"Bucket": "pipeline-definitions", "Key": "checks.json"}
    }
    cfn = aws.client("cloudformation", session)
    cfn.create_stack(StackName="p", TemplateBody=json.dumps(template))
    stack = cfn.describe_stacks(StackName="p")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    described = aws.client("sagemaker", session).describe_pipeline(PipelineName="checks")
    assert json.loads(described["PipelineDefinition"]) == body
