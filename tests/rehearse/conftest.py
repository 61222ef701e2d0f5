"""Fixtures of the rehearsal's building blocks: a spoke account's session in the sandbox,
roles, CodeBuild projects and a bare git repository made directly through the APIs."""

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from accounts import member_admin

from mlops_seeds import aws
from mlops_seeds.rehearse import git
from mlops_seeds.sandbox import Sandbox

SPOKE = "222222222222"
REGION = "us-east-1"


@pytest.fixture
def spoke(sandbox: Sandbox) -> boto3.Session:
    """An admin session in the spoke account."""
    return member_admin(SPOKE)


def _make_role(session: boto3.Session, name: str, service: str) -> str:
    """A role `service` may assume, allowed everything (these tests are about walking
    pipelines and builds; the rehearsal's refusal tests take permissions away); its ARN."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = aws.client("iam", session)
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=json.dumps(everything))
    return str(role["Role"]["Arn"])


@pytest.fixture
def make_role(spoke: boto3.Session) -> Callable[[str, str], str]:
    """make_role(name, service): a role of the spoke that `service` may assume; its ARN."""
    return lambda name, service: _make_role(spoke, name, service)


def _make_project(
    session: boto3.Session,
    name: str,
    buildspec: str,
    variables: dict[str, str] | None = None,
) -> None:
    """A CodeBuild project of CodePipeline's kind running `buildspec` (a path in the source
    or inline YAML). moto wants locations even for CODEPIPELINE sources and artifacts."""
    role = _make_role(session, f"{name}-role", "codebuild.amazonaws.com")
    aws.client("codebuild", session).create_project(
        name=name,
        source={"type": "CODEPIPELINE", "location": "codepipeline", "buildspec": buildspec},
        artifacts={"type": "CODEPIPELINE", "location": "codepipeline"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "environmentVariables": [
                {"name": k, "value": v, "type": "PLAINTEXT"} for k, v in (variables or {}).items()
            ],
        },
        serviceRole=role,
    )


@pytest.fixture
def make_project(spoke: boto3.Session) -> Callable[..., None]:
    """make_project(name, buildspec, variables=None): a CodeBuild project in the spoke."""
    return lambda *args, **kwargs: _make_project(spoke, *args, **kwargs)


def _bare_repository(root: Path, files: dict[str, str], branch: str = "main") -> str:
    url = git.init_bare(root / "remote.git", branch)
    work = git.clone(url, root / "seed")
    git.git("checkout", "--quiet", "-b", branch, cwd=work)
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    git.commit_all(work, "seed")
    git.push(work, branch)
    return url


@pytest.fixture
def bare_repo(tmp_path: Path) -> Callable[..., str]:
    """bare_repo(files, branch="main"): a bare repository holding `files` in one commit on
    `branch`; its file:// URL."""
    return lambda files, branch="main": _bare_repository(tmp_path / "git", files, branch)
