"""Fixtures: fake AWS credentials, an in-process moto account and a model package group."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support import CONTRACT_VARIABLES, GROUP, REGION


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and region; no profile, endpoint override or contract variable leaks in."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", *CONTRACT_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def aws() -> Iterator[None]:
    """An in-process moto account for the duration of a test."""
    with mock_aws():
        yield


@pytest.fixture
def sagemaker(aws: None) -> Any:
    """A SageMaker client against moto."""
    return boto3.client("sagemaker", region_name=REGION)


@pytest.fixture
def group(sagemaker: Any) -> str:
    """An empty model package group."""
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    return GROUP
