"""Only the sandbox's own signed clients drive it: SigV4 against the credentials it issued,
its own Host, no CORS allowance unless asked; refusals are AWS's errors for each protocol."""

import datetime
import http.client
import socket
import urllib.parse
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from accounts import member_admin
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError
from moto.sts.models import sts_backends
from werkzeug.test import EnvironBuilder

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox, server
from mlops_seeds.sandbox.auth import Gate, issued_credentials, sigv4
from mlops_seeds.sandbox.auth.gate import CALLER_KEY
from mlops_seeds.sandbox.auth.keys import Credentials, Roots
from mlops_seeds.sandbox.auth.refusals import Reason, Refusal

ROOT_KEY = "AKIAMLOPSSEEDSSANDBX"


def _client(sandbox: Sandbox, service: str, key: str, secret: str, token: str | None = None) -> Any:
    return boto3.client(
        service,
        endpoint_url=sandbox.endpoint_url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=sandbox.region,
        config=Config(retries={"total_max_attempts": 1}),
    )


def _error(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _raw(
    sandbox: Sandbox, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("service", "call", "expected"),
    [
        ("sts", lambda c: c.get_caller_identity(), ("SignatureDoesNotMatch", 403)),
        ("servicecatalog", lambda c: c.list_portfolios(), ("InvalidSignatureException", 400)),
        ("sagemaker", lambda c: c.list_pipelines(), ("InvalidSignatureException", 400)),
        ("s3", lambda c: c.list_buckets(), ("SignatureDoesNotMatch", 403)),
        ("cloudformation", lambda c: c.list_stacks(), ("SignatureDoesNotMatch", 403)),
    ],
)
def test_a_wrong_secret_is_refused_as_aws_refuses_it(
    sandbox: Sandbox, service: str, call: Callable[[Any], Any], expected: tuple[str, int]
) -> None:
    client = _client(sandbox, service, ROOT_KEY, "not-the-secret")
    assert _error(lambda: call(client)) == expected


@pytest.mark.parametrize(
    ("service", "call", "expected"),
    [
        ("sts", lambda c: c.get_caller_identity(), ("InvalidClientTokenId", 403)),
        ("codepipeline", lambda c: c.list_pipelines(), ("UnrecognizedClientException", 400)),
        ("s3", lambda c: c.list_buckets(), ("InvalidAccessKeyId", 403)),
    ],
)
def test_an_unknown_access_key_is_refused(
    sandbox: Sandbox, service: str, call: Callable[[Any], Any], expected: tuple[str, int]
) -> None:
    client = _client(
        sandbox, service, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    assert _error(lambda: call(client)) == expected


def test_assumed_role_credentials_need_their_own_session_token(sandbox: Sandbox) -> None:
    spoke = member_admin("111111111111")
    frozen = spoke.get_credentials().get_frozen_credentials()

    assert aws.account_id(spoke) == "111111111111"
    without = _client(sandbox, "sts", frozen.access_key, frozen.secret_key)
    assert _error(without.get_caller_identity) == ("InvalidClientTokenId", 403)
    forged = _client(sandbox, "sts", frozen.access_key, frozen.secret_key, "forged-token")
    assert _error(forged.get_caller_identity) == ("InvalidClientTokenId", 403)


def test_expired_session_credentials_are_refused(sandbox: Sandbox) -> None:
    spoke = member_admin("111111111111")
    frozen = spoke.get_credentials().get_frozen_credentials()
    for backend in sts_backends["111111111111"].values():
        for role in backend.assumed_roles:
            if role.access_key_id == frozen.access_key:
                role.expiration = datetime.datetime(2020, 1, 1)

    client = _client(sandbox, "sts", frozen.access_key, frozen.secret_key, frozen.token)
    assert _error(client.get_caller_identity) == ("ExpiredToken", 403)


def test_an_unsigned_request_is_refused(sandbox: Sandbox) -> None:
    status, _, body = _raw(
        sandbox,
        "POST",
        "/",
        {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.ListPipelines"},
    )
    assert status == 400 and b"MissingAuthenticationTokenException" in body
    status, _, body = _raw(sandbox, "POST", "/moto-api/reset", {})
    assert status == 403 and b"Request is missing Authentication Token" in body


def test_a_forged_signature_runs_nothing(sandbox: Sandbox) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="kept-bucket")
    now = datetime.datetime.now(datetime.UTC)
    scope = f"{ROOT_KEY}/{now:%Y%m%d}/us-east-1/sagemaker/aws4_request"
    status, _, body = _raw(
        sandbox,
        "POST",
        "/",
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "SageMaker.DeletePipeline",
            "X-Amz-Date": now.strftime("%Y%m%dT%H%M%SZ"),
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, "
            "SignedHeaders=host;x-amz-date, Signature=00",
        },
    )
    assert (status, b"InvalidSignatureException" in body) == (400, True)
    status, _, _ = _raw(
        sandbox, "POST", "/moto-api/reset", {"Authorization": "AWS4-HMAC-SHA256 Signature=00"}
    )
    assert status == 400  # IncompleteSignature: no Credential
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept-bucket"]


def test_a_foreign_host_is_refused(sandbox: Sandbox) -> None:
    status, _, body = _raw(sandbox, "GET", "/", {"Host": f"rebound.example:{sandbox.port}"})
    assert status == 403 and b"is not this sandbox" in body


def test_a_cross_origin_preflight_gets_no_allowance(sandbox: Sandbox) -> None:
    status, headers, _ = _raw(
        sandbox,
        "OPTIONS",
        "/",
        {
            "Origin": "https://attacker.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,x-amz-target",
        },
    )
    assert status == 403
    assert not [name for name in headers if name.startswith("access-control-")]


def test_signed_responses_carry_no_cors_headers(sandbox: Sandbox) -> None:
    client = aws.client("s3")
    response = client.list_buckets()
    assert not [
        n for n in response["ResponseMetadata"]["HTTPHeaders"] if n.startswith("access-control-")
    ]


def _through_gate(
    gate: Gate, method: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str]]:
    environ = EnvironBuilder(path="/", method=method, headers=headers, data=body).get_environ()
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = {k.lower(): v for k, v in response_headers}

    b"".join(gate(environ, start_response))
    return answer["status"], answer["headers"]


