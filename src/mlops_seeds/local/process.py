"""Run a step's command as a subprocess, its output in log files, its failure as the tail of
its stderr."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from mlops_seeds.local import container_paths
from mlops_seeds.local.context import ContainerTree, StepFailed

TAIL_LINES = 20


def run_command(
    command: list[str],
    env: Mapping[str, str | None],
    cwd: Path,
    logs: Path,
    tree: ContainerTree | None = None,
    interpreter: str | None = None,
) -> None:
    """Run `command` with this process's environment and `env` over it (None unsets a
    variable); raise StepFailed with the exit code and stderr's tail unless it exits 0.

    With a `tree` whose paths are real, the command runs with the tree at /opt/ml, in
    `cwd` as the container sees it; with an `interpreter`, `python` and `python3` on PATH
    run it."""
    logs.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = logs / "stdout.log", logs / "stderr.log"
    program = Path(command[0]).name if command else "command"
    path = os.environ.get("PATH", os.defpath)
    if tree is not None and interpreter is not None:
        shims = container_paths.interpreter_shims(tree.root / "bin", interpreter)
        path = os.pathsep.join((str(shims), path))
    if tree is not None and tree.real:
        command = container_paths.wrap(command, tree.root, tree.visible(cwd))
    merged = {**os.environ, "PATH": path, **env, "PYTHONUNBUFFERED": "1"}
    full_env = {k: v for k, v in merged.items() if v is not None}
    try:
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            code = subprocess.run(
                command, cwd=cwd, env=full_env, stdout=out, stderr=err, check=False
            ).returncode
    except OSError as error:
        raise StepFailed(f"cannot start {program}: {error.strerror}") from error
    if code != 0:
        tail = stderr_tail(stderr_path)
        raise StepFailed(f"{program} exited with code {code}" + (f":\n{tail}" if tail else ""))


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
