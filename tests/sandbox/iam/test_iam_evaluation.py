"""The decision logic and AWS's messages, from the IAM User Guide's "Policy evaluation
logic" pages (single account, cross-account, boundaries, session policies) and
"Troubleshoot access denied error messages"."""

from typing import Any

from mlops_seeds.sandbox.iam import (
    Identity,
    PolicyType,
    Request,
    Resource,
    evaluate,
    parse_policy,
)
from mlops_seeds.sandbox.iam.documents import Policy

ACCOUNT = "123456789012"
OTHER = "444455556666"
USER = f"arn:aws:iam::{ACCOUNT}:user/carlossalazar"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/R"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/R/S"
OTHER_SESSION = f"arn:aws:sts::{OTHER}:assumed-role/Deployer/build"
ENDPOINT = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/x"


def policy(*statements: dict[str, Any], version: str = "2012-10-17", name: str = "p") -> Policy:
    return parse_policy({"Version": version, "Statement": list(statements)}, name=name)


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def request(action: str, arn: str = "*", **resource: Any) -> Request:
    context = resource.pop("context", {})
    return Request(action, (Resource(arn, **resource),), context=context)


# The guide's Carlos example ("Example identity-based and resource-based policy evaluation").
CARLOS = policy(
    {
        "Sid": "AllowS3ListRead",
        "Effect": "Allow",
        "Action": ["s3:GetBucketLocation", "s3:ListAllMyBuckets"],
        "Resource": "arn:aws:s3:::*",
    },
    allow(
        "s3:*", ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"], Sid="AllowS3Self"
    ),
    deny("s3:*", "arn:aws:s3:::*log*", Sid="DenyS3Logs"),
    name="carlos-policy",
)


def test_explicit_deny_overrides_allow() -> None:
    decision = evaluate(
        request("s3:PutObject", "arn:aws:s3:::carlossalazar-logs/a.txt"), Identity(USER, (CARLOS,))
    )
    assert decision.denied and decision.explicit
    assert decision.statement is not None and decision.statement.sid == "DenyS3Logs"
    assert decision.policy_type is PolicyType.IDENTITY


def test_allow_in_identity_policy() -> None:
    decision = evaluate(
        request("s3:PutObject", "arn:aws:s3:::carlossalazar/a.txt"), Identity(USER, (CARLOS,))
    )
    assert decision.allowed
    assert decision.statement is not None and decision.statement.sid == "AllowS3Self"


def test_no_policy_is_an_implicit_deny() -> None:
    decision = evaluate(request("s3:GetObject", "arn:aws:s3:::other/a"), Identity(USER, (CARLOS,)))
    assert decision.denied and decision.implicit and decision.statement is None


def test_deny_in_resource_policy_overrides_identity_allow() -> None:
    bucket = policy(deny("s3:DeleteObject", "arn:aws:s3:::carlossalazar/*", Principal="*"))
    decision = evaluate(
        request("s3:DeleteObject", "arn:aws:s3:::carlossalazar/a", policy=bucket),
        Identity(USER, (CARLOS,)),
    )
    assert decision.explicit and decision.policy_type is PolicyType.RESOURCE


def test_not_action_with_allow_grants_everything_else() -> None:
    everything_but_iam = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    identity = Identity(SESSION, (everything_but_iam,))
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::b/k"), identity).allowed
    assert evaluate(request("iam:CreateRole", ROLE), identity).denied


def test_not_action_with_deny() -> None:
    """Deny everything except listed actions (the guide's MFA-style pattern)."""
    identity = Identity(
        SESSION,
        (policy(allow("*"), {"Effect": "Deny", "NotAction": ["iam:Get*"], "Resource": "*"}),),
    )
    assert evaluate(request("iam:GetRole", ROLE), identity).allowed
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::b/k"), identity).explicit


def test_not_resource() -> None:
    identity = Identity(
        SESSION,
        (policy({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}),),
    )
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::public/k"), identity).allowed
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::secret/k"), identity).denied


def test_wildcard_action_and_resource() -> None:
    identity = Identity(SESSION, (policy(allow("s3:Get*", "arn:aws:s3:::bucket/*")),))
    assert evaluate(request("s3:GetObjectTagging", "arn:aws:s3:::bucket/a/b"), identity).allowed
    assert evaluate(request("s3:PutObject", "arn:aws:s3:::bucket/a/b"), identity).denied
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::bucket2/a"), identity).denied


