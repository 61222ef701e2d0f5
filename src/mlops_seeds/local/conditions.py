"""Conditions of a Condition step: Equals, NotEquals, GreaterThan(OrEqualTo),
LessThan(OrEqualTo), In, NotIn, Not and Or; a step's list of conditions is their AND."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from mlops_seeds.local.expressions import ExpressionError, Scope, evaluate

ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "GreaterThan": operator.gt,
    "GreaterThanOrEqualTo": operator.ge,
    "LessThan": operator.lt,
    "LessThanOrEqualTo": operator.le,
}
CONDITION_TYPES = (*ORDERINGS, "Equals", "NotEquals", "In", "NotIn", "Not", "Or")


def all_true(conditions: Sequence[Any], scope: Scope) -> bool:
    """True when every condition holds (an empty list holds)."""
    return all(holds(condition, scope) for condition in conditions)


def holds(condition: Any, scope: Scope) -> bool:
    """Evaluate one condition."""
    if not isinstance(condition, dict) or condition.get("Type") not in CONDITION_TYPES:
        kind = condition.get("Type") if isinstance(condition, dict) else condition
        raise ExpressionError(
            f"condition type {kind!r} must be one of {', '.join(CONDITION_TYPES)}"
        )
    kind = str(condition["Type"])
    if kind == "Not":
        return not holds(_member(condition, "Condition"), scope)
    if kind == "Or":
        members = _member(condition, "Conditions")
        if not isinstance(members, list):
            raise ExpressionError("Or condition: Conditions must be a list")
        return any(holds(member, scope) for member in members)
    if kind in ("In", "NotIn"):
        return _in(condition, scope) == (kind == "In")
    left = evaluate(_member(condition, "LeftValue"), scope)
    right = evaluate(_member(condition, "RightValue"), scope)
    if kind in ("Equals", "NotEquals"):
        return equal(left, right) == (kind == "Equals")
    left, right = _comparable(left, right, kind)
    return ORDERINGS[kind](left, right)


def equal(left: Any, right: Any) -> bool:
    """Equality with numbers compared by value (1 == 1.0, "0.5" == 0.5)."""
    if _is_number(left) or _is_number(right):
        try:
            a, b = _comparable(left, right, "Equals")
        except ExpressionError:
            return False
        return bool(a == b)
    return bool(left == right)


def _in(condition: dict[str, Any], scope: Scope) -> bool:
    # The SDK writes QueryValue/Values; the published schema says Value/In.
    query = condition.get("QueryValue", condition.get("Value"))
    values = condition.get("Values", condition.get("In"))
    if query is None or not isinstance(values, list):
        raise ExpressionError(f"{condition['Type']} condition: needs QueryValue and Values")
    value = evaluate(query, scope)
    return any(equal(value, evaluate(item, scope)) for item in values)


def _member(condition: dict[str, Any], key: str) -> Any:
    if key not in condition:
        raise ExpressionError(f"{condition['Type']} condition: {key} is missing")
    return condition[key]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _comparable(left: Any, right: Any, kind: str) -> tuple[Any, Any]:
    """Two numbers, or two strings; a numeric string meets a number as a number."""
    if _is_number(left) and _is_number(right):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    try:
        return _number(left), _number(right)
    except (TypeError, ValueError):
        raise ExpressionError(f"{kind} condition: cannot compare {left!r} with {right!r}") from None


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise TypeError
    return float(value)
