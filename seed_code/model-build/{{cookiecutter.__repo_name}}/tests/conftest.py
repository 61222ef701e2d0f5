"""Fixtures: fake AWS settings and a network guard (helpers in tests/support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import fake_aws_env, network_guard


@pytest.fixture(scope="session")
def aws_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty directory standing in for ~/.aws."""
    return tmp_path_factory.mktemp("aws-home")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, aws_home: Path) -> None:
    """Fake AWS settings for one test (set before any SageMaker SDK import)."""
    fake_aws_env(monkeypatch, aws_home)


@pytest.fixture(scope="module")
def module_aws_env(aws_home: Path) -> Iterator[None]:
    """Fake AWS settings for a whole module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        fake_aws_env(monkeypatch, aws_home)
        yield


@pytest.fixture
def no_network() -> Iterator[list[tuple[str, Any]]]:
    """The attempts list of a network guard around one test."""
    with network_guard() as attempts:
        yield attempts
