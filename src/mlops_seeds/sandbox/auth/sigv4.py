"""AWS Signature Version 4, checked on the server's side: the request's canonical form is
rebuilt from what arrived, as the SigV4 reference describes it (and as botocore signs), and
the signature is recomputed with the secret of the key the request names.

Both forms are read: the `Authorization` header, and query parameters (a presigned URL).
"""

import datetime
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from botocore.utils import normalize_url_path

from mlops_seeds.sandbox.auth.keys import Credentials, Lookup
from mlops_seeds.sandbox.auth.refusals import Reason, Refusal

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = datetime.timedelta(minutes=15)
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600
UNSIGNED_PAYLOADS = ("UNSIGNED-PAYLOAD", "STREAMING-")
_SCOPE = re.compile(r"^([^/]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request$")
_DATE = "%Y%m%dT%H%M%SZ"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SIGV4_ONLY = (
    f"The authorization mechanism you have provided is not supported. Please use {ALGORITHM}."
)


@dataclass(frozen=True)
class Request:
    """What the check needs of an HTTP request: method, the path and query as sent (still
    percent-encoded), lower-case header names, and the body."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Signed:
    """The signature parts a request carries."""

    access_key_id: str
    date: str  # yyyymmdd of the scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str  # X-Amz-Date
    token: str | None
    expires: int | None  # presigned URLs only
    presigned: bool


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return [(k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p)]


def service_of(request: Request) -> str | None:
    """The signing service named by the request's credential scope, if it has one."""
    credential = _credential_text(request)
    match = _SCOPE.match(credential) if credential else None
    return match.group(4) if match else None


def _credential_text(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.startswith(ALGORITHM):
        found = re.search(r"Credential=([^,\s]+)", header)
        return found.group(1) if found else None
    for key, value in _query_pairs(request.query):
        if key == "X-Amz-Credential":
            return unquote(value)
    return None


def parse(request: Request) -> Signed:
    """The signature parts of `request`; Refusal when it carries none or they are malformed."""
    header = request.headers.get("authorization")
    query = {k: unquote(v) for k, v in _query_pairs(request.query)}
    if header is not None:
        return _parse_header(header, request)
    if "X-Amz-Signature" in query or "X-Amz-Algorithm" in query:
        return _parse_query(query)
    if "Signature" in query or "AWSAccessKeyId" in query:
        raise Refusal(Reason.UNSUPPORTED, _SIGV4_ONLY)
    raise Refusal(Reason.MISSING, "Request is missing Authentication Token")


def _scope(credential: str) -> tuple[str, str, str, str]:
    match = _SCOPE.match(credential)
    if not match:
        raise Refusal(
            Reason.INCOMPLETE,
            f"Credential should be scoped to a valid region and service: {credential!r} is "
            "not <access key>/<yyyymmdd>/<region>/<service>/aws4_request",
        )
    key, date, region, service = match.groups()
    return key, date, region, service


def _parse_header(header: str, request: Request) -> Signed:
    algorithm, _, rest = header.partition(" ")
    if algorithm != ALGORITHM:
        raise Refusal(Reason.UNSUPPORTED, _SIGV4_ONLY)
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if n not in fields]
    if missing:
        raise Refusal(
            Reason.INCOMPLETE,
            f"Authorization header requires '{missing[0]}' parameter. "
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.",
        )
    timestamp = request.headers.get("x-amz-date", "")
    if not timestamp:
        raise Refusal(
            Reason.INCOMPLETE, "Authorization header requires existence of 'X-Amz-Date' header"
        )
    key, date, region, service = _scope(fields["Credential"])
    return Signed(
        access_key_id=key,
        date=date,
        region=region,
        service=service,
        signed_headers=tuple(fields["SignedHeaders"].split(";")),
        signature=fields["Signature"],
        timestamp=timestamp,
        token=request.headers.get("x-amz-security-token"),
        expires=None,
        presigned=False,
    )


