"""plan and publish against the sandbox: hub, two spoke accounts (STS assume-role), an OU."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlops_seeds import aws
from mlops_seeds.catalog import publishing
from mlops_seeds.catalog.cli import plan, publish
from mlops_seeds.catalog.manifest import validate_manifest
from mlops_seeds.sandbox import Sandbox

HUB = "123456789012"
VISIBLE = ("sagemaker:studio-visibility", "true")
PATTERN = "arn:aws:iam:::role/service-role/AmazonSageMaker-ExecutionRole-*"


def _publish(root: Path, data: dict[str, Any]) -> publishing.Summary:
    return publishing.publish(root, validate_manifest(data, root), "servicecatalog")


def _plan(root: Path, data: dict[str, Any]) -> list[publishing.Action]:
    return publishing.plan(root, validate_manifest(data, root), "servicecatalog")


def test_first_publish_creates_everything(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    catalog_snapshot: Any,
    organizational_unit: str,
) -> None:
    summary = _publish(repo_copy, catalog_manifest)
    assert summary.done == len(summary.actions) > 0
    state = catalog_snapshot()
    [portfolio] = state["portfolios"]
    assert portfolio["name"] == "MLOps project seeds"
    assert VISIBLE in portfolio["tags"]
    assert portfolio["principals"] == sorted(
        [(PATTERN, "IAM_PATTERN"), ("arn:aws:iam::123456789012:role/StudioExecution", "IAM")]
    )
    assert portfolio["shares"] == [
        # SharePrincipals only for organization nodes (CreatePortfolioShare reference);
        # each spoke account associates its own principals (below).
        ("ACCOUNT", "111111111111", False),
        ("ACCOUNT", "222222222222", False),
        ("ORGANIZATIONAL_UNIT", organizational_unit, True),
    ]
    launch = json.dumps({"LocalRoleName": "MlopsSeedsLaunchRole"})
    assert [(kind, parameters) for kind, _, parameters in portfolio["constraints"]] == [
        ("LAUNCH", launch)
    ] * 3
    names = [p["name"] for p in state["products"]]
    assert len(names) == len(set(names)) == 3
    for product in state["products"]:
        assert VISIBLE in product["tags"]
        assert product["portfolios"] == ["MLOps project seeds"]
        [(artifact, guidance)] = product["artifacts"]
        assert artifact.startswith("1.0-") and len(artifact) == len("1.0-") + 12
        assert guidance == "DEFAULT"
    bucket = f"sagemaker-mlops-seeds-{HUB}-us-east-1"
    assert all(key.startswith(bucket + "/") for key in state["objects"])
    assert len(state["objects"]) == 8  # 4 seed zips, 1 buildspec, 3 templates
    spoke_pattern = [(PATTERN, "IAM_PATTERN")]
    assert state["spokes"]["111111111111"]["principals"] == sorted(
        [*spoke_pattern, ("arn:aws:iam::111111111111:role/SpokeStudioExecution", "IAM")]
    )
    assert state["spokes"]["222222222222"]["principals"] == spoke_pattern
    for spoke in state["spokes"].values():
        assert spoke["accepted"] == ["MLOps project seeds"]
        assert spoke["products"] == sorted(names)
    assert state["hub_studio_products"] == sorted(names)


def test_seed_bucket_is_versioned_encrypted_private_and_readable_by_spokes(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any], organizational_unit: str
) -> None:
    _publish(repo_copy, catalog_manifest)
    s3 = aws.client("s3")
    bucket = f"sagemaker-mlops-seeds-{HUB}-us-east-1"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    readers = {s["Sid"]: s for s in policy["Statement"]}
    assert readers["SpokeAccountsRead"]["Principal"] == {
        "AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]
    }
    assert readers["SpokeAccountsRead"]["Resource"] == f"arn:aws:s3:::{bucket}/*"
    paths = readers["OrgUnitsRead"]["Condition"]["ForAnyValue:StringLike"]
    assert paths == {"aws:PrincipalOrgPaths": [f"o-*/*/{organizational_unit}/*"]}


def test_spoke_sees_the_products_only_after_accepting(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    call_log: Any,
    catalog_snapshot: Any,
) -> None:
    actions = _plan(repo_copy, catalog_manifest)
    first_accept = next(i for i, a in enumerate(actions, 1) if a.verb == "accept")
    mutating_before_accept = sum(1 for a in actions[: first_accept - 1])
    call_log.fail_at = mutating_before_accept + 1
    with pytest.raises(publishing.PublishFailed, match="AcceptPortfolioShare"):
        _publish(repo_copy, catalog_manifest)
    spokes = catalog_snapshot()["spokes"]
    assert spokes["111111111111"] == {"accepted": [], "principals": [], "products": []}
    _publish(repo_copy, catalog_manifest)
    assert len(catalog_snapshot()["spokes"]["111111111111"]["products"]) == 3


def test_second_publish_makes_no_mutating_call(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any], call_log: Any
) -> None:
    first = _publish(repo_copy, catalog_manifest)
    assert first.calls.mutating == len(first.actions)
    call_log.reset()
    second = _publish(repo_copy, catalog_manifest)
    assert second.actions == []
    assert call_log.mutating() == []
    assert second.calls.mutating == 0
    assert second.calls.total == len(call_log.calls) > 0


def test_plan_reads_only_and_lists_what_publish_does(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    write_manifest: Callable[[Any], Path],
    call_log: Any,
) -> None:
    path = write_manifest(catalog_manifest)
    result = CliRunner().invoke(plan, ["--manifest", str(path), "--json"])
    assert result.exit_code == 0, result.output
    planned = json.loads(result.stdout)["actions"]
    assert call_log.calls and call_log.mutating() == []
    verbs = {a["verb"] for a in planned}
    assert verbs == {"create", "configure", "upload", "associate", "constrain", "share", "accept"}
    summary = _publish(repo_copy, catalog_manifest)
    assert [a.as_dict() for a in summary.actions] == planned
    result = CliRunner().invoke(plan, ["--manifest", str(path), "--json"])
    assert json.loads(result.stdout) == {"actions": []}


def test_plan_table_and_publish_progress(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    write_manifest: Callable[[Any], Path],
) -> None:
    path = write_manifest(catalog_manifest)
    table = CliRunner().invoke(plan, ["--manifest", str(path)])
    assert table.exit_code == 0
    assert "publish would" in table.stdout and "accept" in table.stdout
    published = CliRunner().invoke(publish, ["--manifest", str(path)])
    assert published.exit_code == 0, published.output
    progress = published.stderr.splitlines()
    assert progress[0].startswith("[1/") and "create s3://" in progress[0]
    assert published.stdout.startswith(f"Published: {len(progress)} action(s)")
    again = CliRunner().invoke(publish, ["--manifest", str(path)])
    assert "Nothing to do" in again.stdout and ", 0 mutating" in again.stdout


def _change(repo: Path, relative: str) -> None:
    path = repo / relative
    path.write_text(path.read_text() + "\n# changed\n")


DEPLOY_README = "seed_code/model-deploy/{{cookiecutter.__repo_name}}/README.md"


def test_one_seed_change_adds_one_artifact_to_the_products_that_carry_it(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    call_log: Any,
    catalog_snapshot: Any,
) -> None:
    _publish(repo_copy, catalog_manifest)
    before = catalog_snapshot()
    _change(repo_copy, DEPLOY_README)
    call_log.reset()
    summary = _publish(repo_copy, catalog_manifest)
    assert sorted((a.verb, a.resource) for a in summary.actions if a.verb != "upload") == [
        ("new-version", "product build-deploy"),
        ("new-version", "product build-deploy-classification"),
    ]
    uploads = [a.resource.split("/", 3)[3] for a in summary.actions if a.verb == "upload"]
    assert sorted(u.split("/")[0] + "/" + u.split("/")[1] for u in uploads) == [
        "seeds/model-deploy",
        "seeds/model-deploy",
        "templates/build-deploy",
        "templates/build-deploy-classification",
    ]
    after = catalog_snapshot()
    artifacts = {p["name"]: p["artifacts"] for p in after["products"]}
    old = {p["name"]: p["artifacts"] for p in before["products"]}
    for name, listed in artifacts.items():
        carries_deploy = "build and train" not in name
        assert len(listed) == len(old[name]) + (1 if carries_deploy else 0)
        assert all(guidance == "DEFAULT" for _, guidance in listed)  # keep_active is 2
    assert {k: v for k, v in after.items() if k != "products" and k != "objects"} == {
        k: v for k, v in before.items() if k != "products" and k != "objects"
    }


def test_versions_past_keep_active_are_deprecated_never_deleted(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any], catalog_snapshot: Any
) -> None:
    catalog_manifest["keep_active"] = 1
    _publish(repo_copy, catalog_manifest)
    _change(repo_copy, "templates/build.yaml")
    _publish(repo_copy, catalog_manifest)
    _change(repo_copy, "templates/build.yaml")
    summary = _publish(repo_copy, catalog_manifest)
    assert [(a.verb, a.resource) for a in summary.actions if a.verb != "upload"] == [
        ("new-version", "product build"),
        ("deprecate", "product build"),
    ]
    products = {p["name"]: p["artifacts"] for p in catalog_snapshot()["products"]}
    guidance = sorted(g for _, g in products["MLOps build and train (XGBoost regression)"])
    assert guidance == ["DEFAULT", "DEPRECATED", "DEPRECATED"]


def test_reverting_a_change_reactivates_its_deprecated_artifact(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any]
) -> None:
    catalog_manifest["keep_active"] = 1
    template = repo_copy / "templates" / "build.yaml"
    original = template.read_text()
    _publish(repo_copy, catalog_manifest)
    _change(repo_copy, "templates/build.yaml")
    _publish(repo_copy, catalog_manifest)
    template.write_text(original)
    summary = _publish(repo_copy, catalog_manifest)
    assert [(a.verb, a.resource) for a in summary.actions] == [
        ("reactivate", "product build"),
        ("deprecate", "product build"),
    ]


def test_an_existing_product_outside_the_portfolio_is_adopted_not_duplicated(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any], catalog_snapshot: Any
) -> None:
    actions = _plan(repo_copy, catalog_manifest)
    stop = next(i for i, a in enumerate(actions) if a.verb == "associate")
    ctx = publishing.connect(validate_manifest(catalog_manifest, repo_copy))
    for action in publishing.compute(
        ctx, repo_copy, validate_manifest(catalog_manifest, repo_copy), "servicecatalog"
    )[:stop]:
        action.run(ctx)
    _publish(repo_copy, catalog_manifest)
    names = [p["name"] for p in catalog_snapshot()["products"]]
    assert len(names) == len(set(names)) == 3


def _edit_fields(data: dict[str, Any]) -> None:
    data["products"][0]["description"] = "A new description."
    data["portfolio"]["provider"] = "Another team"
    data["launch_role"] = "PlatformLaunchRole"


def test_changed_product_fields_and_launch_role_are_planned_as_updates(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any], call_log: Any
) -> None:
    _publish(repo_copy, catalog_manifest)
    _edit_fields(catalog_manifest)
    call_log.reset()
    planned = [(a.verb, a.resource, a.detail) for a in _plan(repo_copy, catalog_manifest)]
    assert call_log.mutating() == []
    assert planned == [
        ("update", "portfolio 'MLOps project seeds'", "providername"),
        ("update", "product build-deploy", "description"),
        ("update", "product build-deploy", "launch role PlatformLaunchRole"),
        ("update", "product build-deploy-classification", "launch role PlatformLaunchRole"),
        ("update", "product build", "launch role PlatformLaunchRole"),
    ]


def test_changed_product_fields_and_launch_role_are_updated_in_place(
    sandbox: Sandbox, repo_copy: Path, catalog_manifest: dict[str, Any], call_log: Any
) -> None:
    _publish(repo_copy, catalog_manifest)
    _edit_fields(catalog_manifest)
    _publish(repo_copy, catalog_manifest)
    call_log.reset()
    assert _plan(repo_copy, catalog_manifest) == []
    assert call_log.mutating() == []


def test_principal_of_an_unknown_account_is_refused_before_any_change(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    write_manifest: Callable[[Any], Path],
    call_log: Any,
) -> None:
    catalog_manifest["principals"].append("arn:aws:iam::999999999999:role/Elsewhere")
    path = write_manifest(catalog_manifest)
    result = CliRunner().invoke(publish, ["--manifest", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "mlops-seeds: error: principals[3]: account 999999999999 is neither the hub "
        "(123456789012) nor a spoke in spokes.accounts"
    )
    assert call_log.mutating() == []


def test_failed_call_stops_publish_with_one_line_and_exit_1(
    sandbox: Sandbox,
    repo_copy: Path,
    catalog_manifest: dict[str, Any],
    write_manifest: Callable[[Any], Path],
    call_log: Any,
) -> None:
    call_log.fail_at = 3
    result = CliRunner().invoke(publish, ["--manifest", str(write_manifest(catalog_manifest))])
    assert result.exit_code == 1
    error = result.stderr.splitlines()[-1]
    assert error.startswith("mlops-seeds: error: action 3/")
    assert error.endswith("publish again to converge")
    assert len(call_log.mutating()) == 3
