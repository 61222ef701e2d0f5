"""`mlops-seeds pipeline run --local DEFINITION.json`: the command line of the runner."""

from __future__ import annotations

import os
from pathlib import Path

import click

from mlops_seeds.errors import SeedsError
from mlops_seeds.failures import OneLineCommand
from mlops_seeds.local.definition import load_definition
from mlops_seeds.local.images import parse_image_map
from mlops_seeds.local.parameters import parse_pairs
from mlops_seeds.local.record import SUCCEEDED
from mlops_seeds.local.runner import run_definition
from mlops_seeds.resource_names import PIPELINE_NAME

ONLY_LOCAL = "only local runs exist yet: pass --local"


@click.group("pipeline")
def pipeline() -> None:
    """Run SageMaker pipeline definitions."""


@pipeline.command("run", cls=OneLineCommand)
@click.argument("definition", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--local", is_flag=True, help="Run on this machine (required for now).")
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a parameter."
)
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the execution record JSON here.",
)
@click.option(
    "--image-map",
    "image_map",
    multiple=True,
    metavar="URI=local|PYTHON",
    help="Run steps of image URI on this Python (local) or on the given interpreter.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the steps' folders and logs here (default: a temporary folder, removed).",
)
@click.option(
    "--pipeline-name", default="local-pipeline", show_default=True, help="Execution.PipelineName."
)
def run(
    definition: Path,
    local: bool,
    params: tuple[str, ...],
    record: Path | None,
    image_map: tuple[str, ...],
    workdir: Path | None,
    pipeline_name: str,
) -> None:
    """Run DEFINITION.json (as the SageMaker SDK writes it) step by step on this machine.

    Progress goes to stderr; exit 0 when the execution succeeds, 1 when a step fails,
    2 for bad input (nothing runs then)."""
    if not local:
        raise SeedsError(ONLY_LOCAL)
    check_pipeline_name(pipeline_name)
    if record is not None:
        check_writable(record, "--record")
    result = run_definition(
        load_definition(definition),
        parse_pairs(params),
        image_map=parse_image_map(image_map),
        workdir=workdir,
        pipeline_name=pipeline_name,
        record_path=record,
    )
    if result.status != SUCCEEDED:
        click.echo(f"mlops-seeds: execution failed: {result.failure_reason}", err=True)
        raise SystemExit(1)


def check_pipeline_name(name: str) -> None:
    """SeedsError unless `name` is a legal SageMaker pipeline name (CreatePipeline)."""
    problem = PIPELINE_NAME.violation(name)
    if problem is not None:
        raise SeedsError(f"--pipeline-name {name!r}: {problem}")


def check_writable(path: Path, option: str) -> None:
    """SeedsError unless a file can be written at `path` (its folder may be created),
    so that a run is not lost for want of a place to write its result."""
    if path.is_dir():
        raise SeedsError(f"{option} {path}: is a folder, not a file")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise SeedsError(f"{option} {path}: the file is not writable")
        return
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise SeedsError(f"{option} {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SeedsError(f"{option} {path}: cannot write in {folder}")


COMMANDS: list[click.Command] = [pipeline]
