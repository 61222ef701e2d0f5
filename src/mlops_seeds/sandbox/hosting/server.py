"""A model server following the SageMaker hosting contract, standing in for a framework
container: `GET /ping` answers 200 once the model is loaded, `POST /invocations` predicts
(Content-Type and Accept as the container reads them). It listens on 127.0.0.1.

    python -m mlops_seeds.sandbox.hosting.server --framework xgboost|sklearn \
        --model-dir DIR --port PORT [--parent-pid PID]

The container's Environment is this process's environment. Every request must carry the
secret of $MLOPS_SEEDS_MODEL_SERVER_TOKEN in X-Mlops-Seeds-Token and be addressed to
127.0.0.1:PORT (the sandbox alone knows the secret; the variable is removed before the
model is loaded); anything else gets 403. A model that cannot be loaded
ends the process (exit 1) with the reason on the last line of stderr. With --parent-pid the
server exits when that process is gone, so no server outlives its sandbox.
"""

from __future__ import annotations

import argparse
import hmac
import importlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mlops_seeds.sandbox.hosting import codecs, handlers
from mlops_seeds.sandbox.hosting.processes import TOKEN_ENV, TOKEN_HEADER

HOST = "127.0.0.1"
FRAMEWORKS = {
    "xgboost": "mlops_seeds.sandbox.hosting.xgboost_container",
    "sklearn": "mlops_seeds.sandbox.hosting.sklearn_container",
}
PARENT_POLL_SECONDS = 1.0
MAX_BODY_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's payload limit


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="model-server", description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=sorted(FRAMEWORKS), required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int)
    return parser.parse_args(argv)


def load_handler(framework: str, model_dir: Path) -> handlers.Handler:
    """The framework container's handler for the model, configured by the environment."""
    module: Any = importlib.import_module(FRAMEWORKS[framework])
    handler: handlers.Handler = module.load(model_dir, dict(os.environ))
    return handler


def make_request_handler(
    handler: handlers.Handler, token: str, port: int
) -> type[BaseHTTPRequestHandler]:
    """The HTTP request handler serving `handler` (one prediction at a time) to requests
    that carry `token` and are addressed to this server's loopback port."""
    lock = threading.Lock()
    host = f"{HOST}:{port}"

    class ModelRequestHandler(BaseHTTPRequestHandler):
        server_version = "mlops-seeds-model-server"

        def _allowed(self) -> bool:
            sent = self.headers.get(TOKEN_HEADER, "")
            if self.headers.get("Host") == host and hmac.compare_digest(
                sent.encode(errors="surrogateescape"), token.encode()
            ):
                return True
            self._send(403, b"forbidden: only the sandbox may call this model server", "text/plain")
            return False

        def do_GET(self) -> None:
            if not self._allowed():
                return
            if self.path == "/ping":
                self._send(200, b"", "text/plain")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            if not self._allowed():
                return
            if self.path != "/invocations":
                self._send(404, b"not found", "text/plain")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(413, b"request body too large", "text/plain")
                return
            body = self.rfile.read(length)
            content_type = self.headers.get("Content-Type", "")
            accept = self.headers.get("Accept", "")
            try:
                with lock:
                    reply = handler.invoke(body, content_type, accept)
            except codecs.ModelServerError as err:
                self._send(err.status, err.message.encode(), "text/plain")
                return
            except Exception as err:
                traceback.print_exc()
                self._send(500, f"{type(err).__name__}: {err}".encode(), "text/plain")
                return
            self._send(200, reply.body, reply.content_type)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 204:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return ModelRequestHandler


def exit_with_parent(parent_pid: int) -> None:
    """Exit this process once `parent_pid` is no longer its parent (the sandbox died)."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)


def main(argv: Sequence[str] | None = None) -> int:
    """Load the model, then serve until terminated."""
    args = parse_args(argv)
    token = os.environ.pop(TOKEN_ENV, "")
    if not token:
        print(f"model server: {TOKEN_ENV} must hold the sandbox's secret", file=sys.stderr)
        return 1
    if args.parent_pid:
        threading.Thread(target=exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    try:
        handler = load_handler(args.framework, args.model_dir)
    except Exception as err:
        traceback.print_exc()
        print(f"model server: cannot load the model: {err}", file=sys.stderr)
        return 1
    try:
        server = ThreadingHTTPServer(
            (HOST, args.port), make_request_handler(handler, token, args.port)
        )
    except OSError as err:
        print(f"model server: cannot listen on {HOST}:{args.port}: {err}", file=sys.stderr)
        return 1
    print(f"model server: {args.framework} model from {args.model_dir} on {HOST}:{args.port}")
    sys.stdout.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
