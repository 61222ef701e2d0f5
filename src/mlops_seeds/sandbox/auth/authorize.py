"""IAM in the gate: after the signature check, the caller's identity, the request's
action, resources and context, and AWS's decision; a denied request is refused with
AWS's AccessDenied message in the request's protocol. Off unless switched on
(`Sandbox(enforce_iam=True)`, `mlops-seeds sandbox --enforce-iam`)."""

import datetime

from mlops_seeds.sandbox.auth import sigv4
from mlops_seeds.sandbox.auth.keys import Credentials
from mlops_seeds.sandbox.auth.refusals import Reason, Refusal
from mlops_seeds.sandbox.iam.callers import identity_of
from mlops_seeds.sandbox.iam.evaluation import evaluate
from mlops_seeds.sandbox.iam.operations import operation_of
from mlops_seeds.sandbox.iam.requests import Where, checks


class Authorizer:
    """Decides each signed request when `enabled`; `root_key_id` is the sandbox's root."""

    def __init__(self, root_key_id: str, enabled: bool = False) -> None:
        self.root_key_id = root_key_id
        self.enabled = enabled

    def __call__(self, request: sigv4.Request, caller: Credentials, now: datetime.datetime) -> None:
        """Refusal(ACCESS_DENIED) when IAM denies the request; None when it allows it,
        or enforcement is off."""
        if not self.enabled:
            return
        identity = identity_of(caller.access_key_id, self.root_key_id)
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
            return  # not a service the table knows: moto answers as it would
        assert identity.account is not None
        where = Where("aws", signed.region, identity.account)
        found = checks(operation, where, now)
        if found.open:
            return
        for authorization in found.requests:
            decision = evaluate(authorization, identity)
            if decision.denied:
                raise Refusal(Reason.ACCESS_DENIED, decision.message())
