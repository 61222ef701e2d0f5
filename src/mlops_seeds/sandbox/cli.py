"""`mlops-seeds sandbox`: the sandbox in the foreground, after the lines pointing at it."""

import shlex
import signal
import threading
from types import FrameType

import click

from mlops_seeds.aws import DEFAULT_REGION
from mlops_seeds.errors import SeedsError
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


@click.command("sandbox")
@click.option("--port", type=int, default=0, show_default="a free port", help="Port on 127.0.0.1.")
@click.option(
    "--region", default=DEFAULT_REGION, show_default=True, help="Region of the env lines."
)
def sandbox(port: int, region: str) -> None:
    """Run the AWS sandbox (moto with the mlops-seeds extensions) until Ctrl-C or SIGTERM.

    First prints the shell lines that point boto3, the AWS CLI and mlops-seeds at it:
    eval them in another shell. Stopping forgets every resource.
    """
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    try:
        server = Sandbox(port=port, region=region, log_requests=True).start()
    except SeedsError as err:  # the same one line and exit code as the main command group
        click.echo(f"mlops-seeds: error: {err}", err=True)
        raise SystemExit(2) from err
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for line in shell_lines(server.env()):
            click.echo(line)
        click.echo(f"# sandbox at {server.endpoint_url}; Ctrl-C stops it", err=True)
        while not stopping.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
        click.echo("# sandbox stopped", err=True)


COMMANDS: list[click.Command] = [sandbox]
