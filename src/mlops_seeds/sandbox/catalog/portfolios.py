"""Portfolios: listing and deletion, products in them, constraints and principals."""

import json
from typing import Any

from mlops_seeds.sandbox.catalog.context import (
    Caller,
    local_portfolio,
    visible_portfolio,
    visible_portfolios,
    visible_product,
)
from mlops_seeds.sandbox.catalog.errors import (
    DuplicateResource,
    InvalidParameters,
    ResourceInUse,
    ResourceNotFound,
)
from mlops_seeds.sandbox.catalog.model import Constraint, new_id, state_of
from mlops_seeds.sandbox.catalog.paging import page, with_token
from mlops_seeds.sandbox.catalog.principals import principal

CONSTRAINT_TYPES = ("LAUNCH", "NOTIFICATION", "RESOURCE_UPDATE", "STACKSET", "TEMPLATE")
_ROLE_ARN_PREFIX = "arn:aws"


def list_portfolios(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListPortfolios: the account's own portfolios (imported ones are listed by
    ListAcceptedPortfolioShares, as in AWS)."""
    found, token = page(list(caller.backend.portfolios.values()), params)
    return with_token({"PortfolioDetails": [p.to_dict() for p in found]}, token)


def describe_portfolio(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribePortfolio: an own or accepted imported portfolio."""
    owner, portfolio = visible_portfolio(caller, params["Id"])
    return {
        "PortfolioDetail": portfolio.to_dict(),
        "Tags": owner._list_tags_for_resource(portfolio.arn),
        "TagOptions": [],
        "Budgets": [],
    }


