"""Products and provisioning artifacts (the admin's side) through boto3 against the sandbox."""

from collections.abc import Callable
from typing import Any

import pytest

from mlops_seeds import aws

BUCKET = "sandbox-test-templates"


def _create(sc: Any, url: str, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = sc.create_product(
        Name="build",
        Owner="platform",
        ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters={"Name": "v1", "Info": {"LoadTemplateFromURL": url}},
        **extra,
    )
    return response


def test_create_product_makes_the_initial_artifact(
    sc: Any, template_url: Callable[..., str]
) -> None:
    created = _create(sc, template_url(), Tags=[{"Key": "team", "Value": "ml"}])
    product_id = created["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    artifact = created["ProvisioningArtifactDetail"]
    assert artifact["Id"].startswith("pa-")
    assert (artifact["Name"], artifact["Active"], artifact["Guidance"]) == ("v1", True, "DEFAULT")
    described = sc.describe_product_as_admin(Id=product_id)
    assert [s["Id"] for s in described["ProvisioningArtifactSummaries"]] == [artifact["Id"]]
    assert described["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert described["ProductViewDetail"]["ProductARN"].endswith(f"product/{product_id}")
    assert (
        sc.describe_product_as_admin(Name="build")["ProductViewDetail"]
        == (described["ProductViewDetail"])
    )


@pytest.mark.parametrize(
    "url",
    [
        f"https://{BUCKET}.s3.amazonaws.com/templates/bucket.yaml",
        f"https://{BUCKET}.s3.us-east-1.amazonaws.com/templates/bucket.yaml",
        f"https://s3.us-east-1.amazonaws.com/{BUCKET}/templates/bucket.yaml",
        f"https://s3.amazonaws.com/{BUCKET}/templates/bucket.yaml",
    ],
)
def test_template_urls_of_every_s3_form(
    sc: Any, template_url: Callable[..., str], url: str
) -> None:
    template_url()
    product_id = _create(sc, url)["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    artifacts = sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
    detail = sc.describe_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=artifacts[0]["Id"], Verbose=True
    )
    assert detail["Info"] == {"TemplateUrl": url}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"https://{BUCKET}.s3.amazonaws.com/missing.yaml", "no object missing.yaml"),
        ("https://no-such-bucket.s3.amazonaws.com/t.yaml", "no bucket no-such-bucket"),
        ("https://example.com/t.yaml", "is not an S3 object URL"),
        (f"https://{BUCKET}.s3.amazonaws.com/not-a-template.txt", "has no Resources section"),
    ],
)
def test_an_unreadable_template_creates_nothing(
    sc: Any, template_url: Callable[..., str], url: str, message: str
) -> None:
    template_url("not-a-template.txt", "just: text\n")
    with pytest.raises(sc.exceptions.InvalidParametersException, match=message):
        _create(sc, url)
    assert sc.search_products_as_admin()["ProductViewDetails"] == []


def test_the_template_is_copied_when_the_artifact_is_created(
    sc: Any, template_url: Callable[..., str]
) -> None:
    created = _create(sc, template_url())
    product_id = created["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    template_url(body="Parameters:\n  Other: {Type: String}\nResources: {}\n")
    detail = sc.describe_provisioning_artifact(
        ProductId=product_id,
        ProvisioningArtifactId=created["ProvisioningArtifactDetail"]["Id"],
        IncludeProvisioningArtifactParameters=True,
    )
    keys = [p["ParameterKey"] for p in detail["ProvisioningArtifactParameters"]]
    assert keys == ["BucketName", "Stage"]
    stage = detail["ProvisioningArtifactParameters"][1]
    assert stage["DefaultValue"] == "dev"
    assert stage["ParameterConstraints"]["AllowedValues"] == ["dev", "prod"]
    assert "TemplateUrl" not in detail["Info"]


def test_create_product_with_the_same_token_returns_the_same_product(
    sc: Any, template_url: Callable[..., str]
) -> None:
    first = _create(sc, template_url(), IdempotencyToken="token-1")
    second = _create(sc, template_url(), IdempotencyToken="token-1")
    assert first["ProductViewDetail"] == second["ProductViewDetail"]
    assert first["ProvisioningArtifactDetail"] == second["ProvisioningArtifactDetail"]
    assert len(sc.search_products_as_admin()["ProductViewDetails"]) == 1


def test_only_cloudformation_products(sc: Any, template_url: Callable[..., str]) -> None:
    with pytest.raises(sc.exceptions.InvalidParametersException, match="ProductType"):
        sc.create_product(
            Name="x",
            Owner="o",
            ProductType="TERRAFORM_OPEN_SOURCE",
            ProvisioningArtifactParameters={"Info": {"LoadTemplateFromURL": template_url()}},
        )


def test_provisioning_artifacts_lifecycle(
    sc: Any, make_product: Callable[..., tuple[str, str]], template_url: Callable[..., str]
) -> None:
    product_id, first = make_product("build")
    params = {
        "Name": "v2",
        "Description": "second",
        "Info": {"LoadTemplateFromURL": template_url()},
    }
    created = sc.create_provisioning_artifact(ProductId=product_id, Parameters=params)
    second = created["ProvisioningArtifactDetail"]["Id"]
    assert created["Status"] == "AVAILABLE"
    assert created["Info"]["TemplateUrl"] == template_url()
    listed = sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
    assert [a["Id"] for a in listed] == [first, second]
    by_name = sc.describe_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactName="v2"
    )["ProvisioningArtifactDetail"]
    assert (by_name["Id"], by_name["Description"]) == (second, "second")

    updated = sc.update_provisioning_artifact(
        ProductId=product_id,
        ProvisioningArtifactId=first,
        Guidance="DEPRECATED",
        Active=False,
        Name="v1-old",
        Description="superseded",
    )["ProvisioningArtifactDetail"]
    assert (updated["Guidance"], updated["Active"], updated["Name"]) == (
        "DEPRECATED",
        False,
        "v1-old",
    )
    assert updated["Description"] == "superseded"

    sc.delete_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=first)
    listed = sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
    assert [a["Id"] for a in listed] == [second]


