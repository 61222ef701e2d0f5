"""Options shared by `get-pipeline-definition` and `run-pipeline`."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import warnings

from pipelines.settings import Settings, from_env


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options that override the environment contract (see pipelines.settings)."""
    parser.add_argument("--region", help="AWS region (AWS_REGION, AWS_DEFAULT_REGION)")
    parser.add_argument("--project-name", help="SageMaker project name (SAGEMAKER_PROJECT_NAME)")
    parser.add_argument("--project-id", help="SageMaker project id (SAGEMAKER_PROJECT_ID)")
    parser.add_argument("--pipeline-name", help="pipeline name (SAGEMAKER_PIPELINE_NAME)")
    parser.add_argument(
        "--role-arn", help="role the pipeline runs as (SAGEMAKER_PIPELINE_ROLE_ARN)"
    )
    parser.add_argument(
        "--default-bucket",
        "--artifact-bucket",
        dest="artifact_bucket",
        help="bucket for code, data and outputs (ARTIFACT_BUCKET)",
    )
    parser.add_argument(
        "--model-package-group-name", help="model package group (MODEL_PACKAGE_GROUP_NAME)"
    )
    parser.add_argument(
        "--kms-key-id",
        help="KMS key of the jobs' outputs (ARTIFACT_KMS_KEY_ID; default: training's model "
        "data under the account's aws/s3 key, which no other account can read)",
    )
    parser.add_argument(
        "--base-job-prefix", help="prefix of job names and S3 keys (default: pipeline name)"
    )
    parser.add_argument(
        "--code-uri-prefix",
        help="s3:// prefix of the scripts (default: <bucket>/<prefix>/code/<digest>)",
    )
    parser.add_argument(
        "--input-data-uri",
        help="default of the InputDataUrl parameter (default: <bucket>/<prefix>/input/...)",
    )


def resolve_settings(args: argparse.Namespace) -> Settings:
    """The environment contract with the command-line overrides applied."""
    settings = from_env()
    overrides = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(Settings)
        if getattr(args, field.name, None)  # an empty option counts as not given
    }
    return dataclasses.replace(settings, **overrides)


def ensure_region(region: str) -> None:
    """The SDK makes a boto3 client at import time: give it a region first."""
    os.environ.setdefault("AWS_DEFAULT_REGION", region)


def quiet_sdk() -> None:
    """Show warnings and errors only; the SDK logs every default it applies at INFO.

    Configures logging before the SDK's own `basicConfig(level=INFO)` can, and drops
    the SDK's notices that are expected when a pipeline is composed.
    """
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("sagemaker").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