def delete_portfolio(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DeletePortfolio: refused while it has products, principals, constraints or shares."""
    portfolio = local_portfolio(caller, params["Id"])
    state = caller.state
    in_use = {
        "products": state.portfolio_products.get(portfolio.id),
        "principals": state.principals.get(portfolio.id),
        "constraints": [c for c in state.constraints.values() if c.portfolio_id == portfolio.id],
        "shares": state.shares.get(portfolio.id),
    }
    for what, items in in_use.items():
        if items:
            raise ResourceInUse(f"Portfolio {portfolio.id} still has {what}.")
    caller.backend.tagger.delete_all_tags_for_resource(portfolio.arn)
    caller.backend.delete_portfolio(accept_language=None, id=portfolio.id)
    return {}


def associate_product_with_portfolio(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """AssociateProductWithPortfolio: own product, or one of the imported SourcePortfolioId."""
    portfolio = local_portfolio(caller, params["PortfolioId"])
    product_id = params["ProductId"]
    source = params.get("SourcePortfolioId")
    if source:
        owner, _ = visible_portfolio(caller, source)
        if product_id not in state_of(owner).portfolio_products.get(source, []):
            raise ResourceNotFound(f"Product {product_id} not found in portfolio {source}.")
    elif product_id not in caller.backend.products:
        raise ResourceNotFound(f"Product {product_id} not found.")
    products = caller.state.portfolio_products.setdefault(portfolio.id, [])
    if product_id not in products:
        products.append(product_id)
    return {}


def disassociate_product_from_portfolio(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DisassociateProductFromPortfolio: refused while constraints remain on the pair."""
    portfolio = local_portfolio(caller, params["PortfolioId"])
    product_id = params["ProductId"]
    products = caller.state.portfolio_products.get(portfolio.id, [])
    if product_id not in products:
        raise ResourceNotFound(f"Product {product_id} is not in portfolio {portfolio.id}.")
    if constraints_on(caller, portfolio.id, product_id):
        raise ResourceInUse(f"Product {product_id} has constraints in portfolio {portfolio.id}.")
    products.remove(product_id)
    return {}


def list_portfolios_for_product(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListPortfoliosForProduct: own and imported portfolios that contain the product."""
    product_id = params["ProductId"]
    visible_product(caller, product_id)
    found = [
        portfolio
        for owner, portfolio in visible_portfolios(caller)
        if product_id in state_of(owner).portfolio_products.get(portfolio.id, [])
    ]
    found_page, token = page(found, params)
    return with_token({"PortfolioDetails": [p.to_dict() for p in found_page]}, token)


def constraints_on(caller: Caller, portfolio_id: str, product_id: str | None) -> list[Constraint]:
    """The constraints on a portfolio (own and, for an imported one, the owner's)."""
    owner, _ = visible_portfolio(caller, portfolio_id)
    states = [caller.state] if owner is caller.backend else [state_of(owner), caller.state]
    return [
        constraint
        for state in states
        for constraint in state.constraints.values()
        if constraint.portfolio_id == portfolio_id
        and (product_id is None or constraint.product_id == product_id)
    ]


def check_constraint_parameters(constraint_type: str, parameters: str) -> None:
    """InvalidParametersException unless `parameters` is a JSON object valid for the type."""
    try:
        document = json.loads(parameters)
    except ValueError as err:
        raise InvalidParameters("Parameters must be a JSON object") from err
    if not isinstance(document, dict):
        raise InvalidParameters("Parameters must be a JSON object")
    if constraint_type != "LAUNCH":
        return
    keys = {"LocalRoleName", "RoleArn"} & set(document)
    if len(keys) != 1:
        raise InvalidParameters("LAUNCH Parameters need exactly one of LocalRoleName or RoleArn")
    value = document[keys.pop()]
    if not isinstance(value, str) or not value:
        raise InvalidParameters("LAUNCH Parameters: the role must be a non-empty string")
    if "RoleArn" in document and not (value.startswith(_ROLE_ARN_PREFIX) and ":role/" in value):
        raise InvalidParameters(f"LAUNCH Parameters: RoleArn {value} is not an IAM role ARN")


def create_constraint(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """CreateConstraint: one LAUNCH constraint per product and portfolio."""
    state = caller.state
    token = params.get("IdempotencyToken")
    if token and state.tokens.get(token) in state.constraints:
        return constraint_result(state.constraints[state.tokens[token]])
    portfolio_id, product_id = params["PortfolioId"], params["ProductId"]
    owner, _ = visible_portfolio(caller, portfolio_id)
    if product_id not in state_of(owner).portfolio_products.get(portfolio_id, []):
        raise ResourceNotFound(f"Product {product_id} not found in portfolio {portfolio_id}.")
    constraint_type = params["Type"]
    if constraint_type not in CONSTRAINT_TYPES:
        raise InvalidParameters(f"Type must be one of {CONSTRAINT_TYPES}")
    check_constraint_parameters(constraint_type, params["Parameters"])
    existing = constraints_on(caller, portfolio_id, product_id)
    if constraint_type == "LAUNCH" and any(c.type == "LAUNCH" for c in existing):
        raise DuplicateResource(
            f"Product {product_id} already has a LAUNCH constraint in portfolio {portfolio_id}."
        )
    constraint = Constraint(
        id=new_id("cons"),
        type=constraint_type,
        description=str(params.get("Description") or ""),
        owner=caller.account,
        product_id=product_id,
        portfolio_id=portfolio_id,
        parameters=params["Parameters"],
    )
    state.constraints[constraint.id] = constraint
    if token:
        state.tokens[token] = constraint.id
    return constraint_result(constraint)


def constraint_result(constraint: Constraint) -> dict[str, Any]:
    """The CreateConstraint/DescribeConstraint/UpdateConstraint response shape."""
    return {
        "ConstraintDetail": constraint.detail(),
        "ConstraintParameters": constraint.parameters,
        "Status": "AVAILABLE",
    }


def _find_constraint(caller: Caller, constraint_id: str) -> Constraint:
    if constraint_id in caller.state.constraints:
        return caller.state.constraints[constraint_id]
    for owner, portfolio in visible_portfolios(caller):
        constraint = state_of(owner).constraints.get(constraint_id)
        if constraint is not None and constraint.portfolio_id == portfolio.id:
            return constraint
    raise ResourceNotFound(f"Constraint {constraint_id} not found.")


def describe_constraint(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeConstraint: an own constraint or one on an imported portfolio."""
    return constraint_result(_find_constraint(caller, params["Id"]))


def delete_constraint(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteConstraint: only the account's own constraints."""
    if params["Id"] not in caller.state.constraints:
        raise ResourceNotFound(f"Constraint {params['Id']} not found.")
    del caller.state.constraints[params["Id"]]
    return {}


def list_constraints_for_portfolio(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListConstraintsForPortfolio: optionally for one ProductId."""
    found = constraints_on(caller, params["PortfolioId"], params.get("ProductId"))
    found_page, token = page(found, params)
    return with_token({"ConstraintDetails": [c.detail() for c in found_page]}, token)


def associate_principal_with_portfolio(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """AssociatePrincipalWithPortfolio: IAM or IAM_PATTERN, on own or imported portfolios."""
    visible_portfolio(caller, params["PortfolioId"])
    new = principal(params["PrincipalARN"], params["PrincipalType"])
    principals = caller.state.principals.setdefault(params["PortfolioId"], [])
    if new not in principals:
        principals.append(new)
    return {}


def disassociate_principal_from_portfolio(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DisassociatePrincipalFromPortfolio (PrincipalType defaults to IAM)."""
    visible_portfolio(caller, params["PortfolioId"])
    old = principal(params["PrincipalARN"], params.get("PrincipalType") or "IAM")
    principals = caller.state.principals.get(params["PortfolioId"], [])
    if old not in principals:
        raise ResourceNotFound(f"Principal {old.arn} is not associated with the portfolio.")
    principals.remove(old)
    return {}


def list_principals_for_portfolio(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListPrincipalsForPortfolio: the associations made in the caller's account."""
    visible_portfolio(caller, params["PortfolioId"])
    found, token = page(caller.state.principals.get(params["PortfolioId"], []), params)
    return with_token({"Principals": [p.detail() for p in found]}, token)


OPERATIONS = {
    "ListPortfolios": list_portfolios,
    "DescribePortfolio": describe_portfolio,
    "DeletePortfolio": delete_portfolio,
    "AssociateProductWithPortfolio": associate_product_with_portfolio,
    "DisassociateProductFromPortfolio": disassociate_product_from_portfolio,
    "ListPortfoliosForProduct": list_portfolios_for_product,
    "CreateConstraint": create_constraint,
    "DescribeConstraint": describe_constraint,
    "DeleteConstraint": delete_constraint,
    "ListConstraintsForPortfolio": list_constraints_for_portfolio,
    "AssociatePrincipalWithPortfolio": associate_principal_with_portfolio,
    "DisassociatePrincipalFromPortfolio": disassociate_principal_from_portfolio,
    "ListPrincipalsForPortfolio": list_principals_for_portfolio,
}
