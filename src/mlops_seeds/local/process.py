"""Run a step's command as a subprocess, its output in log files, its failure as the tail of
its stderr."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from mlops_seeds.local.context import StepFailed

TAIL_LINES = 20


def run_command(command: list[str], env: Mapping[str, str | None], cwd: Path, logs: Path) -> None:
    """Run `command` with this process's environment and `env` over it (None unsets a
    variable); raise StepFailed with the exit code and stderr's tail unless it exits 0."""
    logs.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = logs / "stdout.log", logs / "stderr.log"
    merged = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    full_env = {k: v for k, v in merged.items() if v is not None}
    try:
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            code = subprocess.run(
                command, cwd=cwd, env=full_env, stdout=out, stderr=err, check=False
            ).returncode
    except OSError as error:
        raise StepFailed(f"cannot start {command[0]}: {error.strerror}") from error
    if code != 0:
        tail = stderr_tail(stderr_path)
        raise StepFailed(
            f"{Path(command[0]).name} exited with code {code}" + (f":\n{tail}" if tail else "")
        )


def stderr_tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log file."""
    text = path.read_text(errors="replace").rstrip()
    return "\n".join(text.splitlines()[-lines:])


def read_logs(logs: Path) -> str:
    """stdout then stderr of a finished command (for metric definitions)."""
    return "\n".join(
        (logs / name).read_text(errors="replace")
        for name in ("stdout.log", "stderr.log")
        if (logs / name).is_file()
    )
