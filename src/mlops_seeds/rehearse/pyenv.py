"""The Python of a local build: a fresh virtual environment per build over the tool's own
interpreter, holding only what the repository declares, as a CodeBuild container holds
only what its buildspec installs.

- The local cache is the tool's own environment, indexed once per process: each installed
  distribution's requirements and top-level entries (packages, modules, .dist-info, .pth).
- A build's environment gets links to the distributions the repository's pyproject.toml
  asks for (`[project].dependencies` and `[build-system].requires`, with their transitive
  requirements and extras), plus pip. Nothing else of the tool's is visible: a package the
  repository imports without declaring it is missing, and the build fails as in CodeBuild.
  A declared package the tool does not have is missing too: pip, offline, then names it.
- The links live in a directory shared by every build that wants the same distributions
  (under the user's cache directory, named by a digest of what it links, private to the
  user), which the build's site-packages adds as a site directory (its `.pth` files run
  there, where they expect to be): module paths stay the same from build to build, so
  bytecode kept by path (PYTHONPYCACHEPREFIX) is found again instead of compiled anew
  (about 7 s of a model build). The directories are never pruned; deleting them is safe.
  Where that directory cannot be made or is not the user's own, the links go into the
  build's own site-packages, as before: there a build's `pip install --upgrade` of a linked
  package writes through the link into the tool's environment (in the shared directory,
  pip installs the new version into the build's environment instead).
- `pip` and `python -m pip` run the linked pip, which installs into the build's
  environment; `pip`/`pip3` on PATH are wrappers around `python -m pip`.
- pip stays offline: PIP_NO_INDEX=1, no configuration files, and no build isolation. pip's
  boolean `no-` options read their variable inverted: PIP_NO_BUILD_ISOLATION=0 (or false,
  off) turns isolation *off*; =1 leaves it on. Without isolation the build backend
  (hatchling, setuptools) comes from the links, so it must be declared in build-system.
"""

import hashlib
import os
import re
import shutil
import site
import stat
import sys
import sysconfig
import tempfile
import tomllib
import venv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ALWAYS = ("pip",)  # what CodeBuild's Python images carry before any install
# The build's one .pth file when the links are shared: it adds the shared directory as a
# site directory (site.addsitedir), which runs the distributions' .pth files there.
SHARED_PTH = "00-mlops-seeds-shared-site.pth"
_PIP_WRAPPER = '#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n'


@dataclass(frozen=True)
class Installed:
    """A distribution of the tool's environment: its requirements and top-level entries."""

    name: str
    requires: tuple[str, ...]
    entries: tuple[Path, ...]


def pip_environment() -> dict[str, str]:
    """Environment variables that keep pip offline and without build isolation."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
    }


def tool_site_directories() -> list[str]:
    """The site-packages directories of the running interpreter."""
    return [d for d in site.getsitepackages() if Path(d).is_dir()]


def _entries(dist: metadata.Distribution, site_dir: Path) -> tuple[Path, ...]:
    """The top-level paths a distribution installed under `site_dir` (scripts outside it
    left out)."""
    found: set[Path] = set()
    for file in dist.files or []:
        parts = Path(file).parts
        if not parts or parts[0] in ("..", "__pycache__") or Path(file).is_absolute():
            continue
        found.add(site_dir / parts[0])
    return tuple(sorted(found))


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Installed]:
    """The tool's distributions by canonical name (made once: the local cache)."""
    found: dict[str, Installed] = {}
    for directory in tool_site_directories():
        for dist in metadata.distributions(path=[directory]):
            name = canonicalize_name(dist.metadata["Name"] or "")
            if not name or name in found:
                continue
            found[name] = Installed(
                name, tuple(dist.requires or ()), _entries(dist, Path(directory))
            )
    return found


