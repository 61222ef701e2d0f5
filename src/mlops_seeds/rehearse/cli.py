"""`mlops-seeds rehearse`: the whole life of a project on the embedded sandbox."""

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from mlops_seeds.errors import SeedsError
from mlops_seeds.names import check_project_name
from mlops_seeds.rehearse import flow, kept
from mlops_seeds.rehearse.approvals import ask_on_terminal
from mlops_seeds.rehearse.scenarios import SCENARIOS
from mlops_seeds.rehearse.summary import summary_lines
from mlops_seeds.sandbox.cli import shell_lines
from mlops_seeds.sandbox.server import Sandbox, check_port


def ask_decision(package: dict[str, Any]) -> str:
    """The reviewer's decision on a model package, asked on the terminal."""
    arn = package["ModelPackageArn"]
    approved = click.confirm(f"    Approve model package {arn}?", default=True)
    return "Approved" if approved else "Rejected"


def _wait_for_interrupt(kept_session: kept.KeptSession | None) -> None:
    """Until Ctrl-C (or SIGTERM): the kept session plays the project's schedules and alarms.
    A pipeline run under way ends first; a second Ctrl-C stops at once."""
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            raise KeyboardInterrupt  # the second: now, whatever runs
        stopping.set()
        if kept_session is not None:
            click.echo("# stopping once what runs now ends; Ctrl-C again stops at once", err=True)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if kept_session is None:
            while not stopping.wait(0.5):
                pass
        else:
            kept_session.play(stopping)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("rehearse")
@click.option(
    "--scenario",
    type=click.Choice(sorted(SCENARIOS)),
    default="happy",
    show_default=True,
    help="The story: happy, or a gate that must hold (see the README).",
)
@click.option(
    "--product",
    "product_key",
    default=None,
    show_default="build-deploy; build-deploy-classification for canary-rollback",
    help="Key of the catalog product the scientist launches.",
)
@click.option(
    "--project-name", default="rehearsal", show_default=True, help="Name of the SageMaker project."
)
@click.option(
    "--project-roles",
    type=click.Choice(flow.PROJECT_ROLES),
    default="created",
    show_default=True,
    help="created: the template makes the project's roles, launched by the mlops-seeds launch "
    "role; aws-managed: the project uses the roles SageMaker creates when projects are enabled "
    "and launches with SageMaker's launch role (UseAwsManagedProjectRoles=true).",
)
@click.option(
    "--interactive",
    is_flag=True,
    help="Ask for the model package decision and each manual approval.",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Leave the sandbox and the project running afterwards (until Ctrl-C) and print "
    "the sandbox's environment; without it the scientist deletes the project at the end.",
)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where repositories, builds and artifacts go (kept); default a temporary "
    "directory, removed unless --keep.",
)
@click.option(
    "--port",
    type=int,
    default=0,
    show_default="a free port",
    help="Port of the sandbox on 127.0.0.1.",
)
def rehearse(
    scenario: str,
    product_key: str | None,
    project_name: str,
    project_roles: str,
    interactive: bool,
    keep: bool,
    workdir: Path | None,
    port: int,
) -> None:
    """Rehearse the life of a project offline: publish the catalog, launch a project,
    push, build and register a model, review it, deploy it to staging and production.

    Exits 0 when the project ends as the scenario says it must, 1 otherwise.
    """
    check_port(port)  # refused before anything is read or started
    check_project_name(project_name, "--project-name")
    options = flow.Options(
        scenario=SCENARIOS[scenario],
        product_key=product_key,
        project_name=project_name,
        project_roles=project_roles,
        workdir=workdir,
        port=port,
        approver=ask_on_terminal if interactive else None,
        decide=ask_decision if interactive else None,
        delete_project=not keep,
    )
    plan = flow.prepare(options)
    directory = flow.workdir_for(options)
    try:
        sandbox = Sandbox(  # the rehearsal always enforces IAM
            port=port, workdir=directory / "sandbox", enforce_iam=True
        ).start()
    except SeedsError:
        if workdir is None:
            flow.clean(directory)
        raise
    click.echo(f"Rehearsing {scenario!r}: {options.scenario.summary}")
    click.echo(f"sandbox {sandbox.endpoint_url}, working directory {directory}")
    passed = False
    try:
        with sandbox.environment():
            report = flow.run(options, plan, click.echo, sandbox, directory)
            for line in summary_lines(report):
                click.echo(line)
            if workdir is None and not keep:
                click.echo("  (removed on exit: --keep or --workdir DIR keeps them)")
            passed = report.passed
            if report.trace and click.get_current_context().find_root().params.get("debug"):
                click.echo(report.trace, err=True)
            if keep:
                for line in shell_lines(sandbox.env()):
                    click.echo(line)
                click.echo(f"# sandbox kept at {sandbox.endpoint_url}; Ctrl-C stops it", err=True)
                runs = report.runs
                _wait_for_interrupt(kept.KeptSession(runs, click.echo) if runs else None)
    finally:
        sandbox.stop()
        if workdir is None and not keep:
            flow.clean(directory)
    if not passed:
        raise SystemExit(1)


COMMANDS: list[click.Command] = [rehearse]
