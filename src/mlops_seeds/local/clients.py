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
