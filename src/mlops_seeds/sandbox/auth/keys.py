"""The credentials the sandbox issued: its root key pair (made anew at each start) and the
keys moto handed out since (STS AssumeRole session credentials, IAM user access keys)."""

import datetime
import secrets
import threading
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


class Roots:
    """The root user's key pair of each account, secrets made anew at each start. The
    management account's (`management`) is the one handed to the user (Sandbox.env());
    the others are made on demand for the sandbox's own services, which act inside an
    account without IAM checks, as AWS's services do on their own data (CodeBuild reading
    the project it runs)."""

    def __init__(self, management_account: str, management: Credentials) -> None:
        self.management_account = management_account
        self._keys = {management.access_key_id: (management_account, management)}
        self._accounts = {management_account: management}
        self._lock = threading.Lock()

    def of(self, account: str) -> Credentials:
        """The root key pair of `account` (made the first time it is asked for)."""
        with self._lock:
            found = self._accounts.get(account)
            if found is None:
                found = Credentials(f"AKIAROOT{account}", secrets.token_urlsafe(30))
                self._accounts[account] = found
                self._keys[found.access_key_id] = (account, found)
            return found

    def get(self, access_key_id: str) -> tuple[str, Credentials] | None:
        """The account and root key pair of `access_key_id` (None: not a root key)."""
        with self._lock:
            return self._keys.get(access_key_id)


Lookup = Callable[[str], Credentials | None]


def issued_credentials(roots: Roots) -> Lookup:
    """A function finding the credentials of an access key id: an account root's, or a key
    moto issued in any account (None when the sandbox never issued it, or it is inactive)."""

    def lookup(access_key_id: str) -> Credentials | None:
        root = roots.get(access_key_id)
        if root is not None:
            return root[1]
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
