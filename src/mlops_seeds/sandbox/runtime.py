"""What code running inside the sandbox needs to know about it: where it listens, its
region, its working directory on disk, and sessions that reach it from within.

Extensions that act on their own (pipeline executions, endpoint model servers, git
repositories) read `current()`; it is set while a sandbox is serving.
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from mlops_seeds import aws
from mlops_seeds.sandbox.auth import Credentials
from mlops_seeds.sandbox.auth.authorize import Authorizer
from mlops_seeds.sandbox.auth.keys import Roots
from mlops_seeds.sandbox.clock import WALL, Clock
from mlops_seeds.sandbox.iam import acting, callers


@dataclass(frozen=True)
class Runtime:
    """A serving sandbox: endpoint, region, the directory holding its on-disk state, and
    its root credentials (made anew at each start: only its own clients can sign), and the
    clock its services keep."""

    endpoint_url: str
    region: str
    workdir: Path
    roots: Roots
    authorizer: Authorizer
    clock: Clock = field(default=WALL)

    @property
    def root(self) -> Credentials:
        """The management account's root key pair (the user's)."""
        return self.roots.of(self.roots.management_account)

    @property
    def enforcing(self) -> bool:
        """Whether IAM is enforced (now: it can be switched on a running sandbox)."""
        return self.authorizer.enabled

    def account_session(self, account: str) -> boto3.Session:
        """A session of `account`'s root: for a service acting on its own data there."""
        return self.session(self.roots.of(account))

    def check(self, session: boto3.Session, service: str, operation: str, params: Any) -> None:
        """acting.AccessDenied unless the holder of `session` may call `service`'s
        `operation` with `params` (the check AWS makes of a call a service receives,
        when the sandbox plays the service's side itself); nothing when IAM is off."""
        if not self.enforcing:
            return
        key = session.get_credentials().access_key
        root = self.roots.get(key)
        identity = callers.identity_of(key, root[0] if root else None)
        if identity is None:
            raise acting.AccessDenied("The security token included in the request is invalid")
        acting.authorize(identity, service, operation, params, self.region)

    def session(self, credentials: Credentials | None = None) -> boto3.Session:
        """A session reaching this sandbox with `credentials` (default: the root's)."""
        signing = credentials or self.root
        return aws.endpoint_session(
            self.endpoint_url,
            signing.access_key_id,
            signing.secret_access_key,
            self.region,
            signing.session_token,
        )

    def session_as(self, service: str, role_arn: str, session_name: str) -> boto3.Session:
        """A session of `role_arn` as service principal `service` holds it (its trust
        policy must allow the service: acting.AccessDenied otherwise). With IAM not
        enforced, the role is assumed from the root without that check."""
        if not self.enforcing:
            return aws.assume_role(self.session(), role_arn, session_name)
        return self.session(acting.assume_as_service(service, role_arn, session_name, self.region))


_lock = threading.Lock()
_current: Runtime | None = None


def current() -> Runtime:
    """The serving sandbox; RuntimeError when none serves in this process."""
    with _lock:
        if _current is None:
            raise RuntimeError("no sandbox is serving in this process")
        return _current


def clock() -> Clock:
    """The serving sandbox's clock; the wall clock when none serves in this process."""
    with _lock:
        return WALL if _current is None else _current.clock


def set_current(runtime: Runtime | None) -> None:
    """Record the serving sandbox (None when the last one stops)."""
    global _current
    with _lock:
        _current = runtime
