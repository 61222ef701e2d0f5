"""Acting as a service role: assumed where the role trusts the caller, else the caller's
own credentials (a service role on AWS trusts only its service)."""

import boto3
import pytest

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError
from mlops_seeds.rehearse import codepipeline, roles
from mlops_seeds.sandbox import Sandbox

ROLE = "arn:aws:iam::222222222222:role/service-role"


def test_the_role_is_assumed_when_it_can_be(sandbox: Sandbox) -> None:
    said: list[str] = []
    session = roles.act_as(aws.make_session(), ROLE, "codebuild", said.append)
    identity = aws.client("sts", session).get_caller_identity()
    assert identity["Arn"].startswith("arn:aws:sts::222222222222:assumed-role/service-role/")
    assert said == []


def test_a_role_that_refuses_leaves_the_callers_session_and_says_so(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(session: boto3.Session, arn: str, name: str = "") -> boto3.Session:
        raise SeedsError(f"cannot assume role {arn}: AccessDenied")

    monkeypatch.setattr(aws, "assume_role", refuse)
    caller = aws.make_session()
    said: list[str] = []
    assert roles.act_as(caller, ROLE, "codepipeline", said.append) is caller
    assert said == [
        f"acting with the caller's credentials: cannot assume role {ROLE}: AccessDenied"
    ]


def test_executions_are_recorded_in_the_service_only_in_the_sandbox(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(aws, "targets_loopback", lambda session=None: False)
    monkeypatch.setattr(aws, "client", lambda *a, **k: calls.append(a[0]))  # must not be called
    execution_id = codepipeline._start(aws.make_session(), "pipeline", {})
    assert len(execution_id) == 36 and calls == []