def test_every_resource_of_a_request_must_be_allowed() -> None:
    identity = Identity(SESSION, (policy(allow("s3:GetObject", "arn:aws:s3:::a/*")),))
    both = Request("s3:GetObject", (Resource("arn:aws:s3:::a/1"), Resource("arn:aws:s3:::b/1")))
    decision = evaluate(both, identity)
    assert decision.denied and decision.resource == "arn:aws:s3:::b/1"


def test_condition_on_resource_tag() -> None:
    identity = Identity(
        SESSION,
        (
            policy(
                allow(
                    "sagemaker:InvokeEndpoint",
                    Condition={"StringEquals": {"aws:ResourceTag/project": "p1"}},
                )
            ),
        ),
    )
    tagged = request(
        "sagemaker:InvokeEndpoint", ENDPOINT, context={"aws:ResourceTag/project": "p1"}
    )
    other = request("sagemaker:InvokeEndpoint", ENDPOINT, context={"aws:ResourceTag/project": "p2"})
    untagged = request("sagemaker:InvokeEndpoint", ENDPOINT)
    assert evaluate(tagged, identity).allowed
    assert evaluate(other, identity).denied
    assert evaluate(untagged, identity).denied


def test_deny_unless_secure_transport() -> None:
    identity = Identity(
        SESSION,
        (
            policy(
                allow("s3:*"),
                deny("s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
            ),
        ),
    )
    secure = Request("s3:GetObject", (Resource("arn:aws:s3:::b/k"),), {"aws:SecureTransport": True})
    plain = Request("s3:GetObject", (Resource("arn:aws:s3:::b/k"),), {"aws:SecureTransport": False})
    assert evaluate(secure, identity).allowed
    assert evaluate(plain, identity).explicit


def test_pass_role_condition_on_passed_to_service() -> None:
    identity = Identity(
        SESSION,
        (
            policy(
                allow(
                    "iam:PassRole",
                    f"arn:aws:iam::{ACCOUNT}:role/pipeline-*",
                    Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                )
            ),
        ),
    )
    role = f"arn:aws:iam::{ACCOUNT}:role/pipeline-exec"
    to_sagemaker = Request(
        "iam:PassRole", (Resource(role),), {"iam:PassedToService": "sagemaker.amazonaws.com"}
    )
    to_lambda = Request(
        "iam:PassRole", (Resource(role),), {"iam:PassedToService": "lambda.amazonaws.com"}
    )
    assert evaluate(to_sagemaker, identity).allowed
    assert evaluate(to_lambda, identity).denied


def test_username_variable_resolves_for_users_only() -> None:
    home = policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))
    assert evaluate(
        request("s3:GetObject", "arn:aws:s3:::home/carlossalazar/a"), Identity(USER, (home,))
    ).allowed
    assert evaluate(
        request("s3:GetObject", "arn:aws:s3:::home/maria/a"), Identity(USER, (home,))
    ).denied
    # A role session has no aws:username: the statement is invalid, not a wildcard.
    assert evaluate(
        request("s3:GetObject", "arn:aws:s3:::home/S/a"), Identity(SESSION, (home,))
    ).denied


def test_username_variable_is_literal_in_2008_policies() -> None:
    home = policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"), version="2008-10-17")
    identity = Identity(USER, (home,))
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::home/carlossalazar/a"), identity).denied
    assert evaluate(
        request("s3:GetObject", "arn:aws:s3:::home/${aws:username}/a"), identity
    ).allowed


def test_principal_tag_and_userid_variables() -> None:
    team = policy(
        allow("s3:*", "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"),
        allow("s3:*", "arn:aws:s3:::ids/${aws:userid}/*"),
    )
    identity = Identity(SESSION, (team,), tags={"team": "blue"}, user_id="AROAEXAMPLE:S")
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::teams/blue/k"), identity).allowed
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::teams/red/k"), identity).denied
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::ids/AROAEXAMPLE:S/k"), identity).allowed


