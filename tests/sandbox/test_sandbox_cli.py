"""`mlops-seeds sandbox`: export lines first, foreground until SIGTERM, busy port = exit 2."""

import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlops_seeds import aws
from mlops_seeds.sandbox.cli import COMMANDS, sandbox, shell_lines, write_private

LAUNCH = "from mlops_seeds.sandbox.cli import sandbox; sandbox()"


def test_a_busy_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(sandbox, ["--port", str(port)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"mlops-seeds: error: --port {port}: cannot listen")


def test_the_env_file_exists_only_while_serving(tmp_path: Path) -> None:
    env_file = tmp_path / "sandbox.env"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--env-file", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        printed = [process.stdout.readline() for _ in range(9)]
        written = env_file.read_text().splitlines(keepends=True)
        mode = env_file.stat().st_mode & 0o777
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert written == printed and written[-1].startswith("unset ")
    assert mode == 0o600
    assert not env_file.exists()


def test_a_failed_start_writes_no_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "sandbox.env"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(sandbox, ["--port", str(port), "--env-file", str(env_file)])
    assert result.exit_code == 2
    assert not env_file.exists()


def test_shell_lines_quote_values_and_unset_the_rest() -> None:
    lines = shell_lines({"A": "x y", "B": None, "C": "$HOME", "D": None})
    assert lines == ["export A='x y'", "export C='$HOME'", "unset B D"]


def test_commands_are_exposed() -> None:
    assert [c.name for c in COMMANDS] == ["sandbox"]


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        ([], "; IAM enforced;"),
        (["--no-enforce-iam"], "; IAM NOT enforced (--no-enforce-iam): calls AWS would refuse"),
    ],
)
def test_runs_in_the_foreground_after_printing_the_exports(
    flags: list[str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--region", "eu-west-1", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        exports: dict[str, str] = {}
        for line in process.stdout:
            if line.startswith("unset "):
                unset = line.split()[1:]
                break
            words = shlex.split(line)
            assert words[0] == "export"
            name, _, value = words[1].partition("=")
            exports[name] = value
        assert "AWS_SESSION_TOKEN" in unset
        assert exports["AWS_REGION"] == exports["AWS_DEFAULT_REGION"] == "eu-west-1"
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        for name, value in exports.items():
            monkeypatch.setenv(name, value)
        for name in unset:
            monkeypatch.delenv(name, raising=False)
        assert aws.account_id(aws.make_session()).isdigit()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert says in stderr.splitlines()[0]
    assert "sandbox stopped" in stderr


def test_the_env_file_is_private_whatever_was_planted_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "sandbox.env"
    planted = tmp_path / f".{target.name}.{os.getpid()}"
    planted.write_text("planted\n")
    planted.chmod(0o644)

    write_private(target, "export AWS_SECRET_ACCESS_KEY=s3cr3t\n")

    assert target.stat().st_mode & 0o777 == 0o600
    assert planted.read_text() == "planted\n"
    assert target.read_text() == "export AWS_SECRET_ACCESS_KEY=s3cr3t\n"


@pytest.mark.parametrize("scale", ["0.5", "4000"])
def test_a_time_scale_out_of_range_is_one_line_and_exit_2(scale: str) -> None:
    result = CliRunner().invoke(sandbox, ["--time-scale", scale])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"mlops-seeds: error: --time-scale {float(scale):g}: must be from 1 to 3600"
    )
