"""`mlops-seeds plan` and `mlops-seeds publish`: parse, call, print.

Failures (a bad manifest, AWS unreachable or refusing) end in one line and an exit code
(failures.py), also when a command is invoked without the group."""

import json
from pathlib import Path

import click

from mlops_seeds.catalog.manifest import DEFAULT_MANIFEST, Manifest, load_manifest
from mlops_seeds.errors import AwsError
from mlops_seeds.failures import OneLineCommand
from mlops_seeds.paths import repo_root

ROUTES = ("servicecatalog", "s3")


def _load(manifest_path: Path) -> tuple[Path, Manifest]:
    root = repo_root()
    path = manifest_path if manifest_path.is_absolute() else root / manifest_path
    return root, load_manifest(path, root)


_manifest_option = click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_MANIFEST,
    show_default=True,
    help="The catalog manifest.",
)
_route_option = click.option(
    "--route",
    type=click.Choice(ROUTES),
    default="servicecatalog",
    show_default=True,
    help="Publish as Service Catalog products, or as templates Studio reads from S3.",
)


@click.command(cls=OneLineCommand)
@_manifest_option
@_route_option
@click.option("--json", "as_json", is_flag=True, help='Print {"actions": [...]} instead.')
def plan(manifest_path: Path, route: str, as_json: bool) -> None:
    """Show what publish would do, from reads only (no change is made)."""

    root, manifest = _load(manifest_path)
    from mlops_seeds.catalog import publishing, report

    actions = publishing.plan(root, manifest, route)
    if as_json:
        click.echo(json.dumps({"actions": [a.as_dict() for a in actions]}, indent=2))
    else:
        report.print_plan(actions)


@click.command(cls=OneLineCommand)
@_manifest_option
@_route_option
@click.option(
    "--retire",
    is_flag=True,
    help="Also retire the portfolio's products the manifest no longer lists: take them out "
    "of the portfolio and deactivate their versions (plan lists them).",
)
def publish(manifest_path: Path, route: str, retire: bool) -> None:
    """Publish the catalog: seed bucket, products and versions, shares, spoke imports."""

    root, manifest = _load(manifest_path)
    from mlops_seeds.catalog import publishing, report

    try:
        summary = publishing.publish(root, manifest, route, progress=report.progress, retire=retire)
    except publishing.PublishFailed as err:
        # An action failed part way: told in one line, and a rerun converges.
        raise AwsError(str(err)) from err
    report.print_summary(summary)


COMMANDS: list[click.Command] = [plan, publish]
