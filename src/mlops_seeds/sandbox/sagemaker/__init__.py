"""SageMaker operations moto 5.2.5 lacks or fakes, following the AWS API reference:
projects launched through Service Catalog, and pipeline executions run by the local runner."""

from mlops_seeds.sandbox.sagemaker import runs
from mlops_seeds.sandbox.sagemaker.install import install, installed, operations


def reset() -> None:
    """Stop the running pipeline executions and forget them (moto's reset clears projects)."""
    runs.reset()


__all__ = ["install", "installed", "operations", "reset"]
