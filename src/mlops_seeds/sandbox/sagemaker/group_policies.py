"""Model package group resource policies (moto has none), and reading a group's packages
from another account with them.

- PutModelPackageGroupPolicy / GetModelPackageGroupPolicy / DeleteModelPackageGroupPolicy,
  as the API reference gives them: ModelPackageGroupName of 1-63 characters
  (`[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`), a ResourcePolicy of 1-20480 characters that must be
  a policy document; a group that does not exist is a ValidationException.
- The policy is the resource-based policy of the group and of every model package in it
  (`policy_of`, read by the IAM evaluator): a principal of another account may describe or
  list them only when both its own policies and the group's allow it, as IAM's cross-account
  evaluation requires; without a group policy another account is always denied.
- DescribeModelPackage, DescribeModelPackageGroup and ListModelPackages given an ARN of
  another account's package or group answer from that account (moto looks only in the
  caller's), once IAM has allowed the call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends

from mlops_seeds.sandbox.catalog.context import Caller
from mlops_seeds.sandbox.iam.documents import Policy, parse_policy
from mlops_seeds.sandbox.iam.errors import PolicyError
from mlops_seeds.sandbox.sagemaker.errors import Validation, constraint

NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
POLICY_LIMIT = 20480
_ATTRIBUTE = "mlops_seeds_resource_policy"
_MARK = "_mlops_seeds_group_policies"

Method = Callable[..., Any]


def _group(backend: SageMakerModelBackend, name: str) -> Any:
    group = backend.model_package_groups.get(name)
    if group is None:
        raise Validation(f"Model Package Group {name} does not exist.")
    return group


def _name(request: dict[str, Any]) -> str:
    name = request.get("ModelPackageGroupName")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise constraint(
            name,
            "modelPackageGroupName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
        )
    return name


def _backend(caller: Caller) -> SageMakerModelBackend:
    return sagemaker_backends[caller.account][caller.region]


def put_policy(caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    """PutModelPackageGroupPolicy."""
    name = _name(request)
    document = request.get("ResourcePolicy")
    if not isinstance(document, str) or not 1 <= len(document) <= POLICY_LIMIT:
        raise constraint(
            "...", "resourcePolicy", f"Member must have length between 1 and {POLICY_LIMIT}"
        )
    try:
        parse_policy(document, name=f"resource policy of model package group {name}")
    except PolicyError as err:
        raise Validation(f"The resource policy is not a valid policy document: {err}") from err
    group = _group(_backend(caller), name)
    setattr(group, _ATTRIBUTE, document)
    return {"ModelPackageGroupArn": group.arn}


def get_policy(caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    """GetModelPackageGroupPolicy."""
    name = _name(request)
    document = getattr(_group(_backend(caller), name), _ATTRIBUTE, None)
    if document is None:
        raise Validation(f"Model Package Group {name} has no resource policy.")
    return {"ResourcePolicy": document}


def delete_policy(caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteModelPackageGroupPolicy."""
    name = _name(request)
    group = _group(_backend(caller), name)
    if getattr(group, _ATTRIBUTE, None) is None:
        raise Validation(f"Model Package Group {name} has no resource policy.")
    setattr(group, _ATTRIBUTE, None)
    return {}


OPERATIONS = {
    "PutModelPackageGroupPolicy": put_policy,
    "GetModelPackageGroupPolicy": get_policy,
    "DeleteModelPackageGroupPolicy": delete_policy,
}


def set_policy(backend: SageMakerModelBackend, name: str, document: str | None) -> None:
    """Set (None: remove) a group's policy directly, as CloudFormation's handler does through
    PutModelPackageGroupPolicy / DeleteModelPackageGroupPolicy."""
    setattr(_group(backend, name), _ATTRIBUTE, document)


def _owner(arn: str) -> tuple[SageMakerModelBackend, str] | None:
    """The backend holding an ARN's model package group, and the group's name in it."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "sagemaker":
        return None
    region, account, rest = parts[3], parts[4], parts[5]
    kind, _, path = rest.partition("/")
    if kind not in ("model-package-group", "model-package") or not path:
        return None
    regions = sagemaker_backends.get(account)
    backend = regions.get(region) if regions is not None else None
    if backend is None:
        return None
    wanted = path.split("/", 1)[0].lower()
    for name in list(backend.model_package_groups):
        if name.lower() == wanted:
            return backend, name
    return None


def policy_of(arn: str) -> Policy | None:
    """The resource policy of a model package group or model package ARN (None: none)."""
    found = _owner(arn)
    if found is None:
        return None
    backend, name = found
    document = getattr(backend.model_package_groups[name], _ATTRIBUTE, None)
    if document is None:
        return None
    try:
        return parse_policy(document, name=f"resource policy of model package group {name}")
    except PolicyError:
        return None


def _elsewhere(backend: SageMakerModelBackend, name: str | None) -> SageMakerModelBackend:
    """The backend an ARN of another account or region names (else `backend`)."""
    if not name or not name.startswith("arn:"):
        return backend
    parts = name.split(":", 5)
    if len(parts) != 6 or (parts[4], parts[3]) == (backend.account_id, backend.region_name):
        return backend
    regions = sagemaker_backends.get(parts[4])
    other = regions.get(parts[3]) if regions is not None else None
    return other if other is not None else backend


def _routed(original: Method, member: str, by_name: bool) -> Method:
    """`original` run on the backend an ARN names; `by_name`: given the ARN's last part."""

    def method(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get(member, args[0] if args else None)
        backend = _elsewhere(self, name if isinstance(name, str) else None)
        if by_name and isinstance(name, str) and name.startswith("arn:"):
            if args:
                args = (name.rsplit("/", 1)[-1], *args[1:])
            else:
                kwargs[member] = name.rsplit("/", 1)[-1]
        return original(backend, *args, **kwargs)

    method.__doc__ = original.__doc__
    return method


def install() -> None:
    """Route cross-account reads of packages and groups (once)."""
    if getattr(SageMakerModelBackend, _MARK, False):
        return
    for method, member, by_name in (
        ("describe_model_package", "model_package_name", False),
        ("describe_model_package_group", "model_package_group_name", True),
        ("list_model_packages", "model_package_group_name", False),
    ):
        original = getattr(SageMakerModelBackend, method)
        setattr(SageMakerModelBackend, method, _routed(original, member, by_name))
    setattr(SageMakerModelBackend, _MARK, True)
