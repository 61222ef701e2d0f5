"""In-place updates of the account's own portfolios, products and constraints.

Every field is checked before anything changes, so a refused request leaves no trace.
"""

from typing import Any

from mlops_seeds.sandbox.catalog.context import Caller, local_portfolio, local_product
from mlops_seeds.sandbox.catalog.errors import InvalidParameters, LimitExceeded, ResourceNotFound
from mlops_seeds.sandbox.catalog.portfolios import check_constraint_parameters, constraint_result
from mlops_seeds.sandbox.catalog.tags import replace_tags, updated_tags
from mlops_seeds.sandbox.catalog.views import product_view_detail

# Request field -> (moto attribute, min length, max length), from the API's string shapes.
PORTFOLIO_FIELDS = {
    "DisplayName": ("display_name", 1, 100),
    "Description": ("description", 0, 2000),
    "ProviderName": ("provider_name", 1, 50),
}
PRODUCT_FIELDS = {
    "Name": ("name", 0, 8191),
    "Owner": ("owner", 0, 8191),
    "Description": ("description", 0, 8191),
    "Distributor": ("distributor", 0, 8191),
    "SupportDescription": ("support_description", 0, 8191),
    "SupportEmail": ("support_email", 0, 254),
    "SupportUrl": ("support_url", 0, 2083),
}
CONSTRAINT_DESCRIPTION_MAX = 2000


def _text(params: dict[str, Any], field: str, low: int, high: int) -> str | None:
    """The request's string `field` (None when absent), checked against its length bounds."""
    value = params.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise InvalidParameters(f"{field} must be a string of {low} to {high} characters")
    return value


def _changes(params: dict[str, Any], fields: dict[str, tuple[str, int, int]]) -> dict[str, str]:
    """moto attribute -> new value for every field the request sets."""
    changes = {}
    for field, (attribute, low, high) in fields.items():
        value = _text(params, field, low, high)
        if value is not None:
            changes[attribute] = value
    return changes


def update_portfolio(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """UpdatePortfolio: DisplayName, Description, ProviderName, AddTags, RemoveTags."""
    backend = caller.backend
    portfolio = local_portfolio(caller, params["Id"])
    changes = _changes(params, PORTFOLIO_FIELDS)
    current = backend._list_tags_for_resource(portfolio.arn)
    tags = updated_tags(current, params, too_many=LimitExceeded)
    for attribute, value in changes.items():
        setattr(portfolio, attribute, value)
    replace_tags(backend, portfolio, tags)
    return {"PortfolioDetail": portfolio.to_dict(), "Tags": tags}


def update_product(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateProduct: the product's view fields, AddTags, RemoveTags, SourceConnection."""
    backend = caller.backend
    product = local_product(caller, params["Id"])
    changes: dict[str, Any] = _changes(params, PRODUCT_FIELDS)
    connection = params.get("SourceConnection")
    if connection is not None:
        if not isinstance(connection, dict):
            raise InvalidParameters("SourceConnection must be an object")
        changes["source_connection"] = connection
    tags = updated_tags(backend._list_tags_for_resource(product.arn), params)
    for attribute, value in changes.items():
        setattr(product, attribute, value)
    replace_tags(backend, product, tags)
    return {"ProductViewDetail": product_view_detail(product), "Tags": tags}


def update_constraint(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateConstraint: Description, and Parameters valid for the constraint's type (only
    the account's own constraints)."""
    constraint = caller.state.constraints.get(params["Id"])
    if constraint is None:
        raise ResourceNotFound(f"Constraint {params['Id']} not found.")
    description = _text(params, "Description", 0, CONSTRAINT_DESCRIPTION_MAX)
    parameters = params.get("Parameters")
    if parameters is not None:
        if not isinstance(parameters, str):
            raise InvalidParameters("Parameters must be a JSON object")
        check_constraint_parameters(constraint.type, parameters)
        constraint.parameters = parameters
    if description is not None:
        constraint.description = description
    return constraint_result(constraint)


OPERATIONS = {
    "UpdatePortfolio": update_portfolio,
    "UpdateProduct": update_product,
    "UpdateConstraint": update_constraint,
}
