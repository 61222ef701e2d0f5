"""The end user's side: products reachable through a launch path, in any account.

A launch path is a portfolio (own, or imported and accepted) that contains the product and
admits the caller: a principal association made in the caller's account matches the caller
(see principals.matches), or, for a share made with SharePrincipals, one of the owner's
IAM_PATTERN associations does. Launch path ids are derived from the portfolio id.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from mlops_seeds.sandbox.catalog.context import (
    Caller,
    accepted_share,
    find_product,
    visible_portfolios,
)
from mlops_seeds.sandbox.catalog.errors import InvalidParameters, ResourceNotFound
from mlops_seeds.sandbox.catalog.model import Constraint, Principal, state_of
from mlops_seeds.sandbox.catalog.paging import page, with_token
from mlops_seeds.sandbox.catalog.portfolios import constraints_on
from mlops_seeds.sandbox.catalog.principals import matches
from mlops_seeds.sandbox.catalog.views import artifacts_of, product_summary, search


@dataclass(frozen=True)
class LaunchPath:
    """A portfolio through which the caller may launch a product."""

    owner: Any
    portfolio: Any

    @property
    def id(self) -> str:
        """A stable id shaped like AWS's launch path ids."""
        return "lpv3-" + hashlib.sha256(self.portfolio.id.encode()).hexdigest()[:13]

    def constraints(self, caller: Caller, product_id: str) -> list[Constraint]:
        """The constraints on the product through this path."""
        return constraints_on(caller, self.portfolio.id, product_id)


def _principals(caller: Caller, owner: Any, portfolio_id: str) -> list[Principal]:
    principals = list(caller.state.principals.get(portfolio_id, []))
    if owner is not caller.backend:
        share = accepted_share(caller, portfolio_id, owner)
        if share is not None and share.share_principals:
            shared = state_of(owner).principals.get(portfolio_id, [])
            principals += [p for p in shared if p.type == "IAM_PATTERN"]
    return principals


def _admitted(caller: Caller) -> list[LaunchPath]:
    """The caller's portfolios whose principals admit the caller."""
    return [
        LaunchPath(owner, portfolio)
        for owner, portfolio in visible_portfolios(caller)
        if any(matches(p, caller.arn) for p in _principals(caller, owner, portfolio.id))
    ]


def _portfolio_products(path: LaunchPath) -> list[str]:
    return state_of(path.owner).portfolio_products.get(path.portfolio.id, [])


def launch_paths(caller: Caller, product_id: str) -> list[LaunchPath]:
    """The caller's launch paths of a product."""
    return [p for p in _admitted(caller) if product_id in _portfolio_products(p)]


def launchable_products(caller: Caller) -> dict[str, tuple[Any, Any, list[LaunchPath]]]:
    """(owner, product, launch paths) by product id, for every product the caller may launch."""
    found: dict[str, tuple[Any, Any, list[LaunchPath]]] = {}
    for path in _admitted(caller):
        for product_id in _portfolio_products(path):
            if product_id not in found:
                try:
                    owner, product = find_product(caller.region, product_id)
                except ResourceNotFound:  # deleted by its owner since it was added here
                    continue
                found[product_id] = (owner, product, [])
            found[product_id][2].append(path)
    return found


def launchable_product(caller: Caller, params: dict[str, Any], id_key: str, name_key: str) -> Any:
    """(owner, product, paths) named by id or name, else ResourceNotFoundException."""
    product_id, name = params.get(id_key), params.get(name_key)
    if not product_id and not name:
        raise InvalidParameters(f"Either {id_key} or {name_key} must be specified.")
    for key, entry in launchable_products(caller).items():
        if key == product_id or (not product_id and entry[1].name == name):
            return entry
    raise ResourceNotFound(f"Product {product_id or name} not found.")


def search_products(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """SearchProducts: the products the caller may launch."""
    products = launchable_products(caller)
    pairs = search([(owner, product) for owner, product, _ in products.values()], params)
    found, token = page(pairs, params)
    summaries = [product_summary(p, len(products[p.id][2]) == 1) for _, p in found]
    return with_token({"ProductViewSummaries": summaries, "ProductViewAggregations": {}}, token)


def describe_product(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeProduct: active artifacts and launch paths of a product the caller may launch."""
    owner, product, paths = launchable_product(caller, params, "Id", "Name")
    return {
        "ProductViewSummary": product_summary(product, len(paths) == 1),
        "ProvisioningArtifacts": [
            a.end_user_view() for a in artifacts_of(owner, product.id).values() if a.active
        ],
        "Budgets": [],
        "LaunchPaths": [{"Id": p.id, "Name": p.portfolio.display_name} for p in paths],
    }


def list_launch_paths(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListLaunchPaths: one per portfolio, with its constraints and tags."""
    _, product, paths = launchable_product(caller, params, "ProductId", "ProductName")
    found, token = page(paths, params)
    summaries = [
        {
            "Id": path.id,
            "ConstraintSummaries": [
                {"Type": c.type, "Description": c.description}
                for c in path.constraints(caller, product.id)
            ],
            "Tags": path.owner._list_tags_for_resource(path.portfolio.arn),
            "Name": path.portfolio.display_name,
        }
        for path in found
    ]
    return with_token({"LaunchPathSummaries": summaries}, token)


OPERATIONS = {
    "SearchProducts": search_products,
    "DescribeProduct": describe_product,
    "ListLaunchPaths": list_launch_paths,
}
