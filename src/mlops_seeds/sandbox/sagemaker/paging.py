"""NextToken/MaxResults pagination and the list calls' time filters and sort orders."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from mlops_seeds.sandbox.paging import BadToken, offset_page
from mlops_seeds.sandbox.sagemaker.errors import Validation, constraint

T = TypeVar("T")

DEFAULT_MAX_RESULTS = 50  # the API reference gives no default; AWS pages are of this order
MAX_RESULTS = 100
SORT_ORDERS = ("Ascending", "Descending")
_TOKEN_PREFIX = "offset-"


def page(items: Sequence[T], params: dict[str, Any]) -> tuple[list[T], str | None]:
    """The page of `items` that NextToken/MaxResults select, and the next token (None at
    the end)."""
    size = params.get("MaxResults") or DEFAULT_MAX_RESULTS
    if not isinstance(size, int) or not 1 <= size <= MAX_RESULTS:
        raise constraint(size, "maxResults", f"Member must be between 1 and {MAX_RESULTS}")
    token = str(params.get("NextToken") or "")
    try:
        return offset_page(items, token, size, _TOKEN_PREFIX)
    except BadToken as err:
        raise Validation(f"Invalid pagination token {token!r}") from err


def with_token(result: dict[str, Any], token: str | None) -> dict[str, Any]:
    """`result` with NextToken set when there is a next page."""
    if token:
        result["NextToken"] = token
    return result


def sort_order(params: dict[str, Any]) -> bool:
    """Whether SortOrder asks for descending order (the default)."""
    order = params.get("SortOrder") or "Descending"
    if order not in SORT_ORDERS:
        raise constraint(order, "sortOrder", f"Member must satisfy enum value set: {SORT_ORDERS}")
    return bool(order == "Descending")


def sort_by(params: dict[str, Any], allowed: tuple[str, ...]) -> str:
    """The SortBy value (the first allowed one by default)."""
    key = params.get("SortBy") or allowed[0]
    if key not in allowed:
        raise constraint(key, "sortBy", f"Member must satisfy enum value set: {allowed}")
    return str(key)


def timestamp(value: Any, member: str) -> datetime | None:
    """A request timestamp (epoch seconds as boto3 sends them, or ISO 8601) as UTC."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        parsed = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError) as err:
        raise constraint(value, member, "Member must be a timestamp") from err
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def within(moment: datetime, params: dict[str, Any], after: str, before: str) -> bool:
    """Whether `moment` lies after params[after] and before params[before] (when given);
    a naive `moment` (moto's) is UTC."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    low = timestamp(params.get(after), after)
    high = timestamp(params.get(before), before)
    return (low is None or moment > low) and (high is None or moment < high)
