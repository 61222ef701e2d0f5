"""The sandbox: moto's server on 127.0.0.1 in this process, with our extensions installed.

moto keeps its state in module globals, so one sandbox serves at a time in a process; its
state is reset when it stops. Everything reaches it through
`env()` (AWS_ENDPOINT_URL and friends) and the clients of `mlops_seeds.aws`, as it would
reach AWS.
"""

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from mlops_seeds.aws import DEFAULT_REGION
from mlops_seeds.errors import SeedsError
from mlops_seeds.sandbox import extensions, organization, runtime
from mlops_seeds.sandbox.auth import Credentials, Gate, issued_credentials
from mlops_seeds.sandbox.auth.authorize import Authorizer
from mlops_seeds.sandbox.auth.keys import Roots, new_root
from mlops_seeds.sandbox.clock import Clock, ClockError
from mlops_seeds.sandbox.iam import callers

HOST = "127.0.0.1"
# Variables that would take a developer's own AWS setup into the sandbox's place.
UNSET = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)

_active_lock = threading.Lock()
_active: list["Sandbox"] = []


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without the access log line per request."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Log nothing."""


class _Server(ThreadedMotoServer):
    """moto's threaded server, serving a socket bound and listening before the thread starts,
    so a busy port is an error in the caller, not an exit inside the server thread. Every
    request passes the Gate first (Host, Origin, signature)."""

    def __init__(
        self,
        listening: socket.socket,
        log_requests: bool,
        roots: Roots,
        origins: tuple[str, ...],
        authorizer: Authorizer,
    ) -> None:
        host, port = listening.getsockname()[:2]
        super().__init__(ip_address=host, port=port, verbose=False)
        self._listening = listening
        self._handler = MotoRequestHandler if log_requests else _QuietRequestHandler
        self._roots = roots
        self._origins = origins
        self._authorizer = authorizer

    def _root_account(self, access_key_id: str) -> str | None:
        found = self._roots.get(access_key_id)
        return found[0] if found else None

    def _server_entry(self) -> None:
        hosts = [f"{HOST}:{self._port}", f"localhost:{self._port}"]
        app = Gate(
            DomainDispatcherApplication(create_backend_app),
            issued_credentials(self._roots),
            hosts,
            self._origins,
            authorizer=self._authorizer,
            root_account=self._root_account,
        )
        self._server = make_server(
            self._ip_address,
            self._port,
            app,
            True,
            request_handler=self._handler,
            fd=self._listening.fileno(),
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def check_port(port: int) -> None:
    """SeedsError unless `port` can be asked for (0 = a free port)."""
    if not 0 <= port <= 65535:
        raise SeedsError(f"--port {port}: must be between 0 and 65535")


def _listen(port: int) -> socket.socket:
    """A socket listening on HOST:port (0 = a free port), else SeedsError."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # a port left in TIME_WAIT by a sandbox that was killed can be served again at once
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise SeedsError(f"--port {port}: cannot listen on {HOST}:{port}: {err.strerror}") from err
    return sock


def _apply(values: dict[str, str | None]) -> None:
    """Set each variable of os.environ to its value; None unsets it."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


class Sandbox:
    """moto's server with the mlops-seeds extensions, on 127.0.0.1.

    Use as a context manager, or call start() and stop(). `port=0` picks a free port;
    `log_requests` writes one access-log line per request to stderr. `workdir` holds what
    the extensions keep on disk (git repositories, pipeline runs, model servers); without
    it a temporary directory is made at start and removed at stop. Only requests signed
    with credentials the sandbox issued are served (root keys made at each start, see
    env()); `cors_origins` are browser origins given a CORS allowance (none by default).
    `enforce_iam` evaluates IAM for every signed request and for the work the sandbox's
    services do as the roles they are given (on by default; the `enforce_iam` property
    switches it on a running sandbox, from the next request). `time_scale` makes the
    sandbox's clock run that many times faster than the wall clock (clock.py).
    """

    def __init__(
        self,
        port: int = 0,
        region: str = DEFAULT_REGION,
        log_requests: bool = False,
        workdir: Path | None = None,
        cors_origins: tuple[str, ...] = (),
        enforce_iam: bool = True,
        time_scale: float = 1.0,
    ) -> None:
        check_port(port)
        try:
            self._clock = Clock(time_scale)
        except ClockError as err:
            raise SeedsError(str(err)) from None
        self._enforce_iam = enforce_iam
        self._authorizer: Authorizer | None = None
        self._cors_origins = cors_origins
        self._root: Credentials | None = None
        self.region = region
        self._requested_port = port
        self._log_requests = log_requests
        self._workdir = workdir
        self._own_workdir: Path | None = None
        self._server: _Server | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (only while running)."""
        if self._socket is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._socket.getsockname()[1])

    @property
    def endpoint_url(self) -> str:
        """The URL every AWS client is pointed at."""
        return f"http://{HOST}:{self.port}"

    @property
    def workdir(self) -> Path:
        """The directory of the extensions' on-disk state (only while running)."""
        return runtime.current().workdir

    @property
    def enforce_iam(self) -> bool:
        """Whether IAM is evaluated for every signed request."""
        return self._enforce_iam

    @enforce_iam.setter
    def enforce_iam(self, value: bool) -> None:
        self._enforce_iam = value
        if self._authorizer is not None:
            self._authorizer.enabled = value

    @property
    def time_scale(self) -> float:
        """How many times faster than the wall clock the sandbox's clock runs."""
        return self._clock.scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        try:
            self._clock.scale = value
        except ClockError as err:
            raise SeedsError(str(err)) from None

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    def start(self) -> "Sandbox":
        """Install the extensions and serve; SeedsError if the port is busy."""
        with _active_lock:
            if self.running:
                return self
            listening = _listen(self._requested_port)
            if _active:
                listening.close()
                raise SeedsError(
                    f"a sandbox already serves in this process at {_active[0].endpoint_url}"
                )
            extensions.install()
            organization.bootstrap()
            self._socket = listening
            self._root = new_root()
            roots = Roots(organization.MANAGEMENT_ACCOUNT, self._root)
            self._authorizer = Authorizer(roots, self._enforce_iam)
            self._server = _Server(
                self._socket, self._log_requests, roots, self._cors_origins, self._authorizer
            )
            self._server.start()
            workdir = self._workdir
            if workdir is None:
                workdir = self._own_workdir = Path(tempfile.mkdtemp(prefix="mlops-seeds-sandbox-"))
            workdir.mkdir(parents=True, exist_ok=True)
            runtime.set_current(
                runtime.Runtime(
                    self.endpoint_url,
                    self.region,
                    workdir,
                    roots,
                    self._authorizer,
                    self._clock,
                )
            )
            _active.append(self)
        return self

    def stop(self) -> None:
        """Stop serving, then forget every resource (moto's backends, pipeline runs, model
        servers, git repositories) and remove a temporary working directory."""
        with _active_lock:
            if self._server is None:
                return
            self._server.stop()
            assert self._socket is not None
            self._socket.close()
            self._server = None
            self._socket = None
            try:
                self.reset()
            finally:
                _active.remove(self)
                runtime.set_current(None)
                if self._own_workdir is not None:
                    shutil.rmtree(self._own_workdir, ignore_errors=True)
                    self._own_workdir = None

    def reset(self) -> None:
        """Forget every resource in every account (moto's reset and the extensions' own
        state: pipeline runs, model servers), keeping the server up; the sandbox's clock
        starts again from the wall clock."""
        extensions.reset()
        moto_api_backend.reset()
        callers.forget()
        self._clock.reset()

    def env(self) -> dict[str, str | None]:
        """The environment that points boto3, the AWS CLI and mlops-seeds at the sandbox.

        A value of None means: unset the variable (a session token, a profile or a
        per-service endpoint override from the developer's own setup).
        """
        if self._root is None:
            raise RuntimeError("the sandbox is not running")
        env: dict[str, str | None] = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self._root.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self._root.secret_access_key,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        overrides = sorted(k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_"))
        for name in (*UNSET, *overrides):
            env[name] = None
        return env

    @contextmanager
    def environment(self) -> Iterator[None]:
        """This process's os.environ pointed at the sandbox (env()), restored afterwards."""
        values = self.env()
        saved = {name: os.environ.get(name) for name in values}
        try:
            _apply(values)
            yield
        finally:
            _apply(saved)

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where: Any = self.endpoint_url if self.running else "stopped"
        return f"Sandbox({where}, region={self.region})"
