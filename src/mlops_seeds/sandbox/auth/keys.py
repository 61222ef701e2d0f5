"""The credentials the sandbox issued: its root key pair (made anew at each start) and the
keys moto handed out since (STS AssumeRole session credentials, IAM user access keys)."""

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

ROOT_ACCESS_KEY_ID = "AKIAMLOPSSEEDSSANDBX"  # 20 characters, as AWS's key ids are


@dataclass(frozen=True)
class Credentials:
    """A key pair the sandbox knows; `session_token` is set for temporary credentials, and
    `expires` (UTC, naive as moto keeps it) when they lapse."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expires: datetime.datetime | None = None


def new_root() -> Credentials:
    """The sandbox's root credentials: a fixed key id, a secret nobody can guess."""
    return Credentials(ROOT_ACCESS_KEY_ID, secrets.token_urlsafe(30))


Lookup = Callable[[str], Credentials | None]


def issued_credentials(root: Credentials) -> Lookup:
    """A function finding the credentials of an access key id: `root`, or a key moto issued
    in any account (None when the sandbox never issued it, or it is inactive)."""

    def lookup(access_key_id: str) -> Credentials | None:
        if access_key_id == root.access_key_id:
            return root
        for account_id, account in list(iam_backends.items()):
            for partition, backend in list(account.items()):
                key = backend.access_keys.get(access_key_id)
                if key is None or key.status != "Active":
                    continue
                token, expires = _session_of(account_id, partition, access_key_id)
                return Credentials(access_key_id, key.secret_access_key, token, expires)
        return None

    return lookup


def _session_of(
    account_id: str, partition: str, access_key_id: str
) -> tuple[str | None, datetime.datetime | None]:
    """The session token and expiration of an STS-issued key (None, None for a user's)."""
    account: Any = sts_backends.get(account_id)  # .get: never creates an account
    backend: Any = account.get(partition) if account is not None else None
    if backend is None:
        return None, None
    role = backend.get_assumed_role_from_access_key(access_key_id)
    if role is None:
        return None, None
    return str(role.session_token), role.expiration
