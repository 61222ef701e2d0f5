"""build.py: which model package is deployed, and the TemplateConfiguration files it writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from model_deploy import build_config
from tests.support import (
    BASELINE,
    BUCKET,
    DATA_QUALITY_IMAGE,
    DATA_QUALITY_SCRIPT,
    GROUP,
    PROJECT_ID,
    PROJECT_NAME,
    REPO,
    ROLE_ARN,
    create_package,
    data_quality,
    read_json,
)


@pytest.fixture
def contract_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Set the buildspec's contract variables as CodeBuild would; return the output dir."""
    monkeypatch.chdir(REPO)
    values = {
        "SAGEMAKER_PROJECT_NAME": PROJECT_NAME,
        "SAGEMAKER_PROJECT_ID": PROJECT_ID,
        "SAGEMAKER_PROJECT_ARN": f"arn:aws:sagemaker:us-east-1:123456789012:project/{PROJECT_NAME}",
        "ARTIFACT_BUCKET": BUCKET,
        "MODEL_EXECUTION_ROLE_ARN": ROLE_ARN,
        "MODEL_PACKAGE_GROUP_NAME": GROUP,
        "MODEL_PACKAGE_ARN": "latest",
        "EXPORT_TEMPLATE_NAME": "template-export.yml",
        "EXPORT_TEMPLATE_STAGING_CONFIG": str(tmp_path / "staging-config-export.json"),
        "EXPORT_TEMPLATE_PROD_CONFIG": str(tmp_path / "prod-config-export.json"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def run_build(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run build.py's main in-process; return exit code, stdout and stderr."""
    code = build_config.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def deployed_package(out_dir: Path) -> str:
    """Return the model package both stage configs deploy (they must agree)."""
    staging = read_json(out_dir / "staging-config-export.json")["Parameters"]
    prod = read_json(out_dir / "prod-config-export.json")["Parameters"]
    assert staging["ModelPackageName"] == prod["ModelPackageName"]
    return str(staging["ModelPackageName"])


def assert_one_line_error(err: str, *fragments: str) -> None:
    """The error is one line, names what is wrong and shows no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("build-deploy-config: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def test_newest_approved_package_is_deployed(
    sagemaker: Any, group: str, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oldest_approved = create_package(sagemaker, group, "Approved")
    newest_approved = create_package(sagemaker, group, "Approved")
    create_package(sagemaker, group, "Rejected")
    newest_overall = create_package(sagemaker, group, "PendingManualApproval")
    sagemaker.create_model_package_group(ModelPackageGroupName="other-group")
    create_package(sagemaker, "other-group", "Approved")

    code, out, _ = run_build(capsys)

    assert code == 0
    assert deployed_package(contract_env) == newest_approved
    assert newest_approved not in (oldest_approved, newest_overall)
    assert out.strip() == newest_approved


def test_approval_changes_are_followed(
    sagemaker: Any, group: str, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = create_package(sagemaker, group, "Approved")
    second = create_package(sagemaker, group, "PendingManualApproval")
    assert run_build(capsys)[0] == 0
    assert deployed_package(contract_env) == first

    # moto's UpdateModelPackage drops a package's metadata when the call gives none (AWS
    # keeps it): given again here.
    metadata = sagemaker.describe_model_package(ModelPackageName=second)
    sagemaker.update_model_package(
        ModelPackageArn=second,
        ModelApprovalStatus="Approved",
        CustomerMetadataProperties=metadata["CustomerMetadataProperties"],
    )
    assert run_build(capsys)[0] == 0
    assert deployed_package(contract_env) == second

    sagemaker.update_model_package(ModelPackageArn=second, ModelApprovalStatus="Rejected")
    assert run_build(capsys)[0] == 0
    assert deployed_package(contract_env) == first


@pytest.mark.parametrize("given", ["latest", "LATEST", "", "  "])
def test_latest_or_empty_arn_means_newest_approved(
    given: str,
    sagemaker: Any,
    group: str,
    contract_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_package(sagemaker, group, "Approved")
    newest = create_package(sagemaker, group, "Approved")
    monkeypatch.setenv("MODEL_PACKAGE_ARN", given)
    assert run_build(capsys)[0] == 0
    assert deployed_package(contract_env) == newest


def test_explicit_approved_arn_is_deployed_even_if_older(
    sagemaker: Any, group: str, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    older = create_package(sagemaker, group, "Approved")
    create_package(sagemaker, group, "Approved")
    code, _, _ = run_build(capsys, "--model-package-arn", older)
    assert code == 0
    assert deployed_package(contract_env) == older


def test_explicit_arn_from_environment_is_deployed(
    sagemaker: Any,
    group: str,
    contract_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    older = create_package(sagemaker, group, "Approved")
    create_package(sagemaker, group, "Approved")
    monkeypatch.setenv("MODEL_PACKAGE_ARN", older)
    assert run_build(capsys)[0] == 0
    assert deployed_package(contract_env) == older


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_explicit_arn_that_is_not_approved_fails(
    status: str,
    sagemaker: Any,
    group: str,
    contract_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    create_package(sagemaker, group, "Approved")
    unapproved = create_package(sagemaker, group, status)
    code, _, err = run_build(capsys, "--model-package-arn", unapproved)
    assert code == 1
    assert_one_line_error(err, unapproved, status, "not 'Approved'")
    assert list(contract_env.iterdir()) == []


def test_explicit_arn_of_another_group_fails(
    sagemaker: Any, group: str, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="other-group")
    foreign = create_package(sagemaker, "other-group", "Approved")
    code, _, err = run_build(capsys, "--model-package-arn", foreign)
    assert code == 1
    assert_one_line_error(err, foreign, "other-group", group)


def test_unknown_explicit_arn_fails(
    group: str, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/99"
    code, _, err = run_build(capsys, "--model-package-arn", missing)
    assert code == 1
    assert_one_line_error(err, missing, "not found")


def test_no_approved_package_fails_naming_the_group(
    sagemaker: Any, group: str, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_package(sagemaker, group, "PendingManualApproval")
    create_package(sagemaker, group, "Rejected")
    code, out, err = run_build(capsys)
    assert code == 1
    assert out == ""
    assert_one_line_error(err, "no Approved model package", repr(group))
    assert list(contract_env.iterdir()) == []


def test_missing_group_is_reported(
    aws: None, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_build(capsys, "--model-package-group-name", "no-such-group")
    assert code == 1
    assert_one_line_error(err, "'no-such-group' does not exist")


@pytest.mark.parametrize(
    ("variable", "flag"),
    [
        ("MODEL_EXECUTION_ROLE_ARN", "--model-execution-role"),
        ("MODEL_PACKAGE_GROUP_NAME", "--model-package-group-name"),
        ("ARTIFACT_BUCKET", "--artifact-bucket"),
        ("SAGEMAKER_PROJECT_ID", "--sagemaker-project-id"),
    ],
)
def test_missing_setting_is_named(
    variable: str,
    flag: str,
    contract_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(variable)
    code, _, err = run_build(capsys)
    assert code == 1
    assert_one_line_error(err, flag, variable, "required")


def test_outputs_are_template_configurations_with_project_tags(
    sagemaker: Any, group: str, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = create_package(sagemaker, group, "Approved")
    assert run_build(capsys)[0] == 0
    for stage in ("staging", "prod"):
        written = read_json(contract_env / f"{stage}-config-export.json")
        source = read_json(REPO / f"{stage}-config.json")
        assert set(written) == {"Parameters", "Tags"}
        assert written["Tags"] == {
            "sagemaker:project-name": PROJECT_NAME,
            "sagemaker:project-id": PROJECT_ID,
        }
        monitoring = {
            "DataQualityBaselineUri": BASELINE,
            "DataQualityScriptUri": DATA_QUALITY_SCRIPT,
            "DataQualityImageUri": DATA_QUALITY_IMAGE,
            "MonitoringReportsUri": f"s3://{BUCKET}/monitoring/{stage}",
        }
        monitored = source["Parameters"].get("EnableMonitoring") == "true"
        assert written["Parameters"] == {
            "SageMakerProjectName": PROJECT_NAME,
            "ModelExecutionRoleArn": ROLE_ARN,
            "ModelPackageName": package,
            "DataCaptureUploadPath": f"s3://{BUCKET}/datacapture/{stage}/1",
            **source["Parameters"],
            **(monitoring if monitored else {}),
        }
        assert written["Parameters"]["StageName"] == stage
        assert all(isinstance(value, str) for value in written["Parameters"].values())


def test_arguments_override_environment(
    sagemaker: Any,
    group: str,
    contract_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    create_package(sagemaker, group, "Approved")
    out = tmp_path / "elsewhere" / "staging.json"
    code, _, _ = run_build(
        capsys, "--sagemaker-project-name", "other-name", "--export-staging-config", str(out)
    )
    assert code == 0
    assert read_json(out)["Parameters"]["SageMakerProjectName"] == "other-name"
    assert read_json(out)["Tags"]["sagemaker:project-name"] == "other-name"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"Parameters": {"StageName": "staging", "ModelPackageName": "x"}}', "set by the build"),
        ('{"Parameters": {"EndpointInstanceCount": "1"}}', "StageName is required"),
        ('{"Parameters": {"StageName": "staging", "X": [1]}}', "Parameters.X must be"),
        ('{"Parameters": {"StageName": "staging"}, "Extra": {}}', "only Parameters and Tags"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_stage_config_is_reported(
    content: str,
    message: str,
    sagemaker: Any,
    group: str,
    contract_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    create_package(sagemaker, group, "Approved")
    bad = tmp_path / "bad-config.json"
    bad.write_text(content, encoding="utf-8")
    code, _, err = run_build(capsys, "--import-prod-config", str(bad))
    assert code == 1
    assert_one_line_error(err, str(bad), message)
    assert not (contract_env / "staging-config-export.json").exists()


def test_stage_config_numbers_and_booleans_become_strings(
    sagemaker: Any,
    group: str,
    contract_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    create_package(sagemaker, group, "Approved")
    config = tmp_path / "typed.json"
    config.write_text(
        '{"Parameters": {"StageName": "prod", "EndpointInstanceCount": 3,'
        ' "EnableAutoScaling": true}, "Tags": {"team": "ml"}}',
        encoding="utf-8",
    )
    assert run_build(capsys, "--import-prod-config", str(config))[0] == 0
    written = read_json(contract_env / "prod-config-export.json")
    assert written["Parameters"]["EndpointInstanceCount"] == "3"
    assert written["Parameters"]["EnableAutoScaling"] == "true"
    assert written["Tags"]["team"] == "ml"


def test_build_script_runs_from_repo_root(tmp_path: Path) -> None:
    """`python build.py` as the buildspec runs it: settings are checked before any AWS call."""
    result = subprocess.run(
        [sys.executable, "build.py"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "build-deploy-config: error: --sagemaker-project-name "
        "(or env SAGEMAKER_PROJECT_NAME) is required"
    )


def test_a_stage_in_another_account_runs_as_its_role_and_captures_there(
    sagemaker: Any,
    group: str,
    contract_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    staging_role = "arn:aws:iam::333333333333:role/MlopsSeedsModelExecutionRole"
    monkeypatch.setenv("STAGING_MODEL_EXECUTION_ROLE_ARN", staging_role)
    monkeypatch.setenv("STAGING_DATA_CAPTURE_BUCKET", "sagemaker-data-capture-333333333333")
    monkeypatch.setenv("PROD_MODEL_EXECUTION_ROLE_ARN", "")
    create_package(sagemaker, group, "Approved")
    assert run_build(capsys)[0] == 0
    staging = read_json(contract_env / "staging-config-export.json")["Parameters"]
    prod = read_json(contract_env / "prod-config-export.json")["Parameters"]
    assert staging["ModelExecutionRoleArn"] == staging_role
    assert staging["DataCaptureUploadPath"] == (
        "s3://sagemaker-data-capture-333333333333/datacapture/staging/1"
    )
    assert prod["ModelExecutionRoleArn"] == ROLE_ARN
    assert prod["DataCaptureUploadPath"] == f"s3://{BUCKET}/datacapture/prod/1"


def test_a_monitored_stage_is_checked_on_schedule_as_its_accounts_role(
    sagemaker: Any,
    group: str,
    contract_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    here = "arn:aws:iam::111111111111:role/EventsRole"
    prod_role = "arn:aws:iam::444444444444:role/MlopsSeedsTargetScheduleRole"
    monkeypatch.setenv("MONITORING_SCHEDULE_ROLE_ARN", here)
    monkeypatch.setenv("PROD_MONITORING_SCHEDULE_ROLE_ARN", prod_role)
    monkeypatch.setenv("STAGING_MONITORING_SCHEDULE_ROLE_ARN", "")
    create_package(sagemaker, group, "Approved")
    monitored = _monitored_stage(tmp_path)
    staging = tmp_path / "staging.json"
    staging.write_text(monitored.read_text().replace('"prod"', '"staging"'))
    arguments = ["--import-prod-config", str(monitored), "--import-staging-config", str(staging)]
    assert run_build(capsys, *arguments)[0] == 0
    prod = read_json(contract_env / "prod-config-export.json")["Parameters"]
    assert prod["MonitoringScheduleRoleArn"] == prod_role
    staging_parameters = read_json(contract_env / "staging-config-export.json")["Parameters"]
    assert staging_parameters["MonitoringScheduleRoleArn"] == here  # this account's


def test_a_monitored_stage_elsewhere_sends_its_drift_alarm_to_the_projects_bus(
    sagemaker: Any,
    group: str,
    contract_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    bus = "arn:aws:events:us-east-1:111111111111:event-bus/default"
    prod_role = "arn:aws:iam::444444444444:role/MlopsSeedsTargetDriftEventsRole"
    monkeypatch.setenv("PROJECT_EVENT_BUS_ARN", bus)
    monkeypatch.setenv("PROD_DRIFT_EVENT_ROLE_ARN", prod_role)
    monkeypatch.setenv("STAGING_DRIFT_EVENT_ROLE_ARN", "")  # staging is served here
    create_package(sagemaker, group, "Approved")
    monitored = _monitored_stage(tmp_path)
    staging = tmp_path / "staging.json"
    staging.write_text(monitored.read_text().replace('"prod"', '"staging"'))
    arguments = ["--import-prod-config", str(monitored), "--import-staging-config", str(staging)]
    assert run_build(capsys, *arguments)[0] == 0
    prod = read_json(contract_env / "prod-config-export.json")["Parameters"]
    assert (prod["DriftEventBusArn"], prod["DriftEventRoleArn"]) == (bus, prod_role)
    staging_parameters = read_json(contract_env / "staging-config-export.json")["Parameters"]
    assert "DriftEventBusArn" not in staging_parameters
    assert "DriftEventRoleArn" not in staging_parameters


def _monitored_stage(tmp_path: Path) -> Path:
    config = tmp_path / "monitored.json"
    config.write_text('{"Parameters": {"StageName": "prod", "EnableMonitoring": "true"}}')
    return config


def test_monitoring_a_package_without_a_baseline_is_one_line_naming_what_is_missing(
    sagemaker: Any, group: str, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = create_package(sagemaker, group, "Approved", baseline=False)
    config = _monitored_stage(contract_env)
    code, _, err = run_build(capsys, "--import-prod-config", str(config))
    assert code == 1
    assert_one_line_error(
        err,
        f"model package {package} has no DriftCheckBaselines.ModelDataQuality.Statistics",
        "CustomerMetadataProperties.data_quality_image",
        f'set Parameters.EnableMonitoring to "false" in {config}',
    )
    assert not (contract_env / "prod-config-export.json").exists()


def test_a_baseline_split_across_folders_is_refused(
    sagemaker: Any, group: str, contract_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        DriftCheckBaselines=data_quality(constraints=f"s3://{BUCKET}/elsewhere"),
        CustomerMetadataProperties={
            "data_quality_script": DATA_QUALITY_SCRIPT,
            "data_quality_image": DATA_QUALITY_IMAGE,
        },
    )
    code, _, err = run_build(capsys, "--import-prod-config", str(_monitored_stage(contract_env)))
    assert code == 1
    assert_one_line_error(err, "statistics.json and constraints.json in one folder")
