"""The WSGI layer in front of moto's server that refuses every request the sandbox did not
issue: a `Host` other than the address it serves (DNS rebinding), a browser `Origin` the user
did not allow (no CORS allowance by default), and anything not signed with credentials the
sandbox issued. Refusals are AWS's errors in the request's protocol."""

import datetime
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mlops_seeds.sandbox.auth import sigv4
from mlops_seeds.sandbox.auth.authorize import Authorizer
from mlops_seeds.sandbox.auth.keys import Lookup
from mlops_seeds.sandbox.auth.refusals import Protocol, Reason, Refusal, protocol_of, render
from mlops_seeds.sandbox.iam import acting

MAX_BODY_BYTES = 512 * 1024 * 1024  # what the sandbox reads into memory to check a hash
CORS_METHODS = "GET, POST, PUT, DELETE, HEAD"
CORS_HEADERS = (
    "authorization, content-type, x-amz-date, x-amz-target, x-amz-security-token, "
    "x-amz-content-sha256, x-amz-user-agent, amz-sdk-invocation-id, amz-sdk-request"
)

_ACCOUNT_HEADER = "HTTP_X_MOTO_ACCOUNT_ID"
# The WSGI environ key holding the Credentials that signed the request (for IAM checks).
CALLER_KEY = "mlops_seeds.caller"

StartResponse = Callable[..., Any]
App = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """Lower-case header names and their values, as the client sent them."""
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = str(environ[key])
    return headers


def _raw_path(environ: dict[str, Any]) -> str:
    """The path as sent, still percent-encoded (werkzeug keeps it in RAW_URI)."""
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if raw:
        return raw.partition("?")[0]
    return str(environ.get("PATH_INFO", "/"))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Gate:
    """Wraps `app`; `hosts` are the Host header values accepted (e.g. 127.0.0.1:4566),
    `origins` the browser origins given a CORS allowance (none by default); `authorizer`,
    when given, decides each signed request by IAM (it is off until enabled);
    `root_account` gives the account of an account root's access key (None for others).

    moto picks the account a request acts in from an `x-moto-account-id` header before the
    access key: a client could act in any account with it. The gate removes the header from
    every request, and sets it for an account root's key (moto knows only its own keys)."""

    def __init__(
        self,
        app: App,
        lookup: Lookup,
        hosts: Sequence[str],
        origins: Sequence[str] = (),
        now: Callable[[], datetime.datetime] = _now,
        authorizer: Authorizer | None = None,
        root_account: Callable[[str], str | None] = lambda key: None,
    ) -> None:
        self._app = app
        self._root_account = root_account
        self._lookup = lookup
        self._hosts = frozenset(h.lower() for h in hosts)
        self._origins = frozenset(origins)
        self._now = now
        self._authorizer = authorizer

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = _headers(environ)
        query = str(environ.get("QUERY_STRING", ""))
        origin = headers.get("origin")
        try:
            host = headers.get("host", "").lower()
            if host not in self._hosts:
                raise Refusal(
                    Reason.FORBIDDEN,
                    f"Host {host or '(none)'!r} is not this sandbox "
                    f"({', '.join(sorted(self._hosts))})",
                )
            if origin is not None and origin not in self._origins:
                raise Refusal(
                    Reason.FORBIDDEN,
                    f"Origin {origin!r} is not allowed (mlops-seeds sandbox --cors-origin)",
                )
            if environ.get("REQUEST_METHOD") == "OPTIONS" and origin is not None:
                return self._preflight(origin, start_response)
            body = self._body(environ)
            request = sigv4.Request(
                method=str(environ.get("REQUEST_METHOD", "GET")),
                path=_raw_path(environ),
                query=query,
                headers=headers,
                body=body,
            )
            now = self._now()
            caller = sigv4.verify(request, self._lookup, now)
            identity = None
            if self._authorizer is not None and self._authorizer.enabled:
                identity = self._authorizer(request, caller, now)
        except Refusal as refusal:
            service = sigv4.service_of(sigv4.Request("GET", "/", query, headers, b""))
            status, response_headers, payload = render(
                refusal, protocol_of(service, headers, query)
            )
            start_response(f"{status} {_REASONS.get(status, 'Error')}", response_headers)
            return [payload]
        environ[CALLER_KEY] = caller
        environ.pop(_ACCOUNT_HEADER, None)
        account = self._root_account(caller.access_key_id)
        if account is not None:
            environ[_ACCOUNT_HEADER] = account
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        with acting.serving(identity):  # work done within the request acts for the caller
            return self._app(environ, self._cors(origin, start_response))

    def _body(self, environ: dict[str, Any]) -> bytes:
        length_text = str(environ.get("CONTENT_LENGTH") or "0")
        length = int(length_text) if length_text.isdigit() else 0
        if length > MAX_BODY_BYTES:
            raise Refusal(Reason.FORBIDDEN, f"request body over {MAX_BODY_BYTES} bytes")
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        if length:
            return bytes(stream.read(length))
        if environ.get("wsgi.input_terminated") or "chunked" in str(
            environ.get("HTTP_TRANSFER_ENCODING", "")
        ):
            return bytes(stream.read(MAX_BODY_BYTES + 1))[:MAX_BODY_BYTES]
        return b""

    def _preflight(self, origin: str, start_response: StartResponse) -> Iterable[bytes]:
        start_response(
            "200 OK",
            [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Methods", CORS_METHODS),
                ("Access-Control-Allow-Headers", CORS_HEADERS),
                ("Access-Control-Max-Age", "600"),
                ("Vary", "Origin"),
                ("Content-Length", "0"),
            ],
        )
        return [b""]

    def _cors(self, origin: str | None, start_response: StartResponse) -> StartResponse:
        """start_response without moto's own CORS headers; with the allowance for an
        allowed origin."""

        def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            if origin is not None:  # only allowed origins get this far
                kept += [
                    ("Access-Control-Allow-Origin", origin),
                    ("Access-Control-Expose-Headers", "x-amzn-requestid, x-amzn-errortype, etag"),
                    ("Vary", "Origin"),
                ]
            return start_response(status, kept, *args)

        return start


_REASONS = {400: "Bad Request", 403: "Forbidden", 413: "Payload Too Large"}


__all__ = ["CALLER_KEY", "Gate", "Protocol"]
