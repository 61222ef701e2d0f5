"""`mlops-seeds plan` and `mlops-seeds publish`: parse, call, print."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mlops_seeds.catalog.manifest import DEFAULT_MANIFEST, Manifest, ManifestError, load_manifest
from mlops_seeds.errors import SeedsError
from mlops_seeds.paths import repo_root

ROUTES = ("servicecatalog", "s3")


def _fail(err: SeedsError) -> None:
    lines = err.errors if isinstance(err, ManifestError) else str(err).splitlines() or [""]
    prefix = f"{err.path}: " if isinstance(err, ManifestError) else ""
    for line in lines:
        click.echo(f"mlops-seeds: error: {prefix}{line}", err=True)
    raise SystemExit(2)


def _guarded(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except SeedsError as err:
        _fail(err)


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


@click.command()
@_manifest_option
@_route_option
@click.option("--json", "as_json", is_flag=True, help='Print {"actions": [...]} instead.')
def plan(manifest_path: Path, route: str, as_json: bool) -> None:
    """Show what publish would do, from reads only (no change is made)."""

    def run() -> None:
        root, manifest = _load(manifest_path)
        from mlops_seeds.catalog import publishing, report

        actions = publishing.plan(root, manifest, route)
        if as_json:
            click.echo(json.dumps({"actions": [a.as_dict() for a in actions]}, indent=2))
        else:
            report.print_plan(actions)

    _guarded(run)


@click.command()
@_manifest_option
@_route_option
def publish(manifest_path: Path, route: str) -> None:
    """Publish the catalog: seed bucket, products and versions, shares, spoke imports."""

    def run() -> None:
        root, manifest = _load(manifest_path)
        from mlops_seeds.catalog import publishing, report

        try:
            summary = publishing.publish(root, manifest, route, progress=report.progress)
        except publishing.PublishFailed as err:
            click.echo(f"mlops-seeds: error: {err}", err=True)
            raise SystemExit(1) from None
        report.print_summary(summary)

    _guarded(run)


COMMANDS: list[click.Command] = [plan, publish]
