"""Portfolios: products in them, constraints, principals, listing and deletion."""

import json
from collections.abc import Callable
from typing import Any

import pytest

ProductMaker = Callable[..., tuple[str, str]]
LAUNCH = json.dumps({"LocalRoleName": "AmazonSageMakerServiceCatalogProductsLaunchRole"})


def test_product_portfolio_associations(
    sc: Any, make_product: ProductMaker, make_portfolio: Callable[..., str]
) -> None:
    product_id, _ = make_product("build")
    portfolios = [make_portfolio(f"p{i}") for i in range(3)]
    for portfolio_id in portfolios:
        sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolios[0])
    first = sc.list_portfolios_for_product(ProductId=product_id, PageSize=2)
    rest = sc.list_portfolios_for_product(
        ProductId=product_id, PageSize=2, PageToken=first["NextPageToken"]
    )
    listed = [p["Id"] for p in first["PortfolioDetails"] + rest["PortfolioDetails"]]
    assert listed == portfolios
    in_portfolio = sc.search_products_as_admin(PortfolioId=portfolios[1])["ProductViewDetails"]
    assert [d["ProductViewSummary"]["ProductId"] for d in in_portfolio] == [product_id]

    sc.disassociate_product_from_portfolio(ProductId=product_id, PortfolioId=portfolios[1])
    remaining = sc.list_portfolios_for_product(ProductId=product_id)["PortfolioDetails"]
    assert [p["Id"] for p in remaining] == [portfolios[0], portfolios[2]]


def test_association_errors(
    sc: Any, make_product: ProductMaker, make_portfolio: Callable[..., str]
) -> None:
    product_id, _ = make_product("build")
    portfolio_id = make_portfolio()
    errors = sc.exceptions
    with pytest.raises(errors.ResourceNotFoundException):
        sc.associate_product_with_portfolio(ProductId="nope", PortfolioId=portfolio_id)
    with pytest.raises(errors.ResourceNotFoundException):
        sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId="port-nope")
    with pytest.raises(errors.ResourceNotFoundException):
        sc.disassociate_product_from_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    with pytest.raises(errors.ResourceNotFoundException):
        sc.list_portfolios_for_product(ProductId="nope")


def test_constraints(
    sc: Any, make_product: ProductMaker, make_portfolio: Callable[..., str]
) -> None:
    product_id, _ = make_product("build")
    other_id, _ = make_product("deploy")
    portfolio_id = make_portfolio()
    for pid in (product_id, other_id):
        sc.associate_product_with_portfolio(ProductId=pid, PortfolioId=portfolio_id)
    created = sc.create_constraint(
        PortfolioId=portfolio_id, ProductId=product_id, Type="LAUNCH", Parameters=LAUNCH
    )
    detail = created["ConstraintDetail"]
    assert (detail["Type"], detail["ProductId"], created["Status"]) == (
        "LAUNCH",
        product_id,
        "AVAILABLE",
    )
    assert created["ConstraintParameters"] == LAUNCH
    role_arn = json.dumps({"RoleArn": "arn:aws:iam::123456789012:role/Launch"})
    sc.create_constraint(
        PortfolioId=portfolio_id, ProductId=other_id, Type="LAUNCH", Parameters=role_arn
    )
    described = sc.describe_constraint(Id=detail["ConstraintId"])
    assert described["ConstraintDetail"] == detail
    everything = sc.list_constraints_for_portfolio(PortfolioId=portfolio_id)["ConstraintDetails"]
    assert len(everything) == 2
    one = sc.list_constraints_for_portfolio(PortfolioId=portfolio_id, ProductId=product_id)
    assert [c["ConstraintId"] for c in one["ConstraintDetails"]] == [detail["ConstraintId"]]
    paged = sc.list_constraints_for_portfolio(PortfolioId=portfolio_id, PageSize=1)
    assert len(paged["ConstraintDetails"]) == 1 and paged["NextPageToken"]

    with pytest.raises(sc.exceptions.ResourceInUseException):
        sc.disassociate_product_from_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    sc.delete_constraint(Id=detail["ConstraintId"])
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.describe_constraint(Id=detail["ConstraintId"])
    sc.disassociate_product_from_portfolio(ProductId=product_id, PortfolioId=portfolio_id)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("not json", "JSON object"),
        ("[]", "JSON object"),
        ("{}", "exactly one of LocalRoleName or RoleArn"),
        (json.dumps({"LocalRoleName": "a", "RoleArn": "b"}), "exactly one"),
        (json.dumps({"RoleArn": "arn:aws:s3:::bucket"}), "not an IAM role ARN"),
        (json.dumps({"LocalRoleName": ""}), "non-empty string"),
    ],
)
def test_bad_launch_constraints(
    sc: Any,
    make_product: ProductMaker,
    make_portfolio: Callable[..., str],
    parameters: str,
    message: str,
) -> None:
    product_id, _ = make_product("build")
    portfolio_id = make_portfolio()
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    with pytest.raises(sc.exceptions.InvalidParametersException, match=message):
        sc.create_constraint(
            PortfolioId=portfolio_id, ProductId=product_id, Type="LAUNCH", Parameters=parameters
        )


