"""Project settings: cookiecutter defaults and the environment contract of the buildspec.

In SageMaker Studio this repo is rendered once with default answers, so the project's real
name, id, bucket, role and names arrive at run time through environment variables (set by
the project's CodeBuild job) or command-line options. The rendered values below are only
defaults for local use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_NAME = "{{ cookiecutter.project_name }}"
PROJECT_ID = "{{ cookiecutter.project_id }}"
AWS_REGION = "{{ cookiecutter.aws_region }}"
FRAMEWORK = "{{ cookiecutter.framework }}"
PROBLEM_TYPE = "{{ cookiecutter.problem_type }}"

PACKAGE_DIR = Path(__file__).resolve().parent
SCRIPTS_DIR = PACKAGE_DIR / "scripts"
DATASET = PACKAGE_DIR / "data" / "{{ 'diabetes.csv' if cookiecutter.problem_type == 'regression' else 'breast_cancer.csv' }}"

# Used only when no role is given, so that the definition can be built without AWS.
PLACEHOLDER_ROLE_ARN = "arn:aws:iam::123456789012:role/AmazonSageMakerServiceCatalogProductsUseRole"


@dataclass(frozen=True)
class Settings:
    """Where and as whom the pipeline runs; every field has an environment variable."""

    project_name: str
    project_id: str
    project_arn: str | None
    region: str
    artifact_bucket: str | None
    pipeline_name: str
    role_arn: str | None
    model_package_group_name: str
    kms_key_id: str | None = None

    @property
    def tags(self) -> list[dict[str, str]]:
        """The SageMaker project tags every resource of the project carries."""
        return [
            {"Key": "sagemaker:project-name", "Value": self.project_name},
            {"Key": "sagemaker:project-id", "Value": self.project_id},
        ]


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Read the contract variables, falling back to the cookiecutter defaults."""
    env = os.environ if env is None else env
    project_name = env.get("SAGEMAKER_PROJECT_NAME") or PROJECT_NAME
    project_id = env.get("SAGEMAKER_PROJECT_ID") or PROJECT_ID
    return Settings(
        project_name=project_name,
        project_id=project_id,
        project_arn=env.get("SAGEMAKER_PROJECT_ARN") or None,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or AWS_REGION,
        artifact_bucket=env.get("ARTIFACT_BUCKET") or None,
        pipeline_name=env.get("SAGEMAKER_PIPELINE_NAME") or f"{project_name}-{project_id}",
        role_arn=env.get("SAGEMAKER_PIPELINE_ROLE_ARN") or None,
        model_package_group_name=(
            env.get("MODEL_PACKAGE_GROUP_NAME") or f"{project_name}-{project_id}"
        ),
        kms_key_id=env.get("ARTIFACT_KMS_KEY_ID") or None,
    )


def placeholder_bucket(project_id: str, region: str) -> str:
    """A bucket name for building the definition offline when no bucket is given."""
    return f"sagemaker-{project_id}-{region}".lower()
