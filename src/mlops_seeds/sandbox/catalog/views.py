"""Product view shapes and the filters/sorting of the product search calls."""

from collections.abc import Callable
from typing import Any

from mlops_seeds.sandbox.catalog.errors import InvalidParameters
from mlops_seeds.sandbox.catalog.model import Artifact, state_of

SEARCH_FILTER_KEYS = ("FullTextSearch", "Owner", "ProductType", "SourceProductId")
SORT_KEYS = ("Title", "VersionCount", "CreationDate")
SORT_ORDERS = ("ASCENDING", "DESCENDING")


def artifacts_of(owner: Any, product_id: str) -> dict[str, Artifact]:
    """The provisioning artifacts of a product, in creation order."""
    return state_of(owner).artifacts.setdefault(product_id, {})


def product_summary(product: Any, has_default_path: bool = False) -> dict[str, Any]:
    """The ProductViewSummary shape (moto's fields, without empty ones)."""
    summary = {k: v for k, v in product.to_dict().items() if v is not None}
    summary["Id"] = f"prodview-{product.id}"
    summary["HasDefaultPath"] = has_default_path
    return summary


def product_view_detail(product: Any) -> dict[str, Any]:
    """The ProductViewDetail shape."""
    return {
        "ProductViewSummary": product_summary(product),
        "Status": "AVAILABLE",
        "ProductARN": product.arn,
        "CreatedTime": product.created_time,
    }


def _matches(product: Any, filters: dict[str, list[str]]) -> bool:
    text = " ".join(
        str(value or "") for value in (product.name, product.owner, product.description)
    ).lower()
    tests: dict[str, Callable[[str], bool]] = {
        "FullTextSearch": lambda value: value.lower() in text,
        "Owner": lambda value: value == product.owner,
        "ProductType": lambda value: value == product.product_type,
        "SourceProductId": lambda value: value == product.id,
    }
    return all(any(tests[key](value) for value in values) for key, values in filters.items())


def search(owner_products: list[tuple[Any, Any]], params: dict[str, Any]) -> list[tuple[Any, Any]]:
    """The (owner, product) pairs that pass the request's Filters, in its SortBy/SortOrder."""
    filters = params.get("Filters") or {}
    if not isinstance(filters, dict) or not all(
        isinstance(values, list) and all(isinstance(v, str) for v in values)
        for values in filters.values()
    ):
        raise InvalidParameters("Filters must map a filter key to a list of strings")
    unknown = sorted(set(filters) - set(SEARCH_FILTER_KEYS))
    if unknown:
        raise InvalidParameters(f"Filters: unknown key {unknown[0]}; use {SEARCH_FILTER_KEYS}")
    sort_by = params.get("SortBy")
    order = params.get("SortOrder") or "ASCENDING"
    if sort_by is not None and sort_by not in SORT_KEYS:
        raise InvalidParameters(f"SortBy must be one of {SORT_KEYS}")
    if order not in SORT_ORDERS:
        raise InvalidParameters(f"SortOrder must be one of {SORT_ORDERS}")
    found = [(owner, product) for owner, product in owner_products if _matches(product, filters)]
    keys: dict[str, Callable[[tuple[Any, Any]], Any]] = {
        "Title": lambda pair: pair[1].name,
        "VersionCount": lambda pair: len(artifacts_of(pair[0], pair[1].id)),
        "CreationDate": lambda pair: pair[1].created_time,
    }
    if sort_by:
        found.sort(key=keys[sort_by], reverse=order == "DESCENDING")
    elif order == "DESCENDING":
        found.reverse()
    return found