def _parse_query(query: Mapping[str, str]) -> Signed:
    names = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders")
    missing = [n for n in (*names, "X-Amz-Signature") if not query.get(n)]
    if missing:
        raise Refusal(Reason.INCOMPLETE, f"query-string authentication requires {missing[0]}")
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise Refusal(Reason.INCOMPLETE, f"X-Amz-Algorithm must be {ALGORITHM}")
    expires_text = query.get("X-Amz-Expires", "")
    if not expires_text.isdigit() or not 1 <= int(expires_text) <= MAX_PRESIGNED_SECONDS:
        raise Refusal(
            Reason.INCOMPLETE,
            f"X-Amz-Expires must be a number of seconds from 1 to {MAX_PRESIGNED_SECONDS}",
        )
    key, date, region, service = _scope(query["X-Amz-Credential"])
    return Signed(
        access_key_id=key,
        date=date,
        region=region,
        service=service,
        signed_headers=tuple(query["X-Amz-SignedHeaders"].split(";")),
        signature=query["X-Amz-Signature"],
        timestamp=query["X-Amz-Date"],
        token=query.get("X-Amz-Security-Token"),
        expires=int(expires_text),
        presigned=True,
    )


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(query: str, presigned: bool) -> str:
    """Each name and value decoded then encoded as the reference says (RFC 3986 unreserved
    characters kept), sorted by name then value; X-Amz-Signature left out."""
    pairs = [
        (_encode(unquote(k)), _encode(unquote(v)))
        for k, v in _query_pairs(query)
        if not (presigned and k == "X-Amz-Signature")
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_path(path: str, service: str) -> str:
    """S3 signs the path as sent; every other service its normalised form, encoded again."""
    if service == "s3":
        return path or "/"
    return quote(normalize_url_path(path or "/"), safe="/~")


def payload_hash(request: Request, signed: Signed) -> str:
    """The payload's hash as signed: x-amz-content-sha256 when sent (checked against the
    body when it is a hash), UNSIGNED-PAYLOAD for presigned S3 URLs, else the body's."""
    declared = request.headers.get("x-amz-content-sha256")
    actual = hashlib.sha256(request.body).hexdigest()
    if declared is not None:
        if _HEX64.match(declared):
            if declared != actual:
                raise Refusal(
                    Reason.PAYLOAD_HASH,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                )
        elif signed.service != "s3" or not declared.startswith(UNSIGNED_PAYLOADS):
            # only S3 takes an unsigned or streamed payload; its chunk signatures are not
            # checked here
            raise Refusal(
                Reason.PAYLOAD_HASH,
                f"x-amz-content-sha256 {declared[:40]!r} is not the payload's SHA-256",
            )
        return declared
    if signed.presigned and signed.service == "s3":
        return "UNSIGNED-PAYLOAD"
    return actual


def canonical_request(request: Request, signed: Signed) -> str:
    """The canonical request of the SigV4 reference."""
    lines = []
    for name in signed.signed_headers:
        value = request.headers.get(name)
        if value is None:
            raise Refusal(
                Reason.MISMATCH,
                f"The request signature we calculated does not match the signature you "
                f"provided: signed header {name!r} is not in the request",
            )
        lines.append(f"{name}:{' '.join(value.split())}")
    return "\n".join(
        [
            request.method.upper(),
            canonical_path(request.path, signed.service),
            canonical_query(request.query, signed.presigned),
            "\n".join(lines) + "\n",
            ";".join(signed.signed_headers),
            payload_hash(request, signed),
        ]
    )


def _same(one: str, other: str) -> bool:
    """Constant-time equality of two texts, whatever characters a request put in them."""
    return hmac.compare_digest(
        one.encode(errors="surrogateescape"), other.encode(errors="surrogateescape")
    )


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature(secret: str, signed: Signed, canonical: str) -> str:
    """The signature `secret` gives the canonical request under the request's scope."""
    scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"{ALGORITHM}\n{signed.timestamp}\n{scope}\n{digest}"
    key = _hmac(f"AWS4{secret}".encode(), signed.date)
    for part in (signed.region, signed.service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _check_time(signed: Signed, now: datetime.datetime) -> None:
    try:
        when = datetime.datetime.strptime(signed.timestamp, _DATE)
    except ValueError as err:
        raise Refusal(
            Reason.INCOMPLETE, f"X-Amz-Date {signed.timestamp!r} is not yyyymmddThhmmssZ"
        ) from err
    if not signed.timestamp.startswith(signed.date):
        raise Refusal(
            Reason.INCOMPLETE,
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: {signed.date!r} != {signed.timestamp[:8]!r}",
        )
    if signed.presigned:
        assert signed.expires is not None
        if now > when + datetime.timedelta(seconds=signed.expires):
            raise Refusal(Reason.EXPIRED_URL, "Request has expired")
        if when - now > MAX_SKEW:
            raise Refusal(Reason.SKEWED, "Request is not yet valid")
        return
    if abs(now - when) > MAX_SKEW:
        raise Refusal(
            Reason.SKEWED,
            f"Signature expired: {signed.timestamp} is now earlier than "
            f"{(now - MAX_SKEW).strftime(_DATE)} ({now.strftime(_DATE)} - 15 min.)"
            if when < now
            else f"Signature not yet current: {signed.timestamp} is still later than "
            f"{(now + MAX_SKEW).strftime(_DATE)} ({now.strftime(_DATE)} + 15 min.)",
        )


def _check_token(signed: Signed, known: Credentials, now: datetime.datetime) -> None:
    if known.session_token is None:
        if signed.token is not None:
            raise Refusal(
                Reason.BAD_TOKEN, "The security token included in the request is invalid."
            )
        return
    if signed.token is None or not _same(signed.token, known.session_token):
        raise Refusal(Reason.BAD_TOKEN, "The security token included in the request is invalid.")
    if known.expires is not None and now > known.expires:
        raise Refusal(Reason.EXPIRED_TOKEN, "The security token included in the request is expired")


def verify(request: Request, lookup: Lookup, now: datetime.datetime) -> Credentials:
    """The credentials that signed `request`; Refusal, with AWS's reason, otherwise.
    `now` is UTC without a time zone."""
    signed = parse(request)
    known = lookup(signed.access_key_id)
    if known is None:
        raise Refusal(
            Reason.UNKNOWN_KEY,
            "The security token included in the request is invalid."
            if signed.service != "s3"
            else "The AWS Access Key Id you provided does not exist in our records.",
        )
    _check_token(signed, known, now)
    _check_time(signed, now)
    if "host" not in signed.signed_headers:
        raise Refusal(Reason.INCOMPLETE, "'Host' must be a signed header")
    expected = signature(known.secret_access_key, signed, canonical_request(request, signed))
    if not _same(expected, signed.signature):
        raise Refusal(
            Reason.MISMATCH,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        )
    return known
