"""What code running inside the sandbox needs to know about it: where it listens, its
region, its working directory on disk, and sessions that reach it from within.

Extensions that act on their own (pipeline executions, endpoint model servers, git
repositories) read `current()`; it is set while a sandbox is serving.
"""

import threading
from dataclasses import dataclass
from pathlib import Path

import boto3

from mlops_seeds import aws
from mlops_seeds.sandbox.auth import Credentials


@dataclass(frozen=True)
class Runtime:
    """A serving sandbox: endpoint, region, the directory holding its on-disk state, and
    its root credentials (made anew at each start: only its own clients can sign)."""

    endpoint_url: str
    region: str
    workdir: Path
    root: Credentials

    def session(self, role_arn: str | None = None) -> boto3.Session:
        """A session reaching this sandbox: the default account, or `role_arn`'s account
        (as the service would assume a role it was given)."""
        session = aws.endpoint_session(
            self.endpoint_url,
            self.root.access_key_id,
            self.root.secret_access_key,
            self.region,
        )
        return aws.assume_role(session, role_arn) if role_arn else session


_lock = threading.Lock()
_current: Runtime | None = None


def current() -> Runtime:
    """The serving sandbox; RuntimeError when none serves in this process."""
    with _lock:
        if _current is None:
            raise RuntimeError("no sandbox is serving in this process")
        return _current


def set_current(runtime: Runtime | None) -> None:
    """Record the serving sandbox (None when the last one stops)."""
    global _current
    with _lock:
        _current = runtime
