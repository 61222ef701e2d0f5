"""Condition operators, IfExists, set qualifiers and missing keys, from the IAM User
Guide's "Condition operators", "Conditions with multiple context keys or values" and set
operator pages."""

from typing import Any

import pytest

from mlops_seeds.sandbox.iam.conditions import parse_conditions
from mlops_seeds.sandbox.iam.context import Context, ContextInput
from mlops_seeds.sandbox.iam.errors import PolicyError
from mlops_seeds.sandbox.iam.matching import Unresolved


def holds(block: dict[str, Any], context: ContextInput, variables: bool = True) -> bool:
    ctx = Context(context)

    def resolve(key: str) -> str | None:
        values = ctx.values_of(key)
        return values[0] if len(values) == 1 else None

    return all(c.holds(ctx, resolve if variables else None) for c in parse_conditions(block))


# (operator, policy value, request value, expected); the key is "k".
OPERATOR_CASES = [
    ("StringEquals", "prod", "prod", True),
    ("StringEquals", "prod", "Prod", False),
    ("StringNotEquals", "prod", "dev", True),
    ("StringNotEquals", "prod", "prod", False),
    ("StringEqualsIgnoreCase", "prod", "PROD", True),
    ("StringNotEqualsIgnoreCase", "prod", "PROD", False),
    ("StringLike", "home/*", "home/carlos/x", True),
    ("StringLike", "t?.*", "t2.micro", True),
    ("StringLike", "home/*", "Home/carlos", False),
    ("StringNotLike", "home/*", "tmp/x", True),
    ("StringNotLike", "home/*", "home/x", False),
    ("NumericEquals", "10", "10.0", True),
    ("NumericNotEquals", "10", "11", True),
    ("NumericLessThan", "10", "9", True),
    ("NumericLessThan", "10", "10", False),
    ("NumericLessThanEquals", "10", "10", True),
    ("NumericGreaterThan", "10", "11", True),
    ("NumericGreaterThanEquals", "10", "9", False),
    ("NumericEquals", "10", "ten", False),
    ("DateEquals", "2020-01-01T00:00:00Z", "1577836800", True),
    ("DateNotEquals", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", True),
    ("DateLessThan", "2020-01-01T00:00:01Z", "2019-12-31T23:59:59Z", True),
    ("DateLessThanEquals", "2020-01-01", "2020-01-01T00:00:00Z", True),
    ("DateGreaterThan", "2020-01-01T00:00:01Z", "2020-06-01T12:00:00+02:00", True),
    ("DateGreaterThanEquals", "2020", "2019-12-31T23:59:59Z", False),
    ("Bool", "true", "true", True),
    ("Bool", "false", "true", False),
    ("Bool", "TRUE", "true", True),
    ("BinaryEquals", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", True),
    ("IpAddress", "203.0.113.0/24", "203.0.113.77", True),
    ("IpAddress", "203.0.113.0/24", "198.51.100.1", False),
    ("IpAddress", "203.0.113.5", "203.0.113.5", True),  # no prefix: /32
    ("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678::1", True),
    ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", True),
    (
        "ArnEquals",
        "arn:aws:sns:us-east-1:123456789012:topic",
        "arn:aws:sns:us-east-1:123456789012:topic",
        True,
    ),
    ("ArnLike", "arn:aws:iam::*:role/Admin*", "arn:aws:iam::123456789012:role/AdminX", True),
    ("ArnLike", "arn:aws:iam::*:role/admin*", "arn:aws:iam::123456789012:role/AdminX", False),
    ("ArnNotEquals", "arn:aws:iam::*:role/Admin", "arn:aws:iam::123456789012:role/Other", True),
    ("ArnNotLike", "arn:aws:iam::*:role/Admin*", "arn:aws:iam::123456789012:role/AdminX", False),
]


@pytest.mark.parametrize(("operator", "wanted", "given", "expected"), OPERATOR_CASES)
def test_operator_with_key_present(operator: str, wanted: str, given: str, expected: bool) -> None:
    assert holds({operator: {"k": wanted}}, {"k": given}) is expected
    # IfExists changes nothing when the key is present.
    assert holds({f"{operator}IfExists": {"k": wanted}}, {"k": given}) is expected


NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals"}
NEGATED |= {"DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike"}


@pytest.mark.parametrize("operator", sorted({case[0] for case in OPERATOR_CASES}))
def test_operator_with_key_absent(operator: str) -> None:
    """Absent key: false, except negated operators (true); with IfExists always true."""
    assert holds({operator: {"k": "x"}}, {"other": "x"}) is (operator in NEGATED)
    assert holds({f"{operator}IfExists": {"k": "x"}}, {})


def test_ifexists_with_negated_operator_on_deny_still_denies_when_present() -> None:
    block = {"StringNotEqualsIfExists": {"aws:RequestTag/stage": "prod"}}
    assert holds(block, {"aws:RequestTag/stage": "dev"})
    assert not holds(block, {"aws:RequestTag/stage": "prod"})


def test_several_values_are_ored() -> None:
    block = {"StringEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}
    assert holds(block, {"aws:PrincipalTag/team": "blue"})
    assert not holds(block, {"aws:PrincipalTag/team": "green"})


def test_negated_operator_with_several_values_is_nor() -> None:
    block = {"StringNotEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}
    assert holds(block, {"aws:PrincipalTag/team": "green"})
    assert not holds(block, {"aws:PrincipalTag/team": "red"})


def test_several_keys_and_operators_are_anded() -> None:
    block = {
        "StringEquals": {"aws:PrincipalTag/team": "blue", "aws:RequestTag/stage": "dev"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    context = {"aws:PrincipalTag/team": "blue", "aws:RequestTag/stage": "dev"}
    assert holds(block, {**context, "aws:SecureTransport": True})
    assert not holds(block, {**context, "aws:SecureTransport": False})
    assert not holds(block, {"aws:PrincipalTag/team": "blue", "aws:SecureTransport": True})


def test_condition_keys_are_case_insensitive() -> None:
    assert holds(
        {"StringEquals": {"AWS:PrincipalTag/Team": "blue"}}, {"aws:principaltag/team": "blue"}
    )


def test_null_checks_presence() -> None:
    assert holds({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not holds({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2020-01-01"})
    assert holds({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2020-01-01"})
    assert not holds({"Null": {"aws:TokenIssueTime": "false"}}, {})


ALLOWED = ["PostDateTime", "Message", "Tags"]


def test_for_all_values_requires_every_request_value_listed() -> None:
    block = {"ForAllValues:StringLike": {"dynamodb:requestedAttributes": ALLOWED}}
    assert holds(block, {"dynamodb:requestedAttributes": ["PostDateTime", "Message"]})
    assert not holds(block, {"dynamodb:requestedAttributes": ["PostDateTime", "UserName"]})


def test_for_all_values_with_absent_or_empty_key_is_true() -> None:
    block = {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "stage"]}}
    assert holds(block, {})
    assert holds(block, {"aws:TagKeys": []})


def test_for_any_value_needs_one_match() -> None:
    block = {"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}}
    assert holds(block, {"dynamodb:requestedAttributes": ["UserName", "Message", "PostDateTime"]})
    assert not holds(block, {"dynamodb:requestedAttributes": ["UserName"]})


def test_for_any_value_with_absent_key_is_false() -> None:
    assert not holds({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}, {})
    assert holds({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["team"]}}, {})


def test_for_all_values_with_negated_operator() -> None:
    """Every requested tag key must be none of the forbidden ones."""
    block = {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["owner"]}}
    assert holds(block, {"aws:TagKeys": ["team", "stage"]})
    assert not holds(block, {"aws:TagKeys": ["team", "owner"]})


def test_policy_variable_in_string_condition() -> None:
    block = {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}
    assert holds(block, {"s3:prefix": "home/carlos/x", "aws:username": "carlos"})
    assert not holds(block, {"s3:prefix": "home/maria/x", "aws:username": "carlos"})


def test_policy_variable_literal_without_2012_version() -> None:
    block = {"StringEquals": {"s3:prefix": "${aws:username}"}}
    assert not holds({**block}, {"s3:prefix": "carlos", "aws:username": "carlos"}, variables=False)
    assert holds(block, {"s3:prefix": "${aws:username}"}, variables=False)


def test_policy_variable_for_principal_tag_matches_resource_tag() -> None:
    block = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    assert holds(block, {"aws:ResourceTag/team": "blue", "aws:PrincipalTag/team": "blue"})
    assert not holds(block, {"aws:ResourceTag/team": "red", "aws:PrincipalTag/team": "blue"})


def test_unresolved_variable_makes_the_statement_invalid() -> None:
    with pytest.raises(Unresolved):
        holds({"StringEquals": {"s3:prefix": "${aws:username}"}}, {"s3:prefix": "x"})


def test_numeric_operators_take_no_variables() -> None:
    assert not holds({"NumericEquals": {"s3:max-keys": "${n}"}}, {"s3:max-keys": "5", "n": "5"})


@pytest.mark.parametrize(
    "block",
    [
        {"StringEqualz": {"k": "v"}},
        {"NullIfExists": {"k": "true"}},
        {"ForSomeValues:StringEquals": {"k": "v"}},
        {"StringEquals": {"k": []}},
        {"StringEquals": "k"},
    ],
)
def test_malformed_conditions_are_refused(block: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        parse_conditions(block)
