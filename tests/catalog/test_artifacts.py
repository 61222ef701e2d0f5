"""Artifacts: deterministic seed zips, content-hash keys, rewritten template defaults."""

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import product_templates
import pytest

from mlops_seeds.archives import zip_directory
from mlops_seeds.catalog import templates
from mlops_seeds.catalog.artifacts import (
    Artifacts,
    build,
    forget_rendered,
    seed_ident,
    sha256,
)
from mlops_seeds.catalog.manifest import validate_manifest
from mlops_seeds.errors import SeedsError
from mlops_seeds.seeds import load_seeds

BUCKET = "seeds-123456789012-us-east-1"


def _manifest(repo: Path, data: dict[str, Any]) -> Any:
    return validate_manifest(data, repo)


def _build(repo: Path, data: dict[str, Any]) -> Artifacts:
    return build(repo, _manifest(repo, data), BUCKET)


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


def test_keys_are_content_addresses_and_zips_hold_the_repo_at_their_root(
    repo_copy: Path, manifest_data: dict[str, Any]
) -> None:
    artifacts = _build(repo_copy, manifest_data)
    seeds = load_seeds(repo_copy)
    idents = {
        seed_ident(repo_copy, seeds[ref.name], dict(ref.options))
        for product in _manifest(repo_copy, manifest_data).products
        for ref in product.seeds
    }
    for blob in artifacts.blobs:
        if blob.key.startswith("seeds/"):  # addressed by what its bake reads
            assert blob.key.rsplit("/", 1)[1].removesuffix(".zip") in idents
        else:
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
    original = product_templates.text("build-deploy.yaml", repo_copy).splitlines()
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
            {"build-deploy", "build-deploy-classification", "build-deploy-multi-account"},
        ),
        (
            "seed_code/model-build/{{cookiecutter.__repo_name}}/README.md",
            {"build-deploy", "build-deploy-classification", "build", "build-deploy-multi-account"},
        ),
        ("templates/build.yaml", {"build"}),
        (
            "templates/parts/model-deploy.yaml",
            {"build-deploy", "build-deploy-classification", "build-deploy-multi-account"},
        ),
        (
            "templates/parts/model-build.yaml",
            {"build-deploy", "build-deploy-classification", "build", "build-deploy-multi-account"},
        ),
        ("templates/parts/deploy-accounts.yaml", {"build-deploy-multi-account"}),
        (
            "templates/parts/deploy-here.yaml",
            {"build-deploy", "build-deploy-classification", "build"},
        ),
        (
            "buildspecs/model-deploy.yml",
            {"build-deploy", "build-deploy-classification", "build-deploy-multi-account"},
        ),
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


def test_keys_and_version_ids_are_known_without_rendering(
    repo_copy: Path, manifest_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What plan needs (keys, template bodies, version ids) runs no hook and no template."""
    expected = _digests(_build(repo_copy, manifest_data))

    def no_bake(*_: Any, **__: Any) -> None:
        raise AssertionError("a seed was rendered")

    monkeypatch.setattr("mlops_seeds.catalog.artifacts.bake", no_bake)
    forget_rendered()
    artifacts = _build(repo_copy, manifest_data)
    assert _digests(artifacts) == expected
    zips = [b for b in artifacts.blobs if b.key.endswith(".zip")]
    assert zips and not any(b.rendered for b in zips)
    assert {b.summary for b in zips} == {"seed zip"}
    with pytest.raises(AssertionError, match="a seed was rendered"):
        _ = zips[0].body  # only publish reads a zip's body


def test_a_seed_option_changes_the_seed_key_without_rendering(
    repo_copy: Path, manifest_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mlops_seeds.catalog.artifacts.bake", None)  # calling it would fail
    seed = load_seeds(repo_copy)["model-deploy"]
    one = seed_ident(repo_copy, seed, {"prod_instance_count": "2"})
    other = seed_ident(repo_copy, seed, {"prod_instance_count": "3"})
    assert one != other
    assert seed_ident(repo_copy, seed, {}) == one  # 2 is the default


def test_an_injected_option_is_refused_before_any_key_is_computed(
    repo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mlops_seeds.catalog.artifacts.bake", None)
    seed = load_seeds(repo_copy)["model-build"]
    marker = tmp_path / "ran"
    payload = f'x"\nimport pathlib; pathlib.Path("{marker}").touch()\ny="'
    with pytest.raises(SeedsError, match=r"aws_region=.*must match"):
        seed_ident(repo_copy, seed, {"aws_region": payload})
    assert not marker.exists()
