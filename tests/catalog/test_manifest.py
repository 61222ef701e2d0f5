"""The manifest: the repository's one is valid; each bad one gets its field path and rule,
exit code 2 and no AWS client at all."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlops_seeds.catalog.cli import plan, publish
from mlops_seeds.catalog.manifest import (
    DEFAULT_LAUNCH_ROLE,
    ManifestError,
    load_manifest,
    validate_manifest,
)

ROOT = Path(__file__).resolve().parents[2]
CallLog = Any

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation setting data[a][b][0]... = value, from 'a.b.0'."""

    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return apply


def _delete(path: str) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return apply


def _duplicate_key(data: dict[str, Any]) -> None:
    data["products"][2]["key"] = data["products"][0]["key"]


BAD = {
    "missing-provider": (
        _delete("portfolio.provider"),
        "portfolio.provider: required field is missing",
    ),
    "unknown-field": (
        _set("products.0.colour", "blue"),
        "products[0].colour: unknown field",
    ),
    "missing-template": (
        _set("products.1.template", "templates/nope.yaml"),
        "products[1].template: 'templates/nope.yaml' does not exist",
    ),
    "template-outside-templates": (
        _set("products.0.template", "service_catalog/portfolio.yaml"),
        "products[0].template: 'service_catalog/portfolio.yaml' must be a relative path "
        "under templates/",
    ),
    "unknown-seed": (
        _set("products.2.seeds", ["model-serve"]),
        "products[2].seeds[0].name: unknown seed 'model-serve'",
    ),
    "seed-option-value": (
        _set("products.0.seeds.0.options.framework", "pytorch"),
        "products[0].seeds[0].options: framework='pytorch': must be one of xgboost, sklearn",
    ),
    "seed-option-unknown": (
        _set("products.0.seeds.0.options.colour", "blue"),
        "products[0].seeds[0].options: colour: not an option of seed 'model-build'",
    ),
    "seed-the-template-cannot-take": (
        _set("products.2.seeds", ["model-build", "model-deploy"]),
        "products[2].seeds: templates/build.yaml has no parameter ModelDeploySeedKey for "
        "seed 'model-deploy'",
    ),
    "seed-the-template-needs": (
        _set("products.0.seeds", ["model-build"]),
        "products[0].seeds: templates/build-deploy.yaml takes ModelDeploySeedKey",
    ),
    "options-disagree": (
        _set("products.0.seeds.1.options.problem_type", "classification"),
        "products[0].seeds: option problem_type must agree across the product's seeds",
    ),
    "duplicate-product-key": (
        _duplicate_key,
        "products[2].key: duplicate key 'build-deploy' (see products[0])",
    ),
    "bad-product-key": (
        _set("products.1.key", "Build_Deploy"),
        "products[1].key: 'Build_Deploy': a key is 1-40 lowercase letters",
    ),
    "bad-version": (
        _set("products.0.version", "1.0 beta"),
        "products[0].version: '1.0 beta': a version is 1-40 of letters, digits and ._+-",
    ),
    "bad-support-email": (
        _set("products.0.support.email", "ml-platform"),
        "products[0].support.email: 'ml-platform' is not an e-mail address",
    ),
    "short-account-id": (
        _set("spokes.accounts.1", "22222222222"),
        "spokes.accounts[1]: '22222222222' is not an AWS account id (12 digits)",
    ),
    "account-id-as-number": (
        _set("spokes.accounts.0", 111111111111),
        "spokes.accounts[0]: 111111111111 must be a quoted string",
    ),
    "duplicate-account": (
        _set("spokes.accounts", ["111111111111", "111111111111"]),
        "spokes.accounts: duplicate entry: 111111111111",
    ),
    "bad-ou": (
        _set("spokes.organization_nodes.0", "ou-12"),
        "spokes.organization_nodes[0]: 'ou-12' is neither an organization id",
    ),
    "bad-spoke-role": (
        _set("spokes.role_name", "role/with/path"),
        "spokes.role_name: 'role/with/path' is not an IAM role name",
    ),
    "wildcard-with-account": (
        _set("principals", ["arn:aws:iam::123456789012:role/Studio*"]),
        "principals[0]: 'arn:aws:iam::123456789012:role/Studio*': a role ARN with an "
        "account id takes no wildcard",
    ),
    "not-a-principal": (
        _set("principals", ["arn:aws:iam:::role/ok-*", "StudioRole"]),
        "principals[1]: 'StudioRole' is neither a role ARN",
    ),
    "keep-active-zero": (
        _set("keep_active", 0),
        "keep_active: Input should be greater than or equal to 1",
    ),
    "seed-bucket-uppercase": (
        _set("seed_bucket.name", "Seeds-{account_id}"),
        "seed_bucket.name: 'Seeds-{account_id}' is not an S3 bucket name",
    ),
    "bucket-too-long-with-placeholders": (
        _set("s3_route.bucket", "a-very-long-bucket-name-for-templates-{account_id}-{region}"),
        "s3_route.bucket: 'a-very-long-bucket-name-for-templates-{account_id}-{region}' is "
        "not an S3 bucket name",
    ),
    "unknown-bucket-placeholder": (
        _set("seed_bucket.name", "seeds-{stage}"),
        "seed_bucket.name: 'seeds-{stage}': unknown placeholder",
    ),
    "bad-domain-id": (
        _set("s3_route.domain_ids", ["domain-1"]),
        "s3_route.domain_ids[0]: 'domain-1' is not a SageMaker domain id",
    ),
    "bad-prefix": (
        _set("s3_route.prefix", "/projects"),
        "s3_route.prefix: '/projects': a prefix is empty or ends with '/'",
    ),
    "reserved-tag": (
        _set("tags", {"sagemaker:studio-visibility": "false"}),
        "tags.sagemaker:studio-visibility: 'sagemaker:studio-visibility': tag keys starting "
        "with aws:, sagemaker:, mlops-seeds: are reserved",
    ),
    "tool-tag": (
        _set("tags", {"mlops-seeds:product-key": "other"}),
        "tags.mlops-seeds:product-key: 'mlops-seeds:product-key': tag keys starting "
        "with aws:, sagemaker:, mlops-seeds: are reserved",
    ),
    "no-products": (
        _set("products", []),
        "products: List should have at least 1 item",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", [plan, publish], ids=["plan", "publish"])
def test_bad_manifest_is_one_line_per_error_exit_2_and_no_aws_call(
    case: str,
    command: Any,
    manifest_data: dict[str, Any],
    write_manifest: Callable[[Any], Path],
    call_log: CallLog,
) -> None:
    mutate, expected = BAD[case]
    mutate(manifest_data)
    path = write_manifest(manifest_data)
    result = CliRunner().invoke(command, ["--manifest", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"mlops-seeds: error: {path}: {expected}"), lines[0]
    assert call_log.clients == []
    assert call_log.calls == []


def test_every_error_is_reported_at_once(
    manifest_data: dict[str, Any], write_manifest: Callable[[Any], Path], call_log: CallLog
) -> None:
    manifest_data["keep_active"] = "two"
    manifest_data["spokes"]["accounts"] = ["1234"]
    manifest_data["products"][1]["template"] = "templates/gone.yaml"
    manifest_data["products"][2]["key"] = "build-deploy"
    result = CliRunner().invoke(plan, ["--manifest", str(write_manifest(manifest_data))])
    assert result.exit_code == 2
    fields = [line.split(": ")[3] for line in result.stderr.splitlines()]
    assert fields == [
        "products[1].template",
        "keep_active",
        "spokes.accounts[0]",
        "products[2].key",
    ]
    assert call_log.clients == []


def test_yaml_syntax_error_names_the_line(write_manifest: Callable[[Any], Path]) -> None:
    path = write_manifest("portfolio:\n  display_name: [unclosed\nproducts: []\n")
    result = CliRunner().invoke(plan, ["--manifest", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mlops-seeds: error: {path}: line 3: YAML syntax")


def test_missing_manifest_file_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(plan, ["--manifest", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_repository_manifest_is_valid() -> None:
    manifest = load_manifest(ROOT / "service_catalog" / "portfolio.yaml", ROOT)
    assert [p.key for p in manifest.products] == [
        "build-deploy",
        "build-deploy-classification",
        "build",
        "build-deploy-multi-account",
    ]
    assert manifest.launch_role == DEFAULT_LAUNCH_ROLE
    assert manifest.keep_active >= 1


def test_seed_shorthand_and_defaults(manifest_data: dict[str, Any]) -> None:
    manifest = validate_manifest(manifest_data, ROOT)
    build = manifest.product("build")
    assert [(s.name, s.options) for s in build.seeds] == [("model-build", {})]
    assert manifest.spokes.organization_nodes == ["ou-ab12-abcdefgh", "o-abcdefghij"]
    assert manifest.s3_route is not None
    assert manifest.s3_route.domain_ids == ["d-abcdefghijkl"]


def test_manifest_error_keeps_the_lines(manifest_data: dict[str, Any]) -> None:
    manifest_data["launch_role"] = ""
    with pytest.raises(ManifestError) as caught:
        validate_manifest(manifest_data, ROOT)
    assert caught.value.errors == [
        "launch_role: '' is not an IAM role name (1-64 of letters, digits, +=,.@_-)"
    ]
