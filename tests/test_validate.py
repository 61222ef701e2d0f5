"""`mlops-seeds validate`: cfn-lint, buildspec and derived-name findings, exit codes."""

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Run = Callable[..., Result]

HEADER = "AWSTemplateFormatVersion: '2010-09-09'\n"
PROJECT_PARAMETERS = """\
Parameters:
  SageMakerProjectName: {Type: String, MaxLength: 32}
  SageMakerProjectId: {Type: String, MaxLength: 20}
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def toy(toy_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_SEEDS_ROOT", str(toy_repo))
    return toy_repo


def _codebuild(variables: list[str], buildspec: str | None = "toy.yml") -> str:
    env = "".join(f"          - {{Name: {v}, Value: x}}\n" for v in variables)
    metadata = f"    Metadata: {{MlopsSeeds: {{Buildspec: {buildspec}}}}}\n" if buildspec else ""
    return (
        HEADER
        + "Resources:\n  Build:\n    Type: AWS::CodeBuild::Project\n"
        + metadata
        + "    Properties:\n"
        + "      ServiceRole: arn:aws:iam::123456789012:role/codebuild\n"
        + "      Artifacts: {Type: NO_ARTIFACTS}\n"
        + "      Source: {Type: NO_SOURCE, BuildSpec: 'version: 0.2'}\n"
        + "      Environment:\n"
        + "        Type: LINUX_CONTAINER\n"
        + "        ComputeType: BUILD_GENERAL1_SMALL\n"
        + "        Image: aws/codebuild/amazonlinux2-x86_64-standard:5.0\n"
        + "        EnvironmentVariables:\n"
        + (env or "          []\n")
    )


def test_repository_validates_clean(run: Run) -> None:
    result = run("validate")
    assert result.stdout == ""
    assert result.exit_code == 0, result.stderr


def test_cfn_lint_error_names_file_line_and_rule(tmp_path: Path, run: Run) -> None:
    path = _write(
        tmp_path,
        "bad.yaml",
        HEADER + "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
        "    Properties:\n      BucketNam: x\n",
    )
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:6: E3002 Additional properties are not allowed ('BucketNam' was unexpected. "
        "Did you mean 'BucketName'?)"
    ]
    assert "1 finding(s) (E3002: 1)" in result.stderr


def test_bucket_named_after_project_breaks_length_and_case(tmp_path: Path, run: Run) -> None:
    path = _write(
        tmp_path,
        "bucket.yaml",
        HEADER + PROJECT_PARAMETERS + "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
        "    Properties:\n"
        "      BucketName: !Sub 'sagemaker-${SageMakerProjectName}-${AWS::AccountId}'\n"
        "  Ok:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      BucketName: !Sub 'sagemaker-${SageMakerProjectId}-${AWS::AccountId}'\n",
    )
    result = run("validate", str(path))
    assert result.exit_code == 1
    [line] = [x for x in result.stdout.splitlines() if "MS201" in x]
    assert line == (
        f"{path}:9: MS201 Bucket BucketName 'sagemaker-Longest-Legal-Project-Name-12345-"
        "123456789012' does not match [a-z0-9][a-z0-9.-]{1,61}[a-z0-9] "
        "(with the longest legal project name and id)"
    )


def test_name_over_limit_through_if_and_join(tmp_path: Path, run: Run) -> None:
    path = _write(
        tmp_path,
        "rule.yaml",
        HEADER + PROJECT_PARAMETERS + "  Short: {Type: String, AllowedValues: ['true', 'false']}\n"
        "Conditions:\n  IsShort: !Equals [!Ref Short, 'true']\n"
        "Resources:\n  Rule:\n    Type: AWS::Events::Rule\n    Properties:\n"
        "      ScheduleExpression: rate(1 day)\n"
        "      Name: !If\n        - IsShort\n        - !Ref SageMakerProjectId\n"
        "        - !Join ['-', [!Ref SageMakerProjectName, !Ref SageMakerProjectId, "
        "modelbuild-trigger]]\n",
    )
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:13: MS201 Rule Name "
        "'Longest-Legal-Project-Name-12345-p-abcdefghijklmnopqr-modelbuild-trigger' "
        "is 72 characters, over the limit of 64 (with the longest legal project name and id)"
    ]


def test_codebuild_project_must_declare_and_set_buildspec_variables(
    toy: Path, tmp_path: Path, run: Run
) -> None:
    missing_var = _write(tmp_path, "a.yaml", _codebuild(["OTHER"]))
    undeclared = _write(tmp_path, "b.yaml", _codebuild(["TOY"], buildspec=None))
    unknown = _write(tmp_path, "c.yaml", _codebuild(["TOY"], buildspec="nope.yml"))
    good = _write(tmp_path, "d.yaml", _codebuild(["TOY"]))
    result = run("validate", str(missing_var), str(undeclared), str(unknown), str(good))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{missing_var}:4: MS107 CodeBuild project Build runs toy.yml, which reads $TOY, "
        "but the project does not set it",
        f"{undeclared}:4: MS105 CodeBuild project Build does not declare its buildspec "
        "(Metadata.MlopsSeeds.Buildspec)",
        f"{unknown}:4: MS106 CodeBuild project Build declares buildspec 'nope.yml', "
        "which is not a buildspec in buildspecs/",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 0.1\nphases:\n  build:\n    commands: [echo]\n", "MS102 version must be 0.2"),
        ("version: 0.2\nphases:\n  deploy:\n    commands: [echo]\n", "MS103 unknown phase"),
        ("version: 0.2\nphases:\n  build:\n    commands: echo\n", "MS104 phase 'build': commands"),
        ("version: 0.2\nphase: {}\nphases: {build: {commands: [x]}}\n", "MS103 unknown top-level"),
        ("version: 0.2\nphases:\n  build:\n    command: [echo]\n", "MS104 phase 'build': unknown"),
    ],
    ids=["old-version", "unknown-phase", "commands-not-list", "unknown-key", "phase-key-typo"],
)
def test_buildspec_format_findings(tmp_path: Path, run: Run, text: str, expected: str) -> None:
    path = _write(tmp_path, "buildspec.yml", text)
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert expected in result.stdout


def test_unparsable_and_unknown_files_are_findings(tmp_path: Path, run: Run) -> None:
    broken = _write(tmp_path, "broken.yaml", "Resources: [\n")
    other = _write(tmp_path, "other.yaml", "just: data\n")
    result = run("validate", str(broken), str(other))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{broken}:1: MS101 not valid YAML or JSON",
        f"{other}:1: MS100 neither a CloudFormation template nor a buildspec",
    ]


def test_missing_path_is_bad_input(tmp_path: Path, run: Run) -> None:
    result = run("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"mlops-seeds: error: {tmp_path / 'nope.yaml'}: no such file or directory"
    )


def test_directory_is_searched_for_templates_and_buildspecs(tmp_path: Path, run: Run) -> None:
    _write(tmp_path, "notes.yaml", "just: data\n")
    _write(tmp_path, "buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands: [echo]\n")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 0, result.stdout
