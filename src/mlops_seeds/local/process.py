"""Run a step's command as a subprocess, its output in log files, its failure as the tail of
its stderr."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from mlops_seeds.local import container_paths, step_python
from mlops_seeds.local.context import ContainerTree, StepFailed
from mlops_seeds.local.images import localize_command

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

    With a `tree` and the image's `interpreter`, the command runs in the step's own Python
    environment (`python`/`python3` as its first word, and on PATH, are that environment's);
    with a `tree` whose paths are real, with the tree at /opt/ml, in `cwd` as the container
    sees it."""
    logs.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = logs / "stdout.log", logs / "stderr.log"
    program = Path(command[0]).name if command else "command"
    path = os.environ.get("PATH", os.defpath)
    if tree is not None and interpreter is not None:
        bin_dir = step_environment(tree, interpreter)
        path = step_python.path_with(bin_dir)
        command = localize_command(command, str(bin_dir / "python"))
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


def step_environment(tree: ContainerTree, interpreter: str) -> Path:
    """The step's Python environment (made on first use); its `bin` folder."""
    folder = tree.root / "python"
    if (folder / "bin" / "python").exists():
        return folder / "bin"
    return step_python.create(folder, interpreter)
