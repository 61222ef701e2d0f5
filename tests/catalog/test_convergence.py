"""Convergence: a publish interrupted at any mutating call, then a clean publish, ends in
the state of an uninterrupted publish, with nothing duplicated."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_seeds import aws
from mlops_seeds.catalog import publishing
from mlops_seeds.catalog.manifest import validate_manifest
from mlops_seeds.sandbox import Sandbox


@pytest.fixture
def small_manifest(catalog_manifest: dict[str, Any]) -> dict[str, Any]:
    """Two products (one with both seeds, one with model-build only), two spokes, an OU:
    every kind of action, in fewer calls."""
    catalog_manifest["products"] = [
        p for p in catalog_manifest["products"] if p["key"] in {"build-deploy", "build"}
    ]
    return catalog_manifest


def _fresh_accounts(sandbox: Sandbox, data: dict[str, Any], spokes: Callable[[], None]) -> str:
    """Empty the sandbox, make the spokes, the hub's organization and OU again; return the
    OU id."""
    sandbox.reset()
    spokes()
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root_id, Name="ml-teams")
    ou = str(unit["OrganizationalUnit"]["Id"])
    data["spokes"]["organization_nodes"] = [ou]
    return ou


def _state(snapshot: Any, ou: str) -> str:
    """The snapshot with the OU id (new in each organization) masked."""
    return json.dumps(snapshot(), sort_keys=True, indent=1).replace(ou, "<ou>")


def _publish(root: Path, data: dict[str, Any]) -> publishing.Summary:
    return publishing.publish(root, validate_manifest(data, root), "servicecatalog")


def test_interrupted_first_publish_converges_at_every_call(
    sandbox: Sandbox,
    repo_copy: Path,
    small_manifest: dict[str, Any],
    spoke_accounts: Callable[[], None],
    call_log: Any,
    catalog_snapshot: Any,
) -> None:
    ou = _fresh_accounts(sandbox, small_manifest, spoke_accounts)
    total = _publish(repo_copy, small_manifest).calls.mutating
    expected = _state(catalog_snapshot, ou)
    assert total > 20
    for failing_call in [
        int(n) for n in __import__("os").environ.get("FAILS", "").split()
    ] or range(1, total + 1):
        ou = _fresh_accounts(sandbox, small_manifest, spoke_accounts)
        call_log.reset()
        call_log.fail_at = failing_call
        with pytest.raises(publishing.PublishFailed, match="InjectedFailure"):
            _publish(repo_copy, small_manifest)
        assert len(call_log.mutating()) == failing_call
        _publish(repo_copy, small_manifest)
        assert _state(catalog_snapshot, ou) == expected, f"interrupted at call {failing_call}"
        call_log.reset()
        assert _publish(repo_copy, small_manifest).actions == []
        assert call_log.mutating() == []


def test_interrupted_new_version_converges_at_every_call(
    sandbox: Sandbox,
    repo_copy: Path,
    small_manifest: dict[str, Any],
    spoke_accounts: Callable[[], None],
    call_log: Any,
    catalog_snapshot: Any,
) -> None:
    small_manifest["keep_active"] = 1
    readme = repo_copy / "seed_code" / "model-deploy" / "{{cookiecutter.__repo_name}}" / "README.md"
    original = readme.read_text()

    def published_then_changed() -> str:
        readme.write_text(original)
        ou = _fresh_accounts(sandbox, small_manifest, spoke_accounts)
        _publish(repo_copy, small_manifest)
        readme.write_text(original + "\nchanged\n")
        return ou

    ou = published_then_changed()
    summary = _publish(repo_copy, small_manifest)
    verbs = sorted({a.verb for a in summary.actions})
    assert verbs == ["deprecate", "new-version", "upload"]
    expected = _state(catalog_snapshot, ou)
    for failing_call in range(1, summary.calls.mutating + 1):
        ou = published_then_changed()
        call_log.reset()
        call_log.fail_at = failing_call
        with pytest.raises(publishing.PublishFailed, match="InjectedFailure"):
            _publish(repo_copy, small_manifest)
        _publish(repo_copy, small_manifest)
        assert _state(catalog_snapshot, ou) == expected, f"interrupted at call {failing_call}"


def test_interrupted_retire_converges_at_every_call(
    sandbox: Sandbox,
    repo_copy: Path,
    small_manifest: dict[str, Any],
    spoke_accounts: Callable[[], None],
    call_log: Any,
    catalog_snapshot: Any,
) -> None:
    kept = [p for p in small_manifest["products"] if p["key"] != "build"]

    def published() -> str:
        ou = _fresh_accounts(sandbox, small_manifest, spoke_accounts)
        _publish(repo_copy, small_manifest)
        return ou

    ou = published()
    retired = {**small_manifest, "products": kept}  # shares "spokes": the OU of each reset

    def retire() -> publishing.Summary:
        manifest = validate_manifest(retired, repo_copy)
        return publishing.publish(repo_copy, manifest, "servicecatalog", retire=True)

    summary = retire()
    assert [a.verb for a in summary.actions] == ["retire"]
    expected = _state(catalog_snapshot, ou)
    for failing_call in range(1, summary.calls.mutating + 1):
        ou = published()
        call_log.reset()
        call_log.fail_at = failing_call
        with pytest.raises(publishing.PublishFailed, match="InjectedFailure"):
            retire()
        retire()
        assert _state(catalog_snapshot, ou) == expected, f"interrupted at call {failing_call}"
        assert retire().actions == []


def test_interrupted_rename_and_tagging_converge(
    sandbox: Sandbox,
    repo_copy: Path,
    small_manifest: dict[str, Any],
    spoke_accounts: Callable[[], None],
    call_log: Any,
    catalog_snapshot: Any,
) -> None:
    from mlops_seeds.catalog.products import KEY_TAG

    def published_untagged() -> str:
        ou = _fresh_accounts(sandbox, small_manifest, spoke_accounts)
        _publish(repo_copy, small_manifest)
        sc = aws.client("servicecatalog")
        for view in sc.search_products_as_admin()["ProductViewDetails"]:
            sc.update_product(Id=view["ProductViewSummary"]["ProductId"], RemoveTags=[KEY_TAG])
        return ou

    ou = published_untagged()
    summary = _publish(repo_copy, small_manifest)
    assert [a.verb for a in summary.actions] == ["update", "update"]
    expected = _state(catalog_snapshot, ou)
    for failing_call in range(1, summary.calls.mutating + 1):
        ou = published_untagged()
        call_log.reset()
        call_log.fail_at = failing_call
        with pytest.raises(publishing.PublishFailed, match="InjectedFailure"):
            _publish(repo_copy, small_manifest)
        _publish(repo_copy, small_manifest)
        assert _state(catalog_snapshot, ou) == expected, f"interrupted at call {failing_call}"
        assert _publish(repo_copy, small_manifest).actions == []
