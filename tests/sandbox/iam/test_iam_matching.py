"""Action and ARN wildcards and policy variables, from the IAM User Guide's Action,
Resource, ARN condition operator and policy variable pages."""

import pytest

from mlops_seeds.sandbox.iam.matching import (
    Unresolved,
    glob_match,
    match_action,
    match_arn,
    substitute,
)

VARIABLES = {"aws:username": "carlos", "aws:principaltag/team": "blue"}


def resolve(key: str) -> str | None:
    return VARIABLES.get(key.lower())


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("S3:getobject", "s3:GetObject", True),  # service and action are case-insensitive
        ("iam:*AccessKey*", "iam:CreateAccessKey", True),
        ("iam:*Report", "iam:GetOrganizationsAccessReport", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetObbject", False),
        ("*", "sagemaker:InvokeEndpoint", True),
        ("sagemaker:*", "s3:GetObject", False),
    ],
)
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    assert match_action(pattern, action) is expected


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b.txt", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:s3:::*log*", "arn:aws:s3:::carlossalazar-logs", True),
        ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/key", False),  # ARNs are case-sensitive
        ("arn:aws:sagemaker:*:*:endpoint/*", "arn:aws:sagemaker:eu-west-1:1:endpoint/x", True),
        (
            "arn:aws:sagemaker:us-east-1:*:endpoint/x?",
            "arn:aws:sagemaker:us-east-1:1:endpoint/x1",
            True,
        ),
        ("*", "arn:aws:s3:::anything", True),
        ("*", "*", True),
        ("arn:aws:s3:::bucket/*", "*", False),
    ],
)
def test_resource_wildcards(pattern: str, arn: str, expected: bool) -> None:
    assert match_arn(pattern, arn) is expected


def test_arn_components_are_matched_separately() -> None:
    """The guide's example: StringLike would match, ArnLike must not, because the first
    `*` cannot run past the region's colon."""
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert glob_match(pattern, value)
    assert not match_arn(pattern, value)


def test_resource_part_may_contain_colons() -> None:
    assert match_arn(
        "arn:aws:logs:*:*:log-group:/aws/codebuild/*",
        "arn:aws:logs:us-east-1:111122223333:log-group:/aws/codebuild/p:log-stream:x",
    )


def test_variable_in_resource_is_the_request_value() -> None:
    pattern = "arn:aws:s3:::mybucket/${aws:username}/*"
    assert match_arn(pattern, "arn:aws:s3:::mybucket/carlos/notes.txt", resolve)
    assert not match_arn(pattern, "arn:aws:s3:::mybucket/maria/notes.txt", resolve)


def test_variable_value_is_literal_not_a_wildcard() -> None:
    assert not match_arn("arn:aws:s3:::b/${x}", "arn:aws:s3:::b/anything", lambda _: "*")
    assert match_arn("arn:aws:s3:::b/${x}", "arn:aws:s3:::b/*", lambda _: "*")


def test_variables_count_only_in_the_resource_part_of_a_resource() -> None:
    assert not match_arn("arn:aws:s3:${aws:username}::b", "arn:aws:s3:carlos::b", resolve)


def test_without_resolver_variables_are_literal_text() -> None:
    """Version 2008-10-17: `${aws:username}` is a literal string."""
    assert match_arn("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/${aws:username}")
    assert not match_arn("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/carlos")


def test_special_character_variables() -> None:
    assert substitute("a${*}b${?}c${$}", resolve) == "a*b?c$"
    assert match_arn("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", resolve)
    assert not match_arn("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", resolve)


def test_principal_tag_variable() -> None:
    assert match_arn(
        "arn:aws:s3:::bucket/${aws:PrincipalTag/team}", "arn:aws:s3:::bucket/blue", resolve
    )


def test_default_value_when_key_absent() -> None:
    assert substitute("home/${aws:userid, 'anonymous'}", resolve) == "home/anonymous"
    assert substitute("home/${aws:username, 'anonymous'}", resolve) == "home/carlos"


def test_unresolvable_variable_is_reported() -> None:
    with pytest.raises(Unresolved):
        match_arn("arn:aws:s3:::b/${aws:userid}", "arn:aws:s3:::b/x", resolve)
