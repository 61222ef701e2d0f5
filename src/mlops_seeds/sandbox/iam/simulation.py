"""IAM SimulatePrincipalPolicy, which moto lacks, answered by the sandbox's evaluator (the
one that decides every request): the SageMaker SDK asks it before using a role.

Following the IAM API reference: PolicySourceArn is a user or a role (a group is answered
InvalidInput here); PolicyInputList and PermissionsBoundaryPolicyInputList add policies;
ResourceArns (default `*`), ResourcePolicy and ContextEntries shape each request; one
EvaluationResult per action and resource, EvalDecision `allowed`, `explicitDeny` or
`implicitDeny`, paginated by MaxItems and Marker. NoSuchEntity for a principal that does
not exist.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from moto.core.responses import ActionResult
from moto.iam.exceptions import InvalidInput, NoSuchEntity
from moto.iam.responses import IamResponse

from mlops_seeds.sandbox.iam import callers
from mlops_seeds.sandbox.iam.documents import parse_policy
from mlops_seeds.sandbox.iam.errors import PolicyError
from mlops_seeds.sandbox.iam.evaluation import PolicyType, Request, Resource, evaluate

_MARK = "_mlops_seeds_simulation"
DEFAULT_MAX_ITEMS = 100
POLICY_TYPES = {
    PolicyType.IDENTITY: "IAM Policy",
    PolicyType.RESOURCE: "resource",
    PolicyType.BOUNDARY: "permissions boundary policy",
    PolicyType.SESSION: "IAM Policy",
}


def _context(entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    """ContextEntries as the evaluator's context (every value a string, as IAM compares)."""
    return {
        str(e["ContextKeyName"]): [str(v) for v in e.get("ContextKeyValues") or []]
        for e in entries
        if e.get("ContextKeyName")
    }


def _policies(documents: list[str], member: str) -> tuple[Any, ...]:
    parsed = []
    for number, document in enumerate(documents, 1):
        try:
            parsed.append(parse_policy(document, name=f"{member}.member.{number}"))
        except PolicyError as err:
            raise InvalidInput(f"{member} member {number}: {err}") from None
    return tuple(parsed)


def simulate(params: dict[str, Any]) -> dict[str, Any]:
    """The SimulatePrincipalPolicy response for the request's parameters."""
    source = str(params.get("PolicySourceArn") or "")
    actions = [str(a) for a in params.get("ActionNames") or []]
    if not actions:
        raise InvalidInput("ActionNames must contain at least one action")
    if ":group/" in source:
        raise InvalidInput("The sandbox simulates users and roles, not groups")
    identity = callers.principal_identity(source)
    if identity is None:
        raise NoSuchEntity(f"The principal {source} cannot be found.")
    extra = _policies(list(params.get("PolicyInputList") or []), "PolicyInputList")
    boundaries = _policies(
        list(params.get("PermissionsBoundaryPolicyInputList") or []),
        "PermissionsBoundaryPolicyInputList",
    )
    identity = dataclasses.replace(
        identity,
        policies=identity.policies + extra,
        boundary=boundaries[0] if boundaries else identity.boundary,
    )
    resource_policy = None
    if params.get("ResourcePolicy"):
        resource_policy = _policies([str(params["ResourcePolicy"])], "ResourcePolicy")[0]
    context = _context(list(params.get("ContextEntries") or []))
    results = []
    for action in actions:
        for resource in [str(r) for r in params.get("ResourceArns") or []] or ["*"]:
            request = Request(
                action, (Resource(resource, policy=resource_policy),), context=context
            )
            decision = evaluate(request, identity)
            verdict = (
                "allowed"
                if decision.allowed
                else "explicitDeny"
                if decision.explicit
                else "implicitDeny"
            )
            result: dict[str, Any] = {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": verdict,
                "MatchedStatements": [],
                "MissingContextValues": [],
            }
            statement = decision.statement
            if statement is not None and decision.policy_type is not None:
                result["MatchedStatements"] = [
                    {
                        "SourcePolicyId": statement.policy or "policy",
                        "SourcePolicyType": POLICY_TYPES[decision.policy_type],
                    }
                ]
            results.append(result)
    return _page(results, params)


def _page(results: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    try:
        start = int(params.get("Marker") or 0)
        size = int(params.get("MaxItems") or DEFAULT_MAX_ITEMS)
    except ValueError:
        raise InvalidInput("Marker and MaxItems must be numbers") from None
    if start < 0 or start > len(results) or not 1 <= size <= 1000:
        raise InvalidInput("Marker or MaxItems is out of range")
    page = results[start : start + size]
    response: dict[str, Any] = {
        "EvaluationResults": page,
        "IsTruncated": start + size < len(results),
    }
    if response["IsTruncated"]:
        response["Marker"] = str(start + size)
    return response


def _simulate_principal_policy(self: IamResponse) -> ActionResult:
    return ActionResult(simulate(self._get_params()))


def install() -> None:
    """Add SimulatePrincipalPolicy to moto's IAM (idempotent)."""
    if not getattr(getattr(IamResponse, "simulate_principal_policy", None), _MARK, False):
        setattr(_simulate_principal_policy, _MARK, True)
        IamResponse.simulate_principal_policy = _simulate_principal_policy  # type: ignore[attr-defined]
