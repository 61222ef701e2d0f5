"""publish --route s3: tagged templates, Studio CORS on the bucket, domains tagged."""

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlops_seeds import aws
from mlops_seeds.catalog import publishing
from mlops_seeds.catalog.cli import plan, publish
from mlops_seeds.catalog.manifest import validate_manifest
from mlops_seeds.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
HUB = "123456789012"


@pytest.fixture
def domain_id(sandbox: Sandbox) -> str:
    """A Studio domain in the hub account."""
    created = aws.client("sagemaker").create_domain(
        DomainName="studio000001",  # moto makes the id d-<name>; AWS: d- and 12 characters
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": f"arn:aws:iam::{HUB}:role/Studio"},
        SubnetIds=["subnet-12345678"],
        VpcId="vpc-12345678",
        # moto 5.2.5 keeps Tags=None on an untagged domain and then fails ListTags/AddTags.
        Tags=[{"Key": "team", "Value": "ml-platform"}],
    )
    return str(created["DomainArn"]).rsplit("/", 1)[1]


@pytest.fixture
def s3_manifest(manifest_data: dict[str, Any], domain_id: str) -> dict[str, Any]:
    manifest_data["spokes"] = {"accounts": [], "organization_nodes": []}
    manifest_data["s3_route"] = {
        "bucket": "studio-templates-{account_id}",
        "prefix": "projects/",
        "domain_ids": [domain_id],
    }
    return manifest_data


def _publish(data: dict[str, Any]) -> publishing.Summary:
    return publishing.publish(ROOT, validate_manifest(data, ROOT), "s3")


def test_s3_route_publishes_tagged_templates_cors_and_domain_tags(
    sandbox: Sandbox, s3_manifest: dict[str, Any], domain_id: str, call_log: Any
) -> None:
    _publish(s3_manifest)
    s3, bucket = aws.client("s3"), f"studio-templates-{HUB}"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [
        "projects/build-deploy-classification.yaml",
        "projects/build-deploy-multi-account.yaml",
        "projects/build-deploy.yaml",
        "projects/build.yaml",
    ]
    for key in keys:
        tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        assert {"Key": "sagemaker:studio-visibility", "Value": "true"} in tags
    [rule] = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rule["AllowedOrigins"] == ["https://*.sagemaker.aws"]
    assert "GET" in rule["AllowedMethods"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    sagemaker = aws.client("sagemaker")
    arn = sagemaker.describe_domain(DomainId=domain_id)["DomainArn"]
    tags = sagemaker.list_tags(ResourceArn=arn)["Tags"]
    assert {
        "Key": "sagemaker:projectS3TemplatesLocation",
        "Value": f"s3://{bucket}/projects/",
    } in tags
    seed_keys = s3.list_objects_v2(Bucket=f"sagemaker-mlops-seeds-{HUB}-us-east-1")["Contents"]
    assert sorted(o["Key"].split("/")[0] for o in seed_keys) == ["buildspecs"] + ["seeds"] * 4
    assert not [c for c in call_log.calls if c[0] == "servicecatalog"]
    call_log.reset()
    assert _publish(s3_manifest).actions == []
    assert call_log.mutating() == []


def test_s3_route_replaces_a_changed_template_under_the_same_key(
    sandbox: Sandbox, s3_manifest: dict[str, Any]
) -> None:
    _publish(s3_manifest)
    s3_manifest["seed_bucket"] = {"name": "other-seeds-{account_id}"}
    summary = _publish(s3_manifest)
    changed = sorted(a.resource for a in summary.actions if a.detail.startswith("template"))
    assert changed == [
        f"s3://studio-templates-{HUB}/projects/build-deploy-classification.yaml",
        f"s3://studio-templates-{HUB}/projects/build-deploy-multi-account.yaml",
        f"s3://studio-templates-{HUB}/projects/build-deploy.yaml",
        f"s3://studio-templates-{HUB}/projects/build.yaml",
    ]


def test_unknown_domain_is_one_clear_error(
    sandbox: Sandbox, s3_manifest: dict[str, Any], write_manifest: Any, call_log: Any
) -> None:
    s3_manifest["s3_route"]["domain_ids"] = ["d-000000000000"]
    path = write_manifest(s3_manifest)
    result = CliRunner().invoke(plan, ["--manifest", str(path), "--route", "s3"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "mlops-seeds: error: s3_route.domain_ids: no SageMaker domain d-000000000000 in "
        f"account {HUB} (us-east-1)"
    )
    assert call_log.mutating() == []


def test_route_s3_needs_an_s3_route_section(
    sandbox: Sandbox, s3_manifest: dict[str, Any], write_manifest: Any, call_log: Any
) -> None:
    del s3_manifest["s3_route"]
    path = write_manifest(s3_manifest)
    result = CliRunner().invoke(publish, ["--manifest", str(path), "--route", "s3"])
    assert result.exit_code == 2
    assert "s3_route: the manifest has no s3_route section" in result.stderr
    assert call_log.mutating() == []
