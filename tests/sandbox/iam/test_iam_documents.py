"""Policy documents in normal form, principals, and AWS-managed policies from moto's copy."""

import json
from typing import Any

import pytest

from mlops_seeds.sandbox.iam import (
    Identity,
    Kind,
    PolicyError,
    Request,
    Resource,
    UnknownManagedPolicy,
    aws_managed_arn,
    aws_managed_document,
    aws_managed_policy,
    evaluate,
    parse_policy,
)
from mlops_seeds.sandbox.iam.documents import Effect


def test_single_statement_object_and_strings_become_tuples() -> None:
    parsed = parse_policy(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            }
        ),
        name="p",
    )
    (statement,) = parsed.statements
    assert statement.effect is Effect.ALLOW
    assert statement.actions == ("s3:GetObject",)
    assert statement.resources == ("*",)
    assert statement.policy == "p" and parsed.variables


def test_missing_version_means_2008_without_variables() -> None:
    parsed = parse_policy(
        {"Statement": [{"Effect": "Deny", "NotAction": ["a:b"], "NotResource": "x"}]}
    )
    assert parsed.version == "2008-10-17" and not parsed.variables
    assert parsed.statements[0].not_action and parsed.statements[0].not_resource


def test_principal_forms() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "s3:*",
        "Principal": {"AWS": ["123456789012"], "Service": "codebuild.amazonaws.com"},
    }
    principals = (
        parse_policy({"Version": "2012-10-17", "Statement": [statement]}).statements[0].principals
    )
    assert principals is not None and not principals.everyone
    assert principals.of("Service") == ("codebuild.amazonaws.com",)
    everyone = parse_policy(
        {"Version": "2012-10-17", "Statement": [{**statement, "Principal": {"AWS": "*"}}]}
    ).statements[0]
    assert everyone.principals is not None and everyone.principals.everyone


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        {"Version": "2012-10-17"},
        {"Version": "2020-01-01", "Statement": []},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Permit", "Action": "a:b"}]},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]},
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "a:b", "NotAction": "c:d"}],
        },
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}],
        },
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "a:b", "Actions": "x"}],
        },
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "a:b", "Principal": "me"}],
        },
    ],
)
def test_malformed_documents_are_refused(document: Any) -> None:
    with pytest.raises(PolicyError):
        parse_policy(document)


@pytest.mark.parametrize(
    ("arn", "kind", "account", "principal_arn"),
    [
        ("arn:aws:iam::123456789012:user/path/alice", Kind.USER, "123456789012", None),
        (
            "arn:aws:sts::123456789012:assumed-role/R/S",
            Kind.ASSUMED_ROLE,
            "123456789012",
            "arn:aws:iam::123456789012:role/R",
        ),
        ("arn:aws:iam::123456789012:root", Kind.ROOT, "123456789012", None),
        ("codebuild.amazonaws.com", Kind.SERVICE, None, None),
    ],
)
def test_identity_kinds(
    arn: str, kind: Kind, account: str | None, principal_arn: str | None
) -> None:
    identity = Identity(arn)
    assert identity.kind is kind and identity.account == account
    if principal_arn:
        assert identity.context()["aws:PrincipalArn"] == (principal_arn,)


def test_identity_refuses_a_non_principal_arn() -> None:
    with pytest.raises(ValueError):
        Identity("arn:aws:s3:::bucket")


def test_managed_policy_by_name_and_arn() -> None:
    arn = aws_managed_arn("AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy")
    assert (
        arn
        == "arn:aws:iam::aws:policy/AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy"
    )
    by_name = aws_managed_policy("AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy")
    assert aws_managed_policy(arn) is by_name and by_name.name == arn
    assert aws_managed_document("AdministratorAccess")["Statement"][0]["Action"] == "*"


def test_managed_policy_path_is_part_of_the_arn() -> None:
    with pytest.raises(UnknownManagedPolicy):
        aws_managed_policy("arn:aws:iam::aws:policy/service-role/AdministratorAccess")
    with pytest.raises(UnknownManagedPolicy):
        aws_managed_policy("NoSuchPolicy")


def test_launch_role_policy_cannot_create_roles() -> None:
    """NOTES.md: the SageMaker launch role's AWS-managed policy has no iam:CreateRole."""
    launch = Identity(
        "arn:aws:sts::123456789012:assumed-role/AmazonSageMakerServiceCatalogProductsLaunchRole/sc",
        (aws_managed_policy("AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy"),),
    )
    decision = evaluate(
        Request("iam:CreateRole", (Resource("arn:aws:iam::123456789012:role/new"),)), launch
    )
    assert decision.implicit
    assert decision.message().endswith(
        "because no identity-based policy allows the iam:CreateRole action"
    )
