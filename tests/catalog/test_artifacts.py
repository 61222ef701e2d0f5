"""Artifacts: deterministic seed zips, content-hash keys, rewritten template defaults."""

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mlops_seeds.archives import zip_directory
from mlops_seeds.catalog import templates
from mlops_seeds.catalog.artifacts import (
    Artifacts,
    build,
    forget_rendered,
    sha256,
)
from mlops_seeds.catalog.manifest import validate_manifest

BUCKET = "seeds-123456789012-us-east-1"


def _build(repo: Path, data: dict[str, Any]) -> Artifacts:
    return build(repo, validate_manifest(data, repo), BUCKET)


def _bodies(artifacts: Artifacts) -> dict[str, bytes]:
    return {b.key: b.body for b in artifacts.blobs}


def test_same_input_gives_identical_bytes(repo_copy: Path, manifest_data: dict[str, Any]) -> None:
    first = _build(repo_copy, manifest_data)
    forget_rendered()  # render again, not from this process's memory
    second = _build(repo_copy, manifest_data)
    assert _bodies(first) == _bodies(second)
    assert {k: p.digest for k, p in first.products.items()} == {
        k: p.digest for k, p in second.products.items()
    }


def test_zip_ignores_timestamps_and_non_executable_modes(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "b").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "b" / "run.sh").write_text("#!/bin/sh\n")
    (tree / "b" / "run.sh").chmod(0o755)
    before = zip_directory(tree)
    os.utime(tree / "a.txt", (1_000_000, 1_000_000))
    (tree / "a.txt").chmod(0o600)
    (tree / "b" / "__pycache__").mkdir()
    (tree / "b" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert zip_directory(tree) == before
    with zipfile.ZipFile(io.BytesIO(before)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["a.txt", "b/run.sh"]
    assert [i.date_time for i in infos] == [(1980, 1, 1, 0, 0, 0)] * 2
    assert [i.external_attr >> 16 & 0o777 for i in infos] == [0o644, 0o755]


def test_keys_are_content_hashes_and_zips_hold_the_repo_at_their_root(
    repo_copy: Path, manifest_data: dict[str, Any]
) -> None:
    artifacts = _build(repo_copy, manifest_data)
    for blob in artifacts.blobs:
        assert blob.digest in blob.key
    build_deploy = artifacts.products["build-deploy"]
    with zipfile.ZipFile(io.BytesIO(build_deploy.seeds["model-build"].body)) as archive:
        names = archive.namelist()
    assert "codebuild-buildspec.yml" in names
    assert not any(n.startswith("my-project") for n in names)
    assert build_deploy.artifact_name == f"1.0-{build_deploy.digest[:12]}"


def test_template_defaults_point_at_the_uploaded_keys_and_nothing_else_changes(
    repo_copy: Path, manifest_data: dict[str, Any]
) -> None:
    artifacts = _build(repo_copy, manifest_data)
    product = artifacts.products["build-deploy"]
    text = product.template.body.decode()
    defaults = {k: v.get("Default") for k, v in templates.parameters(text).items()}
    keys = {b.key for b in artifacts.blobs}
    assert defaults["SeedCodeBucket"] == BUCKET
    assert defaults["ModelBuildSeedKey"] == product.seeds["model-build"].key
    assert defaults["ModelDeploySeedKey"] == product.seeds["model-deploy"].key
    assert defaults["SeedCheckinBuildspecKey"] in keys
    original = (repo_copy / "templates" / "build-deploy.yaml").read_text().splitlines()
    changed = [a for a, b in zip(original, text.splitlines(), strict=True) if a != b]
    assert len(changed) == 4
    assert all(line.strip().startswith("Default:") for line in changed)


def _digests(artifacts: Artifacts) -> dict[str, str]:
    return {k: p.digest for k, p in artifacts.products.items()}


@pytest.mark.parametrize(
    ("changed_file", "changed_products"),
    [
        (
            "seed_code/model-deploy/{{cookiecutter.__repo_name}}/README.md",
            {"build-deploy", "build-deploy-classification"},
        ),
        (
            "seed_code/model-build/{{cookiecutter.__repo_name}}/README.md",
            {"build-deploy", "build-deploy-classification", "build"},
        ),
        ("templates/build.yaml", {"build"}),
        ("buildspecs/model-deploy.yml", {"build-deploy", "build-deploy-classification"}),
    ],
)
def test_a_change_reaches_exactly_the_products_that_carry_it(
    repo_copy: Path,
    manifest_data: dict[str, Any],
    changed_file: str,
    changed_products: set[str],
) -> None:
    before = _digests(_build(repo_copy, manifest_data))
    path = repo_copy / changed_file
    assert path.is_file()
    path.write_text(path.read_text() + "\n# changed\n")
    after = _digests(_build(repo_copy, manifest_data))
    assert {k for k in before if before[k] != after[k]} == changed_products


def test_seed_options_give_distinct_zips(repo_copy: Path, manifest_data: dict[str, Any]) -> None:
    artifacts = _build(repo_copy, manifest_data)
    regression = artifacts.products["build-deploy"].seeds["model-build"]
    classification = artifacts.products["build-deploy-classification"].seeds["model-build"]
    assert regression.key != classification.key
    assert regression.digest == sha256(regression.body)


def test_hashes_do_not_depend_on_where_the_checkout_is(
    repo_copy: Path, root: Path, manifest_data: dict[str, Any]
) -> None:
    here = _build(root, manifest_data)
    forget_rendered()
    elsewhere = _build(repo_copy, manifest_data)
    assert _bodies(here) == _bodies(elsewhere)
