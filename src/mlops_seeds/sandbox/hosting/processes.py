"""Model server processes: start one on a free loopback port and wait until it answers
/ping (bounded), call it, stop it. Every live server is tracked so that reset() and the
interpreter's exit stop them all."""

from __future__ import annotations

import atexit
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
MODULE = "mlops_seeds.sandbox.hosting.server"
# CreateEndpoint waits for /ping inside the request: stay under the clients' read timeout
# against the sandbox (aws.LOOPBACK_TIMEOUTS.read).
PING_TIMEOUT_SECONDS = 50.0
PING_INTERVAL_SECONDS = 0.05
STOP_TIMEOUT_SECONDS = 5.0
INVOKE_TIMEOUT_SECONDS = 60.0  # SageMaker's model response timeout
LOG_FILE = "model-server.log"
# The secret a model server demands of every request, so only the sandbox can reach it.
TOKEN_ENV = "MLOPS_SEEDS_MODEL_SERVER_TOKEN"
TOKEN_HEADER = "X-Mlops-Seeds-Token"
# The caller's own AWS setup stays out of the model's environment, as it would in AWS.
DROPPED_ENV_PREFIXES = ("AWS_",)


class StartFailed(Exception):
    """The server did not come up; the message is a FailureReason."""


@dataclass(frozen=True)
class Answer:
    """A model server's answer to POST /invocations."""

    status: int
    body: bytes
    content_type: str
    custom_attributes: str | None


@dataclass
class ModelServer:
    """A running model server: its process, port and directory (model data and log)."""

    framework: str
    port: int
    process: subprocess.Popen[bytes]
    directory: Path
    token: str = field(repr=False, default="")
    started_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        """Where the server listens."""
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        """The server's stdout and stderr."""
        return self.directory / LOG_FILE

    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process.poll() is None

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None, custom: str | None
    ) -> Answer:
        """POST /invocations with the request's headers; OSError when unreachable."""
        headers = {"Content-Length": str(len(body)), TOKEN_HEADER: self.token}
        for name, value in (
            ("Content-Type", content_type),
            ("Accept", accept),
            ("X-Amzn-SageMaker-Custom-Attributes", custom),
        ):
            if value:
                headers[name] = value
        connection = http.client.HTTPConnection(HOST, self.port, timeout=INVOKE_TIMEOUT_SECONDS)
        try:
            connection.request("POST", "/invocations", body=body, headers=headers)
            response = connection.getresponse()
            return Answer(
                response.status,
                response.read(),
                response.getheader("Content-Type") or "",
                response.getheader("X-Amzn-SageMaker-Custom-Attributes"),
            )
        finally:
            connection.close()

    def stop(self, remove: bool = True) -> None:
        """Terminate the process (kill after a grace period); remove its directory."""
        with self._lock:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            _forget(self)
        if remove:
            shutil.rmtree(self.directory, ignore_errors=True)


_live_lock = threading.Lock()
_live: list[ModelServer] = []


def _track(server: ModelServer) -> None:
    with _live_lock:
        _live.append(server)


def _forget(server: ModelServer) -> None:
    with _live_lock:
        if server in _live:
            _live.remove(server)


def live() -> list[ModelServer]:
    """Every server started and not yet stopped."""
    with _live_lock:
        return list(_live)


def stop_all() -> None:
    """Stop every live server (reset and interpreter exit)."""
    for server in live():
        server.stop()


atexit.register(stop_all)


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without AWS settings, plus the container's Environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_ENV_PREFIXES)}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(environment)
    return env


def ping(port: int, token: str) -> bool:
    """Whether GET /ping answers 200."""
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/ping", headers={TOKEN_HEADER: token})
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def last_line(path: Path) -> str:
    """The last non-empty line of a log file ('' when none)."""
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def start(
    framework: str,
    model_dir: Path,
    directory: Path,
    environment: Mapping[str, str],
    timeout: float = PING_TIMEOUT_SECONDS,
) -> ModelServer:
    """Start a server for `model_dir` and wait for its /ping; StartFailed otherwise."""
    began = time.monotonic()
    port = free_port()
    token = secrets.token_urlsafe(24)
    command = [
        sys.executable,
        "-m",
        MODULE,
        "--framework",
        framework,
        "--model-dir",
        str(model_dir),
        "--port",
        str(port),
        "--parent-pid",
        str(os.getpid()),
    ]
    with (directory / LOG_FILE).open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**server_environment(environment), TOKEN_ENV: token},
            cwd=directory,
        )
    server = ModelServer(framework, port, process, directory, token)
    _track(server)
    while not ping(port, token):
        if process.poll() is not None:
            server.stop(remove=False)
            reason = last_line(server.log) or f"exit status {process.returncode}"
            raise StartFailed(f"the model server exited: {reason} (log: {server.log})")
        if time.monotonic() - began > timeout:
            server.stop(remove=False)
            raise StartFailed(f"no answer to /ping within {timeout:g} s (log: {server.log})")
        time.sleep(PING_INTERVAL_SECONDS)
    server.started_seconds = time.monotonic() - began
    return server
