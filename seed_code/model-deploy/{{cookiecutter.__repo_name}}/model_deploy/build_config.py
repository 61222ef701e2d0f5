"""Pick the model package to deploy and write CloudFormation template configurations.

For each stage (staging, prod) the stage config file (``staging-config.json``) is merged
with the values only the build knows (project, role, model package, data capture path,
and for a stage with ``EnableMonitoring`` the package's data-quality baseline, script and
image, the role EventBridge starts the check as on its schedule and, for a stage in another
account, the project's event bus and the role its drift alarm's changes go there as) and
written in CloudFormation TemplateConfiguration format: ``{"Parameters": {...},
"Tags": {...}}``.

Captures go to ``s3://<bucket>/datacapture/<stage>/<package version>``: each model's
traffic is checked against its own baseline.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

PROG = "build-deploy-config"
LOG = logging.getLogger(PROG)
LATEST = "latest"
APPROVED = "Approved"
RESERVED_PARAMETERS = (
    "SageMakerProjectName",
    "ModelExecutionRoleArn",
    "ModelPackageName",
    "MonitoringScheduleRoleArn",
    "DriftEventBusArn",
    "DriftEventRoleArn",
)
PROJECT_NAME_TAG = "sagemaker:project-name"
PROJECT_ID_TAG = "sagemaker:project-id"
MONITORING = "EnableMonitoring"
SCHEDULE_ROLE = "MonitoringScheduleRoleArn"
EVENT_BUS = "DriftEventBusArn"
EVENT_ROLE = "DriftEventRoleArn"
BASELINE_FILES = ("statistics.json", "constraints.json")


class DeployConfigError(Exception):
    """An expected failure, reported as one line without a traceback."""


@dataclass(frozen=True)
class Option:
    """A command-line option that falls back to an environment variable."""

    flag: str
    env: str
    help: str
    default: str | None = None


OPTIONS = (
    Option("--sagemaker-project-name", "SAGEMAKER_PROJECT_NAME", "SageMaker project name"),
    Option("--sagemaker-project-id", "SAGEMAKER_PROJECT_ID", "SageMaker project id"),
    Option("--model-package-group-name", "MODEL_PACKAGE_GROUP_NAME", "model package group"),
    Option(
        "--model-package-arn",
        "MODEL_PACKAGE_ARN",
        "package to deploy; empty or 'latest' means the newest Approved one",
        LATEST,
    ),
    Option("--model-execution-role", "MODEL_EXECUTION_ROLE_ARN", "role the endpoint runs as"),
    Option("--artifact-bucket", "ARTIFACT_BUCKET", "bucket for data capture"),
    # A stage served from another account: that account's role and data-capture bucket
    # (empty: --model-execution-role and --artifact-bucket).
    Option(
        "--staging-model-execution-role",
        "STAGING_MODEL_EXECUTION_ROLE_ARN",
        "staging's role when not --model-execution-role",
        "",
    ),
    Option(
        "--prod-model-execution-role",
        "PROD_MODEL_EXECUTION_ROLE_ARN",
        "prod's role when not --model-execution-role",
        "",
    ),
    Option(
        "--staging-data-capture-bucket",
        "STAGING_DATA_CAPTURE_BUCKET",
        "staging's data-capture bucket when not --artifact-bucket",
        "",
    ),
    Option(
        "--prod-data-capture-bucket",
        "PROD_DATA_CAPTURE_BUCKET",
        "prod's data-capture bucket when not --artifact-bucket",
        "",
    ),
    Option(
        "--monitoring-schedule-role",
        "MONITORING_SCHEDULE_ROLE_ARN",
        "role EventBridge starts the data-quality check as (empty: no schedule)",
        "",
    ),
    Option(
        "--staging-monitoring-schedule-role",
        "STAGING_MONITORING_SCHEDULE_ROLE_ARN",
        "staging's schedule role when not --monitoring-schedule-role",
        "",
    ),
    Option(
        "--prod-monitoring-schedule-role",
        "PROD_MONITORING_SCHEDULE_ROLE_ARN",
        "prod's schedule role when not --monitoring-schedule-role",
        "",
    ),
    # A stage served from another account sends its drift alarm's changes to the project's
    # event bus (where the retraining rule is) as that account's role.
    Option(
        "--project-event-bus",
        "PROJECT_EVENT_BUS_ARN",
        "the project's event bus, where a stage in another account sends its drift alarm",
        "",
    ),
    Option(
        "--staging-drift-event-role",
        "STAGING_DRIFT_EVENT_ROLE_ARN",
        "role staging's drift alarm changes are sent to --project-event-bus as (empty: none)",
        "",
    ),
    Option(
        "--prod-drift-event-role",
        "PROD_DRIFT_EVENT_ROLE_ARN",
        "role prod's drift alarm changes are sent to --project-event-bus as (empty: none)",
        "",
    ),
    Option("--import-staging-config", "", "staging stage config", "staging-config.json"),
    Option("--import-prod-config", "", "prod stage config", "prod-config.json"),
    Option(
        "--export-staging-config",
        "EXPORT_TEMPLATE_STAGING_CONFIG",
        "staging TemplateConfiguration to write",
        "staging-config-export.json",
    ),
    Option(
        "--export-prod-config",
        "EXPORT_TEMPLATE_PROD_CONFIG",
        "prod TemplateConfiguration to write",
        "prod-config-export.json",
    ),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse arguments; every option defaults to its environment variable."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    for option in OPTIONS:
        env_value = os.environ.get(option.env) if option.env else None
        env_note = f" (env {option.env})" if option.env else ""
        parser.add_argument(
            option.flag,
            default=env_value if env_value is not None else option.default,
            help=f"{option.help}{env_note}",
        )
    parser.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    args = parser.parse_args(argv)
    for option in OPTIONS:
        if not getattr(args, option.flag[2:].replace("-", "_")) and option.default is None:
            raise DeployConfigError(f"{option.flag} (or env {option.env}) is required")
    return args


def group_name(group: str) -> str:
    """Return the group name of a group name or group ARN."""
    return group.rsplit("/", 1)[-1]


def newest_approved_package(sagemaker: Any, group: str) -> str:
    """Return the ARN of the most recently created Approved package in the group."""
    response = sagemaker.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus=APPROVED,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )
    summaries = response.get("ModelPackageSummaryList", [])
    if summaries:
        return str(summaries[0]["ModelPackageArn"])
    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError as error:
        raise DeployConfigError(f"model package group {group!r} does not exist") from error
    raise DeployConfigError(
        f"no Approved model package in model package group {group!r}; "
        "approve one (Studio or update_model_package) and run again"
    )


def approved_package(sagemaker: Any, arn: str, group: str) -> str:
    """Check that the given package exists, belongs to the group and is Approved."""
    try:
        package = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        raise DeployConfigError(f"model package {arn!r} not found") from error
    package_group = package.get("ModelPackageGroupName", "")
    if group_name(package_group) != group_name(group):
        raise DeployConfigError(
            f"model package {arn!r} belongs to group {package_group!r}, not {group!r}"
        )
    status = package.get("ModelApprovalStatus", "")
    if status != APPROVED:
        raise DeployConfigError(f"model package {arn!r} is {status!r}, not {APPROVED!r}")
    return str(package["ModelPackageArn"])


def resolve_package(sagemaker: Any, arn: str | None, group: str) -> str:
    """Return the package to deploy: the given one, or the newest Approved one."""
    given = (arn or "").strip()
    if given.lower() in ("", LATEST):
        return newest_approved_package(sagemaker, group)
    return approved_package(sagemaker, given, group)


def as_string(path: Path, key: str, value: Any) -> str:
    """Return a TemplateConfiguration value as the string CloudFormation expects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise DeployConfigError(f"{path}: {key} must be a string, number or boolean")


