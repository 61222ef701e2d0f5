"""Offset pagination shared by the sandbox's list operations: the token is `<prefix><offset>`;
each service's module maps a bad token to the error that service gives."""

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class BadToken(ValueError):
    """A pagination token this sandbox did not give out."""


def offset_page(
    items: Sequence[T], token: str, size: int, prefix: str = ""
) -> tuple[list[T], str | None]:
    """The `size` items after the offset `token` names ('' = the start), and the token of
    the next page (None at the end); BadToken for a token of another form."""
    start = 0
    if token:
        digits = token.removeprefix(prefix)
        if not token.startswith(prefix) or not digits.isdigit():
            raise BadToken(token)
        start = int(digits)
    end = start + size
    return list(items[start:end]), (f"{prefix}{end}" if end < len(items) else None)