def test_constraint_errors(
    sc: Any, make_product: ProductMaker, make_portfolio: Callable[..., str]
) -> None:
    product_id, _ = make_product("build")
    portfolio_id = make_portfolio()
    errors = sc.exceptions
    with pytest.raises(errors.ResourceNotFoundException, match="not found in portfolio"):
        sc.create_constraint(
            PortfolioId=portfolio_id, ProductId=product_id, Type="LAUNCH", Parameters=LAUNCH
        )
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    sc.create_constraint(
        PortfolioId=portfolio_id, ProductId=product_id, Type="LAUNCH", Parameters=LAUNCH
    )
    with pytest.raises(errors.DuplicateResourceException):
        sc.create_constraint(
            PortfolioId=portfolio_id, ProductId=product_id, Type="LAUNCH", Parameters=LAUNCH
        )
    with pytest.raises(errors.InvalidParametersException, match="Type must be"):
        sc.create_constraint(
            PortfolioId=portfolio_id, ProductId=product_id, Type="LUNCH", Parameters="{}"
        )
    with pytest.raises(errors.ResourceNotFoundException):
        sc.create_constraint(
            PortfolioId="port-nope", ProductId=product_id, Type="LAUNCH", Parameters=LAUNCH
        )
    with pytest.raises(errors.ResourceNotFoundException):
        sc.delete_constraint(Id="cons-nope")
    with pytest.raises(errors.ResourceNotFoundException):
        sc.list_constraints_for_portfolio(PortfolioId="port-nope")


def test_constraint_idempotency_token(
    sc: Any, make_product: ProductMaker, make_portfolio: Callable[..., str]
) -> None:
    product_id, _ = make_product("build")
    portfolio_id = make_portfolio()
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    ids = {
        sc.create_constraint(
            PortfolioId=portfolio_id,
            ProductId=product_id,
            Type="LAUNCH",
            Parameters=LAUNCH,
            IdempotencyToken="once",
        )["ConstraintDetail"]["ConstraintId"]
        for _ in range(2)
    }
    assert len(ids) == 1


def test_principals(sc: Any, make_portfolio: Callable[..., str]) -> None:
    portfolio_id = make_portfolio()
    role = "arn:aws:iam::123456789012:role/StudioExecution"
    pattern = "arn:aws:iam:::role/Studio*"
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id, PrincipalARN=role, PrincipalType="IAM"
    )
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id, PrincipalARN=pattern, PrincipalType="IAM_PATTERN"
    )
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id, PrincipalARN=role, PrincipalType="IAM"
    )
    first = sc.list_principals_for_portfolio(PortfolioId=portfolio_id, PageSize=1)
    rest = sc.list_principals_for_portfolio(
        PortfolioId=portfolio_id, PageToken=first["NextPageToken"]
    )
    assert first["Principals"] + rest["Principals"] == [
        {"PrincipalARN": role, "PrincipalType": "IAM"},
        {"PrincipalARN": pattern, "PrincipalType": "IAM_PATTERN"},
    ]
    sc.disassociate_principal_from_portfolio(PortfolioId=portfolio_id, PrincipalARN=role)
    left = sc.list_principals_for_portfolio(PortfolioId=portfolio_id)["Principals"]
    assert [p["PrincipalARN"] for p in left] == [pattern]


@pytest.mark.parametrize(
    ("arn", "principal_type", "message"),
    [
        ("arn:aws:iam:::role/Studio*", "IAM", "not an IAM ARN"),
        ("arn:aws:iam::123456789012:role/Studio*", "IAM_PATTERN", "has no account id"),
        ("arn:aws:s3:::bucket", "IAM", "not an IAM ARN"),
    ],
)
def test_bad_principals(
    sc: Any, make_portfolio: Callable[..., str], arn: str, principal_type: str, message: str
) -> None:
    portfolio_id = make_portfolio()
    with pytest.raises(sc.exceptions.InvalidParametersException, match=message):
        sc.associate_principal_with_portfolio(
            PortfolioId=portfolio_id, PrincipalARN=arn, PrincipalType=principal_type
        )


def test_principal_errors(sc: Any, make_portfolio: Callable[..., str]) -> None:
    portfolio_id = make_portfolio()
    role = "arn:aws:iam::123456789012:role/StudioExecution"
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.associate_principal_with_portfolio(
            PortfolioId="port-nope", PrincipalARN=role, PrincipalType="IAM"
        )
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.disassociate_principal_from_portfolio(PortfolioId=portfolio_id, PrincipalARN=role)
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.list_principals_for_portfolio(PortfolioId="port-nope")


def test_list_describe_and_delete_portfolios(
    sc: Any, make_product: ProductMaker, make_portfolio: Callable[..., str]
) -> None:
    portfolios = [make_portfolio(f"p{i}", Tags=[{"Key": "n", "Value": str(i)}]) for i in range(3)]
    first = sc.list_portfolios(PageSize=2)
    rest = sc.list_portfolios(PageToken=first["NextPageToken"])
    assert [p["Id"] for p in first["PortfolioDetails"] + rest["PortfolioDetails"]] == portfolios
    described = sc.describe_portfolio(Id=portfolios[1])
    assert described["PortfolioDetail"]["DisplayName"] == "p1"
    assert described["Tags"] == [{"Key": "n", "Value": "1"}]

    product_id, _ = make_product("build")
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolios[0])
    with pytest.raises(sc.exceptions.ResourceInUseException, match="products"):
        sc.delete_portfolio(Id=portfolios[0])
    with pytest.raises(sc.exceptions.ResourceInUseException, match="associated with a portfolio"):
        sc.delete_product(Id=product_id)
    sc.delete_portfolio(Id=portfolios[2])
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.describe_portfolio(Id=portfolios[2])
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.delete_portfolio(Id=portfolios[2])
