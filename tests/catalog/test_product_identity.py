"""Products are identified by their manifest key (the mlops-seeds:product-key tag), not by
their display name: a rename updates the product in place, a product the manifest no
longer has is reported by plan and retired only when asked, and a product published
before products were tagged is found by its name once and tagged."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlops_seeds import aws
from mlops_seeds.catalog import publishing
from mlops_seeds.catalog.actions import pages
from mlops_seeds.catalog.cli import plan
from mlops_seeds.catalog.manifest import validate_manifest
from mlops_seeds.catalog.products import KEY_TAG
from mlops_seeds.errors import SeedsError
from mlops_seeds.sandbox import Sandbox

BUILD = "MLOps build and train (XGBoost regression)"
LAUNCH = json.dumps({"LocalRoleName": "MlopsSeedsLaunchRole"})


def _publish(root: Path, data: dict[str, Any], retire: bool = False) -> publishing.Summary:
    return publishing.publish(root, validate_manifest(data, root), "servicecatalog", retire=retire)


def _plan(root: Path, data: dict[str, Any]) -> list[tuple[str, str]]:
    actions = publishing.plan(root, validate_manifest(data, root), "servicecatalog")
    return [(a.verb, a.resource) for a in actions]


def _products() -> dict[str, str]:
    """Display name -> product id of the hub's products."""
    sc = aws.client("servicecatalog")
    return {
        v["ProductViewSummary"]["Name"]: v["ProductViewSummary"]["ProductId"]
        for v in pages(sc.search_products_as_admin, "ProductViewDetails")
    }


def _key_tag(product_id: str) -> str | None:
    tags = aws.client("servicecatalog").describe_product_as_admin(Id=product_id)["Tags"]
    return next((t["Value"] for t in tags if t["Key"] == KEY_TAG), None)


def _build_product(data: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in data["products"] if p["key"] == "build")


def test_every_product_carries_its_key_tag(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any]
) -> None:
    _publish(repo_copy, catalog_manifest)
    keys = {name: _key_tag(product_id) for name, product_id in _products().items()}
    assert sorted(keys.values()) == sorted(p["key"] for p in catalog_manifest["products"])
    assert keys[BUILD] == "build"


def test_a_rename_updates_the_product_in_place(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    catalog_snapshot: Any,
    call_log: Any,
) -> None:
    _publish(repo_copy, catalog_manifest)
    before = _products()
    _build_product(catalog_manifest)["name"] = "MLOps build and train, renamed"
    summary = _publish(repo_copy, catalog_manifest)
    assert [(a.verb, a.resource, a.detail) for a in summary.actions] == [
        ("update", "product build", f"name ({BUILD!r} -> 'MLOps build and train, renamed')")
    ]
    after = _products()
    assert len(after) == len(before) == 3
    assert after["MLOps build and train, renamed"] == before[BUILD]
    state = catalog_snapshot()
    [portfolio] = state["portfolios"]
    assert ("LAUNCH", "MLOps build and train, renamed", LAUNCH) in portfolio["constraints"]
    assert len(portfolio["constraints"]) == 3
    renamed = next(p for p in state["products"] if p["name"].endswith("renamed"))
    assert renamed["portfolios"] == ["MLOps project seeds"]
    for spoke in state["spokes"].values():
        assert "MLOps build and train, renamed" in spoke["products"]
        assert BUILD not in spoke["products"]
    call_log.reset()
    assert _publish(repo_copy, catalog_manifest).actions == []
    assert call_log.mutating() == []