def test_the_app_behind_the_gate_learns_who_signed() -> None:
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(environ[CALLER_KEY])
        start_response("200 OK", [])
        return [b""]

    signed = _signed("sagemaker", _now())
    gate = Gate(app, _lookup, ["127.0.0.1:4566"])
    status, _ = _through_gate(gate, "POST", {**signed.headers}, signed.body)

    assert status == 200 and [c.access_key_id for c in seen] == [ROOT_KEY]


def test_an_allowed_origin_gets_the_allowance_and_still_must_sign() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Access-Control-Allow-Origin", "*")])
        return [b"served"]

    gate = Gate(app, _lookup, ["127.0.0.1:4566"], ["http://localhost:8080"])
    preflight = {
        "Host": "127.0.0.1:4566",
        "Origin": "http://localhost:8080",
        "Access-Control-Request-Method": "POST",
    }
    allowed = _through_gate(gate, "OPTIONS", preflight)
    other = _through_gate(gate, "OPTIONS", {**preflight, "Origin": "http://localhost:9999"})
    unsigned = _through_gate(
        gate, "GET", {"Host": "127.0.0.1:4566", "Origin": "http://localhost:8080"}
    )

    assert (allowed[0], allowed[1]["access-control-allow-origin"]) == (200, "http://localhost:8080")
    assert other[0] == 403 and "access-control-allow-origin" not in other[1]
    assert unsigned[0] == 403 and "access-control-allow-origin" not in unsigned[1]


