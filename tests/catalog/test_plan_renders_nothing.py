"""`plan` only reads: it addresses seed zips by what their bake reads, and never renders a
seed (so no seed hook or template code runs), even when every upload is still to do."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlops_seeds.catalog import artifacts
from mlops_seeds.catalog.cli import plan
from mlops_seeds.sandbox import Sandbox


def test_plan_renders_no_seed(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    write_manifest: Callable[[Any], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("plan rendered a seed")

    artifacts.forget_rendered()
    monkeypatch.setattr(artifacts, "bake", refuse)
    result = CliRunner().invoke(
        plan, ["--manifest", str(write_manifest(catalog_manifest)), "--json"]
    )

    assert result.exit_code == 0, result.output
    uploads = [a for a in json.loads(result.stdout)["actions"] if a["verb"] == "upload"]
    assert any(a["detail"] == "seed zip" for a in uploads), uploads
