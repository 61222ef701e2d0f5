"""The only place the tool makes AWS clients.

Real AWS and the sandbox differ only by endpoint URL and credentials: boto3 reads
`AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) itself, so no code path here knows
which one it talks to. Other accounts are reached by STS AssumeRole, as in AWS.

Every client has connect and read timeouts (`Timeouts`): short ones to connect to this
machine, AWS-sized ones elsewhere, both overridable by environment variables. A failure to
reach AWS or to be let in is told in one line by `describe_failure`.
"""

import copy
import os
import socket
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.hooks import HierarchicalEmitter

from mlops_seeds.errors import AwsError, SeedsError

DEFAULT_REGION = "us-east-1"
SESSION_NAME = "mlops-seeds"
CONNECT_TIMEOUT_VARIABLE = "MLOPS_SEEDS_CONNECT_TIMEOUT"
READ_TIMEOUT_VARIABLE = "MLOPS_SEEDS_READ_TIMEOUT"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to open a connection and to wait for each read of an answer."""

    connect: float
    read: float


# AWS: botocore's own read timeout, a connect timeout that still allows a slow network.
AWS_TIMEOUTS = Timeouts(connect=10.0, read=60.0)
# The sandbox on this machine: a connection opens at once or not at all; an answer can take
# long, because some calls do their work inside the request (CreateStack and
# ProvisionProduct create the stack's resources, CreateEndpoint waits up to 50 s for the
# model server, InvokeEndpoint allows the model 60 s).
LOOPBACK_TIMEOUTS = Timeouts(connect=2.0, read=120.0)

# Error codes by which AWS (and the sandbox) refuse the credentials themselves.
CREDENTIAL_CODES = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "InvalidToken",
        "MissingAuthenticationToken",
        "RequestExpired",
        "SignatureDoesNotMatch",
        "TokenRefreshRequired",
        "UnrecognizedClientException",
    }
)
_SANDBOX_HINT = (
    "is the sandbox running? start it with mlops-seeds sandbox, or unset AWS_ENDPOINT_URL"
)


def region_of(session: boto3.Session | None = None) -> str:
    """The session's region, else $AWS_REGION / $AWS_DEFAULT_REGION, else us-east-1."""
    if session is not None and session.region_name:
        return str(session.region_name)
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


@cache
def _data_loader() -> botocore.loaders.Loader:
    """One loader of botocore's service models for every session: a new session would
    otherwise read them from disk again for each client."""
    return botocore.loaders.create_loader()


class _EndpointSession(boto3.Session):  # type: ignore[misc]
    """A session bound to one endpoint URL, whatever the environment says."""

    endpoint_url: str | None = None


@cache
def _builtin_handlers() -> HierarchicalEmitter:
    """botocore's built-in event handlers, registered once: a new session gets a copy,
    which takes a tenth of the time registering them again does."""
    emitter = HierarchicalEmitter()
    botocore.session.Session(event_hooks=emitter)  # registers them on `emitter`
    return emitter


def _new_session(endpoint_url: str | None = None, **kwargs: Any) -> boto3.Session:
    handlers = copy.copy(_builtin_handlers())
    core = botocore.session.Session(event_hooks=handlers, include_builtin_handlers=False)
    core.register_component("data_loader", _data_loader())
    session = _EndpointSession(botocore_session=core, **kwargs)
    session.endpoint_url = endpoint_url
    return session


def endpoint_of(session: boto3.Session) -> str | None:
    """The endpoint a session was made for by endpoint_session() (None: the environment's)."""
    return getattr(session, "endpoint_url", None)


def make_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A boto3 session for `profile` (default chain when None) in `region`."""
    session = _new_session(profile_name=profile)
    if region or not session.region_name:
        session = _new_session(profile_name=profile, region_name=region or region_of(session))
    return session


def endpoint_session(
    endpoint_url: str,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    session_token: str | None = None,
) -> boto3.Session:
    """A session whose clients all reach `endpoint_url` with the given static credentials,
    whatever the environment says (code running inside the sandbox calls it this way)."""
    return _new_session(
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
        region_name=region,
    )


def endpoint_url(session: boto3.Session | None = None) -> str:
    """The session's endpoint, else the global override `AWS_ENDPOINT_URL` ("" for none)."""
    return (endpoint_of(session) if session is not None else None) or os.environ.get(
        "AWS_ENDPOINT_URL", ""
    )


def _host(url: str) -> str | None:
    try:
        return urlparse(url).hostname
    except ValueError:  # an unbalanced [ in the netloc
        return None