def test_a_removed_product_is_reported_by_plan_and_retired_only_when_asked(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    catalog_snapshot: Any,
    write_manifest: Callable[[Any], Path],
    call_log: Any,
) -> None:
    _publish(repo_copy, catalog_manifest)
    product_id = _products()[BUILD]
    catalog_manifest["products"].remove(_build_product(catalog_manifest))
    assert _plan(repo_copy, catalog_manifest) == [("retire", "product build")]
    result = CliRunner().invoke(plan, ["--manifest", str(write_manifest(catalog_manifest))])
    assert "retire" in result.stdout and "only with --retire" in result.stdout
    [planned] = json.loads(
        CliRunner()
        .invoke(plan, ["--manifest", str(write_manifest(catalog_manifest)), "--json"])
        .stdout
    )["actions"]
    assert planned["verb"] == "retire" and BUILD in planned["detail"]

    call_log.reset()
    kept = _publish(repo_copy, catalog_manifest)
    assert kept.actions == [] and [a.resource for a in kept.left] == ["product build"]
    assert call_log.mutating() == []
    assert BUILD in catalog_snapshot()["hub_studio_products"]

    retired = _publish(repo_copy, catalog_manifest, retire=True)
    assert [(a.verb, a.resource) for a in retired.actions] == [("retire", "product build")]
    state = catalog_snapshot()
    assert BUILD not in state["hub_studio_products"]
    for spoke in state["spokes"].values():
        assert BUILD not in spoke["products"] and len(spoke["products"]) == 2
    [portfolio] = state["portfolios"]
    assert len(portfolio["constraints"]) == 2
    sc = aws.client("servicecatalog")
    artifacts = sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
    assert [a["Active"] for a in artifacts] == [False]
    assert _key_tag(product_id) == "build"  # kept, still identifiable
    assert _plan(repo_copy, catalog_manifest) == []
    call_log.reset()
    assert _publish(repo_copy, catalog_manifest, retire=True).actions == []
    assert call_log.mutating() == []


def test_a_retired_product_comes_back_when_its_key_returns(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any], catalog_snapshot: Any
) -> None:
    _publish(repo_copy, catalog_manifest)
    product_id = _products()[BUILD]
    removed = [p for p in catalog_manifest["products"] if p["key"] != "build"]
    _publish(repo_copy, {**catalog_manifest, "products": removed}, retire=True)
    summary = _publish(repo_copy, catalog_manifest)
    assert [(a.verb, a.resource) for a in summary.actions] == [
        ("reactivate", "product build"),
        ("associate", "product build"),
        ("constrain", "product build"),
    ]
    assert _products()[BUILD] == product_id and len(_products()) == 3
    assert BUILD in catalog_snapshot()["hub_studio_products"]
    assert _publish(repo_copy, catalog_manifest).actions == []


def test_untagged_products_are_found_by_name_once_and_tagged(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    catalog_snapshot: Any,
    call_log: Any,
) -> None:
    _publish(repo_copy, catalog_manifest)
    before = _products()
    sc = aws.client("servicecatalog")
    for product_id in before.values():  # as published before products carried their key
        sc.update_product(Id=product_id, RemoveTags=[KEY_TAG])
    state = catalog_snapshot()
    planned = publishing.plan(
        repo_copy, validate_manifest(catalog_manifest, repo_copy), "servicecatalog"
    )
    assert sorted((a.verb, a.resource) for a in planned) == [
        ("update", "product build"),
        ("update", "product build-deploy"),
        ("update", "product build-deploy-classification"),
    ]
    assert all("found by name" in a.detail and a.detail.startswith("tags") for a in planned)
    _publish(repo_copy, catalog_manifest)
    assert _products() == before
    assert {_key_tag(i) for i in before.values()} == {
        p["key"] for p in catalog_manifest["products"]
    }
    after = catalog_snapshot()
    assert {k: v for k, v in after.items() if k != "products"} == {
        k: v for k, v in state.items() if k != "products"
    }
    call_log.reset()
    assert _publish(repo_copy, catalog_manifest).actions == []
    assert call_log.mutating() == []


def test_renaming_every_product_keeps_every_id(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any]
) -> None:
    _publish(repo_copy, catalog_manifest)
    before = _products()
    for product in catalog_manifest["products"]:
        product["name"] = product["name"] + " v2"
    _publish(repo_copy, catalog_manifest)
    assert _products() == {f"{name} v2": product_id for name, product_id in before.items()}


def test_two_products_with_one_key_are_refused(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any]
) -> None:
    _publish(repo_copy, catalog_manifest)
    sc = aws.client("servicecatalog")
    ids = _products()
    sc.update_product(
        Id=ids["MLOps build, train and deploy (XGBoost regression)"],
        AddTags=[{"Key": KEY_TAG, "Value": "build"}],
    )
    with pytest.raises(SeedsError, match=f"2 products tagged {KEY_TAG}=build"):
        _plan(repo_copy, catalog_manifest)


def test_more_manifest_tags_than_create_product_takes(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any], call_log: Any
) -> None:
    catalog_manifest["tags"] = {f"tag-{i:02}": "x" for i in range(19)}
    _publish(repo_copy, catalog_manifest)
    for product_id in _products().values():
        tags = aws.client("servicecatalog").describe_product_as_admin(Id=product_id)["Tags"]
        assert len(tags) == 21
    call_log.reset()
    assert _publish(repo_copy, catalog_manifest).actions == []
