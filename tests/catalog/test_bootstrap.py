"""The hub and spoke bootstrap templates lint clean."""

from pathlib import Path

import pytest

from mlops_seeds.validate import validate_paths


@pytest.mark.parametrize("name", ["hub-bootstrap.yaml", "spoke-bootstrap.yaml"])
def test_bootstrap_template_has_no_findings(root: Path, name: str) -> None:
    path = root / "service_catalog" / name
    assert validate_paths(root, (path,), lambda _: None) == []
