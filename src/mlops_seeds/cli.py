"""The `mlops-seeds` command line: parse, call, print."""

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from mlops_seeds import __version__
from mlops_seeds.catalog import template_parts
from mlops_seeds.errors import SeedsError
from mlops_seeds.failures import guarded_context, guarded_invoke
from mlops_seeds.paths import repo_root
from mlops_seeds.seeds import bake, get_seed, load_seeds, parse_settings
from mlops_seeds.validate import summarize, validate_paths, validate_repo

# Commands of heavier packages, imported only when used: command name -> module whose
# COMMANDS list holds it.
LAZY_COMMANDS = {
    "plan": "mlops_seeds.catalog.cli",
    "publish": "mlops_seeds.catalog.cli",
    "pipeline": "mlops_seeds.local.cli",
    "projects": "mlops_seeds.projects_cli",
    "rehearse": "mlops_seeds.rehearse.cli",
    "sandbox": "mlops_seeds.sandbox.cli",
}


class _Group(click.Group):
    """Loads the lazy commands on demand; ends every command's failure (and a usage error)
    in one line on stderr with its exit code (see failures.py), tracebacks only with
    --debug."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module = importlib.import_module(LAZY_COMMANDS[name])
            command: click.Command = next(c for c in module.COMMANDS if c.name == name)
            return command
        return super().get_command(ctx, name)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return guarded_context(super().make_context, info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> object:
        return guarded_invoke(super().invoke, ctx)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="mlops-seeds")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def cli(debug: bool) -> None:
    """SageMaker Pipelines project seeds: render, check, run locally and publish them."""


@cli.command("seeds")
def list_seeds() -> None:
    """List the seeds of the repository."""
    for seed in load_seeds(repo_root()).values():
        click.echo(f"{seed.name:14} {seed.description or seed.title}")


@cli.command()
@click.argument("seed")
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create the repo.",
)
@click.option("--no-input", is_flag=True, help="Take defaults instead of prompting.")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="Set a seed option.")
def new(seed: str, output_dir: Path, no_input: bool, pairs: tuple[str, ...]) -> None:
    """Render SEED (e.g. model-build) into a new git repo folder, buildspecs included."""
    root = repo_root()
    settings = parse_settings(pairs)
    chosen = get_seed(root, seed)
    repo = bake(root, chosen, output_dir, settings, no_input=no_input)
    click.echo(str(repo))


@cli.command()
@click.argument(
    "repo", default=Path("."), type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@click.option("--check", is_flag=True, help="Exit 1 when the repo is behind its seed (for CI).")
@click.option("--diff", "show_diff", is_flag=True, help="Show what would change; change nothing.")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="Change a seed option.")
@click.option(
    "--branch",
    is_flag=True,
    help="Commit the update on a new branch seed-update/<seed>-<version> for review.",
)
@click.option("--push", is_flag=True, help="With --branch: push the branch to origin.")
def update(
    repo: Path, check: bool, show_diff: bool, pairs: tuple[str, ...], branch: bool, push: bool
) -> None:
    """Update REPO (default: here), rendered from a seed, to the seed as it is now: a
    three-way merge keeping the repo's own edits; conflicts are left with git's markers and
    listed (exit 1). The work tree must be clean; nothing is committed, unless --branch
    offers the update as a commit on a branch of its own."""
    from mlops_seeds import seed_update  # its git and rendering only when asked

    if push and not branch:
        raise SeedsError("--push: only with --branch (update never pushes the branch you are on)")
    settings = parse_settings(pairs)
    root = repo_root()
    if check:
        versions = seed_update.behind(root, repo, settings)
        if versions:
            click.echo(f"{repo}: behind its seed: {versions[0]} -> {versions[1]}")
            sys.exit(1)
        click.echo(f"{repo}: up to date with its seed")
        return
    if not show_diff:
        seed_update.check_clean(repo)
    update_plan = seed_update.plan(root, repo, settings)
    before, after = update_plan.before, update_plan.after
    if show_diff:
        click.echo(seed_update.diff(update_plan), nl=False)
        return
    if not update_plan.behind:
        click.echo(f"{repo}: up to date with seed {after.seed} {after.version}")
        return
    if branch:
        name = seed_update.offer(update_plan, push=push)
        where = " and pushed to origin" if push else ""
        click.echo(
            f"{repo}: seed {after.seed} {before.version} -> {after.version} committed on "
            f"{name}{where} ({len(update_plan.changes)} files changed)"
        )
        return
    seed_update.apply(update_plan)
    for change in update_plan.changes:
        click.echo(change.line())
    conflicts = update_plan.conflicts
    click.echo(
        f"{repo}: seed {after.seed} {before.version} -> {after.version}: "
        f"{len(update_plan.changes)} files changed, {len(conflicts)} conflicts; review and commit"
    )
    if conflicts:
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Lint CloudFormation templates (cfn-lint), check buildspecs and derived name lengths.

    Without PATHS: the repository's templates/, buildspecs/ and the templates the seeds
    render. One line per finding; exit 1 when there is any."""
    root = repo_root()
    progress = _progress if sys.stderr.isatty() else _quiet
    findings = validate_paths(root, paths, progress) if paths else validate_repo(root, progress)
    for finding in findings:
        click.echo(str(finding))
    if findings:
        counts = ", ".join(f"{rule}: {n}" for rule, n in sorted(summarize(findings).items()))
        click.echo(f"{len(findings)} finding(s) ({counts})", err=True)
        sys.exit(1)
    click.echo("no findings", err=True)


@cli.command("template")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write it to this file instead of standard output.",
)
def template(path: Path, output: Path | None) -> None:
    """Print the CloudFormation template Studio receives for the product template PATH:
    a template made of parts (templates/parts/) assembled, any other printed as it is."""
    text = template_parts.template_text(*template_parts.base_of(path, repo_root()))
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text)
    except OSError as err:
        raise SeedsError(f"--output {output}: cannot write it ({err.strerror})") from None


def _progress(label: str) -> None:
    click.echo(f"checking {label}", err=True)


def _quiet(_: str) -> None:
    return None


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="mlops-seeds")