# Permissions boundaries ("Permissions boundaries for IAM entities", "Policy evaluation logic").
ADMIN = policy(allow("*"), name="admin")
S3_ONLY = policy(allow("s3:*"), name="boundary")


def test_boundary_intersects_identity_policies() -> None:
    identity = Identity(SESSION, (ADMIN,), boundary=S3_ONLY)
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::b/k"), identity).allowed
    decision = evaluate(request("iam:CreateRole", ROLE), identity)
    assert decision.implicit and decision.policy_type is PolicyType.BOUNDARY


def test_boundary_alone_grants_nothing() -> None:
    decision = evaluate(
        request("s3:GetObject", "arn:aws:s3:::b/k"), Identity(SESSION, boundary=S3_ONLY)
    )
    assert decision.implicit and decision.policy_type is PolicyType.IDENTITY


def test_deny_in_boundary_is_explicit() -> None:
    boundary = policy(allow("*"), deny("iam:*"))
    decision = evaluate(
        request("iam:CreateRole", ROLE), Identity(SESSION, (ADMIN,), boundary=boundary)
    )
    assert decision.explicit and decision.policy_type is PolicyType.BOUNDARY


BUCKET = "arn:aws:s3:::data/k"


def bucket_policy(principal: str) -> Policy:
    return policy(allow("s3:GetObject", "arn:aws:s3:::data/*", Principal={"AWS": principal}))


def test_same_account_resource_policy_alone_allows_a_user() -> None:
    decision = evaluate(request("s3:GetObject", BUCKET, policy=bucket_policy(USER)), Identity(USER))
    assert decision.allowed and decision.policy_type is PolicyType.RESOURCE


def test_same_account_resource_policy_naming_the_session_ignores_the_boundary() -> None:
    """A grant to the role session ARN is "not limited by an implicit deny in an
    identity-based policy, a permissions boundary, or session policy"."""
    boundary = policy(allow("sagemaker:*"))
    identity = Identity(SESSION, boundary=boundary)
    assert evaluate(
        request("s3:GetObject", BUCKET, policy=bucket_policy(SESSION)), identity
    ).allowed


def test_same_account_resource_policy_naming_the_user_ignores_the_boundary() -> None:
    identity = Identity(USER, boundary=policy(allow("sagemaker:*")))
    assert evaluate(request("s3:GetObject", BUCKET, policy=bucket_policy(USER)), identity).allowed


def test_same_account_resource_policy_naming_the_role_is_limited_by_the_boundary() -> None:
    """A grant to the role ARN "is limited by an implicit deny in a permissions boundary or
    session policy", though it stands in for the identity-based Allow."""
    assert evaluate(
        request("s3:GetObject", BUCKET, policy=bucket_policy(ROLE)), Identity(SESSION)
    ).allowed
    identity = Identity(SESSION, boundary=policy(allow("sagemaker:*")))
    decision = evaluate(request("s3:GetObject", BUCKET, policy=bucket_policy(ROLE)), identity)
    assert decision.implicit and decision.policy_type is PolicyType.BOUNDARY


def test_same_account_resource_policy_naming_the_account_needs_an_identity_allow() -> None:
    account_wide = bucket_policy(f"arn:aws:iam::{ACCOUNT}:root")
    assert evaluate(request("s3:GetObject", BUCKET, policy=account_wide), Identity(SESSION)).denied
    identity = Identity(SESSION, (policy(allow("s3:GetObject")),))
    assert evaluate(request("s3:GetObject", BUCKET, policy=account_wide), identity).allowed


def test_resource_policy_allow_without_principal_grants_nobody() -> None:
    nameless = policy(allow("s3:GetObject", "arn:aws:s3:::data/*"))
    assert evaluate(request("s3:GetObject", BUCKET, policy=nameless), Identity(USER)).denied


def test_resource_policy_for_another_principal_does_not_apply() -> None:
    other_user = f"arn:aws:iam::{ACCOUNT}:user/maria"
    decision = evaluate(
        request("s3:GetObject", BUCKET, policy=bucket_policy(other_user)), Identity(USER)
    )
    assert decision.implicit and decision.policy_type is PolicyType.IDENTITY


# Session policies ("Session policies" in "Policies and permissions in IAM").


