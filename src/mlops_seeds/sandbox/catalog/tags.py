"""Tags of portfolios and products: the Tag shape's rules, and AddTags/RemoveTags updates."""

import unicodedata
from typing import Any

from mlops_seeds.sandbox.catalog.errors import CatalogError, InvalidParameters

MAX_ADD_TAGS = 20
MAX_TAGS_PER_RESOURCE = 50
KEY_LENGTH = (1, 128)
VALUE_LENGTH = (1, 256)
_SYMBOLS = "_.:/=+-@"


def _allowed(text: str) -> bool:
    """Whether `text` matches the Tag pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$."""
    return all(unicodedata.category(ch)[0] in "LZN" or ch in _SYMBOLS for ch in text)


def check_text(field: str, text: Any, length: tuple[int, int]) -> str:
    """`text` when it is a string of the allowed characters and length, else invalid."""
    low, high = length
    if not isinstance(text, str) or not low <= len(text) <= high:
        raise InvalidParameters(f"{field} must be a string of {low} to {high} characters")
    if not _allowed(text):
        raise InvalidParameters(
            f"{field} {text!r} may hold only letters, digits, spaces and {_SYMBOLS}"
        )
    return text


def check_tags(tags: Any, field: str = "AddTags", maximum: int = MAX_ADD_TAGS) -> dict[str, str]:
    """A list of Tag shapes as key -> value: at most `maximum` (20 in CreateProduct's Tags,
    UpdateProduct's and UpdatePortfolio's AddTags), valid keys and values, no key twice."""
    if not isinstance(tags, list) or len(tags) > maximum:
        raise InvalidParameters(f"{field} must be a list of at most {maximum} tags")
    wanted: dict[str, str] = {}
    for index, tag in enumerate(tags):
        where = f"{field}[{index}]"
        if not isinstance(tag, dict):
            raise InvalidParameters(f"{where} must be a Tag with Key and Value")
        key = check_text(f"{where}.Key", tag.get("Key"), KEY_LENGTH)
        if key in wanted:
            raise InvalidParameters(f"{where}.Key {key!r} appears more than once in {field}")
        wanted[key] = check_text(f"{where}.Value", tag.get("Value"), VALUE_LENGTH)
    return wanted


def check_add_tags(tags: Any) -> dict[str, str]:
    """AddTags as key -> value: at most 20 Tags, valid keys and values, no key twice."""
    return check_tags(tags)


def check_remove_tags(keys: Any) -> list[str]:
    """RemoveTags: a list of valid tag keys."""
    if not isinstance(keys, list):
        raise InvalidParameters("RemoveTags must be a list of tag keys")
    return [check_text(f"RemoveTags[{i}]", key, KEY_LENGTH) for i, key in enumerate(keys)]


def updated_tags(
    current: list[dict[str, str]],
    params: dict[str, Any],
    too_many: type[CatalogError] = InvalidParameters,
) -> list[dict[str, str]]:
    """The tags after the request's RemoveTags, then its AddTags (a new value replaces the
    old one); `too_many` is raised if the result would exceed 50 tags (the Tags shape's max)."""
    removed = set(check_remove_tags(params.get("RemoveTags") or []))
    added = check_add_tags(params.get("AddTags") or [])
    tags = {t["Key"]: t["Value"] for t in current if t["Key"] not in removed}
    tags.update(added)
    if len(tags) > MAX_TAGS_PER_RESOURCE:
        raise too_many(f"a resource may have at most {MAX_TAGS_PER_RESOURCE} tags")
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def replace_tags(backend: Any, resource: Any, tags: list[dict[str, str]]) -> None:
    """Set a moto portfolio's or product's tags (tagging service and `.tags`) to `tags`."""
    backend.tagger.delete_all_tags_for_resource(resource.arn)
    if tags:
        backend.tagger.tag_resource(resource.arn, tags)
    resource.tags = tags
