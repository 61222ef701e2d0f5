"""Who acts inside the sandbox while IAM is enforced, and the checks made of it.

- The caller of the request being served: the gate sets it (`serving`) while IAM is
  enforced, so work done within the request (CloudFormation creating a stack's resources,
  Service Catalog provisioning) is checked as somebody.
- Service principals acting as the roles they are given (`assume_as_service`): CodeBuild
  as a project's service role, CodePipeline as a pipeline's role, SageMaker as a
  pipeline's execution role, CloudFormation as a stack's role. As in AWS, the role's trust
  policy must allow the service (`sts:AssumeRole` with `Principal: {Service: ...}`); the
  service then holds the role's temporary credentials, which the gate checks like any.
- `authorize`: an API call made in-process (the calls CloudFormation makes for a
  resource) decided as the gate decides a signed request; AccessDenied with AWS's message.
- `authorize_service`: a call a service principal makes as itself (EventBridge publishing
  to a rule's topic): only resource-based policies (the topic's, the key's) can allow it.
"""

import contextvars
import dataclasses
import datetime
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from moto.sts.models import sts_backends

from mlops_seeds.sandbox.auth.keys import Credentials
from mlops_seeds.sandbox.iam.callers import identity_of
from mlops_seeds.sandbox.iam.evaluation import Request, Resource, evaluate
from mlops_seeds.sandbox.iam.operations import Operation
from mlops_seeds.sandbox.iam.principals import Identity
from mlops_seeds.sandbox.iam.requests import Where, checks, role_of, trust_policy

SESSION_SECONDS = 3600

_serving: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "mlops_seeds_caller", default=None
)


class AccessDenied(Exception):
    """IAM denies a call made on someone's behalf; `message` is AWS's sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@contextmanager
def serving(identity: Identity | None) -> Iterator[None]:
    """While a request is served: `identity` is its caller (None: IAM not enforced)."""
    token = _serving.set(identity)
    try:
        yield
    finally:
        _serving.reset(token)


def caller() -> Identity | None:
    """The caller of the request being served; None when IAM is not enforced."""
    return _serving.get()


def assume_as_service(
    service: str,
    role_arn: str,
    session_name: str,
    region: str,
    source: Mapping[str, str] | None = None,
) -> Credentials:
    """Temporary credentials of `role_arn` for `service` (e.g. codebuild.amazonaws.com);
    AccessDenied when the role does not exist or its trust policy does not allow the
    service, in the words AWS uses for a service that cannot assume its role. `source`:
    the condition keys the service gives for the resource it acts for (aws:SourceArn,
    aws:SourceAccount), which a trust policy may require."""
    if role_of(role_arn) is None:
        raise AccessDenied(f"{service} cannot assume role {role_arn}: the role does not exist")
    trust = Request(
        "sts:AssumeRole",
        (Resource(role_arn, policy=trust_policy(role_arn)),),
        dict(source or {}),
        resource_policy_required=True,
    )
    decision = evaluate(trust, Identity(service))
    if decision.denied:
        raise AccessDenied(
            f"{service} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn} (its trust policy does not allow {service})"
        )
    account, partition = role_arn.split(":")[4], role_arn.split(":")[1]
    backend = sts_backends[account][partition]
    session = backend.assume_role(
        region_name=region,
        role_session_name=session_name,
        role_arn=role_arn,
        policy="",
        duration=SESSION_SECONDS,
        external_id="",
    )
    return Credentials(
        session.access_key_id,
        session.secret_access_key,
        str(session.session_token),
        session.expiration,
    )


def identity_as_service(
    service: str,
    role_arn: str,
    session_name: str,
    region: str,
    source: Mapping[str, str] | None = None,
) -> Identity:
    """The assumed-role session `service` acts as when it is given `role_arn` (`source`: as
    for assume_as_service)."""
    credentials = assume_as_service(service, role_arn, session_name, region, source)
    identity = identity_of(credentials.access_key_id)
    if identity is None:  # moto lost the session it just made: not expected
        raise AccessDenied(f"{service} cannot act as {role_arn}: no session")
    return identity


def authorize(
    identity: Identity,
    service: str,
    operation: str,
    params: Mapping[str, Any],
    region: str,
    now: datetime.datetime | None = None,
) -> None:
    """AccessDenied (AWS's message) unless `identity` may call `service`'s `operation`
    with `params` in its own account and `region`."""
    assert identity.account is not None
    moment = now or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    where = Where("aws", region, identity.account)
    found = checks(Operation(service, operation, params), where, moment)
    if found.open:
        return
    for request in found.requests:
        decision = evaluate(request, identity)
        if decision.denied:
            raise AccessDenied(decision.message())


def authorize_service(
    service: str,
    api: str,
    operation: str,
    params: Mapping[str, Any],
    where: Where,
    source: Mapping[str, str],
) -> None:
    """AccessDenied (AWS's message) unless service principal `service` (e.g.
    events.amazonaws.com), acting for a resource of `where`'s account with the condition
    keys `source` (aws:SourceArn, aws:SourceAccount), may call `api`'s `operation` with
    `params`. It has no identity-based policies and no account (no kms:CallerAccount)."""
    moment = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    found = checks(Operation(api, operation, params), where, moment)
    if found.open:
        return
    identity = Identity(service)
    for request in found.requests:
        context = {k: v for k, v in dict(request.context).items() if k != "kms:CallerAccount"}
        decision = evaluate(dataclasses.replace(request, context={**context, **source}), identity)
        if decision.denied:
            raise AccessDenied(decision.message())
