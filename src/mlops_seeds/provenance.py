"""Where a rendered repo came from, recorded in the repo as cruft records a cookiecutter
template (`.cruft.json`): `.mlops-seeds.json` names the seed, the seed's content version
(a hash of its files and the buildspecs it copies in), the seeds repository's git commit
holding that version when known, and the options it was rendered with. `mlops-seeds
update` reads it to render the same seed at that version again (seed_update.py).

The file is data only: nothing that reads a repo today looks at it, and the repo's own
code never imports it.
"""

import hashlib
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_seeds.errors import SeedsError
from mlops_seeds.seeds import BUILDSPECS, Seed

RECORD = ".mlops-seeds.json"
_GIT_TIMEOUT = 30.0


def hash_seed_files(digest: Any, root: Path, seed: Seed) -> None:
    """Feed `digest` the seed's files and the buildspecs it copies in: each one's path
    (relative to `root`), executable bits and bytes, in a fixed order."""
    files = sorted(p for p in seed.path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    files += [root / BUILDSPECS / name for name in sorted(seed.buildspecs)]
    for path in files:
        label = path.relative_to(root) if path.is_relative_to(root) else path
        digest.update(f"{label}:{path.stat().st_mode & 0o111}:".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def content_version(root: Path, seed: Seed) -> str:
    """The seed's content version: 16 hex digits of the hash of what hash_seed_files reads
    (the same seed files give the same version on any machine)."""
    digest = hashlib.sha256()
    hash_seed_files(digest, root, seed)
    return digest.hexdigest()[:16]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=_GIT_TIMEOUT,
        check=False,
    )


def seed_paths(root: Path, seed: Seed) -> list[str]:
    """The paths (relative to `root`) a seed's content version reads."""
    paths = [str(seed.path.relative_to(root))] if seed.path.is_relative_to(root) else []
    return paths + [str(BUILDSPECS / name) for name in sorted(seed.buildspecs)]


def committed_at(root: Path, seed: Seed) -> str | None:
    """The seeds repository's HEAD when `root` is a git checkout whose seed files are as
    committed there; None otherwise (not a checkout, or changed since)."""
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    if head.returncode != 0:
        return None
    paths = seed_paths(root, seed)
    if not paths:
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *paths)
    if status.returncode != 0 or status.stdout.strip():
        return None
    return head.stdout.strip() or None


@dataclass(frozen=True)
class Record:
    """What `.mlops-seeds.json` says."""

    seed: str
    version: str
    commit: str | None
    options: dict[str, str]

    def document(self) -> dict[str, Any]:
        """The record as written."""
        return {
            "seed": self.seed,
            "version": self.version,
            "commit": self.commit,
            "options": dict(sorted(self.options.items())),
        }


def record_for(root: Path, seed: Seed, answers: Mapping[str, Any]) -> Record:
    """The record of `seed` rendered from `root` with the cookiecutter `answers` (only the
    seed's own options are kept)."""
    options = {k: str(v) for k, v in answers.items() if k in seed.options}
    return Record(seed.name, content_version(root, seed), committed_at(root, seed), options)


def write_record(repo: Path, record: Record) -> None:
    """Write `.mlops-seeds.json` into the rendered repo."""
    text = json.dumps(record.document(), indent=2) + "\n"
    (repo / RECORD).write_text(text, encoding="utf-8")


def read_record(repo: Path) -> Record:
    """The record of a rendered repo; SeedsError naming the field and the rule when it is
    missing or malformed."""
    path = repo / RECORD
    if not path.is_file():
        raise SeedsError(
            f"{path}: missing; the repo was not rendered by mlops-seeds (or before it recorded "
            "its seed)"
        )
    return parse_record(path.read_bytes(), str(path))


def parse_record(content: bytes, path: str) -> Record:
    """A record from the bytes of a `.mlops-seeds.json` (`path` names it in errors)."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SeedsError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise SeedsError(f"{path}: must be a JSON object")
    for key in ("seed", "version"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise SeedsError(f"{path}: {key} must be a non-empty string")
    commit = data.get("commit")
    if commit is not None and not (isinstance(commit, str) and _is_commit(commit)):
        raise SeedsError(f"{path}: commit must be null or a 40-digit hex git commit")
    options = data.get("options", {})
    if not isinstance(options, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in options.items()
    ):
        raise SeedsError(f"{path}: options must map option names to strings")
    return Record(str(data["seed"]), str(data["version"]), commit, dict(options))


def _is_commit(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)