def test_session_policy_intersects_identity_policies() -> None:
    identity = Identity(SESSION, (ADMIN,), session_policies=(policy(allow("s3:GetObject")),))
    assert evaluate(request("s3:GetObject", BUCKET), identity).allowed
    decision = evaluate(request("s3:PutObject", BUCKET), identity)
    assert decision.implicit and decision.policy_type is PolicyType.SESSION


def test_session_policy_limits_a_grant_to_the_role() -> None:
    identity = Identity(SESSION, session_policies=(policy(allow("sagemaker:*")),))
    decision = evaluate(request("s3:GetObject", BUCKET, policy=bucket_policy(ROLE)), identity)
    assert decision.policy_type is PolicyType.SESSION and decision.denied


def test_federated_user_needs_a_session_policy() -> None:
    federated = f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
    decision = evaluate(request("s3:GetObject", BUCKET), Identity(federated, (ADMIN,)))
    assert decision.policy_type is PolicyType.SESSION and decision.denied


# Cross-account ("Cross-account policy evaluation logic").
SHARED = "arn:aws:s3:::shared/k"


def shared_policy(principal: str) -> Policy:
    return policy(allow("s3:GetObject", "arn:aws:s3:::shared/*", Principal={"AWS": principal}))


def test_cross_account_needs_both_sides() -> None:
    reader = Identity(OTHER_SESSION, (policy(allow("s3:GetObject")),))
    both = request("s3:GetObject", SHARED, account=ACCOUNT, policy=shared_policy(OTHER))
    assert evaluate(both, reader).allowed

    no_resource_policy = evaluate(request("s3:GetObject", SHARED, account=ACCOUNT), reader)
    assert no_resource_policy.implicit and no_resource_policy.policy_type is PolicyType.RESOURCE

    no_identity = evaluate(both, Identity(OTHER_SESSION))
    assert no_identity.implicit and no_identity.policy_type is PolicyType.IDENTITY


def test_cross_account_grant_to_the_session_still_needs_the_identity_side() -> None:
    boundary = policy(allow("sagemaker:*"))
    reader = Identity(OTHER_SESSION, (policy(allow("s3:GetObject")),), boundary=boundary)
    decision = evaluate(
        request("s3:GetObject", SHARED, account=ACCOUNT, policy=shared_policy(OTHER_SESSION)),
        reader,
    )
    assert decision.policy_type is PolicyType.BOUNDARY and decision.denied


def test_cross_account_role_arn_names_its_sessions() -> None:
    reader = Identity(OTHER_SESSION, (policy(allow("s3:*")),))
    by_role = shared_policy(f"arn:aws:iam::{OTHER}:role/Deployer")
    assert evaluate(
        request("s3:GetObject", SHARED, account=ACCOUNT, policy=by_role), reader
    ).allowed


def test_cross_account_resource_account_from_the_arn() -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1"
    reader = Identity(OTHER_SESSION, (policy(allow("kms:Decrypt")),))
    assert evaluate(request("kms:Decrypt", key), reader).denied
    key_policy = policy(allow("kms:Decrypt", Principal={"AWS": f"arn:aws:iam::{OTHER}:root"}))
    assert evaluate(request("kms:Decrypt", key, policy=key_policy), reader).allowed


def test_aws_managed_policies_are_in_every_account() -> None:
    managed = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    reader = Identity(OTHER_SESSION, (policy(allow("iam:GetPolicy")),))
    assert evaluate(request("iam:GetPolicy", managed), reader).allowed
    assert evaluate(request("iam:GetPolicy", managed), Identity(OTHER_SESSION)).denied


def test_role_trust_policy_must_allow_even_in_the_same_account() -> None:
    trust = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            },
        }
    )
    admin = Identity(USER, (ADMIN,))
    assume = Request(
        "sts:AssumeRole", (Resource(ROLE, policy=trust),), resource_policy_required=True
    )
    decision = evaluate(assume, admin)
    assert decision.implicit and decision.policy_type is PolicyType.RESOURCE
    assert evaluate(assume, Identity("lambda.amazonaws.com")).allowed


