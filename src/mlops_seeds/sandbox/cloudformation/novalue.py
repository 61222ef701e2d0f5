"""`AWS::NoValue` as CloudFormation applies it: a list item or a property that resolves to
it is removed (`!If [Cond, {...}, !Ref AWS::NoValue]` in a policy's Statement list).
moto leaves None in its place, and an IAM policy with a null statement is then unreadable."""

import functools
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing

_MARK = "_mlops_seeds_novalue"


def _intrinsic(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and ("Ref" in value or next(iter(value)).startswith("Fn::"))
    )


def _dropping(clean_json: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    @functools.wraps(clean_json)
    def wrapper(resource_json: Any, resources_map: Any) -> Any:
        cleaned = clean_json(resource_json, resources_map)
        if isinstance(resource_json, list) and isinstance(cleaned, list):
            return [
                value
                for value, source in zip(cleaned, resource_json, strict=False)
                if not (value is None and _intrinsic(source))
            ]
        if (
            isinstance(resource_json, dict)
            and isinstance(cleaned, dict)
            and not _intrinsic(resource_json)
        ):
            return {
                key: value
                for key, value in cleaned.items()
                if not (value is None and _intrinsic(resource_json.get(key)))
            }
        return cleaned

    setattr(wrapper, _MARK, True)
    return wrapper


def install() -> None:
    """Patch moto's intrinsic resolution (once)."""
    if not getattr(parsing.clean_json, _MARK, False):
        parsing.clean_json = _dropping(parsing.clean_json)  # type: ignore[assignment]
