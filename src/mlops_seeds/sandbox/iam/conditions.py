"""The Condition element: operators, the `...IfExists` suffix, the `ForAllValues:` and
`ForAnyValue:` set qualifiers, and what a missing key means.

Sources (IAM User Guide):
- "IAM JSON policy elements: Condition operators"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
  the operators; "If the key that you specify in a policy condition is not present in the
  request context, the values do not match and the condition is false. If the policy
  condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and
  the right key is not present, the condition is true"; `...IfExists`: "If the key is not
  present, evaluate the condition element as true"; `Null` "true" means the key is absent.
- "Conditions with multiple context keys or values"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html):
  several operators or keys are ANDed, several values for one key are ORed, and "if a
  single negated matching condition operator includes multiple values for a context key,
  those values are evaluated using a logical NOR".
- The set operators
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html):
  `ForAllValues` is true when every request value matches some policy value, and "If the
  key values in the request resolve to an empty data set (for example, an empty string), a
  condition operator modified by ForAllValues returns true, and a condition operator
  modified by ForAnyValue returns false"; an absent key is such an empty set.
- Policy variables are allowed with the string, ARN and Bool operators ("IAM policy
  elements: Variables and tags"); elsewhere `${...}` is compared as written.
"""

import datetime
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from mlops_seeds.sandbox.iam.context import Context
from mlops_seeds.sandbox.iam.errors import PolicyError
from mlops_seeds.sandbox.iam.matching import Resolver, glob_match, match_arn, substitute

# A comparison of one request value with one policy value, given the variable resolver.
Compare = Callable[[str, str, Resolver | None], bool]

FOR_ALL_VALUES = "ForAllValues"
FOR_ANY_VALUE = "ForAnyValue"
NULL = "Null"


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


_YEAR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def parse_date(text: str) -> datetime.datetime | None:
    """A W3C ISO 8601 date or date-time (time zone UTC when not given), or epoch seconds;
    None when it is neither."""
    text = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text) and not _YEAR_MONTH.match(text):
        return datetime.datetime.fromtimestamp(float(text), datetime.UTC)
    partial = _YEAR_MONTH.match(text)
    try:
        if partial:
            return datetime.datetime(
                int(partial.group(1)), int(partial.group(2) or 1), 1, tzinfo=datetime.UTC
            )
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def _numeric(test: Callable[[Decimal, Decimal], bool]) -> Compare:
    def compare(given: str, wanted: str, _: Resolver | None) -> bool:
        left, right = _decimal(given), _decimal(wanted)
        return left is not None and right is not None and test(left, right)

    return compare


def _date(test: Callable[[datetime.datetime, datetime.datetime], bool]) -> Compare:
    def compare(given: str, wanted: str, _: Resolver | None) -> bool:
        left, right = parse_date(given), parse_date(wanted)
        return left is not None and right is not None and test(left, right)

    return compare


def _ip(given: str, wanted: str, _: Resolver | None) -> bool:
    try:
        address = ipaddress.ip_address(given.strip())
        network = ipaddress.ip_network(wanted.strip(), strict=False)
    except ValueError:
        return False
    return address.version == network.version and address in network


def _string_equals(given: str, wanted: str, resolve: Resolver | None) -> bool:
    return given == substitute(wanted, resolve)


def _string_equals_ignore_case(given: str, wanted: str, resolve: Resolver | None) -> bool:
    return given.casefold() == substitute(wanted, resolve).casefold()


def _string_like(given: str, wanted: str, resolve: Resolver | None) -> bool:
    return glob_match(wanted, given, resolve)


def _arn_like(given: str, wanted: str, resolve: Resolver | None) -> bool:
    return match_arn(wanted, given, resolve, variables_in_resource_only=False)


def _bool(given: str, wanted: str, resolve: Resolver | None) -> bool:
    return given.strip().lower() == substitute(wanted, resolve).strip().lower()


def _binary(given: str, wanted: str, _: Resolver | None) -> bool:
    return given == wanted


@dataclass(frozen=True)
class _Operator:
    compare: Compare
    negated: bool = False
    variables: bool = False


