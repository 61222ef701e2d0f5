"""Render a seed with cookiecutter, then copy in the buildspecs it names."""

import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cookiecutter.exceptions import CookiecutterException, FailedHookException
from cookiecutter.main import cookiecutter

from mlops_seeds.errors import SeedsError
from mlops_seeds.names import check_project_id, check_project_name

INDEX = Path("seed_code") / "cookiecutter.json"
BUILDSPECS = Path("buildspecs")


@dataclass(frozen=True)
class Seed:
    """One cookiecutter template of the index and its cookiecutter.json."""

    name: str
    path: Path
    title: str
    description: str
    context: Mapping[str, Any]

    @property
    def options(self) -> dict[str, Any]:
        """The variables a user may set: neither private (`_x`) nor derived (`__x`)."""
        return {k: v for k, v in self.context.items() if not k.startswith("_")}

    @property
    def buildspecs(self) -> dict[str, str]:
        """buildspecs/ file name -> path inside the rendered repo."""
        return dict(self.context.get("_buildspecs", {}))

    @property
    def unsupported(self) -> list[dict[str, Any]]:
        """Option combinations the seed refuses; each entry may carry a `reason`."""
        return list(self.context.get("_unsupported", []))

    def defaults(self) -> dict[str, str]:
        """The value cookiecutter takes with --no-input for each option."""
        return {k: str(v[0] if isinstance(v, list) else v) for k, v in self.options.items()}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SeedsError(f"{path}: cannot read JSON: {err}") from err


def load_seeds(root: Path) -> dict[str, Seed]:
    """The seeds listed in seed_code/cookiecutter.json, by name."""
    index = _read_json(root / INDEX).get("templates", {})
    seeds = {}
    for name, entry in index.items():
        path = (root / INDEX).parent / entry["path"]
        seeds[name] = Seed(
            name=name,
            path=path.resolve(),
            title=entry.get("title", name),
            description=entry.get("description", ""),
            context=_read_json(path / "cookiecutter.json"),
        )
    return seeds


def get_seed(root: Path, name: str) -> Seed:
    """The seed called `name`, or a SeedsError listing the known ones."""
    seeds = load_seeds(root)
    if name not in seeds:
        raise SeedsError(f"unknown seed {name!r}: choose one of {', '.join(sorted(seeds))}")
    return seeds[name]


def parse_settings(pairs: Iterable[str]) -> dict[str, str]:
    """Turn `KEY=VALUE` strings into a dict; a pair without `=` or key is an error."""
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SeedsError(f"--set {pair!r}: expected KEY=VALUE")
        settings[key.strip()] = value
    return settings


def check_settings(seed: Seed, settings: Mapping[str, str]) -> None:
    """Raise SeedsError for an unknown option, a value outside its choices, an illegal
    project name or id, or a combination the seed does not support."""
    options = seed.options
    for key, value in settings.items():
        if key not in options:
            raise SeedsError(
                f"--set {key}: not an option of seed {seed.name!r} "
                f"(options: {', '.join(sorted(options))})"
            )
        choices = options[key]
        if isinstance(choices, list) and value not in [str(c) for c in choices]:
            raise SeedsError(
                f"--set {key}={value}: must be one of {', '.join(str(c) for c in choices)}"
            )
    values = {**seed.defaults(), **settings}
    if "project_name" in values:
        check_project_name(values["project_name"])
    if "project_id" in values:
        check_project_id(values["project_id"])
    for combo in seed.unsupported:
        wanted = {k: str(v) for k, v in combo.items() if k != "reason"}
        if all(values.get(k) == v for k, v in wanted.items()):
            pairs = ", ".join(f"{k}={v}" for k, v in wanted.items())
            reason = f": {combo['reason']}" if "reason" in combo else ""
            raise SeedsError(f"seed {seed.name!r} does not support {pairs}{reason}")


def copy_buildspecs(root: Path, seed: Seed, repo: Path) -> None:
    """Copy each buildspec the seed names from buildspecs/ into the rendered repo."""
    for source_name, target in seed.buildspecs.items():
        source = root / BUILDSPECS / source_name
        if not source.is_file():
            raise SeedsError(f"seed {seed.name!r}: _buildspecs names missing file {source}")
        destination = repo / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def bake(
    root: Path,
    seed: Seed,
    output_dir: Path,
    settings: Mapping[str, str] | None = None,
    no_input: bool = True,
) -> Path:
    """Render `seed` into `output_dir` and return the new repo's path.

    The repo is rendered in a scratch directory beside its target and moved into place
    only when complete, so a failure leaves nothing behind."""
    settings = dict(settings or {})
    check_settings(seed, settings)
    created_output = not output_dir.exists()
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=output_dir, prefix=".mlops-seeds-") as scratch:
            rendered = _render(seed, Path(scratch), settings, no_input)
            copy_buildspecs(root, seed, rendered)
            target = output_dir / rendered.name
            if target.exists():
                raise SeedsError(f"{target}: already exists; choose another -o or remove it")
            rendered.rename(target)
    except BaseException:
        if created_output:
            shutil.rmtree(output_dir, ignore_errors=True)
        raise
    return target


@contextmanager
def _temporary_files_in(directory: Path) -> Iterator[None]:
    """New temporary files go to `directory` (cookiecutter 2.x writes each rendered hook
    to a temporary file it never deletes; inside the scratch directory they go with it)."""
    saved = tempfile.tempdir
    tempfile.tempdir = str(directory)
    try:
        yield
    finally:
        tempfile.tempdir = saved


def _render(seed: Seed, scratch: Path, settings: dict[str, str], no_input: bool) -> Path:
    hooks = scratch / ".hooks"
    hooks.mkdir()
    try:
        with _temporary_files_in(hooks):
            path = cookiecutter(
                str(seed.path), no_input=no_input, extra_context=settings, output_dir=str(scratch)
            )
    except FailedHookException as err:
        raise SeedsError(
            f"seed {seed.name!r}: rejected by its pre-generation hook ({err})"
        ) from err
    except CookiecutterException as err:
        raise SeedsError(f"seed {seed.name!r}: {err}") from err
    return Path(path)
