"""The client factory: endpoint override detection, retries, assume-role into an account."""

import pytest
from moto import mock_aws

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError


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
        ("https://sagemaker.us-east-1.amazonaws.com", False),
        ("http://10.0.0.1:5000", False),
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
