"""Network faults and missing credentials through `plan` and `publish`, on real sockets on
loopback only: each ends in one line naming the endpoint and what to do, exit 1, within its
timeout, and nothing is written anywhere.

Endpoints in a case's env may hold {closed} (a loopback port nothing listens on) and
{silent} (a loopback port that accepts connections and never answers)."""

import dataclasses
import time
from pathlib import Path

import pytest
from harness import Case, Places, check_one_line, ids, invoke

MANIFEST = str(Path(__file__).resolve().parents[2] / "service_catalog" / "portfolio.yaml")
SECONDS = 20.0  # every case ends well within this (the silent one after its 1 s timeout)
SANDBOX_HINT = "is the sandbox running? start it with mlops-seeds sandbox"
UNSET = ""  # a variable given this value in a case's env is removed from the environment
NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": UNSET,
    "AWS_SECRET_ACCESS_KEY": UNSET,
    "AWS_SESSION_TOKEN": UNSET,
    "AWS_CONFIG_FILE": "{place}/empty-config",
    "AWS_SHARED_CREDENTIALS_FILE": "{place}/empty-credentials",
}


def _cases(command: str) -> list[Case]:
    args = [command, "--manifest", MANIFEST]
    return [
        Case(
            f"{command}-closed-port",
            args,
            f"cannot reach http://127.0.0.1:{{closed}} (connection refused): {SANDBOX_HINT}",
            1,
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:{closed}"},
        ),
        Case(
            f"{command}-closed-port-127.1",
            args,
            f"cannot reach http://127.1:{{closed}} (connection refused): {SANDBOX_HINT}",
            1,
            {"AWS_ENDPOINT_URL": "http://127.1:{closed}"},
        ),
        Case(
            f"{command}-closed-port-localhost",
            args,
            f"cannot reach http://localhost:{{closed}} (connection refused): {SANDBOX_HINT}",
            1,
            {"AWS_ENDPOINT_URL": "http://localhost:{closed}"},
        ),
        Case(
            f"{command}-silent-server",
            args,
            "no answer from http://127.0.0.1:{silent} within 1 s",
            1,
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:{silent}", "MLOPS_SEEDS_READ_TIMEOUT": "1"},
        ),
        Case(
            f"{command}-silent-server-0x7f.1",
            args,
            "no answer from http://0x7f.1:{silent} within 1 s",
            1,
            {"AWS_ENDPOINT_URL": "http://0x7f.1:{silent}", "MLOPS_SEEDS_READ_TIMEOUT": "1"},
        ),
        Case(
            f"{command}-unresolvable-host",
            args,
            "cannot reach http://mlops-seeds-nowhere.invalid:4566 (host name does not resolve): "
            "check the host name in AWS_ENDPOINT_URL",
            1,
            {"AWS_ENDPOINT_URL": "http://mlops-seeds-nowhere.invalid:4566"},
        ),
        Case(
            f"{command}-no-credentials",
            args,
            "no AWS credentials to call http://127.0.0.1:{closed}: set AWS_PROFILE",
            1,
            {**NO_CREDENTIALS, "AWS_ENDPOINT_URL": "http://127.0.0.1:{closed}"},
        ),
        Case(
            f"{command}-partial-credentials",
            args,
            "incomplete AWS credentials to call http://127.0.0.1:{closed}: "
            "Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY",
            1,
            {
                **NO_CREDENTIALS,
                "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:{closed}",
            },
        ),
        Case(
            f"{command}-unknown-profile",
            args,
            "The config profile (nobody) could not be found: check AWS_PROFILE",
            1,
            {
                **NO_CREDENTIALS,
                "AWS_PROFILE": "nobody",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:{closed}",
            },
        ),
        Case(
            f"{command}-closed-port-0.0.0.0",
            args,
            f"cannot reach http://0.0.0.0:{{closed}} (connection refused): {SANDBOX_HINT}",
            1,
            {"AWS_ENDPOINT_URL": "http://0.0.0.0:{closed}"},
        ),
        Case(
            f"{command}-endpoint-unclosed-bracket",
            args,
            "AWS_ENDPOINT_URL 'http://[::1': not a URL",
            2,
            {"AWS_ENDPOINT_URL": "http://[::1"},
        ),
        Case(
            f"{command}-endpoint-not-http",
            args,
            "AWS_ENDPOINT_URL 'file:///etc/passwd': must be http(s)://host[:port]",
            2,
            {"AWS_ENDPOINT_URL": "file:///etc/passwd"},
        ),
        Case(
            f"{command}-endpoint-port-not-a-number",
            args,
            "AWS_ENDPOINT_URL 'http://127.0.0.1:abc': not a URL",
            2,
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:abc"},
        ),
        Case(
            f"{command}-bad-read-timeout",
            args,
            "MLOPS_SEEDS_READ_TIMEOUT='soon': must be a number of seconds",
            2,
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:{closed}", "MLOPS_SEEDS_READ_TIMEOUT": "soon"},
        ),
        Case(
            f"{command}-bad-connect-timeout",
            args,
            "MLOPS_SEEDS_CONNECT_TIMEOUT='-1': must be a number of seconds",
            2,
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:{closed}", "MLOPS_SEEDS_CONNECT_TIMEOUT": "-1"},
        ),
    ]


CASES = _cases("plan") + _cases("publish")


@pytest.fixture(autouse=True)
def _fake_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials that would work, a region, no profile and no instance metadata: each
    case takes away what it tests."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_PROFILE", raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("MLOPS_SEEDS_READ_TIMEOUT", raising=False)
    monkeypatch.delenv("MLOPS_SEEDS_CONNECT_TIMEOUT", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_network_fault_is_one_line(
    case: Case,
    places: Places,
    monkeypatch: pytest.MonkeyPatch,
    closed_port: int,
    silent_port: int,
) -> None:
    ports = {"{closed}": str(closed_port), "{silent}": str(silent_port)}

    def fill(text: str) -> str:
        for mark, port in ports.items():
            text = text.replace(mark, port)
        return text

    for name in ("empty-config", "empty-credentials"):
        (places.place / name).write_text("")
    for name, value in case.env.items():
        if value == UNSET:
            monkeypatch.delenv(name, raising=False)
    case = dataclasses.replace(
        case,
        expect=fill(case.expect),
        env={name: fill(value) for name, value in case.env.items() if value != UNSET},
    )
    started = time.monotonic()
    result = invoke(places, case, monkeypatch)
    assert time.monotonic() - started < SECONDS
    check_one_line(result, case, places)
    assert result.stdout == ""
    assert sorted(p.name for p in places.place.iterdir()) == ["empty-config", "empty-credentials"]
