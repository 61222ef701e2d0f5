"""SimulatePrincipalPolicy answered by the sandbox's evaluator: decisions per action and
resource, extra policies and boundaries, context, pagination, AWS's errors; and the
SageMaker SDK's role validation, which calls it, accepts a role the sandbox allows."""

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from accounts import service_role
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

ACCOUNT = "123456789012"
BUCKET_ARN = "arn:aws:s3:::data-bucket/*"


@pytest.fixture
def iam(sandbox: Sandbox) -> Any:
    return aws.client("iam", aws.make_session())


@pytest.fixture
def role(sandbox: Sandbox, iam: Any) -> str:
    arn = service_role(aws.make_session(), "Simulated", SAGEMAKER)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "sagemaker:CreateModel",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestTag/team": "ml"}},
            },
        ],
    }
    iam.put_role_policy(RoleName="Simulated", PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def _decisions(response: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"])
        for r in response["EvaluationResults"]
    ]


def test_each_action_and_resource_gets_the_evaluators_decision(iam: Any, role: str) -> None:
    response = iam.simulate_principal_policy(
        PolicySourceArn=role,
        ActionNames=["s3:GetObject", "s3:DeleteObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::data-bucket/x.csv", "arn:aws:s3:::other/x.csv"],
    )
    assert _decisions(response) == [
        ("s3:GetObject", "arn:aws:s3:::data-bucket/x.csv", "allowed"),
        ("s3:GetObject", "arn:aws:s3:::other/x.csv", "implicitDeny"),
        ("s3:DeleteObject", "arn:aws:s3:::data-bucket/x.csv", "explicitDeny"),
        ("s3:DeleteObject", "arn:aws:s3:::other/x.csv", "explicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::data-bucket/x.csv", "implicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::other/x.csv", "implicitDeny"),
    ]
    assert response["IsTruncated"] is False
    allowed = response["EvaluationResults"][0]
    assert allowed["MatchedStatements"][0]["SourcePolicyType"] == "IAM Policy"


def test_context_entries_reach_the_conditions(iam: Any, role: str) -> None:
    def decide(team: str) -> str:
        response = iam.simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=["sagemaker:CreateModel"],
            ContextEntries=[
                {
                    "ContextKeyName": "aws:RequestTag/team",
                    "ContextKeyValues": [team],
                    "ContextKeyType": "string",
                }
            ],
        )
        return str(response["EvaluationResults"][0]["EvalDecision"])

    assert (decide("ml"), decide("web")) == ("allowed", "implicitDeny")


def test_extra_policies_and_a_boundary_are_evaluated_with_the_roles(iam: Any, role: str) -> None:
    extra = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
        }
    )
    boundary = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:Put*", "Resource": "*"}],
        }
    )
    response = iam.simulate_principal_policy(
        PolicySourceArn=role,
        ActionNames=["s3:PutObject", "s3:GetObject"],
        ResourceArns=["arn:aws:s3:::data-bucket/x"],
        PolicyInputList=[extra],
        PermissionsBoundaryPolicyInputList=[boundary],
    )
    assert [r["EvalDecision"] for r in response["EvaluationResults"]] == [
        "allowed",
        "implicitDeny",  # allowed by the role, outside the boundary
    ]


def test_results_page_by_max_items_and_marker(iam: Any, role: str) -> None:
    actions = [f"s3:Get{n}" for n in ("Object", "ObjectAcl", "ObjectTagging")]
    first = iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=actions, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 2
    rest = iam.simulate_principal_policy(
        PolicySourceArn=role, ActionNames=actions, MaxItems=2, Marker=first["Marker"]
    )
    assert [r["EvalActionName"] for r in rest["EvaluationResults"]] == ["s3:GetObjectTagging"]
    assert rest["IsTruncated"] is False


def test_a_missing_principal_is_no_such_entity(iam: Any, sandbox: Sandbox) -> None:
    with pytest.raises(ClientError) as missing:
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/Nobody", ActionNames=["s3:GetObject"]
        )
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"


def test_a_malformed_extra_policy_is_invalid_input(iam: Any, role: str) -> None:
    with pytest.raises(ClientError) as bad:
        iam.simulate_principal_policy(
            PolicySourceArn=role, ActionNames=["s3:GetObject"], PolicyInputList=["{not json"]
        )
    assert bad.value.response["Error"]["Code"] == "InvalidInput"


def test_the_caller_needs_iam_simulate_principal_policy(iam: Any, role: str) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    reader = iam.create_role(RoleName="Reader", AssumeRolePolicyDocument=json.dumps(trust))
    only_reads = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="Reader", PolicyName="r", PolicyDocument=json.dumps(only_reads))
    session = aws.assume_role(aws.make_session(), reader["Role"]["Arn"], "reader")
    with pytest.raises(ClientError) as refused:
        aws.client("iam", session).simulate_principal_policy(
            PolicySourceArn=role, ActionNames=["s3:GetObject"]
        )
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "iam:SimulatePrincipalPolicy on resource: " + role in str(refused.value)


SDK_VALIDATES = """
import sys
from sagemaker.core.helper.iam_role_resolver import RoleValidationError, resolve_and_validate_role
try:
    resolve_and_validate_role(sys.argv[1], role_type="training")
except RoleValidationError as err:
    print(str(err).splitlines()[0])
    sys.exit(3)
print("valid")
"""


@pytest.mark.parametrize(("actions", "verdict"), [(("s3:*",), 3), (("*",), 0)])
def test_the_sagemaker_sdks_role_validation_asks_the_sandbox(
    sandbox: Sandbox, actions: tuple[str, ...], verdict: int
) -> None:
    arn = service_role(aws.make_session(), "TrainingRole", SAGEMAKER, *actions)
    done = subprocess.run(
        [sys.executable, "-c", SDK_VALIDATES, arn],
        env={**os.environ, "SAGEMAKER_VALIDATE_ROLE": "true"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == verdict, done.stderr[-2000:]
    if verdict:
        assert f"IAM role '{arn}' cannot be used for 'training' workloads" in done.stdout
    assert "simulate_principal_policy action has not been implemented" not in done.stderr
