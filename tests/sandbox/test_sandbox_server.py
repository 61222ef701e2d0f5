"""The sandbox server: environment, ports, reset, accounts, the installed extension."""

import os
import socket
from typing import Any

import botocore.session
import pytest
from accounts import member_admin
from moto.core.utils import camelcase_to_underscores
from moto.servicecatalog.responses import ServiceCatalogResponse

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.catalog import install, installed, operations


def test_env_points_everything_at_the_sandbox(sandbox: Sandbox) -> None:
    env = sandbox.env()
    assert env["AWS_ENDPOINT_URL"] == sandbox.endpoint_url
    assert sandbox.endpoint_url.startswith("http://127.0.0.1:")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert env["AWS_SESSION_TOKEN"] is None and env["AWS_PROFILE"] is None
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"]
    assert aws.targets_loopback()


def test_per_service_endpoint_overrides_are_unset(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://example.invalid")
    assert sandbox.env()["AWS_ENDPOINT_URL_S3"] is None


def test_a_developer_profile_does_not_leak_in(
    sandbox: Sandbox, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIAREALREALREALREAL\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    for name, value in sandbox.env().items():
        if value is not None:
            monkeypatch.setenv(name, value)
    key = aws.make_session().get_credentials().access_key
    assert key == sandbox.env()["AWS_ACCESS_KEY_ID"]


def test_reset_forgets_everything(sandbox: Sandbox) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="before-reset")
    sandbox.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_sts_assume_role_lands_in_the_other_account(sandbox: Sandbox) -> None:
    hub = aws.make_session()
    spoke = member_admin("111111111111")
    assert aws.account_id(spoke) == "111111111111"
    assert aws.account_id(hub) != "111111111111"
    aws.client("s3", spoke).create_bucket(Bucket="spoke-bucket")
    hub_portfolios = aws.client("servicecatalog", hub)
    hub_portfolios.create_portfolio(DisplayName="hub", ProviderName="p")
    assert aws.client("servicecatalog", spoke).list_portfolios()["PortfolioDetails"] == []
    identity = aws.client("sts", spoke).get_caller_identity()
    assert identity["Arn"].startswith(
        "arn:aws:sts::111111111111:assumed-role/OrganizationAccountAccessRole/"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_second_sandbox_in_the_process_is_refused_and_frees_its_port(sandbox: Sandbox) -> None:
    port = _free_port()
    serving = f"already serves in this process at {sandbox.endpoint_url}"
    with pytest.raises(SeedsError, match=serving):
        Sandbox(port=port).start()
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the refused sandbox closed its socket
    assert sandbox.workdir.is_dir()


def test_a_busy_port_is_one_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(SeedsError, match=f"--port {port}: cannot listen on 127.0.0.1:{port}"):
            Sandbox(port=port).start()


def test_an_impossible_port_is_refused() -> None:
    with pytest.raises(SeedsError, match="--port 70000"):
        Sandbox(port=70000)


def test_the_extension_installs_once_and_names_real_operations(sandbox: Sandbox) -> None:
    install()
    install()
    assert installed()
    model = botocore.session.get_session().get_service_model("servicecatalog")
    for name in operations():
        assert name in model.operation_names
        assert callable(getattr(ServiceCatalogResponse, camelcase_to_underscores(name)))


def test_environment_points_the_process_at_the_sandbox_then_restores_it(
    _sandbox_server: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "mine")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://elsewhere.example.com")
    with _sandbox_server.environment():
        assert os.environ["AWS_ENDPOINT_URL"] == _sandbox_server.endpoint_url
        assert "AWS_PROFILE" not in os.environ
    assert os.environ["AWS_PROFILE"] == "mine"
    assert os.environ["AWS_ENDPOINT_URL"] == "https://elsewhere.example.com"
