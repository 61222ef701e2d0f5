"""`get-pipeline-definition`: offline, from the environment contract or options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines import get_pipeline_definition
from pipelines.settings import PLACEHOLDER_ROLE_ARN
from tests.support import REPO

ROLE = "arn:aws:iam::111122223333:role/FromEnvironment"


def roles(definition: dict[str, Any]) -> set[str]:
    """The RoleArn of every job step."""
    return {s["Arguments"]["RoleArn"] for s in definition["Steps"] if "RoleArn" in s["Arguments"]}


def register_args(definition: dict[str, Any]) -> dict[str, Any]:
    """Arguments of the register step inside the condition."""
    check = next(s for s in definition["Steps"] if s["Type"] == "Condition")
    return check["Arguments"]["IfSteps"][0]["Arguments"]


def test_writes_the_definition_without_network(
    aws_env: None, no_network: list[Any], tmp_path: Path
) -> None:
    out = tmp_path / "pipeline.json"
    args = ["--role-arn", ROLE, "--default-bucket", "my-bucket", "--pipeline-name", "p1"]
    assert get_pipeline_definition.main([*args, "-o", str(out)]) == 0
    definition = json.loads(out.read_text())
    assert roles(definition) == {ROLE}
    assert definition["Parameters"][0]["DefaultValue"].startswith("s3://my-bucket/p1/input/")
    assert no_network == []


def test_reads_the_environment_contract_and_options_win(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARTIFACT_BUCKET", "env-bucket")
    monkeypatch.setenv("SAGEMAKER_PIPELINE_ROLE_ARN", ROLE)
    monkeypatch.setenv("SAGEMAKER_PIPELINE_NAME", "env-pipeline")
    monkeypatch.setenv("MODEL_PACKAGE_GROUP_NAME", "env-group")
    assert get_pipeline_definition.main(["--model-package-group-name", "cli-group"]) == 0
    definition = json.loads(capsys.readouterr().out)
    assert roles(definition) == {ROLE}
    assert definition["Parameters"][0]["DefaultValue"].startswith("s3://env-bucket/env-pipeline/")
    assert register_args(definition)["ModelPackageGroupName"] == "cli-group"


def output_keys(definition: dict[str, Any]) -> dict[str, Any]:
    """The KmsKeyId of each job step's outputs (None: not set)."""
    keys = {}
    for step in definition["Steps"]:
        args = step["Arguments"]
        config = args.get("OutputDataConfig") or args.get("ProcessingOutputConfig")
        if config is not None:
            keys[step["Name"]] = config.get("KmsKeyId")
    return keys


def test_every_job_writes_under_the_key_given_and_none_without(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A deploy account can read the model data only under the project's key: without one,
    SageMaker writes it under the account's aws/s3 key."""
    assert get_pipeline_definition.main(["--role-arn", ROLE]) == 0
    keys = output_keys(json.loads(capsys.readouterr().out))
    assert keys == dict.fromkeys(
        ("PreprocessData", "BaselineDataQuality", "TrainModel", "EvaluateModel")
    )
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    monkeypatch.setenv("ARTIFACT_KMS_KEY_ID", key)
    assert get_pipeline_definition.main(["--role-arn", ROLE]) == 0
    keys = output_keys(json.loads(capsys.readouterr().out))
    assert set(keys.values()) == {key} and len(keys) == 4
    assert get_pipeline_definition.main(["--role-arn", ROLE, "--kms-key-id", "alias/other"]) == 0
    assert set(output_keys(json.loads(capsys.readouterr().out)).values()) == {"alias/other"}


def test_module_runs_with_no_aws_configuration_at_all(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.get_pipeline_definition"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    definition = json.loads(result.stdout)
    assert roles(definition) == {PLACEHOLDER_ROLE_ARN}
    assert "Traceback" not in result.stderr
