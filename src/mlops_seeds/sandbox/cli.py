"""`mlops-seeds sandbox`: the sandbox in the foreground, after the lines pointing at it."""

import os
import re
import shlex
import signal
import tempfile
import threading
from pathlib import Path
from types import FrameType

import click

from mlops_seeds.aws import DEFAULT_REGION
from mlops_seeds.errors import SeedsError
from mlops_seeds.failures import OneLineCommand
from mlops_seeds.names import check_region
from mlops_seeds.sandbox.server import Sandbox


def shell_lines(env: dict[str, str | None]) -> list[str]:
    """`export NAME=value` (shell-quoted) for each set variable, `unset NAME` for the others."""
    lines = [
        f"export {name}={shlex.quote(value)}" for name, value in env.items() if value is not None
    ]
    unset = [name for name, value in env.items() if value is None]
    if unset:
        lines.append("unset " + " ".join(unset))
    return lines


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def check_origin(origin: str) -> None:
    """SeedsError unless `origin` is one scheme://host[:port] (no wildcard, no path)."""
    if not _ORIGIN.fullmatch(origin):
        raise SeedsError(
            f"--cors-origin {origin!r}: must be one origin, scheme://host[:port] "
            "(http or https, no wildcard, no path)"
        )


def check_env_file(path: Path) -> None:
    """SeedsError unless `path` can be written: its folder exists and it is not a folder."""
    if path.is_dir():
        raise SeedsError(f"--env-file {path}: is a directory")
    if not path.parent.is_dir():
        raise SeedsError(f"--env-file {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise SeedsError(f"--env-file {path}: folder {path.parent} is not writable")


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by this user only (it holds the sandbox's secret),
    all at once: the file appears complete or not at all. The scratch file is new (O_EXCL,
    mode 0600), so nothing planted beside it can widen its mode or redirect it."""
    descriptor, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


@click.command("sandbox", cls=OneLineCommand)
@click.option("--port", type=int, default=0, show_default="a free port", help="Port on 127.0.0.1.")
@click.option(
    "--region", default=DEFAULT_REGION, show_default=True, help="Region of the env lines."
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A browser origin (scheme://host[:port]) given a CORS allowance; none by default.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the lines to FILE (mode 0600) once serving; removed at stop.",
)
@click.option(
    "--enforce-iam/--no-enforce-iam",
    default=True,
    show_default=True,
    help="Evaluate IAM as AWS does, for every request and for the services acting as their "
    "roles (--no-enforce-iam: for quick experiments only).",
)
@click.option(
    "--time-scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Run the sandbox's clock this many times faster than the wall clock (1 to 3600): "
    "alarm periods and deployment baking periods pass sooner.",
)
def sandbox(
    port: int,
    region: str,
    cors_origins: tuple[str, ...],
    env_file: Path | None,
    enforce_iam: bool,
    time_scale: float,
) -> None:
    """Run the AWS sandbox (moto with the mlops-seeds extensions) until Ctrl-C or SIGTERM.

    First prints the shell lines that point boto3, the AWS CLI and mlops-seeds at it:
    eval them in another shell. Only clients signing with those credentials (made anew at
    each start) are served. --env-file FILE exists only while the sandbox serves, so
    `. FILE && ...` cannot fall through to a real AWS account. Stopping forgets every
    resource.
    """
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    check_region(region)
    for origin in cors_origins:
        check_origin(origin)
    if env_file is not None:
        check_env_file(env_file)
    server = Sandbox(
        port=port,
        region=region,
        log_requests=True,
        cors_origins=cors_origins,
        enforce_iam=enforce_iam,
        time_scale=time_scale,
    ).start()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        lines = shell_lines(server.env())
        if env_file is not None:
            write_private(env_file, "".join(f"{line}\n" for line in lines))
        iam = (
            "IAM enforced"
            if enforce_iam
            else "IAM NOT enforced (--no-enforce-iam): calls AWS would refuse succeed here"
        )
        click.echo(f"# sandbox at {server.endpoint_url}; {iam}; Ctrl-C stops it", err=True)
        for line in lines:
            click.echo(line)
        while not stopping.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
        if env_file is not None:
            env_file.unlink(missing_ok=True)
        click.echo("# sandbox stopped", err=True)


COMMANDS: list[click.Command] = [sandbox]
