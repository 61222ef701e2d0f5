"""`mlops-seeds projects`: the SageMaker projects of an account with their product and
artifact, and `projects upgrade NAME`: the plan (the stack's changes), then the update to
the newest (or a given) artifact through SageMaker UpdateProject."""

import sys
import tempfile
from pathlib import Path

import boto3
import click

from mlops_seeds import aws, projects
from mlops_seeds.paths import repo_root


def _session(role: str | None) -> boto3.Session:
    session = aws.make_session()
    return aws.assume_role(session, role, "mlops-seeds-projects") if role else session


_ROLE = click.option(
    "--role",
    metavar="ARN",
    help="Assume this role first (e.g. an admin role of the spoke the projects are in).",
)


@click.group(invoke_without_command=True)
@_ROLE
@click.pass_context
def projects_group(ctx: click.Context, role: str | None) -> None:
    """List the SageMaker projects of the account: product, provisioning artifact and the
    product's newest active artifact ("behind" when the project is not at it)."""
    ctx.ensure_object(dict)
    ctx.obj["role"] = role
    if ctx.invoked_subcommand is not None:
        return
    found = projects.list_projects(_session(role))
    if not found:
        click.echo("no projects")
        return
    click.echo(f"{'PROJECT':24} {'STATUS':16} {'PRODUCT':32} {'ARTIFACT':20} NEWEST")
    for item in found:
        newest = item.newest_name + (" (behind)" if item.behind else "")
        click.echo(
            f"{item.name:24} {item.status:16} {item.product_name:32} {item.artifact_name:20} "
            f"{newest}"
        )


@projects_group.command("upgrade")
@click.argument("name")
@click.option("--artifact", default="", metavar="ID", help="Artifact id (default: the newest).")
@click.option("--plan-only", is_flag=True, help="Show the plan; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before updating.")
@click.option(
    "--offer-seed-updates",
    is_flag=True,
    help="After the update, push each repository behind its seed a seed-update/ branch.",
)
@_ROLE
@click.pass_context
def upgrade(
    ctx: click.Context,
    name: str,
    artifact: str,
    plan_only: bool,
    yes: bool,
    offer_seed_updates: bool,
    role: str | None,
) -> None:
    """Show the stack changes upgrading project NAME would make (a CloudFormation change set,
    deleted after), then update it (SageMaker UpdateProject) unless --plan-only; a failed
    update is said with its reason (the stack rolled back) and exits 1. With
    --offer-seed-updates, each of the project's repositories behind its seed (in the seeds
    repository here) then gets the update on a branch pushed to it, for review."""
    session = _session(role or ctx.obj.get("role"))
    planned = projects.plan(session, name, artifact)
    project = planned.project
    click.echo(
        f"project {name}: {project.product_name} {project.artifact_name} -> "
        f"{planned.target_name} (stack {planned.stack})"
    )
    if not planned.changes:
        click.echo("  no resource changes")
    for change in planned.changes:
        replacement = f" (replacement: {change['Replacement']})" if change["Replacement"] else ""
        click.echo(
            f"  {change['Action']:8} {change['LogicalResourceId']} "
            f"{change['ResourceType']}{replacement}"
        )
    if plan_only:
        return
    if planned.target_id == project.artifact_id:
        click.echo(f"project {name} is at {planned.target_name} already")
        return
    if not yes and not click.confirm(f"Update {name} to {planned.target_name}?", default=False):
        click.echo("not updated")
        return
    try:
        status = projects.upgrade(session, planned, echo=click.echo)
    except projects.UpgradeFailed as failed:  # a result, not bad input: exit 1
        click.echo(f"mlops-seeds: error: {failed}", err=True)
        sys.exit(1)
    click.echo(f"project {name}: {status} at {planned.target_name}")
    if offer_seed_updates:
        with tempfile.TemporaryDirectory(prefix="mlops-seeds-offer-") as scratch:
            offered = projects.offer_seed_updates(session, name, repo_root(), Path(scratch))
        for label, branch in offered.branches.items():
            changes = "; ".join(offered.changes.get(label, []))
            click.echo(
                f"  {label}: " + (f"{branch} pushed ({changes})" if branch else "up to date")
            )


projects_group.name = "projects"
COMMANDS = [projects_group]
