"""One bash process per build that runs the buildspec's commands one at a time, keeping
shell state (variables, functions, options, working directory) from one command to the
next as buildspec version 0.2 does; build_shell.sh says how."""

import contextlib
import os
import re
import select
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

DRIVER = Path(__file__).with_name("build_shell.sh")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CommandTimeout(TimeoutError):
    """A command was still running when the build's time ran out."""


class BuildShell:
    """A bash process in `cwd` with environment `env`, writing its output to `log`.

    Use as a context manager; `run(command)` returns the command's exit status."""

    def __init__(self, cwd: Path, env: dict[str, str], log: IO[bytes], scratch: Path) -> None:
        self._log = log
        self._scratch = scratch
        self._count = 0
        scratch.mkdir(parents=True, exist_ok=True)
        commands_read, self._commands = os.pipe()
        self._status, status_write = os.pipe()
        self._process = subprocess.Popen(
            [
                "bash",
                str(DRIVER),
                str(scratch / "state.sh"),
                str(commands_read),
                str(status_write),
            ],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(commands_read, status_write),
            start_new_session=True,
        )
        os.close(commands_read)
        os.close(status_write)
        self._replies = os.fdopen(self._status, "rb", buffering=0)

    def run(self, command: str, timeout: float | None = None) -> int:
        """Run `command` in the build's shell; its exit status. CommandTimeout after
        `timeout` seconds (the shell is then killed)."""
        self._count += 1
        script = self._scratch / f"command-{self._count}.sh"
        script.write_text(command + "\n")
        self._log.flush()
        os.write(self._commands, f"{script}\n".encode())
        reply = self._read_reply(timeout)
        return int(reply)

    def _read_reply(self, timeout: float | None) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._replies], [], [], left)
            if not ready:
                self.kill()
                raise CommandTimeout(f"command still running after {timeout:.0f} s")
            chunk = self._replies.read(1)
            if not chunk:
                raise RuntimeError("the build shell ended unexpectedly")
            line += chunk
        return line.decode().strip()

    def values(self, names: list[str]) -> dict[str, str]:
        """The current values of the shell variables `names` that are set."""
        wanted = [n for n in names if _NAME.match(n)]
        if not wanted:
            return {}
        target = self._scratch / "values.bin"
        target.unlink(missing_ok=True)
        self.run(
            f"for __cb_n in {' '.join(wanted)}; do "
            '[ -n "${!__cb_n+x}" ] && printf \'%s\\0%s\\0\' "$__cb_n" "${!__cb_n}"; '
            f"done > {target}; true"
        )
        fields = target.read_bytes().split(b"\0")[:-1] if target.exists() else []
        return {
            fields[i].decode(): fields[i + 1].decode(errors="replace")
            for i in range(0, len(fields) - 1, 2)
        }

    def kill(self) -> None:
        """Kill the shell and everything it started."""
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def close(self) -> None:
        """End the shell: no more commands; kill what is left after a short grace."""
        with contextlib.suppress(OSError):
            os.close(self._commands)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        # What the build left running in the background goes with it, as with its container.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._replies.close()

    def __enter__(self) -> "BuildShell":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
