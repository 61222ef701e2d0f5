"""UpdatePortfolio, UpdateProduct, UpdateConstraint: changes show in the Describe calls,
AddTags/RemoveTags, and refused requests change nothing."""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from mlops_seeds import aws

ProductMaker = Callable[..., tuple[str, str]]
LAUNCH = json.dumps({"LocalRoleName": "LaunchRole"})
SPOKE = "111111111111"


def _tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in pairs.items()]


def test_update_portfolio_fields_and_tags(sc: Any, make_portfolio: Callable[..., str]) -> None:
    portfolio_id = make_portfolio("seeds", Description="old", Tags=_tags(team="a", stage="dev"))
    updated = sc.update_portfolio(
        Id=portfolio_id,
        DisplayName="seeds v2",
        ProviderName="Another team",
        AddTags=_tags(team="b", owner="ml"),
        RemoveTags=["stage"],
    )
    assert updated["Tags"] == _tags(team="b", owner="ml")
    described = sc.describe_portfolio(Id=portfolio_id)
    detail = described["PortfolioDetail"]
    assert (detail["DisplayName"], detail["ProviderName"], detail["Description"]) == (
        "seeds v2",
        "Another team",
        "old",
    )
    assert detail == updated["PortfolioDetail"]
    assert described["Tags"] == _tags(team="b", owner="ml")
    sc.update_portfolio(Id=portfolio_id, Description="", RemoveTags=["team", "owner", "absent"])
    described = sc.describe_portfolio(Id=portfolio_id)
    assert (described["PortfolioDetail"]["Description"], described["Tags"]) == ("", [])
    listed = sc.list_portfolios()["PortfolioDetails"]
    assert [p["DisplayName"] for p in listed] == ["seeds v2"]


