"""Helpers shared by the tests: fake AWS settings and a network guard."""

from __future__ import annotations

import importlib
import importlib.util
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTRACT = (
    "SAGEMAKER_PROJECT_NAME",
    "SAGEMAKER_PROJECT_ID",
    "SAGEMAKER_PROJECT_ARN",
    "ARTIFACT_BUCKET",
    "SAGEMAKER_PIPELINE_NAME",
    "SAGEMAKER_PIPELINE_ROLE_ARN",
    "MODEL_PACKAGE_GROUP_NAME",
)
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "SAGEMAKER_VALIDATE_ROLE": "false",
}


def fake_aws_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Fake credentials and region, no AWS config files, no contract variables."""
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", *CONTRACT):
        monkeypatch.delenv(name, raising=False)


@contextmanager
def network_guard() -> Iterator[list[tuple[str, Any]]]:
    """Refuse and record every connect and name lookup, in any thread."""
    attempts: list[tuple[str, Any]] = []

    def refuse(kind: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append((kind, args[1:2] if kind == "connect" else args[:2]))
            raise OSError(f"network access blocked in tests ({kind})")

        return blocked

    saved = (socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo)
    socket.socket.connect = refuse("connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse("connect")  # type: ignore[method-assign]
    socket.getaddrinfo = refuse("getaddrinfo")
    try:
        yield attempts
        for thread in threading.enumerate():
            if thread.name.startswith("sagemaker-telemetry"):
                thread.join(timeout=5)
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = saved


def import_pipeline() -> ModuleType:
    """pipelines.pipeline, imported only once a region is set (the SDK needs one)."""
    return importlib.import_module("pipelines.pipeline")


def load_module(path: Path) -> ModuleType:
    """Import a standalone script as a module, to call its functions in-process."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_script(name: str) -> ModuleType:
    """pipelines/scripts/<name> as a module."""
    from pipelines.settings import SCRIPTS_DIR

    return load_module(SCRIPTS_DIR / name)