def test_not_principal_deny_spares_only_a_fully_listed_session() -> None:
    listed = [OTHER_SESSION, f"arn:aws:iam::{OTHER}:role/Deployer", f"arn:aws:iam::{OTHER}:root"]
    guard = policy(
        allow("s3:*", "arn:aws:s3:::shared/*", Principal={"AWS": OTHER}),
        {"Effect": "Deny", "NotPrincipal": {"AWS": listed}, "Action": "s3:*", "Resource": "*"},
    )
    reader = Identity(OTHER_SESSION, (policy(allow("s3:*")),))
    assert evaluate(request("s3:GetObject", SHARED, account=ACCOUNT, policy=guard), reader).allowed
    partly = policy(
        allow("s3:*", "arn:aws:s3:::shared/*", Principal={"AWS": OTHER}),
        {"Effect": "Deny", "NotPrincipal": {"AWS": listed[:1]}, "Action": "s3:*", "Resource": "*"},
    )
    assert evaluate(
        request("s3:GetObject", SHARED, account=ACCOUNT, policy=partly), reader
    ).explicit


def test_root_user_is_allowed_unless_denied() -> None:
    root = Identity(f"arn:aws:iam::{ACCOUNT}:root")
    assert evaluate(request("iam:CreateRole", ROLE), root).allowed
    denying = policy(deny("s3:*", Principal="*"))
    assert evaluate(request("s3:GetObject", BUCKET, policy=denying), root).explicit


# Messages ("Troubleshoot access denied error messages").


def test_message_implicit_identity() -> None:
    decision = evaluate(
        request("sagemaker:InvokeEndpoint", ENDPOINT),
        Identity("arn:aws:sts::111111111111:assumed-role/R/S"),
    )
    assert decision.message() == (
        "User: arn:aws:sts::111111111111:assumed-role/R/S is not authorized to perform: "
        "sagemaker:InvokeEndpoint on resource: arn:aws:sagemaker:us-east-1:123456789012:endpoint/x "
        "because no identity-based policy allows the sagemaker:InvokeEndpoint action"
    )


def test_message_explicit_identity() -> None:
    decision = evaluate(
        request(
            "codedeploy:ListDeployments",
            "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*",
        ),
        Identity("arn:aws:iam::123456789012:user/JohnDoe", (policy(deny("codedeploy:*")),)),
    )
    assert decision.message() == (
        "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: "
        "codedeploy:ListDeployments on resource: "
        "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* "
        "with an explicit deny in an identity-based policy"
    )


def test_message_without_resource_level_permissions() -> None:
    decision = evaluate(
        request("codecommit:ListRepositories"), Identity("arn:aws:iam::123456789012:user/JohnDoe")
    )
    assert decision.message() == (
        "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: "
        "codecommit:ListRepositories because no identity-based policy allows the "
        "codecommit:ListRepositories action"
    )


def test_message_boundary_and_session_and_resource() -> None:
    boundary = evaluate(
        request("iam:CreateRole", ROLE), Identity(SESSION, (ADMIN,), boundary=S3_ONLY)
    )
    assert boundary.message().endswith(
        "because no permissions boundary allows the iam:CreateRole action"
    )
    session = evaluate(
        request("s3:PutObject", BUCKET),
        Identity(SESSION, (ADMIN,), session_policies=(policy(allow("s3:GetObject")),)),
    )
    assert session.message().endswith("because no session policy allows the s3:PutObject action")
    resource = evaluate(
        request("s3:GetObject", SHARED, account=ACCOUNT), Identity(OTHER_SESSION, (ADMIN,))
    )
    assert resource.message().endswith(
        "because no resource-based policy allows the s3:GetObject action"
    )


def test_message_explicit_deny_in_boundary_and_resource_policy() -> None:
    explicit_boundary = evaluate(
        request("iam:CreateRole", ROLE),
        Identity(SESSION, (ADMIN,), boundary=policy(allow("*"), deny("iam:*"))),
    )
    assert explicit_boundary.message().endswith("with an explicit deny in a permissions boundary")
    explicit_resource = evaluate(
        request("s3:GetObject", BUCKET, policy=policy(deny("s3:*", Principal="*"))),
        Identity(SESSION, (ADMIN,)),
    )
    assert explicit_resource.message().endswith("with an explicit deny in a resource-based policy")


def test_allowed_decision_has_no_message() -> None:
    assert evaluate(request("s3:GetObject", BUCKET), Identity(SESSION, (ADMIN,))).message() == ""
