"""Parameter values of one execution: the definition's defaults with `NAME=VALUE` overrides,
each checked against the parameter's type."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlops_seeds.errors import SeedsError
from mlops_seeds.local.definition import Parameter

BOOLEANS = {"true": True, "false": False}


def parse_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` strings -> {NAME: VALUE}; the value may contain `=`."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SeedsError(f"--param {pair!r}: expected NAME=VALUE")
        if name in values:
            raise SeedsError(f"--param {name}: given twice (give each parameter once)")
        values[name] = value
    return values


def resolve(parameters: Mapping[str, Parameter], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's value for the run: override (converted to its type) or default."""
    unknown = sorted(set(overrides) - set(parameters))
    if unknown:
        known = ", ".join(parameters) or "none"
        raise SeedsError(f"--param {unknown[0]}: no such pipeline parameter (parameters: {known})")
    values: dict[str, Any] = {}
    for name, parameter in parameters.items():
        if name in overrides:
            values[name] = convert(parameter, overrides[name])
        elif parameter.default is not None:
            values[name] = convert(parameter, parameter.default)
        else:
            raise SeedsError(f"parameter {name} has no default value: pass --param {name}=VALUE")
    return values


def convert(parameter: Parameter, value: Any) -> Any:
    """`value` (a string from the command line, or a JSON default) as the parameter's type."""
    kind = parameter.type
    try:
        if kind == "String":
            return str(value)
        if kind == "Boolean":
            if isinstance(value, bool):
                return value
            return BOOLEANS[str(value).strip().lower()]
        if isinstance(value, bool):
            raise ValueError
        if kind == "Integer":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value) if not isinstance(value, str) else int(value.strip())
        return float(value)
    except (KeyError, ValueError, TypeError):
        rule = {"Boolean": "true or false", "Integer": "an integer", "Float": "a number"}[kind]
        raise SeedsError(f"parameter {parameter.name} ({kind}): {value!r} is not {rule}") from None
