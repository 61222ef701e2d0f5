"""Fixtures of the local runner's tests (helpers in local_kit.py)."""

import subprocess
import sys
import tomllib
from pathlib import Path

import boto3
import pytest
from local_kit import Kit, set_fake_aws

from mlops_seeds import aws
from mlops_seeds.paths import repo_root
from mlops_seeds.sandbox import Sandbox


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake AWS settings for one test."""
    set_fake_aws(monkeypatch, tmp_path_factory.mktemp("aws-home"))


@pytest.fixture
def sandbox_session(aws_env: None, sandbox: Sandbox) -> boto3.Session:
    """A session reaching the sandbox server on loopback (the runner's calls go over HTTP,
    as against AWS)."""
    return aws.make_session(region=sandbox.region)


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    """A definition builder working in this test's folder."""
    return Kit(tmp_path)


@pytest.fixture
def lines() -> list[str]:
    """Collects the runner's progress lines (pass `echo=lines.append`)."""
    return []


@pytest.fixture(scope="session")
def sdk_v2_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Python with SageMaker SDK v2 (pyproject's `sdk-v2` group), made once per session
    with uv: pipelines built the way v2 users build them."""
    pyproject = tomllib.loads((repo_root() / "pyproject.toml").read_text())
    requirements = pyproject["dependency-groups"]["sdk-v2"]
    venv = tmp_path_factory.mktemp("sdk-v2") / "venv"
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [*uv, "pip", "install", "--quiet", "--python", python, *requirements], check=True
    )
    return python