def closure(requirements: Iterable[str]) -> set[str]:
    """The canonical names of the tool's distributions `requirements` install, with their
    transitive requirements (environment markers and extras evaluated); names the tool
    does not have are left out."""
    have = catalogue()
    wanted: list[tuple[str, frozenset[str]]] = []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            wanted.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    done: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    while wanted:
        name, extras = wanted.pop()
        if (name, extras) in done or name not in have:
            continue
        done.add((name, extras))
        names.add(name)
        for text in have[name].requires:
            requirement = Requirement(text)
            marker = requirement.marker
            applies = marker is None or any(
                marker.evaluate({"extra": extra}) for extra in ("", *extras)
            )
            if applies:
                extra_names = frozenset(requirement.extras)
                wanted.append((canonicalize_name(requirement.name), extra_names))
    return names


def declared(source: Path) -> list[str]:
    """What the repository at `source` declares: its pyproject.toml's project
    dependencies and build-system requirements ([] without a pyproject.toml)."""
    path = source / "pyproject.toml"
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []  # pip will say what is wrong with it
    project = data.get("project") or {}
    build = data.get("build-system") or {}
    found = [*(project.get("dependencies") or []), *(build.get("requires") or [])]
    return [str(r) for r in found if isinstance(r, str)]


def _link(entries: Iterable[Path], purelib: Path) -> None:
    for entry in entries:
        target = purelib / entry.name
        if entry.exists() and not target.exists() and not _is_tool_pth(entry):
            target.symlink_to(entry, target_is_directory=entry.is_dir())


def shared_sites_root() -> Path:
    """Where the shared link directories are kept: the user's cache directory
    (XDG_CACHE_HOME when it is an absolute path, as the XDG spec has it; else ~/.cache)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or "")
    if not cache.is_absolute():
        cache = Path.home() / ".cache"
    return cache / "mlops-seeds" / "build-sites"


def _own_private_directory(path: Path) -> bool:
    """Whether `path` is a real directory of this user that nobody else may write to."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _shared_site(entries: list[Path]) -> Path | None:
    """The shared directory of links to `entries`, made once by whichever build comes
    first; None where it cannot be made or is not this user's own."""
    digest = hashlib.sha256(
        "\n".join([sys.version, *sorted(map(str, entries))]).encode()
    ).hexdigest()[:20]
    target = shared_sites_root() / digest
    if not (target.exists() or target.is_symlink()):
        _make_shared_site(target, entries)
    return target if _own_private_directory(target) else None


def _make_shared_site(target: Path, entries: list[Path]) -> None:
    """Link `entries` in a private staging directory and rename it to `target` (atomic);
    on any failure, including another build's rename winning, nothing is left behind."""
    staging: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
        _link(entries, staging)
        staging.rename(target)
    except OSError:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _is_tool_pth(entry: Path) -> bool:
    """A .pth file that would bring a site directory of the tool's back in."""
    return entry.suffix == ".pth" and bool(re.search(r"addsitedir", entry.read_text()))


def create_build_venv(directory: Path, source: Path | None = None) -> Path:
    """Make the build's virtual environment at `directory`, with the distributions the
    repository at `source` declares (and pip); its bin directory (to put first on PATH,
    with VIRTUAL_ENV set to `directory`)."""
    venv.EnvBuilder(system_site_packages=False, with_pip=False, symlinks=True, clear=True).create(
        directory
    )
    purelib = Path(
        sysconfig.get_path("purelib", vars={"base": str(directory), "platbase": str(directory)})
    )
    wanted = closure([*ALWAYS, *(declared(source) if source is not None else [])])
    have = catalogue()
    entries = [entry for name in sorted(wanted) for entry in have[name].entries]
    shared = _shared_site(entries)
    if shared is None:
        _link(entries, purelib)
    else:
        (purelib / SHARED_PTH).write_text(f"import site; site.addsitedir({str(shared)!r})\n")
    bin_dir = directory / "bin"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name in ("pip", "pip3", f"pip{version}"):
        wrapper = bin_dir / name
        wrapper.write_text(_PIP_WRAPPER)
        wrapper.chmod(0o755)
    return bin_dir