def string_map(path: Path, config: dict[str, Any], section: str) -> dict[str, str]:
    """Return one section of a stage config as a map of strings."""
    values = config.get(section, {})
    if not isinstance(values, dict):
        raise DeployConfigError(f"{path}: {section} must be a JSON object")
    return {key: as_string(path, f"{section}.{key}", value) for key, value in values.items()}


def load_stage_config(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Load a stage config file and return its parameters and tags."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise DeployConfigError(f"{path}: stage config file not found") from error
    except json.JSONDecodeError as error:
        raise DeployConfigError(
            f"{path}: not valid JSON ({error.msg}, line {error.lineno})"
        ) from error
    if not isinstance(config, dict) or set(config) - {"Parameters", "Tags"}:
        raise DeployConfigError(f"{path}: must be an object with only Parameters and Tags")
    parameters = string_map(path, config, "Parameters")
    for key in RESERVED_PARAMETERS:
        if key in parameters:
            raise DeployConfigError(f"{path}: Parameters.{key} is set by the build; remove it")
    if not parameters.get("StageName"):
        raise DeployConfigError(f"{path}: Parameters.StageName is required")
    return parameters, string_map(path, config, "Tags")


@dataclass(frozen=True)
class Target:
    """Where a stage is served: the role its endpoint runs as, its data-capture bucket, the
    role EventBridge starts its data-quality check as ("": no schedule), and the role it
    sends the drift alarm's changes to the project's event bus as ("": the stage is in the
    project's account)."""

    role: str
    bucket: str
    schedule_role: str = ""
    event_role: str = ""


def data_quality_parameters(
    package: dict[str, Any], bucket: str, stage: str, stage_config: Path
) -> dict[str, str]:
    """The monitoring parameters of a stage: the package's baseline folder (its
    DriftCheckBaselines.ModelDataQuality), the script and image that made it (its
    metadata) and where the reports go."""
    arn = package.get("ModelPackageArn", "")
    baselines = (package.get("DriftCheckBaselines") or {}).get("ModelDataQuality") or {}
    uris = [
        str((baselines.get(kind) or {}).get("S3Uri", "")) for kind in ("Statistics", "Constraints")
    ]
    metadata = package.get("CustomerMetadataProperties") or {}
    missing = [
        name
        for name, value in (
            ("DriftCheckBaselines.ModelDataQuality.Statistics", uris[0]),
            ("DriftCheckBaselines.ModelDataQuality.Constraints", uris[1]),
            ("CustomerMetadataProperties.data_quality_script", metadata.get("data_quality_script")),
            ("CustomerMetadataProperties.data_quality_image", metadata.get("data_quality_image")),
        )
        if not value
    ]
    if missing:
        raise DeployConfigError(
            f"model package {arn} has no {', '.join(missing)}: monitoring needs the baseline "
            f"the model-build seed's BaselineDataQuality step registers (or set "
            f'Parameters.{MONITORING} to "false" in {stage_config})'
        )
    folders = {uri.rsplit("/", 1)[0] for uri in uris}
    names = tuple(uri.rsplit("/", 1)[-1] for uri in uris)
    if len(folders) != 1 or names != BASELINE_FILES:
        raise DeployConfigError(
            f"model package {arn}: the data-quality statistics and constraints must be "
            f"{' and '.join(BASELINE_FILES)} in one folder, not {uris[0]} and {uris[1]}"
        )
    return {
        "DataQualityBaselineUri": folders.pop(),
        "DataQualityScriptUri": str(metadata["data_quality_script"]),
        "DataQualityImageUri": str(metadata["data_quality_image"]),
        "MonitoringReportsUri": f"s3://{bucket}/monitoring/{stage}",
    }


def template_configuration(
    args: argparse.Namespace, package: dict[str, Any], stage_config: Path, target: Target
) -> dict[str, dict[str, str]]:
    """Merge a stage config with the build's values into a TemplateConfiguration."""
    stage_parameters, stage_tags = load_stage_config(stage_config)
    stage = stage_parameters["StageName"]
    package_arn = str(package["ModelPackageArn"])
    version = package.get("ModelPackageVersion") or package_arn.rsplit("/", 1)[-1]
    parameters = {
        "SageMakerProjectName": args.sagemaker_project_name,
        "ModelExecutionRoleArn": target.role,
        "ModelPackageName": package_arn,
        "DataCaptureUploadPath": f"s3://{target.bucket}/datacapture/{stage}/{version}",
        **stage_parameters,
    }
    if parameters.get(MONITORING) == "true":
        parameters.update(data_quality_parameters(package, target.bucket, stage, stage_config))
        if target.schedule_role:
            parameters[SCHEDULE_ROLE] = target.schedule_role
        if target.event_role and args.project_event_bus:
            parameters[EVENT_BUS] = args.project_event_bus
            parameters[EVENT_ROLE] = target.event_role
    tags = {
        **stage_tags,
        PROJECT_NAME_TAG: args.sagemaker_project_name,
        PROJECT_ID_TAG: args.sagemaker_project_id,
    }
    return {"Parameters": parameters, "Tags": tags}


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a JSON document, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def run(args: argparse.Namespace, sagemaker: Any) -> str:
    """Resolve the package and write both stage configurations; return the package ARN."""
    package_arn = resolve_package(sagemaker, args.model_package_arn, args.model_package_group_name)
    package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    stages = (
        (
            Path(args.import_staging_config),
            Path(args.export_staging_config),
            Target(
                args.staging_model_execution_role or args.model_execution_role,
                args.staging_data_capture_bucket or args.artifact_bucket,
                args.staging_monitoring_schedule_role or args.monitoring_schedule_role,
                args.staging_drift_event_role,
            ),
        ),
        (
            Path(args.import_prod_config),
            Path(args.export_prod_config),
            Target(
                args.prod_model_execution_role or args.model_execution_role,
                args.prod_data_capture_bucket or args.artifact_bucket,
                args.prod_monitoring_schedule_role or args.monitoring_schedule_role,
                args.prod_drift_event_role,
            ),
        ),
    )
    documents = [
        (out, template_configuration(args, package, src, target)) for src, out, target in stages
    ]
    LOG.info("Deploying model package %s", package_arn)
    for out, document in documents:
        write_json(out, document)
        LOG.info("Wrote %s", out)
    return package_arn


def configure_logging(level: str) -> None:
    """Log this tool's progress to stderr, without the AWS SDK's own INFO chatter."""
    for old in list(LOG.handlers):
        LOG.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)  # the current stderr, on every call
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(level)
    LOG.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: one clear line on stderr and exit code 1 on an expected failure."""
    try:
        args = parse_args(argv)
        configure_logging(args.log_level)
        print(run(args, boto3.client("sagemaker")))
    except DeployConfigError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"{PROG}: error: AWS call failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
