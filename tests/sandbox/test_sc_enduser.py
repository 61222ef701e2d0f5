"""The end user in a spoke: SearchProducts, DescribeProduct and ListLaunchPaths follow the
accepted shares and the principal associations."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from accounts import user_role

from mlops_seeds import aws

SPOKE = "111111111111"
STUDIO_PATTERN = "arn:aws:iam:::role/Studio*"


@dataclass
class Catalog:
    portfolio_id: str
    product_id: str
    deprecated: str
    current: str
    inactive: str


@pytest.fixture
def catalog(
    sc: Any,
    make_product: Callable[..., tuple[str, str]],
    make_portfolio: Callable[..., str],
    template_url: Callable[..., str],
) -> Catalog:
    """A hub product with a deprecated, a current and an inactive artifact, in a portfolio
    with a launch constraint and a Studio* pattern principal, offered to SPOKE."""
    product_id, deprecated = make_product("build", Description="build and train")
    info = {"LoadTemplateFromURL": template_url()}
    current, inactive = (
        sc.create_provisioning_artifact(
            ProductId=product_id, Parameters={"Name": name, "Info": info}
        )["ProvisioningArtifactDetail"]["Id"]
        for name in ("v2", "v3-draft")
    )
    sc.update_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=deprecated, Guidance="DEPRECATED"
    )
    sc.update_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=inactive, Active=False
    )
    portfolio_id = make_portfolio(
        "seeds", Tags=[{"Key": "sagemaker:studio-visibility", "Value": "true"}]
    )
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    sc.create_constraint(
        PortfolioId=portfolio_id,
        ProductId=product_id,
        Type="LAUNCH",
        Description="launch as LaunchRole",
        Parameters=json.dumps({"LocalRoleName": "LaunchRole"}),
    )
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id, PrincipalARN=STUDIO_PATTERN, PrincipalType="IAM_PATTERN"
    )
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    return Catalog(portfolio_id, product_id, deprecated, current, inactive)


def _client(session: boto3.Session) -> Any:
    return aws.client("servicecatalog", session)


def _import(catalog: Catalog, spoke: Callable[..., boto3.Session]) -> Any:
    """The spoke admin accepts the share and associates the Studio pattern itself (a share
    to an account carries no principals); its Service Catalog client."""
    admin = _client(spoke(SPOKE))
    admin.accept_portfolio_share(PortfolioId=catalog.portfolio_id)
    admin.associate_principal_with_portfolio(
        PortfolioId=catalog.portfolio_id, PrincipalARN=STUDIO_PATTERN, PrincipalType="IAM_PATTERN"
    )
    return admin


def _found(client: Any) -> list[str]:
    return [s["ProductId"] for s in client.search_products()["ProductViewSummaries"]]


def test_the_spoke_user_finds_products_only_after_the_share_is_accepted(
    catalog: Catalog, spoke: Callable[..., boto3.Session]
) -> None:
    studio = _client(spoke(SPOKE, "StudioExecutionRole"))
    assert _found(studio) == []
    with pytest.raises(studio.exceptions.ResourceNotFoundException):
        studio.describe_product(Id=catalog.product_id)
    _import(catalog, spoke)
    summaries = studio.search_products()["ProductViewSummaries"]
    assert [s["ProductId"] for s in summaries] == [catalog.product_id]
    assert summaries[0]["HasDefaultPath"] is True
    assert _found(_client(spoke(SPOKE, "DataEngineer"))) == []


def test_describe_product_shows_active_versions_and_launch_paths(
    catalog: Catalog, spoke: Callable[..., boto3.Session]
) -> None:
    _import(catalog, spoke)
    studio = _client(spoke(SPOKE, "StudioExecutionRole"))
    described = studio.describe_product(Id=catalog.product_id)
    versions = {a["Id"]: a["Guidance"] for a in described["ProvisioningArtifacts"]}
    assert versions == {catalog.deprecated: "DEPRECATED", catalog.current: "DEFAULT"}
    assert [p["Name"] for p in described["LaunchPaths"]] == ["seeds"]
    assert studio.describe_product(Name="build")["ProductViewSummary"]["ProductId"] == (
        catalog.product_id
    )
    paths = studio.list_launch_paths(ProductId=catalog.product_id)["LaunchPathSummaries"]
    assert paths == [
        {
            "Id": described["LaunchPaths"][0]["Id"],
            "ConstraintSummaries": [{"Type": "LAUNCH", "Description": "launch as LaunchRole"}],
            "Tags": [{"Key": "sagemaker:studio-visibility", "Value": "true"}],
            "Name": "seeds",
        }
    ]
    with pytest.raises(studio.exceptions.ResourceNotFoundException):
        studio.list_launch_paths(ProductId="nope")
    with pytest.raises(studio.exceptions.InvalidParametersException):
        studio.describe_product()


def test_an_account_share_carries_no_principals_the_spoke_associates_its_own(
    catalog: Catalog, spoke: Callable[..., boto3.Session]
) -> None:
    admin = _client(spoke(SPOKE))
    admin.accept_portfolio_share(PortfolioId=catalog.portfolio_id)
    studio = _client(spoke(SPOKE, "StudioExecutionRole"))
    assert _found(studio) == []
    admin.associate_principal_with_portfolio(
        PortfolioId=catalog.portfolio_id,
        PrincipalARN=f"arn:aws:iam::{SPOKE}:role/StudioExecutionRole",
        PrincipalType="IAM",
    )
    assert _found(studio) == [catalog.product_id]
    assert admin.list_principals_for_portfolio(PortfolioId=catalog.portfolio_id)["Principals"] == [
        {"PrincipalARN": f"arn:aws:iam::{SPOKE}:role/StudioExecutionRole", "PrincipalType": "IAM"}
    ]
    imported = admin.list_constraints_for_portfolio(PortfolioId=catalog.portfolio_id)
    assert [c["Type"] for c in imported["ConstraintDetails"]] == ["LAUNCH"]


def test_the_hub_user_needs_a_principal_association_too(
    sc: Any, catalog: Catalog, hub: boto3.Session, spoke: Callable[..., boto3.Session]
) -> None:
    assert _found(sc) == []
    hub_studio = _client(user_role(aws.account_id(hub), "StudioUser"))
    assert _found(hub_studio) == [catalog.product_id]
    filtered = hub_studio.search_products(Filters={"FullTextSearch": ["train"]})
    assert len(filtered["ProductViewSummaries"]) == 1
    assert hub_studio.search_products(Filters={"Owner": ["someone"]})["ProductViewSummaries"] == []


def test_a_spoke_portfolio_can_carry_an_imported_product(
    catalog: Catalog, spoke: Callable[..., boto3.Session]
) -> None:
    admin = _import(catalog, spoke)
    local = admin.create_portfolio(DisplayName="local", ProviderName="spoke")["PortfolioDetail"][
        "Id"
    ]
    with pytest.raises(admin.exceptions.ResourceNotFoundException):
        admin.associate_product_with_portfolio(ProductId=catalog.product_id, PortfolioId=local)
    admin.associate_product_with_portfolio(
        ProductId=catalog.product_id, PortfolioId=local, SourcePortfolioId=catalog.portfolio_id
    )
    admin.associate_principal_with_portfolio(
        PortfolioId=local, PrincipalARN="arn:aws:iam:::role/Studio*", PrincipalType="IAM_PATTERN"
    )
    studio = _client(spoke(SPOKE, "StudioExecutionRole"))
    summary = studio.search_products()["ProductViewSummaries"]
    assert [s["ProductId"] for s in summary] == [catalog.product_id]
    assert summary[0]["HasDefaultPath"] is False
    paths = studio.list_launch_paths(ProductId=catalog.product_id)["LaunchPathSummaries"]
    assert sorted(p["Name"] for p in paths) == ["local", "seeds"]
    in_local = admin.search_products_as_admin(PortfolioId=local)["ProductViewDetails"]
    assert [d["ProductViewSummary"]["ProductId"] for d in in_local] == [catalog.product_id]
    with pytest.raises(studio.exceptions.InvalidParametersException, match="PathId is required"):
        studio.provision_product(
            ProductId=catalog.product_id,
            ProvisioningArtifactId=catalog.current,
            ProvisionedProductName="two-paths",
        )


def test_a_spoke_user_who_is_not_a_portfolio_principal_cannot_launch(
    catalog: Catalog, spoke: Callable[..., boto3.Session]
) -> None:
    _import(catalog, spoke)
    # Both roles may call ProvisionProduct (AmazonSageMakerFullAccess); only one is a principal.
    other = _client(spoke(SPOKE, "DataEngineer"))
    with pytest.raises(other.exceptions.ResourceNotFoundException):
        other.provision_product(
            ProductId=catalog.product_id,
            ProvisioningArtifactId=catalog.current,
            ProvisionedProductName="not-mine",
        )
    assert _found(other) == []
    studio = _client(spoke(SPOKE, "StudioExecutionRole"))
    assert _found(studio) == [catalog.product_id]