RESOLVE_SECONDS = 5.0  # a resolver that does not answer by then counts as "does not resolve"


def _getaddrinfo(host: str, flags: int) -> list[Any]:
    """socket.getaddrinfo, given up after RESOLVE_SECONDS (it has no timeout of its own; the
    lookup goes on in a daemon thread that ends with the process)."""
    answer: list[Any] = []

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP, flags=flags))
        except (OSError, UnicodeError) as err:
            answer.append(err)

    worker = threading.Thread(target=lookup, daemon=True, name=f"resolve {host}")
    worker.start()
    worker.join(RESOLVE_SECONDS)
    if not answer:
        raise TimeoutError(f"no answer from the resolver for {host} in {RESOLVE_SECONDS:g} s")
    if isinstance(answer[0], Exception):
        raise answer[0]
    return list(answer[0])


@lru_cache(maxsize=64)
def host_addresses(host: str) -> tuple[IPv4Address | IPv6Address, ...]:
    """The addresses `host` stands for, as the connection would find them: a literal IP
    address first, then any numeric spelling the OS accepts (127.1, 0x7f.0.0.1), then the
    hosts file and DNS through getaddrinfo; () when it does not resolve."""
    try:
        return (ip_address(host),)
    except ValueError:
        pass
    for flags in (socket.AI_NUMERICHOST, 0):
        try:
            found = _getaddrinfo(host, flags)
        except (OSError, UnicodeError, TimeoutError):
            continue
        # An IPv6 sockaddr may carry a zone (fe80::1%eth0): the address is before the %.
        return tuple(ip_address(str(entry[4][0]).split("%")[0]) for entry in found)
    return ()


def _is_loopback(address: IPv4Address | IPv6Address) -> bool:
    """This machine: a loopback address, or the unspecified one (0.0.0.0, ::), which a
    connection on Linux takes to this machine too."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def is_loopback_url(url: str) -> bool:
    """True when `url`'s host is this machine: every address it resolves to is a loopback
    one (127.0.0.0/8, ::1), however it is spelled."""
    host = _host(url)
    addresses = host_addresses(host) if host else ()
    return bool(addresses) and all(_is_loopback(a) for a in addresses)


def targets_loopback(session: boto3.Session | None = None) -> bool:
    """True when the session's endpoint, else the global endpoint override, is this machine."""
    return is_loopback_url(endpoint_url(session))


def _seconds(variable: str, default: float) -> float:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:  # also refuses nan and inf
        raise SeedsError(f"{variable}={text!r}: must be a number of seconds, > 0 and <= 3600")
    return value


def timeouts(session: boto3.Session | None = None) -> Timeouts:
    """The timeouts of clients of `session`: the loopback or AWS defaults, each overridden by
    $MLOPS_SEEDS_CONNECT_TIMEOUT / $MLOPS_SEEDS_READ_TIMEOUT (seconds)."""
    default = LOOPBACK_TIMEOUTS if targets_loopback(session) else AWS_TIMEOUTS
    return Timeouts(
        connect=_seconds(CONNECT_TIMEOUT_VARIABLE, default.connect),
        read=_seconds(READ_TIMEOUT_VARIABLE, default.read),
    )


def client_config(session: boto3.Session | None = None) -> Config:
    """Standard retries against AWS; a single attempt against the sandbox, where an
    unimplemented call fails at once instead of being retried, and against an endpoint
    override whose host does not resolve (retrying would only make the user wait).
    Connect and read timeouts as `timeouts` says."""
    host = _host(endpoint_url(session))
    unresolved = bool(host) and not host_addresses(host or "")
    attempts = 1 if unresolved or targets_loopback(session) else 5
    limits = timeouts(session)
    return Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=limits.connect,
        read_timeout=limits.read,
    )


