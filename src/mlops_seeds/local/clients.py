"""The AWS clients of one execution, made once through `mlops_seeds.aws` and shared by the
step threads (boto3 sessions are not thread-safe, so clients are made under a lock)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import boto3

from mlops_seeds import aws


class Clients:
    """Lazily made, cached boto3 clients of one session."""

    def __init__(self, session: boto3.Session | None = None) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def session(self) -> boto3.Session:
        """The session (the default one when none was given)."""
        with self._lock:
            if self._session is None:
                self._session = aws.make_session()
            return self._session

    def environment(self) -> dict[str, str | None]:
        """The AWS variables a step's process gets: the session's credentials, region and
        endpoint, as a job gets its role's (None unsets a variable the runner's own
        environment has: a session token, a profile; an endpoint set by the environment
        rather than the session stays as the environment has it)."""
        session = self.session
        credentials = session.get_credentials()
        if credentials is None:  # none found: the steps look for their own, as before
            return {}
        frozen = credentials.get_frozen_credentials()
        region = aws.region_of(session)
        endpoint = aws.endpoint_of(session)  # None: the environment's, which steps inherit
        return {
            "AWS_ACCESS_KEY_ID": frozen.access_key,
            "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
            "AWS_SESSION_TOKEN": frozen.token or None,
            "AWS_SECURITY_TOKEN": None,
            "AWS_PROFILE": None,
            "AWS_DEFAULT_PROFILE": None,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            **({"AWS_ENDPOINT_URL": endpoint} if endpoint else {}),
        }

    def get(self, service: str) -> Any:
        """The client for `service` (boto3 clients are safe to share between threads)."""
        session = self.session
        with self._lock:
            if service not in self._clients:
                self._clients[service] = aws.client(service, session)
            return self._clients[service]

    def warm(self, services: Iterable[str]) -> threading.Thread:
        """Make clients in the background while the first steps run (loading a service
        model takes a few tenths of a second)."""
        wanted = list(services)
        thread = threading.Thread(
            target=lambda: [self.get(s) for s in wanted], name="warm-clients", daemon=True
        )
        thread.start()
        return thread
