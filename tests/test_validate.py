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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEADER + "Resources:\n  - a\n  - b\n",
            ":3: MS110 Resources must be a mapping, found a list",
        ),
        (
            HEADER + "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      - x\n",
            ":6: MS110 resource B: Properties must be a mapping, found a list",
        ),
        (
            HEADER + "Parameters: [a]\nResources:\n  B: {Type: AWS::S3::Bucket}\n",
            ":2: MS110 Parameters must be a mapping, found a list",
        ),
        (
            HEADER + "Resources:\n  B: just text\n",
            ":3: MS110 resource B must be a mapping, found a string",
        ),
    ],
    ids=["resources-list", "properties-list", "parameters-list", "resource-string"],
)
def test_a_template_of_the_wrong_shape_is_one_finding(
    tmp_path: Path, run: Run, text: str, expected: str
) -> None:
    path = _write(tmp_path, "template.yaml", text)
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{path}{expected}"]


def test_odd_shapes_inside_resources_are_left_to_cfn_lint(tmp_path: Path, run: Run) -> None:
    text = (
        HEADER
        + "Resources:\n  P:\n    Type: AWS::CodePipeline::Pipeline\n"
        + "    Properties:\n      Stages: {a: 1}\n      Name: {Fn::Join: [x, 5]}\n"
        + "  B:\n    Type: [AWS::CodeBuild::Project]\n"
        + "  V:\n    Type: AWS::CodeBuild::Project\n    Metadata: {MlopsSeeds: [1]}\n"
        + "    Properties: {Environment: {EnvironmentVariables: {a: 1}}}\n"
    )
    result = run("validate", str(_write(tmp_path, "template.yaml", text)))
    assert result.exit_code == 1
    assert "MS105 CodeBuild project V does not declare its buildspec" in result.stdout
    assert "E3012" in result.stdout


def test_metadata_of_the_wrong_shape_is_one_finding(tmp_path: Path, run: Run) -> None:
    text = HEADER + "Resources:\n  V:\n    Type: AWS::S3::Bucket\n    Metadata: [1]\n"
    path = _write(tmp_path, "template.yaml", text)
    result = run("validate", str(path))
    assert result.stdout.splitlines() == [
        f"{path}:5: MS110 resource V: Metadata must be a mapping, found a list"
    ]


def test_a_template_cfn_lint_cannot_check_is_one_finding(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise AttributeError("'list_node' object has no attribute 'get'")

    monkeypatch.setattr("mlops_seeds.validate.cfn.lint_file", crash)
    path = _write(tmp_path, "template.yaml", HEADER + "Resources:\n  B: {Type: AWS::S3::Bucket}\n")
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:1: MS111 cfn-lint cannot check this template "
        "(AttributeError: 'list_node' object has no attribute 'get')"
    ]


def test_deeply_nested_intrinsics_are_left_unresolved(tmp_path: Path, run: Run) -> None:
    name = "{Fn::Join: ['', [" * 200 + "x" + "]]}" * 200
    text = HEADER + "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"
    text += f"    Properties:\n      BucketName: {name}\n"
    result = run("validate", str(_write(tmp_path, "template.yaml", text)))
    assert "Traceback" not in result.output
    assert "MS201" not in result.stdout


def test_a_buildspec_outside_buildspecs_is_refused(toy: Path, tmp_path: Path, run: Run) -> None:
    outside = _write(tmp_path, "outside.yml", "version: 0.2\nphases: {build: {commands: [x]}}\n")
    for declared in (f"../../{tmp_path.name}/outside.yml", str(outside)):
        path = _write(tmp_path, "a.yaml", _codebuild(["TOY"], buildspec=f"'{declared}'"))
        result = run("validate", str(path))
        assert result.exit_code == 1
        assert result.stdout.splitlines() == [
            f"{path}:4: MS106 CodeBuild project Build declares buildspec {declared!r}, "
            "which is not a buildspec in buildspecs/"
        ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 0.2\nenv: [1]\nphases: {build: {commands: [x]}}\n",
            "MS103 env must be a mapping",
        ),
        (
            "version: 0.2\nenv: {variables: [A]}\nphases: {build: {commands: [x]}}\n",
            "MS103 env.variables must be a mapping",
        ),
        (
            "version: 0.2\nenv: {exported-variables: A}\nphases: {build: {commands: [x]}}\n",
            "MS103 env.exported-variables must be a list",
        ),
    ],
    ids=["env-list", "variables-list", "exported-string"],
)
def test_buildspec_env_of_the_wrong_shape(
    tmp_path: Path, run: Run, text: str, expected: str
) -> None:
    result = run("validate", str(_write(tmp_path, "buildspec.yml", text)))
    assert result.exit_code == 1
    assert expected in result.stdout


def test_a_path_that_is_not_a_file_or_directory_is_bad_input(tmp_path: Path, run: Run) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    broken = tmp_path / "broken.yaml"
    broken.symlink_to(tmp_path / "nowhere.yaml")
    for path, rule in [
        (Path("/dev/null"), "not a regular file or directory"),
        (loop, "a symbolic link loop"),
        (broken, "a broken symbolic link"),
    ]:
        result = run("validate", str(path))
        assert result.exit_code == 2
        assert result.stderr.strip() == f"mlops-seeds: error: {path}: {rule}" + (
            " (validate reads YAML and JSON files)"
            if rule.startswith("not")
            else ", not a file or directory"
            if "loop" in rule
            else " (its target does not exist)"
        )


def test_looping_and_broken_links_in_a_folder_are_findings(tmp_path: Path, run: Run) -> None:
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (tmp_path / "broken.yml").symlink_to(tmp_path / "nowhere.yml")
    (tmp_path / "self").symlink_to(tmp_path)
    result = run("validate", str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'broken.yml'}:1: MS109 cannot read: a broken symbolic link",
        f"{tmp_path / 'loop.yaml'}:1: MS109 cannot read: a symbolic link loop",
    ]