def check_endpoint_url(url: str) -> None:
    """SeedsError unless `url` (an endpoint override) is http(s)://host[:port][/path]."""
    try:
        parts = urlparse(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError as err:
        raise SeedsError(f"AWS_ENDPOINT_URL {url!r}: not a URL ({err})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SeedsError(f"AWS_ENDPOINT_URL {url!r}: must be http(s)://host[:port]")


def client(service: str, session: boto3.Session | None = None, region: str | None = None) -> Any:
    """A boto3 client for `service` from `session` (default: a new default session)."""
    session = session or make_session(region=region)
    if endpoint_url(session):
        check_endpoint_url(endpoint_url(session))
    return session.client(
        service,
        region_name=region or region_of(session),
        config=client_config(session),
        endpoint_url=endpoint_of(session),
    )


def account_id(session: boto3.Session) -> str:
    """The account the session's credentials belong to."""
    return str(client("sts", session).get_caller_identity()["Account"])


def assume_role(
    session: boto3.Session, role_arn: str, session_name: str = SESSION_NAME
) -> boto3.Session:
    """A session in another account: the credentials of `role_arn`, same region.
    AwsError (a SeedsError) when the role cannot be assumed or STS cannot be reached."""
    try:
        credentials = client("sts", session).assume_role(
            RoleArn=role_arn, RoleSessionName=session_name
        )["Credentials"]
    except (ClientError, BotoCoreError) as err:
        raise AwsError(f"cannot assume role {role_arn}: {describe_failure(err, session)}") from err
    return _new_session(
        endpoint_url=endpoint_of(session),
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region_of(session),
    )


def error_code(err: ClientError) -> str:
    """The error code of an AWS service's refusal ('' when it gives none)."""
    return str(err.response.get("Error", {}).get("Code", ""))


def _cause(error: BaseException | None) -> str:
    """Why a connection failed, in a few words, from the chain of low-level errors."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, socket.gaierror):
            return "host name does not resolve"
        if isinstance(error, ConnectionResetError):
            return "connection reset"
        if isinstance(error, TimeoutError):
            return "timed out"
        if isinstance(error, OSError) and error.strerror:
            return error.strerror.lower()
        error, seen = error.__cause__ or error.__context__, seen + 1
    return "connection failed"


def _target(session: boto3.Session | None) -> str:
    """What the calls went to: the endpoint override, else AWS in the session's region."""
    return endpoint_url(session).rstrip("/") or f"AWS in {region_of(session)}"


def _reach_hint(url: str, cause: str) -> str:
    """What to do when `url` cannot be reached."""
    if is_loopback_url(url):
        return _SANDBOX_HINT
    if cause == "host name does not resolve":
        return "check the host name in AWS_ENDPOINT_URL, and the network"
    return "check the network, the proxy and AWS_ENDPOINT_URL"


def describe_failure(err: BaseException, session: boto3.Session | None = None) -> str:
    """One line for a failure to reach AWS (or the sandbox), to be let in, or of a call AWS
    refused: what happened, naming the endpoint, and what to do."""
    if isinstance(err, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        url = str(err.kwargs.get("endpoint_url") or _target(session)).rstrip("/")
    else:
        url = _target(session)
    if isinstance(err, ConnectTimeoutError):
        limit = timeouts(session).connect
        return (
            f"cannot reach {url} (no connection within {limit:g} s): "
            f"{_reach_hint(url, 'timed out')}; {CONNECT_TIMEOUT_VARIABLE} sets the limit"
        )
    if isinstance(err, EndpointConnectionError):
        cause = _cause(err.kwargs.get("error"))
        return f"cannot reach {url} ({cause}): {_reach_hint(url, cause)}"
    if isinstance(err, ReadTimeoutError):
        limit = timeouts(session).read
        return (
            f"no answer from {url} within {limit:g} s: is the endpoint an AWS API or the "
            f"sandbox? {READ_TIMEOUT_VARIABLE} sets the limit if it is only slow"
        )
    if isinstance(err, ConnectionClosedError):
        return f"{url} closed the connection without an answer: {_reach_hint(url, 'closed')}"
    if isinstance(err, NoCredentialsError):
        return (
            f"no AWS credentials to call {url}: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or use the sandbox (the lines mlops-seeds sandbox prints)"
        )
    if isinstance(err, PartialCredentialsError):
        return f"incomplete AWS credentials to call {url}: {err}"
    if isinstance(err, NoRegionError):
        return f"no AWS region to call {url}: set AWS_REGION"
    if isinstance(err, ProfileNotFound):
        return f"{err}: check AWS_PROFILE and AWS_CONFIG_FILE"
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = str(error.get("Code", "")) or "Unknown"
        message = " ".join(str(error.get("Message", "")).split())
        operation = err.operation_name or "a call"
        if code in CREDENTIAL_CODES:
            return (
                f"{url} refused the credentials calling {operation} ({code}: {message}): "
                "renew them (aws sso login, a new session token), or check AWS_PROFILE "
                "and AWS_ENDPOINT_URL"
            )
        return f"{url} refused {operation} ({code}: {message})"
    return " ".join(str(err).split())
