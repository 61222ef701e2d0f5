"""PageToken/PageSize pagination, as the Service Catalog list and search calls do it."""

from collections.abc import Sequence
from typing import Any, TypeVar

from mlops_seeds.sandbox.catalog.errors import InvalidParameters
from mlops_seeds.sandbox.paging import BadToken, offset_page

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_TOKEN_PREFIX = "page-"


def page(items: Sequence[T], params: dict[str, Any]) -> tuple[list[T], str | None]:
    """The page of `items` that PageToken/PageSize select, and the next token (None at the end)."""
    size = params.get("PageSize") or DEFAULT_PAGE_SIZE
    if not isinstance(size, int) or not 0 < size <= MAX_PAGE_SIZE:
        raise InvalidParameters(f"PageSize must be between 0 and {MAX_PAGE_SIZE}")
    token = str(params.get("PageToken") or "")
    try:
        return offset_page(items, token, size, _TOKEN_PREFIX)
    except BadToken as err:
        raise InvalidParameters(f"PageToken {token!r} is not valid") from err


def with_token(result: dict[str, Any], token: str | None) -> dict[str, Any]:
    """`result` with NextPageToken set when there is a next page."""
    if token:
        result["NextPageToken"] = token
    return result
