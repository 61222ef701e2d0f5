"""CloudFormation acting as somebody: with IAM enforced, each resource is made or changed
by the API calls its type needs (`calls.yaml`), checked as the stack's principal.

The principal (AWS CloudFormation User Guide, "AWS CloudFormation service role"): the
role given as the stack's RoleARN, which CloudFormation assumes (its trust policy must
allow cloudformation.amazonaws.com), else the credentials of whoever called CreateStack,
UpdateStack or ExecuteChangeSet (Service Catalog calls it as the launch role it assumed).
A denied call fails the resource with AWS's AccessDenied sentence, and the stack rolls back.
"""

import contextvars
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as package_files
from typing import Any

import yaml

from mlops_seeds.sandbox.cloudformation.resource import tags
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.key_lockout import LOCKOUT, locks_out
from mlops_seeds.sandbox.iam.principals import CLOUDFORMATION, Identity

SESSION_NAME = "AWSCloudFormation"

_principal: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "mlops_seeds_stack_principal", default=None
)


@dataclass(frozen=True)
class Call:
    """One API call a resource's handler makes."""

    service: str
    operation: str
    params: dict[str, Any]


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The calls of each resource type (`calls.yaml`)."""
    text = package_files.files(__package__).joinpath("calls.yaml").read_text()
    loaded: dict[str, dict[str, list[dict[str, Any]]]] = yaml.safe_load(text)
    return loaded


def principal_of(role_arn: str | None, region: str) -> Identity | None:
    """Who a stack operation acts as: None when IAM is not enforced; the stack's role
    as CloudFormation assumes it (acting.AccessDenied when it may not); else the caller."""
    caller = acting.caller()
    if caller is None:
        return None
    if role_arn:
        return acting.identity_as_service(CLOUDFORMATION, role_arn, SESSION_NAME, region)
    return caller


@contextmanager
def acting_as(identity: Identity | None) -> Iterator[None]:
    """While a stack's resources are made or changed: its principal (None: unchecked)."""
    token = _principal.set(identity)
    try:
        yield
    finally:
        _principal.reset(token)


def _lookup(properties: Mapping[str, Any], path: str) -> Any:
    value: Any = properties
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _source(source: Any, properties: Mapping[str, Any], name: str, item: Any) -> Any:
    if isinstance(source, list):
        for each in source:
            found = _source(each, properties, name, item)
            if found is not None and found != "":
                return found
        return None
    source = str(source)
    if source.startswith("$split:"):
        _, path, index = source.split(":")
        text = _lookup(properties, path)
        parts = str(text).split("|") if text else []
        return parts[int(index)] if int(index) < len(parts) else None
    if source == "$name":
        return name
    if source == "$tags":
        return tags(dict(properties)) or None
    if source == "$item":
        return item
    if source.startswith("$item."):
        return _lookup(item, source[len("$item.") :]) if isinstance(item, Mapping) else None
    if source.startswith("="):
        return source[1:]
    return _lookup(properties, source)


def _set(params: dict[str, Any], member: str, value: Any) -> None:
    *parents, leaf = member.split(".")
    target = params
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def calls(
    resource_type: str, properties: Mapping[str, Any], name: str, phase: str = "create"
) -> list[Call]:
    """The calls making (`create`), changing (`update`: the create calls unless the type
    lists its own) or deleting (`delete`) a resource named `name`."""
    entry = table().get(resource_type) or {}
    specs = entry.get(phase) or (entry.get("create") if phase == "update" else None) or []
    found: list[Call] = []
    for spec in specs:
        when = spec.get("when")
        if when and not _lookup(properties, str(when)):
            continue
        items: list[Any] = [None]
        if spec.get("each"):
            listed = _lookup(properties, str(spec["each"]))
            items = list(listed) if isinstance(listed, list) else []
        service, operation = str(spec["op"]).split(".", 1)
        for item in items:
            params: dict[str, Any] = {}
            for member, source in (spec.get("params") or {}).items():
                value = _source(source, properties, name, item)
                if value is not None and value != "":
                    _set(params, str(member), value)
            found.append(Call(service, operation, params))
    return found


def check(
    resource_type: str, properties: Mapping[str, Any], name: str, region: str, phase: str
) -> None:
    """acting.AccessDenied, in the words of CloudFormation's resource handlers, when the
    stack's principal may not make one of the resource's calls; nothing when unchecked."""
    identity = _principal.get()
    if identity is None:
        return
    for call in calls(resource_type, properties, name, phase):
        try:
            acting.authorize(identity, call.service, call.operation, call.params, region)
        except acting.AccessDenied as err:
            service = call.service.split("-")[0].capitalize()
            raise acting.AccessDenied(
                f'Resource handler returned message: "{err.message} (Service: {service}, '
                'Status Code: 403)" (HandlerErrorCode: AccessDenied)'
            ) from err
    if resource_type == "AWS::KMS::Key" and phase != "delete":
        _check_key_policy(identity, properties, name, region, phase)


def _check_key_policy(
    identity: Identity, properties: Mapping[str, Any], name: str, region: str, phase: str
) -> None:
    """The key policy lockout safety check of the handler's CreateKey (a key being made,
    with the stack's and the template's tags) or PutKeyPolicy (iam/key_lockout.py)."""
    if str(properties.get("BypassPolicyLockoutSafetyCheck")).lower() == "true":
        return
    policy = properties.get("KeyPolicy")
    text = json.dumps(policy) if isinstance(policy, Mapping) else (str(policy) if policy else None)
    account = str(identity.account)
    creating = phase == "create"
    key_arn = f"arn:aws:kms:{region}:{account}:key/{'*' if creating else name}"
    request_tags = tags(dict(properties)) if creating else None
    if locks_out(identity, text, key_arn, region, request_tags):
        raise acting.AccessDenied(
            f'Resource handler returned message: "{LOCKOUT} (Service: Kms, Status Code: 400)" '
            "(HandlerErrorCode: InvalidRequest)"
        )
