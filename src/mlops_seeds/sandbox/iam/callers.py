"""Who signed a request, as IAM sees it: the Identity behind an access key the sandbox
issued, read from moto's IAM and STS state.

- The sandbox's root key pair is the root user of the default account.
- An STS session key (moto's sts backends, as `auth.keys` finds it) is its assumed-role
  session: the role's inline policies, attached managed policies (customer-managed from
  moto's iam backend, AWS-managed via `managed`), its permissions boundary, and the
  session policy passed to AssumeRole.
- An IAM user's access key is the user: inline, attached and group policies, boundary.

Identities are cached per access key and the fingerprint of the policies that make them
(document texts and managed-policy versions), so a policy change is seen at once.
"""

import threading
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from mlops_seeds.sandbox.iam.documents import Policy
from mlops_seeds.sandbox.iam.managed import UnknownManagedPolicy, aws_managed_policy
from mlops_seeds.sandbox.iam.principals import Identity
from mlops_seeds.sandbox.iam.requests import parsed

_cache: dict[str, tuple[tuple[Any, ...], Identity]] = {}
_lock = threading.Lock()


def _managed(backend: Any, arn: str) -> tuple[tuple[str, str], Policy | None]:
    """A managed policy's (arn, version) fingerprint and its parsed default version."""
    if arn.startswith("arn:aws:iam::aws:policy"):
        try:
            return (arn, "aws"), aws_managed_policy(arn)
        except UnknownManagedPolicy:
            return (arn, "unknown"), None
    policy = backend.managed_policies.get(arn)
    if policy is None:
        return (arn, "missing"), None
    version = str(policy.default_version_id)
    for candidate in policy.versions:
        if candidate.version_id == version:
            return (arn, version), parsed(str(candidate.document), arn)
    return (arn, version), None


def _gather(
    backend: Any, holders: list[Any], boundary_arn: str | None, extra: str | None
) -> tuple[tuple[Any, ...], tuple[Policy, ...], Policy | None]:
    """Fingerprint, identity policies and boundary of a role's or a user's holders (the
    principal itself and its groups)."""
    marks: list[Any] = []
    policies: list[Policy] = []
    for holder in holders:
        for name, document in sorted(holder.policies.items()):
            marks.append(("inline", holder.name, name, document))
            policy = parsed(str(document), f"{holder.name}/{name}")
            if policy is not None:
                policies.append(policy)
        for arn in sorted(holder.managed_policies):
            mark, policy = _managed(backend, arn)
            marks.append(mark)
            if policy is not None:
                policies.append(policy)
    boundary = None
    if boundary_arn:
        mark, boundary = _managed(backend, boundary_arn)
        marks.append(("boundary", *mark))
        if boundary is None:  # AWS denies everything when the boundary cannot be read
            boundary = parsed('{"Version": "2012-10-17", "Statement": []}', boundary_arn)
    marks.append(("session", extra))
    return tuple(marks), tuple(policies), boundary


def _tags(role: Any) -> dict[str, str]:
    tags = getattr(role, "tags", None) or []
    if isinstance(tags, dict):
        return {str(k): str(v.get("Value", "")) for k, v in tags.items()}
    return {str(t["Key"]): str(t["Value"]) for t in tags}


def _session_identity(access_key_id: str) -> tuple[tuple[Any, ...], Identity] | None:
    for account_id, account in list(sts_backends.items()):
        for partition, backend in list(account.items()):
            session = backend.get_assumed_role_from_access_key(access_key_id)
            if session is None:
                continue
            iam = iam_backends[session.account_id][partition]
            role = None
            for candidate in list(iam.roles.values()):
                if candidate.arn == session.role_arn or (
                    candidate.name == session.role_arn.rsplit("/", 1)[-1]
                ):
                    role = candidate
                    break
            policy_text = session.policy
            session_policies: tuple[Policy, ...] = ()
            if policy_text:
                session_policy = parsed(str(policy_text), f"session policy of {session.arn}")
                session_policies = (session_policy,) if session_policy else ()
            if role is None:
                marks: tuple[Any, ...] = ("no-role", policy_text)
                return marks, Identity(str(session.arn), session_policies=session_policies)
            marks, policies, boundary = _gather(
                iam, [role], role.permissions_boundary_arn, policy_text
            )
            identity = Identity(
                str(session.arn),
                policies=policies,
                boundary=boundary,
                session_policies=session_policies,
                role_arn=str(role.arn),
                user_id=f"{role.id}:{session.session_name}",
                tags=_tags(role),
            )
            return marks, identity
        del account_id
    return None


def _user_identity(access_key_id: str) -> tuple[tuple[Any, ...], Identity] | None:
    for account in list(iam_backends.values()):
        for backend in list(account.values()):
            key = backend.access_keys.get(access_key_id)
            if key is None or not key.user_name or key.user_name not in backend.users:
                continue
            user = backend.users[key.user_name]
            groups = backend.get_groups_for_user(user.name)
            marks, policies, boundary = _gather(
                backend,
                [user, *groups],
                getattr(user, "permissions_boundary_arn", None),
                None,
            )
            identity = Identity(str(user.arn), policies, boundary, user_id=str(user.id))
            return marks, identity
    return None


def principal_identity(arn: str) -> Identity | None:
    """The Identity an IAM role or user ARN stands for, as a policy simulation sees it: a
    role as a session of it (its policies and boundary), a user with its groups' policies;
    None when there is no such role or user."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        return None
    account, partition, resource = parts[4], parts[1], parts[5]
    backend = iam_backends[account][partition]
    kind, _, rest = resource.partition("/")
    name = rest.rsplit("/", 1)[-1]
    if kind == "role":
        role = next((r for r in list(backend.roles.values()) if r.name == name), None)
        if role is None or role.arn != arn:
            return None
        _, policies, boundary = _gather(backend, [role], role.permissions_boundary_arn, None)
        return Identity(
            f"arn:{partition}:sts::{account}:assumed-role/{role.name}/simulation",
            policies=policies,
            boundary=boundary,
            role_arn=str(role.arn),
            user_id=f"{role.id}:simulation",
            tags=_tags(role),
        )
    if kind == "user":
        user = backend.users.get(name)
        if user is None or user.arn != arn:
            return None
        groups = backend.get_groups_for_user(user.name)
        boundary_arn = getattr(user, "permissions_boundary_arn", None)
        _, policies, boundary = _gather(backend, [user, *groups], boundary_arn, None)
        return Identity(str(user.arn), policies, boundary, user_id=str(user.id))
    return None


def root_identity(account: str = DEFAULT_ACCOUNT_ID) -> Identity:
    """The account root user."""
    return Identity(f"arn:aws:iam::{account}:root", user_id=account)


def identity_of(access_key_id: str, root_account: str | None = None) -> Identity | None:
    """The Identity behind an access key (None: not one the sandbox knows); `root_account`
    when the key is that account's root key."""
    if root_account is not None:
        return root_identity(root_account)
    found = _session_identity(access_key_id) or _user_identity(access_key_id)
    if found is None:
        return None
    marks, identity = found
    with _lock:
        cached = _cache.get(access_key_id)
        if cached is not None and cached[0] == marks:
            return cached[1]
        _cache[access_key_id] = (marks, identity)
    return identity


def forget() -> None:
    """Drop the cache (the sandbox was reset)."""
    with _lock:
        _cache.clear()