def test_provisioning_artifact_errors(
    sc: Any, make_product: Callable[..., tuple[str, str]], template_url: Callable[..., str]
) -> None:
    product_id, first = make_product("build")
    errors = sc.exceptions
    info = {"LoadTemplateFromURL": template_url()}
    with pytest.raises(errors.ResourceNotFoundException):
        sc.create_provisioning_artifact(ProductId="nope", Parameters={"Name": "v", "Info": info})
    with pytest.raises(errors.InvalidParametersException, match="already exists"):
        sc.create_provisioning_artifact(
            ProductId=product_id, Parameters={"Name": "v1", "Info": info}
        )
    with pytest.raises(errors.ResourceNotFoundException):
        sc.list_provisioning_artifacts(ProductId="nope")
    with pytest.raises(errors.ResourceNotFoundException):
        sc.describe_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId="pa-nope")
    with pytest.raises(errors.InvalidParametersException, match="Guidance"):
        sc.update_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=first, Guidance="OLD"
        )
    with pytest.raises(errors.ResourceNotFoundException):
        sc.update_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId="pa-nope")
    with pytest.raises(errors.InvalidParametersException, match="last provisioning artifact"):
        sc.delete_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=first)
    with pytest.raises(errors.ResourceNotFoundException):
        sc.describe_product_as_admin(Id="nope")
    with pytest.raises(errors.InvalidParametersException):
        sc.describe_product_as_admin()


def test_create_provisioning_artifact_with_the_same_token_once(
    sc: Any, make_product: Callable[..., tuple[str, str]], template_url: Callable[..., str]
) -> None:
    product_id, _ = make_product("build")
    params = {"Name": "v2", "Info": {"LoadTemplateFromURL": template_url()}}
    ids = {
        sc.create_provisioning_artifact(
            ProductId=product_id, Parameters=params, IdempotencyToken="same"
        )["ProvisioningArtifactDetail"]["Id"]
        for _ in range(2)
    }
    assert len(ids) == 1
    assert (
        len(sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"])
        == 2
    )


def test_search_products_as_admin_filters_sorts_and_pages(
    sc: Any, make_product: Callable[..., tuple[str, str]]
) -> None:
    for name in ("beta", "alpha", "gamma"):
        make_product(name, Description=f"{name} seed")
    first = sc.search_products_as_admin(SortBy="Title", PageSize=2)
    names = [d["ProductViewSummary"]["Name"] for d in first["ProductViewDetails"]]
    assert names == ["alpha", "beta"]
    rest = sc.search_products_as_admin(SortBy="Title", PageSize=2, PageToken=first["NextPageToken"])
    assert [d["ProductViewSummary"]["Name"] for d in rest["ProductViewDetails"]] == ["gamma"]
    assert "NextPageToken" not in rest
    found = sc.search_products_as_admin(Filters={"FullTextSearch": ["GAMMA"]})
    assert [d["ProductViewSummary"]["Name"] for d in found["ProductViewDetails"]] == ["gamma"]
    descending = sc.search_products_as_admin(SortBy="Title", SortOrder="DESCENDING")
    assert descending["ProductViewDetails"][0]["ProductViewSummary"]["Name"] == "gamma"
    with pytest.raises(sc.exceptions.InvalidParametersException, match="PageToken"):
        sc.search_products_as_admin(PageToken="garbage")
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.search_products_as_admin(PortfolioId="port-nope")


def test_paginator_walks_every_page(sc: Any, make_product: Callable[..., tuple[str, str]]) -> None:
    for index in range(5):
        make_product(f"p{index}")
    pages = sc.get_paginator("search_products_as_admin").paginate(PaginationConfig={"PageSize": 2})
    sizes = [len(page["ProductViewDetails"]) for page in pages]
    assert sizes == [2, 2, 1]


def test_delete_product(sc: Any, make_product: Callable[..., tuple[str, str]]) -> None:
    product_id, _ = make_product("build")
    sc.delete_product(Id=product_id)
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.describe_product_as_admin(Id=product_id)
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.delete_product(Id=product_id)


def test_clients_come_from_mlops_seeds_aws(sc: Any) -> None:
    assert sc.meta.endpoint_url == aws.client("s3").meta.endpoint_url
