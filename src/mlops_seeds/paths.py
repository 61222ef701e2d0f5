"""Where the seeds, templates and buildspecs live."""

import os
from pathlib import Path

from mlops_seeds.errors import SeedsError

ROOT_ENV = "MLOPS_SEEDS_ROOT"
_MARKER = Path("seed_code") / "cookiecutter.json"


def _is_root(path: Path) -> bool:
    return (path / _MARKER).is_file()


def repo_root(start: Path | None = None) -> Path:
    """Find the seeds repository: $MLOPS_SEEDS_ROOT, a checkout above `start` (default: the
    working directory), else the copy packaged with the tool."""
    explicit = os.environ.get(ROOT_ENV)
    if explicit:
        root = Path(explicit)
        if not _is_root(root):
            raise SeedsError(f"{ROOT_ENV}={explicit}: no {_MARKER} there")
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if _is_root(candidate):
            return candidate
    packaged = Path(__file__).parent / "_repo"
    if _is_root(packaged):
        return packaged
    checkout = Path(__file__).resolve().parents[2]
    if _is_root(checkout):
        return checkout
    raise SeedsError(f"no seeds repository found: run inside a checkout or set {ROOT_ENV}")