_OPERATORS: dict[str, _Operator] = {
    "StringEquals": _Operator(_string_equals, variables=True),
    "StringNotEquals": _Operator(_string_equals, negated=True, variables=True),
    "StringEqualsIgnoreCase": _Operator(_string_equals_ignore_case, variables=True),
    "StringNotEqualsIgnoreCase": _Operator(
        _string_equals_ignore_case, negated=True, variables=True
    ),
    "StringLike": _Operator(_string_like, variables=True),
    "StringNotLike": _Operator(_string_like, negated=True, variables=True),
    "NumericEquals": _Operator(_numeric(lambda a, b: a == b)),
    "NumericNotEquals": _Operator(_numeric(lambda a, b: a == b), negated=True),
    "NumericLessThan": _Operator(_numeric(lambda a, b: a < b)),
    "NumericLessThanEquals": _Operator(_numeric(lambda a, b: a <= b)),
    "NumericGreaterThan": _Operator(_numeric(lambda a, b: a > b)),
    "NumericGreaterThanEquals": _Operator(_numeric(lambda a, b: a >= b)),
    "DateEquals": _Operator(_date(lambda a, b: a == b)),
    "DateNotEquals": _Operator(_date(lambda a, b: a == b), negated=True),
    "DateLessThan": _Operator(_date(lambda a, b: a < b)),
    "DateLessThanEquals": _Operator(_date(lambda a, b: a <= b)),
    "DateGreaterThan": _Operator(_date(lambda a, b: a > b)),
    "DateGreaterThanEquals": _Operator(_date(lambda a, b: a >= b)),
    "Bool": _Operator(_bool, variables=True),
    "BinaryEquals": _Operator(_binary),
    "IpAddress": _Operator(_ip),
    "NotIpAddress": _Operator(_ip, negated=True),
    "ArnEquals": _Operator(_arn_like, variables=True),
    "ArnLike": _Operator(_arn_like, variables=True),
    "ArnNotEquals": _Operator(_arn_like, negated=True, variables=True),
    "ArnNotLike": _Operator(_arn_like, negated=True, variables=True),
}
_BY_LOWER = {name.lower(): name for name in [*_OPERATORS, NULL]}
OPERATORS = tuple(_BY_LOWER.values())


@dataclass(frozen=True)
class Condition:
    """One key tested by one operator: `operator` as written in the policy, `base` the
    operator without qualifier or suffix (e.g. "StringLike"), `key` the condition key and
    `values` the policy's values (any of which may match)."""

    operator: str
    base: str
    qualifier: str | None
    if_exists: bool
    key: str
    values: tuple[str, ...]

    def holds(self, context: Context, resolve: Resolver | None = None) -> bool:
        """Whether the request context satisfies this condition. `resolve` resolves policy
        variables (None: the policy's Version does not allow them). Raises `Unresolved`
        when a variable has no value: the statement is then invalid."""
        given = context.values_of(self.key)
        if self.base == NULL:
            return any((wanted.strip().lower() == "true") != bool(given) for wanted in self.values)
        if not given:
            if self.if_exists or self.qualifier == FOR_ALL_VALUES:
                return True
            if self.qualifier == FOR_ANY_VALUE:
                return False
            return _OPERATORS[self.base].negated
        operator = _OPERATORS[self.base]
        variables = resolve if operator.variables else None

        def matches(value: str) -> bool:
            return any(operator.compare(value, wanted, variables) for wanted in self.values)

        if self.qualifier == FOR_ALL_VALUES:
            return all(matches(v) != operator.negated for v in given)
        if self.qualifier == FOR_ANY_VALUE:
            return any(matches(v) != operator.negated for v in given)
        # A single-valued test: a negated operator holds when no request value matches.
        return any(matches(v) for v in given) != operator.negated


def _policy_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise PolicyError("condition values must be strings, numbers or booleans")


def _split_operator(written: str) -> tuple[str | None, str, bool]:
    qualifier: str | None = None
    name = written
    if ":" in name:
        prefix, name = name.split(":", 1)
        qualifier = {q.lower(): q for q in (FOR_ALL_VALUES, FOR_ANY_VALUE)}.get(prefix.lower())
        if qualifier is None:
            raise PolicyError(f"unknown condition qualifier: {prefix}")
    if_exists = name.lower().endswith("ifexists") and name.lower() != "ifexists"
    if if_exists:
        name = name[: -len("IfExists")]
    base = _BY_LOWER.get(name.lower())
    if base is None:
        raise PolicyError(f"unknown condition operator: {written}")
    if base == NULL and (if_exists or qualifier):
        raise PolicyError(f"{written}: Null takes neither IfExists nor a set qualifier")
    return qualifier, base, if_exists


def parse_conditions(block: Mapping[str, Any]) -> tuple[Condition, ...]:
    """A statement's Condition element as a flat tuple of conditions (all must hold)."""
    conditions: list[Condition] = []
    for written, tests in block.items():
        qualifier, base, if_exists = _split_operator(written)
        if not isinstance(tests, dict) or not tests:
            raise PolicyError(f"{written} must map condition keys to values")
        for key, value in tests.items():
            values = value if isinstance(value, list) else [value]
            if not values:
                raise PolicyError(f"{written} gives {key} no values")
            conditions.append(
                Condition(
                    operator=written,
                    base=base,
                    qualifier=qualifier,
                    if_exists=if_exists,
                    key=key,
                    values=tuple(_policy_text(v) for v in values),
                )
            )
    return tuple(conditions)
