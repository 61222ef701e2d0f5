"""AWS's authentication errors, written in the wire format of the protocol the refused
request speaks, so each SDK raises the error it would raise against AWS.

The names and HTTP statuses differ by protocol family: query services (STS, IAM,
CloudFormation) answer `InvalidClientTokenId` 403, JSON services (`X-Amz-Target`: Service
Catalog, SageMaker, CodePipeline) `UnrecognizedClientException` 400, REST-JSON services
(sagemaker-runtime) the same names with 403, and S3 its own (`InvalidAccessKeyId` 403).
"""

import json
import uuid
from dataclasses import dataclass
from enum import Enum
from xml.sax.saxutils import escape


class Protocol(Enum):
    """How a service writes its errors."""

    QUERY = "query"
    JSON = "json"
    REST_JSON = "rest-json"
    S3 = "s3"


class Reason(Enum):
    """Why a request is refused."""

    MISSING = "missing"  # no Authorization header nor X-Amz-Signature
    INCOMPLETE = "incomplete"  # malformed Authorization or credential scope
    UNSUPPORTED = "unsupported"  # Signature Version 2 or another algorithm
    UNKNOWN_KEY = "unknown-key"  # an access key the sandbox never issued
    BAD_TOKEN = "bad-token"  # a session token that does not belong to the key
    EXPIRED_TOKEN = "expired-token"  # STS credentials past their expiration
    MISMATCH = "mismatch"  # the signature is not the one the secret key gives
    SKEWED = "skewed"  # X-Amz-Date more than 15 minutes from now
    EXPIRED_URL = "expired-url"  # a presigned URL past X-Amz-Expires
    PAYLOAD_HASH = "payload-hash"  # x-amz-content-sha256 is not the body's hash
    FORBIDDEN = "forbidden"  # a foreign Host or browser Origin
    ACCESS_DENIED = "access-denied"  # IAM denies the request (enforcement on)


# Reason -> protocol -> (code, HTTP status). REST-JSON takes the JSON names with 403.
_CODES: dict[Reason, dict[Protocol, tuple[str, int]]] = {
    Reason.MISSING: {
        Protocol.QUERY: ("MissingAuthenticationToken", 403),
        Protocol.JSON: ("MissingAuthenticationTokenException", 400),
        Protocol.REST_JSON: ("MissingAuthenticationTokenException", 403),
        Protocol.S3: ("AccessDenied", 403),
    },
    Reason.INCOMPLETE: {
        Protocol.QUERY: ("IncompleteSignature", 400),
        Protocol.JSON: ("IncompleteSignatureException", 400),
        Protocol.REST_JSON: ("IncompleteSignatureException", 403),
        Protocol.S3: ("AuthorizationHeaderMalformed", 400),
    },
    Reason.UNSUPPORTED: {
        Protocol.QUERY: ("IncompleteSignature", 400),
        Protocol.JSON: ("IncompleteSignatureException", 400),
        Protocol.REST_JSON: ("IncompleteSignatureException", 403),
        Protocol.S3: ("InvalidRequest", 400),
    },
    Reason.UNKNOWN_KEY: {
        Protocol.QUERY: ("InvalidClientTokenId", 403),
        Protocol.JSON: ("UnrecognizedClientException", 400),
        Protocol.REST_JSON: ("UnrecognizedClientException", 403),
        Protocol.S3: ("InvalidAccessKeyId", 403),
    },
    Reason.BAD_TOKEN: {
        Protocol.QUERY: ("InvalidClientTokenId", 403),
        Protocol.JSON: ("UnrecognizedClientException", 400),
        Protocol.REST_JSON: ("UnrecognizedClientException", 403),
        Protocol.S3: ("InvalidToken", 400),
    },
    Reason.EXPIRED_TOKEN: {
        Protocol.QUERY: ("ExpiredToken", 403),
        Protocol.JSON: ("ExpiredTokenException", 400),
        Protocol.REST_JSON: ("ExpiredTokenException", 403),
        Protocol.S3: ("ExpiredToken", 400),
    },
    Reason.MISMATCH: {
        Protocol.QUERY: ("SignatureDoesNotMatch", 403),
        Protocol.JSON: ("InvalidSignatureException", 400),
        Protocol.REST_JSON: ("InvalidSignatureException", 403),
        Protocol.S3: ("SignatureDoesNotMatch", 403),
    },
    Reason.SKEWED: {
        Protocol.QUERY: ("SignatureDoesNotMatch", 403),
        Protocol.JSON: ("InvalidSignatureException", 400),
        Protocol.REST_JSON: ("InvalidSignatureException", 403),
        Protocol.S3: ("RequestTimeTooSkewed", 403),
    },
    Reason.EXPIRED_URL: {
        Protocol.QUERY: ("SignatureDoesNotMatch", 403),
        Protocol.JSON: ("InvalidSignatureException", 400),
        Protocol.REST_JSON: ("InvalidSignatureException", 403),
        Protocol.S3: ("AccessDenied", 403),
    },
    Reason.PAYLOAD_HASH: {
        Protocol.QUERY: ("SignatureDoesNotMatch", 403),
        Protocol.JSON: ("InvalidSignatureException", 400),
        Protocol.REST_JSON: ("InvalidSignatureException", 403),
        Protocol.S3: ("XAmzContentSHA256Mismatch", 400),
    },
    Reason.FORBIDDEN: {
        Protocol.QUERY: ("AccessDenied", 403),
        Protocol.JSON: ("AccessDeniedException", 403),
        Protocol.REST_JSON: ("AccessDeniedException", 403),
        Protocol.S3: ("AccessDenied", 403),
    },
    # "AccessDenied" for query services and S3 (403); JSON services answer
    # AccessDeniedException with 400, REST-JSON ones with 403.
    Reason.ACCESS_DENIED: {
        Protocol.QUERY: ("AccessDenied", 403),
        Protocol.JSON: ("AccessDeniedException", 400),
        Protocol.REST_JSON: ("AccessDeniedException", 403),
        Protocol.S3: ("AccessDenied", 403),
    },
}


@dataclass(frozen=True)
class Refusal(Exception):
    """A request the sandbox refuses, with the message AWS would give."""

    reason: Reason
    message: str

    def code(self, protocol: Protocol) -> tuple[str, int]:
        """The error code and HTTP status for `protocol`."""
        return _CODES[self.reason][protocol]


def protocol_of(service: str | None, headers: dict[str, str], query: str) -> Protocol:
    """The protocol family of a request, from its signing service and shape."""
    if service == "s3":
        return Protocol.S3
    if "x-amz-target" in headers:
        return Protocol.JSON
    content_type = headers.get("content-type", "")
    if "x-www-form-urlencoded" in content_type or "Action=" in query:
        return Protocol.QUERY
    if service is None and not content_type:
        return Protocol.S3  # a bare GET, as a browser or curl would send
    return Protocol.REST_JSON


def render(refusal: Refusal, protocol: Protocol) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of the error response."""
    code, status = refusal.code(protocol)
    request_id = str(uuid.uuid4())
    if protocol is Protocol.S3:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(refusal.message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        content_type = "application/xml"
    elif protocol is Protocol.QUERY:
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{escape(refusal.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    else:
        body = json.dumps({"__type": code, "message": refusal.message}).encode()
        content_type = (
            "application/x-amz-json-1.1" if protocol is Protocol.JSON else "application/json"
        )
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", code),
    ]
    return status, headers, body
