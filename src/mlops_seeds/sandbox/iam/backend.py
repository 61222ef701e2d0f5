"""moto's IAM made to keep what AWS keeps (patches installed with the extensions).

- Inline policy documents are JSON text. moto keeps the dict a CloudFormation template
  gave (`AWS::IAM::Role` Policies, `AWS::IAM::Policy`) as is, and GetRolePolicy then
  answers Python's repr of it: neither IAM's evaluator nor a client can read that.
- AWS-managed policies (`arn:aws:iam::aws:policy/...`) exist in every account and can be
  attached by ARN. moto knows them only when it loads all of them into every account at
  start (MOTO_IAM_LOAD_MANAGED_POLICIES); here one is loaded when first attached.
"""

import functools
import json
from collections.abc import Callable
from typing import Any

from moto.iam.models import AWSManagedPolicy, Group, IAMBackend, Role, User

from mlops_seeds.sandbox.iam import simulation
from mlops_seeds.sandbox.iam.managed import UnknownManagedPolicy, aws_managed_entry

_MARK = "_mlops_seeds_iam"


def _load_managed(backend: IAMBackend, arn: str) -> None:
    """Add AWS-managed policy `arn` to `backend` when it is one and not there yet."""
    if not arn.startswith(f"arn:{backend.partition}:iam::aws:policy/"):
        return
    if any(p.arn == arn for p in list(backend.managed_policies.values())):
        return
    try:
        name, entry = aws_managed_entry(arn)
    except UnknownManagedPolicy:
        return  # moto answers NoSuchEntity, as AWS does for a policy that does not exist
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, entry)
    backend.managed_policies[policy.arn] = policy


def _on_demand(attach: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(attach)
    def wrapper(self: IAMBackend, policy_arn: str, *args: Any, **kwargs: Any) -> None:
        _load_managed(self, policy_arn)
        attach(self, policy_arn, *args, **kwargs)

    setattr(wrapper, _MARK, True)
    return wrapper


def _as_json(put_policy: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(put_policy)
    def wrapper(self: Any, policy_name: str, policy_json: Any) -> None:
        if not isinstance(policy_json, str):
            policy_json = json.dumps(policy_json)
        put_policy(self, policy_name, policy_json)

    setattr(wrapper, _MARK, True)
    return wrapper


def install() -> None:
    """Install the patches (idempotent), and SimulatePrincipalPolicy."""
    simulation.install()
    for name in ("attach_role_policy", "attach_user_policy", "attach_group_policy"):
        current = getattr(IAMBackend, name)
        if not getattr(current, _MARK, False):
            setattr(IAMBackend, name, _on_demand(current))
    for holder in (Role, User, Group):
        if not getattr(holder.put_policy, _MARK, False):
            holder.put_policy = _as_json(holder.put_policy)  # type: ignore[method-assign]