def test_presigned_urls_work_until_they_expire(sandbox: Sandbox) -> None:
    s3 = aws.make_session().client(
        "s3", endpoint_url=sandbox.endpoint_url, config=Config(signature_version="s3v4")
    )
    env = sandbox.env()
    root = Credentials(str(env["AWS_ACCESS_KEY_ID"]), str(env["AWS_SECRET_ACCESS_KEY"]))
    issued = issued_credentials(Roots("123456789012", root))
    s3.create_bucket(Bucket="presigned")
    s3.put_object(Bucket="presigned", Key="a b/c+d.txt", Body=b"hello")
    url = urllib.parse.urlsplit(
        s3.generate_presigned_url(
            "get_object", Params={"Bucket": "presigned", "Key": "a b/c+d.txt"}
        )
    )
    status, _, body = _raw(sandbox, "GET", f"{url.path}?{url.query}", {})
    assert (status, body) == (200, b"hello")

    request = sigv4.Request("GET", url.path, url.query, {"host": url.netloc}, b"")
    assert sigv4.verify(request, issued, _now() + datetime.timedelta(minutes=59))
    with pytest.raises(Refusal) as caught:
        sigv4.verify(request, issued, _now() + datetime.timedelta(minutes=61))
    assert (caught.value.reason, caught.value.message) == (
        Reason.EXPIRED_URL,
        "Request has expired",
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def test_signature_version_2_is_refused(sandbox: Sandbox) -> None:
    status, _, body = _raw(
        sandbox,
        "GET",
        f"/presigned/k?AWSAccessKeyId={ROOT_KEY}&Signature=abc&Expires=9999999999",
        {},
    )
    assert status == 400 and b"<Code>InvalidRequest</Code>" in body


def test_the_port_is_served_again_at_once_after_a_stop() -> None:
    listening = server._listen(0)
    port = listening.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        accepted, _ = listening.accept()
        accepted.close()  # the server side closes first: its end waits in TIME_WAIT
        client.recv(1)
    listening.close()

    again = server._listen(port)
    again.close()


# The check itself, with a clock of our choosing: what botocore signs, the sandbox accepts
# within 15 minutes and refuses after, as AWS does.

SECRET = "s3cr3t"


def _signed(service: str, when: datetime.datetime, body: bytes = b"{}") -> sigv4.Request:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:4566/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "X.Y"},
    )
    auth = SigV4Auth(BotoCredentials(ROOT_KEY, SECRET), service, "us-east-1")
    request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    auth._inject_signature_to_request(request, signature)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers.setdefault("host", "127.0.0.1:4566")
    return sigv4.Request("POST", "/", "", headers, body)


def _lookup(key: str) -> Credentials | None:
    return Credentials(ROOT_KEY, SECRET) if key == ROOT_KEY else None


def test_a_signature_is_good_for_fifteen_minutes() -> None:
    signed_at = datetime.datetime(2026, 12, 1, 12, 0, 0)
    request = _signed("sagemaker", signed_at)

    assert (
        sigv4.verify(request, _lookup, signed_at + datetime.timedelta(minutes=14)).access_key_id
        == ROOT_KEY
    )
    with pytest.raises(Refusal) as late:
        sigv4.verify(request, _lookup, signed_at + datetime.timedelta(minutes=16))
    assert late.value.reason is Reason.SKEWED and "Signature expired" in late.value.message


def test_a_changed_body_breaks_the_signature() -> None:
    signed_at = datetime.datetime(2026, 12, 1, 12, 0, 0)
    request = _signed("sagemaker", signed_at, b'{"PipelineName": "a"}')
    tampered = sigv4.Request(
        request.method, request.path, request.query, request.headers, b'{"PipelineName": "b"}'
    )

    with pytest.raises(Refusal) as caught:
        sigv4.verify(tampered, _lookup, signed_at)
    assert caught.value.reason is Reason.MISMATCH


def test_a_signature_of_any_characters_is_a_refusal_not_a_crash(sandbox: Sandbox) -> None:
    now = datetime.datetime.now(datetime.UTC)
    scope = f"{ROOT_KEY}/{now:%Y%m%d}/us-east-1/sagemaker/aws4_request"
    status, _, body = _raw(
        sandbox,
        "POST",
        "/",
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "SageMaker.ListPipelines",
            "X-Amz-Date": now.strftime("%Y%m%dT%H%M%SZ"),
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, "
            "SignedHeaders=host;x-amz-date, Signature=\u00e9\u00e9",
        },
    )
    assert (status, b"InvalidSignatureException" in body) == (400, True)


def test_only_s3_takes_an_unsigned_payload() -> None:
    signed_at = datetime.datetime(2026, 12, 1, 12, 0, 0)
    request = _signed("sagemaker", signed_at)
    unsigned = sigv4.Request(
        request.method,
        request.path,
        request.query,
        {**request.headers, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
        b'{"anything": "else"}',
    )
    with pytest.raises(Refusal) as caught:
        sigv4.verify(unsigned, _lookup, signed_at)
    assert caught.value.reason is Reason.PAYLOAD_HASH
