"""From CloudFormation's PascalCase properties to the camelCase shapes of the JSON APIs
(CodeBuild, CodePipeline), key by key."""

import json
from collections.abc import Mapping
from typing import Any


def camel(
    value: Any,
    renames: Mapping[str, str] | None = None,
    opaque: frozenset[str] = frozenset(),
) -> Any:
    """`value` with every mapping key's first letter lowered (or renamed by `renames`),
    recursively; the values of keys in `opaque` are kept as they are (e.g. an action's
    Configuration, whose keys the API keeps in PascalCase)."""
    renames = renames or {}
    if isinstance(value, list):
        return [camel(item, renames, opaque) for item in value]
    if isinstance(value, dict):
        return {
            renames.get(key, key[:1].lower() + key[1:]): (
                item if key in opaque else camel(item, renames, opaque)
            )
            for key, item in value.items()
        }
    return value


def as_text(value: Any) -> str:
    """A template value as the string an API that takes only strings receives (booleans in
    lower case, as CloudFormation renders them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
