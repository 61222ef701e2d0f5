"""IAM in the gate: after the signature check, the caller's identity, the request's
action, resources and context, and AWS's decision; a denied request is refused with
AWS's AccessDenied message in the request's protocol. On by default; off with
`Sandbox(enforce_iam=False)` or `mlops-seeds sandbox --no-enforce-iam`. The caller's
identity is handed on (iam.acting) to the work done within the request."""

import datetime

from mlops_seeds.sandbox.auth import sigv4
from mlops_seeds.sandbox.auth.keys import Credentials, Roots
from mlops_seeds.sandbox.auth.refusals import Reason, Refusal
from mlops_seeds.sandbox.iam.callers import identity_of
from mlops_seeds.sandbox.iam.evaluation import evaluate
from mlops_seeds.sandbox.iam.operations import operation_of
from mlops_seeds.sandbox.iam.principals import Identity
from mlops_seeds.sandbox.iam.requests import Where, checks


class Authorizer:
    """Decides each signed request when `enabled`; `roots` are the accounts' root keys."""

    def __init__(self, roots: Roots, enabled: bool = False) -> None:
        self.roots = roots
        self.enabled = enabled

    def __call__(
        self, request: sigv4.Request, caller: Credentials, now: datetime.datetime
    ) -> Identity | None:
        """Refusal(ACCESS_DENIED) when IAM denies the request; the caller's Identity when
        it allows it; None when enforcement is off."""
        if not self.enabled:
            return None
        root = self.roots.get(caller.access_key_id)
        identity = identity_of(caller.access_key_id, root[0] if root else None)
        if identity is None:
            raise Refusal(Reason.ACCESS_DENIED, "The security token included is not valid")
        signed = sigv4.parse(request)
        operation = operation_of(
            signed.service,
            request.method,
            request.path,
            request.query,
            request.headers,
            request.body,
        )
        if operation is None:
            return identity  # not a service the table knows: moto answers as it would
        assert identity.account is not None
        where = Where("aws", signed.region, identity.account)
        found = checks(operation, where, now)
        if found.open:
            return identity
        for authorization in found.requests:
            decision = evaluate(authorization, identity)
            if decision.denied:
                raise Refusal(Reason.ACCESS_DENIED, decision.message())
        return identity
