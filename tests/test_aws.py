"""The client factory: endpoint override detection, retries, timeouts, assume-role into an
account, and one line for each way of failing to reach AWS."""

import socket
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError
from moto import mock_aws

from mlops_seeds import aws
from mlops_seeds.errors import AwsError, SeedsError


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:5000", True),
        ("http://127.8.0.1", True),
        ("http://localhost:4566", True),
        ("http://[::1]:5000", True),
        ("http://127.1:5000", True),
        ("http://0x7f.1:5000", True),
        ("http://2130706433:5000", True),
        ("http://0177.0.0.1:5000", True),
        ("http://[::ffff:127.0.0.1]:5000", True),
        ("http://10.0.0.1:5000", False),
        ("http://[::ffff:10.0.0.1]:5000", False),
        ("http://128.0.0.1:5000", False),
        ("", False),
    ],
)
def test_sandbox_is_recognised_by_a_loopback_endpoint(
    monkeypatch: pytest.MonkeyPatch, url: str, loopback: bool
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    assert aws.targets_loopback() is loopback
    attempts = aws.client_config().retries["total_max_attempts"]
    assert attempts == (1 if loopback else 5)


def test_region_falls_back_to_environment_then_default(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert aws.region_of() == "eu-west-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert aws.region_of() == "us-east-1"
    assert aws.make_session(region="ap-south-1").region_name == "ap-south-1"


def test_assume_role_reaches_the_other_account(fake_credentials: None) -> None:
    with mock_aws():
        hub = aws.make_session()
        spoke = aws.assume_role(hub, "arn:aws:iam::210987654321:role/SpokeAdmin")
        assert aws.account_id(spoke) == "210987654321"
        assert spoke.region_name == "eu-west-1"


def test_assume_role_failure_is_one_clear_error(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(SeedsError, match="cannot assume role arn:aws:iam::1"):
        aws.assume_role(aws.make_session(), "arn:aws:iam::111111111111:role/x")


def test_an_endpoint_session_ignores_the_environment_and_keeps_its_endpoint_when_assuming(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://elsewhere.example.com")
    session = aws.endpoint_session(
        "http://127.0.0.1:4566", "AKIAEXAMPLEEXAMPLE00", "s", "eu-west-1"
    )
    assert aws.endpoint_of(session) == "http://127.0.0.1:4566"
    assert aws.targets_loopback(session)
    s3 = aws.client("s3", session)
    assert s3.meta.endpoint_url == "http://127.0.0.1:4566"
    assert s3.meta.region_name == "eu-west-1"
    assert aws.endpoint_of(aws.make_session()) is None
    assert aws.client("s3").meta.endpoint_url == "https://elsewhere.example.com"


def test_a_name_is_loopback_when_the_resolver_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """As /etc/hosts would say for a name of its own (the resolver is faked here)."""

    def resolve(host: str, *args: object, **kwargs: object) -> list[object]:
        if kwargs.get("flags") == socket.AI_NUMERICHOST or host != "sandbox.test":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]

    aws.host_addresses.cache_clear()
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    try:
        assert aws.is_loopback_url("http://sandbox.test:4566")
    finally:
        aws.host_addresses.cache_clear()


def test_an_unresolvable_endpoint_override_gets_a_single_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://mlops-seeds-no-such-host.invalid")
    assert not aws.targets_loopback()
    assert aws.client_config().retries["total_max_attempts"] == 1


@pytest.fixture
def no_timeout_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(aws.CONNECT_TIMEOUT_VARIABLE, raising=False)
    monkeypatch.delenv(aws.READ_TIMEOUT_VARIABLE, raising=False)


def test_clients_have_timeouts_suited_to_aws_and_to_the_sandbox(
    fake_credentials: None, no_timeout_variables: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = aws.client("sts").meta.config
    assert (remote.connect_timeout, remote.read_timeout) == (10.0, 60.0)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.1:4566")
    local = aws.client("sts").meta.config
    assert (local.connect_timeout, local.read_timeout) == (2.0, 120.0)
    session = aws.endpoint_session(
        "http://127.0.0.1:4566", "AKIAEXAMPLEEXAMPLE00", "s", "eu-west-1"
    )
    assert aws.client("s3", session).meta.config.read_timeout == 120.0


def test_timeouts_are_set_by_environment_variables(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(aws.CONNECT_TIMEOUT_VARIABLE, "0.5")
    monkeypatch.setenv(aws.READ_TIMEOUT_VARIABLE, "7")
    config = aws.client("sts").meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.5, 7.0)


@pytest.mark.parametrize("value", ["abc", "0", "-3", "nan", "inf", "3601"])
def test_a_bad_timeout_variable_is_bad_input_naming_it(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(aws.READ_TIMEOUT_VARIABLE, value)
    with pytest.raises(SeedsError, match=f"{aws.READ_TIMEOUT_VARIABLE}=.*must be a number"):
        aws.client("sts")


def _failure(monkeypatch: pytest.MonkeyPatch, url: str) -> tuple[str, float]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        aws.client("sts").get_caller_identity()
    return aws.describe_failure(caught.value), time.monotonic() - started


def test_a_closed_port_is_one_line_pointing_at_the_sandbox(
    fake_credentials: None,
    no_timeout_variables: None,
    monkeypatch: pytest.MonkeyPatch,
    closed_port: int,
) -> None:
    line, seconds = _failure(monkeypatch, f"http://127.1:{closed_port}")
    assert line == (
        f"cannot reach http://127.1:{closed_port} (connection refused): is the sandbox running? "
        "start it with mlops-seeds sandbox, or unset AWS_ENDPOINT_URL"
    )
    assert seconds < 2


def test_a_silent_endpoint_is_given_up_after_the_read_timeout(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch, silent_port: int
) -> None:
    monkeypatch.setenv(aws.READ_TIMEOUT_VARIABLE, "0.5")
    line, seconds = _failure(monkeypatch, f"http://localhost:{silent_port}")
    assert line.startswith(f"no answer from http://localhost:{silent_port} within 0.5 s")
    assert aws.READ_TIMEOUT_VARIABLE in line
    assert seconds < 3


def test_an_unresolvable_host_is_one_line_naming_it(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    line, seconds = _failure(monkeypatch, "http://mlops-seeds-no-such-host.invalid:4566")
    assert line.startswith(
        "cannot reach http://mlops-seeds-no-such-host.invalid:4566 (host name does not resolve)"
    )
    assert seconds < 10


def test_missing_credentials_are_one_line_saying_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, closed_port: int
) -> None:
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "empty").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    line, _ = _failure(monkeypatch, f"http://127.0.0.1:{closed_port}")
    assert line.startswith("no AWS credentials to call http://127.0.0.1:")
    assert "AWS_ACCESS_KEY_ID" in line


def test_refused_credentials_and_a_connect_timeout_are_one_line_each(
    monkeypatch: pytest.MonkeyPatch, no_timeout_variables: None
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    expired = ClientError(
        {"Error": {"Code": "ExpiredToken", "Message": "The security token\nexpired"}},
        "GetCallerIdentity",
    )
    line = aws.describe_failure(expired)
    assert line.startswith(
        "AWS in eu-west-1 refused the credentials calling GetCallerIdentity "
        "(ExpiredToken: The security token expired): renew them"
    )
    assert "\n" not in line
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "CreatePortfolio")
    assert (
        aws.describe_failure(denied)
        == "AWS in eu-west-1 refused CreatePortfolio (AccessDenied: no)"
    )
    slow = ConnectTimeoutError(endpoint_url="https://sts.eu-west-1.amazonaws.com/")
    assert aws.describe_failure(slow).startswith(
        "cannot reach https://sts.eu-west-1.amazonaws.com (no connection within 10 s)"
    )


def test_assume_role_unreachable_is_an_aws_error_not_bad_input(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")
    with pytest.raises(AwsError, match=r"cannot assume role .*: cannot reach .* refused"):
        aws.assume_role(aws.make_session(), "arn:aws:iam::111111111111:role/x")


def test_a_resolver_that_never_answers_counts_as_unresolved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released = threading.Event()

    def hang(*_: object, **__: object) -> list[object]:
        released.wait(30)
        return []

    monkeypatch.setattr(aws, "RESOLVE_SECONDS", 0.2)
    monkeypatch.setattr(aws.socket, "getaddrinfo", hang)
    aws.host_addresses.cache_clear()
    try:
        assert aws.host_addresses("hung-resolver.example") == ()
    finally:
        released.set()
        aws.host_addresses.cache_clear()
