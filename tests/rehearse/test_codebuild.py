"""The local CodeBuild runner against the sandbox: variables, phases, artifacts, the
service role's credentials and offline pip installs."""

import json
from collections.abc import Callable
from pathlib import Path

import boto3

from mlops_seeds import aws
from mlops_seeds.rehearse.codebuild import Sources, action_environment_variables, run_project

SPOKE = "222222222222"

STATEFUL = """\
version: 0.2
env:
  variables:
    GREETING: hello
    WHO: buildspec
  exported-variables: [RESULT, UNSET_ONE]
phases:
  install:
    runtime-versions:
      python: 3.11
    commands:
      - mkdir -p out && cd out
  build:
    commands:
      - echo "$GREETING $WHO $EXTRA" > message.txt
      - RESULT="$(cat message.txt)"
      - cp "$CODEBUILD_SRC_DIR_Other/other.txt" .
      - python -c "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])" > who.txt
artifacts:
  files:
    - out/$ARTIFACT_NAME
    - out/who.txt
    - out/other.txt
  discard-paths: yes
"""


def _sources(tmp_path: Path) -> Sources:
    primary, other = tmp_path / "src", tmp_path / "other"
    primary.mkdir()
    other.mkdir()
    (primary / "pyproject.toml").write_text('[project]\nname = "s"\ndependencies = ["boto3"]\n')
    (other / "other.txt").write_text("from the secondary source\n")
    return Sources(primary, {"Other": other}, version="abc123")


def test_build_keeps_shell_state_exports_and_collects_artifacts(
    spoke: boto3.Session, make_project: Callable[..., None], tmp_path: Path
) -> None:
    make_project("stateful", STATEFUL, {"WHO": "project", "ARTIFACT_NAME": "message.txt"})
    result = run_project(
        spoke,
        "stateful",
        _sources(tmp_path),
        tmp_path / "build",
        overrides=action_environment_variables('[{"name": "EXTRA", "value": "override"}]'),
        outputs=["BuildArtifact"],
    )
    assert result.succeeded, result.log_tail()
    assert result.exported == {"RESULT": "hello project override"}
    out = result.artifacts["BuildArtifact"]
    assert sorted(p.name for p in out.iterdir()) == ["message.txt", "other.txt", "who.txt"]
    assert (out / "other.txt").read_text() == "from the secondary source\n"
    role_arn = (out / "who.txt").read_text().strip()
    assert role_arn.startswith(f"arn:aws:sts::{SPOKE}:assumed-role/stateful-role/")
    log = result.log_path.read_text()
    assert "runtime-versions (python 3.11) ignored" in log
    assert [p.name for p in result.phases] == ["install", "build"]


def test_codebuild_variables_are_set(
    spoke: boto3.Session, make_project: Callable[..., None], tmp_path: Path
) -> None:
    spec = """\
version: 0.2
env:
  exported-variables: [SEEN]
phases:
  build:
    commands:
      - SEEN="$CODEBUILD_INITIATOR|$CODEBUILD_RESOLVED_SOURCE_VERSION"
      - SEEN="$SEEN|$CODEBUILD_SRC_DIR|$AWS_REGION"
      - test "$CODEBUILD_BUILD_ID" != "" && test "$AWS_ENDPOINT_URL" != ""
"""
    make_project("variables", spec)
    sources = _sources(tmp_path)
    result = run_project(spoke, "variables", sources, tmp_path / "b", initiator="codepipeline/p")
    assert result.succeeded, result.log_tail()
    assert result.exported["SEEN"] == f"codepipeline/p|abc123|{sources.primary}|us-east-1"


def test_failing_pre_build_skips_the_later_phases(
    spoke: boto3.Session, make_project: Callable[..., None], tmp_path: Path
) -> None:
    spec = """\
version: 0.2
phases:
  pre_build:
    commands:
      - echo checking
      - exit 3
      - echo never
    finally:
      - echo cleanup-ran
  build:
    commands: [echo build-ran]
  post_build:
    commands: [echo post-ran]
"""
    make_project("prefail", spec)
    result = run_project(spoke, "prefail", _sources(tmp_path), tmp_path / "b")
    assert result.status == "FAILED"
    assert "Error while executing command: exit 3. Reason: exit status 3" in result.reason
    assert [(p.name, p.status) for p in result.phases] == [("pre_build", "FAILED")]
    log = result.log_path.read_text()
    assert "cleanup-ran" in log
    assert "never" not in log.replace("Running command echo never", "")
    assert "build-ran" not in log.replace("Running command echo build-ran", "")


def test_failing_build_still_runs_post_build_which_sees_the_failure(
    spoke: boto3.Session, make_project: Callable[..., None], tmp_path: Path
) -> None:
    spec = """\
version: 0.2
env:
  exported-variables: [SUCCEEDING]
phases:
  build:
    commands: ["false"]
  post_build:
    commands:
      - SUCCEEDING=$CODEBUILD_BUILD_SUCCEEDING
artifacts:
  files: ["**/*"]
"""
    make_project("buildfail", spec)
    result = run_project(spoke, "buildfail", _sources(tmp_path), tmp_path / "b", outputs=["Out"])
    assert result.status == "FAILED"
    assert [(p.name, p.status) for p in result.phases] == [
        ("build", "FAILED"),
        ("post_build", "SUCCEEDED"),
    ]
    assert result.exported == {"SUCCEEDING": "0"}
    assert result.artifacts == {}


