"""Every sandbox extension, installed into moto when a sandbox starts and reset with it."""

from mlops_seeds.sandbox import (
    catalog,
    cloudformation,
    hosting,
    kms,
    organization,
    s3,
    sagemaker,
    schedules,
    target_input,
)
from mlops_seeds.sandbox.cloudwatch import alarms as cloudwatch_alarms
from mlops_seeds.sandbox.cloudwatch import metric_data
from mlops_seeds.sandbox.iam import backend as iam_backend


def install() -> None:
    """Install every extension (idempotent)."""
    iam_backend.install()
    organization.install()
    catalog.install()
    cloudformation.install()
    sagemaker.install()
    hosting.install()
    cloudwatch_alarms.install()
    metric_data.install()
    kms.install()
    s3.install()
    schedules.install()
    target_input.install()


def reset() -> None:
    """Reset every extension's own state: pipeline executions, model servers, git repos."""
    sagemaker.reset()
    hosting.reset()
    cloudformation.reset()