def _portfolio(sc: Any, portfolio_id: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    described = sc.describe_portfolio(Id=portfolio_id)
    return described["PortfolioDetail"], described["Tags"]


def test_update_portfolio_errors_change_nothing(
    sc: Any, spoke: Callable[..., boto3.Session], make_portfolio: Callable[..., str]
) -> None:
    portfolio_id = make_portfolio("seeds", Tags=_tags(team="a"))
    before = _portfolio(sc, portfolio_id)
    errors = sc.exceptions
    with pytest.raises(errors.ResourceNotFoundException, match="port-nope"):
        sc.update_portfolio(Id="port-nope", DisplayName="x")
    with pytest.raises(errors.InvalidParametersException, match=r"AddTags\[1\]\.Key"):
        sc.update_portfolio(
            Id=portfolio_id, DisplayName="renamed", AddTags=_tags(ok="1", **{"bad#key": "2"})
        )
    with pytest.raises(errors.InvalidParametersException, match="more than once"):
        sc.update_portfolio(Id=portfolio_id, AddTags=_tags(a="1") + _tags(a="2"))
    assert _portfolio(sc, portfolio_id) == before

    batches = [[{"Key": f"k{b}-{i}", "Value": "v"} for i in range(20)] for b in range(3)]
    for batch in batches[:2]:
        sc.update_portfolio(Id=portfolio_id, AddTags=batch)
    with pytest.raises(errors.LimitExceededException, match="at most 50 tags"):
        sc.update_portfolio(Id=portfolio_id, DisplayName="renamed", AddTags=batches[2])
    detail, tags = _portfolio(sc, portfolio_id)
    assert (detail["DisplayName"], len(tags)) == ("seeds", 41)

    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    spoke_sc = aws.client("servicecatalog", spoke(SPOKE))
    spoke_sc.accept_portfolio_share(PortfolioId=portfolio_id)
    with pytest.raises(spoke_sc.exceptions.ResourceNotFoundException):
        spoke_sc.update_portfolio(Id=portfolio_id, DisplayName="taken over")
    assert _portfolio(sc, portfolio_id)[0]["DisplayName"] == "seeds"


def test_update_product_fields_and_tags(sc: Any, make_product: ProductMaker) -> None:
    product_id, _ = make_product("build", Description="old", Tags=_tags(team="a", stage="dev"))
    updated = sc.update_product(
        Id=product_id,
        Name="build v2",
        Owner="ml platform",
        Description="A new description.",
        Distributor="central",
        SupportDescription="ask in #ml",
        SupportEmail="ml@example.com",
        SupportUrl="https://example.com/ml",
        AddTags=_tags(owner="ml"),
        RemoveTags=["stage"],
    )
    described = sc.describe_product_as_admin(Id=product_id)
    summary = described["ProductViewDetail"]["ProductViewSummary"]
    assert {k: summary[k] for k in ("ProductId", "Name", "Owner", "ShortDescription")} == {
        "ProductId": product_id,
        "Name": "build v2",
        "Owner": "ml platform",
        "ShortDescription": "A new description.",
    }
    assert (summary["Distributor"], summary["SupportEmail"], summary["SupportUrl"]) == (
        "central",
        "ml@example.com",
        "https://example.com/ml",
    )
    assert summary["SupportDescription"] == "ask in #ml"
    assert updated["ProductViewDetail"]["ProductViewSummary"] == summary
    assert described["Tags"] == updated["Tags"] == _tags(team="a", owner="ml")
    found = sc.search_products_as_admin(Filters={"FullTextSearch": ["build v2"]})
    assert [d["ProductViewSummary"]["ProductId"] for d in found["ProductViewDetails"]] == [
        product_id
    ]
    sc.update_product(Id=product_id, AddTags=_tags(team="b"), RemoveTags=["owner"])
    described = sc.describe_product_as_admin(Id=product_id)
    assert described["Tags"] == _tags(team="b")
    assert described["ProductViewDetail"]["ProductViewSummary"]["Name"] == "build v2"


def test_update_product_errors_change_nothing(sc: Any, make_product: ProductMaker) -> None:
    product_id, _ = make_product("build", Tags=_tags(team="a"))
    errors = sc.exceptions
    with pytest.raises(errors.ResourceNotFoundException, match="prod-nope"):
        sc.update_product(Id="prod-nope", Name="x")
    with pytest.raises(errors.InvalidParametersException, match=r"AddTags\[0\]\.Value"):
        sc.update_product(Id=product_id, Name="renamed", AddTags=_tags(team="a|b"))
    with pytest.raises(errors.InvalidParametersException, match=r"RemoveTags\[0\]"):
        sc.update_product(Id=product_id, Name="renamed", RemoveTags=["bad#key"])
    described = sc.describe_product_as_admin(Id=product_id)
    assert described["ProductViewDetail"]["ProductViewSummary"]["Name"] == "build"
    assert described["Tags"] == _tags(team="a")


def test_update_constraint(
    sc: Any, make_product: ProductMaker, make_portfolio: Callable[..., str]
) -> None:
    product_id, _ = make_product("build")
    portfolio_id = make_portfolio()
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    created = sc.create_constraint(
        PortfolioId=portfolio_id,
        ProductId=product_id,
        Type="LAUNCH",
        Parameters=LAUNCH,
        Description="first",
    )
    constraint_id = created["ConstraintDetail"]["ConstraintId"]
    role_arn = json.dumps({"RoleArn": "arn:aws:iam::123456789012:role/Other"})
    updated = sc.update_constraint(Id=constraint_id, Parameters=role_arn)
    described = sc.describe_constraint(Id=constraint_id)
    assert updated["ConstraintParameters"] == described["ConstraintParameters"] == role_arn
    assert updated["ConstraintDetail"] == described["ConstraintDetail"]
    assert (described["ConstraintDetail"]["Description"], described["Status"]) == (
        "first",
        "AVAILABLE",
    )
    sc.update_constraint(Id=constraint_id, Description="second")
    listed = sc.list_constraints_for_portfolio(PortfolioId=portfolio_id)["ConstraintDetails"]
    assert [(c["ConstraintId"], c["Description"]) for c in listed] == [(constraint_id, "second")]
    assert sc.describe_constraint(Id=constraint_id)["ConstraintParameters"] == role_arn


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("not json", "JSON object"),
        (json.dumps({"LocalRoleName": "a", "RoleArn": "b"}), "exactly one"),
        (json.dumps({"RoleArn": "arn:aws:s3:::bucket"}), "not an IAM role ARN"),
    ],
)
def test_update_constraint_errors_change_nothing(
    sc: Any,
    make_product: ProductMaker,
    make_portfolio: Callable[..., str],
    parameters: str,
    message: str,
) -> None:
    product_id, _ = make_product("build")
    portfolio_id = make_portfolio()
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    created = sc.create_constraint(
        PortfolioId=portfolio_id, ProductId=product_id, Type="LAUNCH", Parameters=LAUNCH
    )
    constraint_id = created["ConstraintDetail"]["ConstraintId"]
    with pytest.raises(sc.exceptions.InvalidParametersException, match=message):
        sc.update_constraint(Id=constraint_id, Description="changed", Parameters=parameters)
    described = sc.describe_constraint(Id=constraint_id)
    assert (described["ConstraintParameters"], described["ConstraintDetail"]["Description"]) == (
        LAUNCH,
        "",
    )
    with pytest.raises(sc.exceptions.ResourceNotFoundException, match="cons-nope"):
        sc.update_constraint(Id="cons-nope", Parameters=LAUNCH)