def test_missing_artifact_files_fail_the_build(
    spoke: boto3.Session, make_project: Callable[..., None], tmp_path: Path
) -> None:
    spec = (
        "version: 0.2\nphases:\n  build:\n    commands: ['true']\nartifacts:\n  files: [nothing]\n"
    )
    make_project("noartifact", spec)
    result = run_project(spoke, "noartifact", _sources(tmp_path), tmp_path / "b", outputs=["Out"])
    assert result.status == "FAILED"
    assert result.reason == "CLIENT_ERROR: no matching artifact paths found"


def test_buildspec_missing_from_the_source_is_a_yaml_file_error(
    spoke: boto3.Session, make_project: Callable[..., None], tmp_path: Path
) -> None:
    make_project("nospec", "ci/buildspec.yml")
    result = run_project(spoke, "nospec", _sources(tmp_path), tmp_path / "b")
    assert result.status == "FAILED"
    assert result.reason.startswith("YAML_FILE_ERROR: stat ci/buildspec.yml")


def test_buildspec_from_the_source_and_from_s3(
    spoke: boto3.Session, make_project: Callable[..., None], tmp_path: Path
) -> None:
    spec = "version: 0.2\nenv:\n  exported-variables: [X]\nphases:\n  build:\n    commands: [X=1]\n"
    sources = _sources(tmp_path)
    (sources.primary / "ci").mkdir()
    (sources.primary / "ci" / "buildspec.yml").write_text(spec)
    make_project("fromsource", "ci/buildspec.yml")
    assert run_project(spoke, "fromsource", sources, tmp_path / "a").exported == {"X": "1"}
    s3 = aws.client("s3", spoke)
    s3.create_bucket(Bucket="specs")
    s3.put_object(Bucket="specs", Key="b/spec.yml", Body=spec.replace("X=1", "X=2").encode())
    make_project("froms3", "arn:aws:s3:::specs/b/spec.yml")
    assert run_project(spoke, "froms3", sources, tmp_path / "b").exported == {"X": "2"}


HATCH_PROJECT = {
    "pyproject.toml": """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "tiny-rehearsal-probe"
version = "0.1.0"
dependencies = ["boto3", "PyYAML"]

[project.scripts]
tiny-probe = "tiny_probe:main"

[tool.hatch.build.targets.wheel]
packages = ["src/tiny_probe"]
""",
    "src/tiny_probe/__init__.py": "def main():\n    print('tiny probe installed')\n",
}

PIP_SPEC = """\
version: 0.2
env:
  exported-variables: [WHERE, PIP_OF]
phases:
  install:
    commands:
      - python -m pip install --upgrade pip
      - pip install .
  build:
    commands:
      - tiny-probe
      - WHERE="$(python -c 'import tiny_probe; print(tiny_probe.__file__)')"
      - PIP_OF="$(command -v pip)"
      - python -c "import yaml, boto3"
"""


def test_pip_install_of_a_hatchling_project_works_offline_in_the_build_venv(
    spoke: boto3.Session, make_project: Callable[..., None], tmp_path: Path
) -> None:
    sources = _sources(tmp_path)
    for path, text in HATCH_PROJECT.items():
        (sources.primary / path).parent.mkdir(parents=True, exist_ok=True)
        (sources.primary / path).write_text(text)
    make_project("pipbuild", PIP_SPEC)
    result = run_project(spoke, "pipbuild", sources, tmp_path / "b")
    assert result.succeeded, result.log_tail()
    venv = tmp_path / "b" / "venv"
    assert result.exported["WHERE"].startswith(str(venv))
    assert result.exported["PIP_OF"] == str(venv / "bin" / "pip")
    assert "tiny probe installed" in result.log_path.read_text()


def test_a_package_the_repository_does_not_declare_is_missing_in_its_build(
    spoke: boto3.Session, make_project: Callable[..., None], tmp_path: Path
) -> None:
    spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - python -c 'import yaml'\n"
    make_project("undeclared", spec)
    result = run_project(spoke, "undeclared", _sources(tmp_path), tmp_path / "b")
    assert not result.succeeded
    assert "ModuleNotFoundError: No module named 'yaml'" in result.log_path.read_text()


def test_action_environment_variables_must_be_a_json_list() -> None:
    parsed = action_environment_variables(json.dumps([{"name": "A", "value": "1"}]))
    assert parsed == [{"name": "A", "value": "1", "type": "PLAINTEXT"}]
    for bad in ("{", '{"name": "A"}', '[{"value": "1"}]'):
        try:
            action_environment_variables(bad)
        except RuntimeError as err:
            assert "EnvironmentVariables" in str(err)
        else:
            raise AssertionError(f"accepted {bad}")
