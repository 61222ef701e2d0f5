"""`mlops-seeds update`: bring a rendered repo up to its seed's current version, keeping the
scientist's own edits, as cruft does for a cookiecutter template (we follow its design
rather than use it: our seeds share one repository with the buildspecs they copy in,
which cruft's render does not know).

The repo's record (provenance.py) says which seed, at which content version and with
which options it was rendered. The seed is rendered twice, at that version (the base: its
files as they are in the seeds repository's git history) and as it is now (with the same
options, or those --set changes), and each file is merged three ways: base, the repo's
file (ours) and the new render (theirs), with git's own merge (`git merge-file`). A file
only the seed changed is taken; a file only the repo changed is kept; both changed are
merged, and what does not merge is left with git's conflict markers and listed. Files the
seed adds or drops follow the same rule. Nothing is written unless the work tree is clean,
and nothing is committed: the changes are left for review.
"""

import difflib
import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mlops_seeds.containment import contained
from mlops_seeds.errors import SeedsError
from mlops_seeds.provenance import (
    RECORD,
    Record,
    content_version,
    parse_record,
    read_record,
    seed_paths,
    write_record,
)
from mlops_seeds.seeds import INDEX, Seed, bake, check_settings, load_seeds

_GIT_TIMEOUT = 60.0
# How far back the seeds repository's history is searched for a recorded version whose
# commit is unknown or gone.
SEARCH_COMMITS = 200


@dataclass(frozen=True)
class Change:
    """What the update does to one file: `action` is added, updated, removed, merged or
    conflict; `content` the file's new bytes (None: the file goes)."""

    path: str
    action: str
    content: bytes | None
    note: str = ""

    def line(self) -> str:
        """`conflict pipelines/pipeline.py (both changed it)`."""
        return f"{self.action:8} {self.path}" + (f" ({self.note})" if self.note else "")


@dataclass
class Plan:
    """An update of one repo: its record before and after, and each file's change."""

    repo: Path
    before: Record
    after: Record
    changes: list[Change] = field(default_factory=list)

    @property
    def behind(self) -> bool:
        """Whether the repo's seed version or options differ from what it would get now."""
        return (self.before.version, self.before.options) != (
            self.after.version,
            self.after.options,
        )

    @property
    def conflicts(self) -> list[Change]:
        """The changes left with conflict markers (or a side kept), to be resolved."""
        return [c for c in self.changes if c.action == "conflict"]


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["git", "-C", str(cwd), *args],
        capture_output=True,
        text=True,
        timeout=_GIT_TIMEOUT,
        check=False,
    )
    if check and done.returncode != 0:
        raise SeedsError(f"git {args[0]} in {cwd}: {done.stderr.strip() or done.stdout.strip()}")
    return done


def check_clean(repo: Path) -> None:
    """SeedsError unless `repo` is a git work tree without uncommitted changes."""
    inside = _git(repo, "rev-parse", "--is-inside-work-tree", check=False)
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise SeedsError(f"{repo}: not a git work tree (update merges into a git repo)")
    status = _git(repo, "status", "--porcelain", "--untracked-files=all")
    if status.stdout.strip():
        raise SeedsError(
            f"{repo}: the work tree has uncommitted changes; commit or stash them first "
            "(update changes nothing then)"
        )


def _files(tree: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file of a render."""
    return {
        path.relative_to(tree).as_posix(): path.read_bytes()
        for path in sorted(tree.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


@contextmanager
def _seeds_at(root: Path, commit: str) -> Iterator[Path]:
    """A directory holding the seeds repository's index, seeds and buildspecs as they are at
    `commit`."""
    with tempfile.TemporaryDirectory(prefix="mlops-seeds-base-") as scratch:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", commit, "seed_code", "buildspecs"],
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
        if archive.returncode != 0:
            raise SeedsError(f"git archive {commit[:12]} in {root}: {archive.stderr.decode()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as members:
            members.extractall(scratch, filter="data")  # nothing outside the scratch folder
        yield Path(scratch)


def _candidates(root: Path, record: Record, seed: Seed) -> list[str]:
    """Commits of the seeds repository that may hold the recorded version: the recorded
    one first, then those that changed the seed's files, newest first."""
    commits = [record.commit] if record.commit else []
    log = _git(
        root,
        "log",
        f"--max-count={SEARCH_COMMITS}",
        "--format=%H",
        "--",
        *seed_paths(root, seed),
        check=False,
    )
    if log.returncode == 0:
        commits += [c for c in log.stdout.split() if c not in commits]
    return commits


@contextmanager
def base_seed(root: Path, record: Record, seed: Seed) -> Iterator[tuple[Path, Seed]]:
    """The seeds root and the seed at the recorded version, found in the seeds repository's
    git history; SeedsError naming the version when no commit holds it."""
    if content_version(root, seed) == record.version:
        yield root, seed
        return
    for commit in _candidates(root, record, seed):
        if _git(root, "cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode != 0:
            continue
        with _seeds_at(root, commit) as old_root:
            if not (old_root / INDEX).is_file():
                continue
            old = load_seeds(old_root).get(record.seed)
            if old is not None and content_version(old_root, old) == record.version:
                yield old_root, old
                return
    raise SeedsError(
        f"seed {record.seed!r} version {record.version} (commit {record.commit or 'unknown'}) is "
        f"not in the history of the seeds repository {root}: update from a checkout that has it"
    )


def _render(root: Path, seed: Seed, options: Mapping[str, str], scratch: Path) -> dict[str, bytes]:
    repo = bake(root, seed, scratch, dict(options))
    return _files(repo)


def _merge(ours: bytes, base: bytes, theirs: bytes, path: str) -> tuple[bytes, bool]:
    """git merge-file of three versions: the result and whether it merged cleanly."""
    with tempfile.TemporaryDirectory(prefix="mlops-seeds-merge-") as scratch:
        names = []
        for label, content in (("ours", ours), ("base", base), ("theirs", theirs)):
            file = Path(scratch) / label
            file.write_bytes(content)
            names.append(str(file))
        done = subprocess.run(
            [
                "git",
                "merge-file",
                "-p",
                "-L",
                f"{path} (this repo)",
                "-L",
                f"{path} (seed before)",
                "-L",
                f"{path} (seed now)",
                *names,
            ],
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    if done.returncode < 0 or done.returncode > 127:
        raise SeedsError(f"git merge-file {path}: {done.stderr.decode(errors='replace')}")
    return done.stdout, done.returncode == 0


def _is_text(*contents: bytes | None) -> bool:
    for content in contents:
        if content is None:
            continue
        if b"\0" in content:
            return False
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def _change(path: str, base: bytes | None, ours: bytes | None, theirs: bytes | None) -> Change:
    """The change to one file the seed changed (base != theirs) and the repo did not take
    already (ours != theirs)."""
    if ours == base:
        if theirs is None:
            return Change(path, "removed", None)
        return Change(path, "added" if ours is None else "updated", theirs)
    if theirs is None:
        return Change(path, "conflict", ours, "the seed dropped it; changed here: kept")
    if ours is None:
        return Change(path, "conflict", theirs, "the seed changed it; deleted here: restored")
    if not _is_text(base, ours, theirs):
        return Change(path, "conflict", ours, "binary, both changed it: this repo's kept")
    merged, clean = _merge(ours, base or b"", theirs, path)
    if clean:
        return Change(path, "merged", merged)
    note = "both added it" if base is None else "both changed it"
    return Change(path, "conflict", merged, f"{note}: git conflict markers")


def _target(
    root: Path, repo: Path, settings: Mapping[str, str] | None
) -> tuple[Record, Seed, dict[str, str]]:
    """The repo's record, its seed in `root` and the options an update renders it with."""
    before = read_record(repo)
    seeds = load_seeds(root)
    seed = seeds.get(before.seed)
    if seed is None:
        raise SeedsError(
            f"{repo / RECORD}: seed {before.seed!r} is not a seed of {root} "
            f"(its seeds: {', '.join(sorted(seeds))})"
        )
    unknown = sorted(set(settings or {}) - set(seed.options))
    if unknown:
        raise SeedsError(f"--set {unknown[0]}: not an option of seed {seed.name!r}")
    options = {**before.options, **dict(settings or {})}
    check_settings(seed, options)
    return before, seed, options


def behind(
    root: Path, repo: Path, settings: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """The repo's recorded seed version and the seed's version now, when an update would
    change the repo's record (another version, or options `settings` changes); None when
    it is up to date. Nothing is rendered."""
    before, seed, options = _target(root.absolute(), repo.absolute(), settings)
    now = content_version(root, seed)
    return (before.version, now) if (before.version, before.options) != (now, options) else None


def plan(root: Path, repo: Path, settings: Mapping[str, str] | None = None) -> Plan:
    """What updating `repo` to its seed as it is in `root` does (nothing written), with the
    recorded options changed by `settings`."""
    root, repo = root.absolute(), repo.absolute()
    before, seed, options = _target(root, repo, settings)
    with tempfile.TemporaryDirectory(prefix="mlops-seeds-update-") as scratch:
        work = Path(scratch)
        with base_seed(root, before, seed) as (old_root, old_seed):
            base = _render(old_root, old_seed, before.options, work / "base")
        theirs = _render(root, seed, options, work / "theirs")
    after = parse_record(theirs.pop(RECORD), f"{seed.name} rendered now: {RECORD}")
    base.pop(RECORD, None)
    result = Plan(repo, before, after)
    for path in sorted(base.keys() | theirs.keys()):
        old, new = base.get(path), theirs.get(path)
        mine = _read(repo, path)
        if old == new or mine == new:
            continue
        result.changes.append(_change(path, old, mine, new))
    return result


def _in_repo(repo: Path, path: str) -> Path:
    """The repo's file `path`; PathEscape when it would lead outside the repo (through a
    symlinked folder, say)."""
    return contained(repo, path, what=f"{repo}: {path}")


def _read(repo: Path, path: str) -> bytes | None:
    """A repo file's bytes; None when there is no such file."""
    file = _in_repo(repo, path)
    return file.read_bytes() if file.is_file() else None


def apply(update: Plan) -> None:
    """Write each change into the repo, then the new record."""
    for change in update.changes:
        target = _in_repo(update.repo, change.path)
        if change.content is None:
            target.unlink(missing_ok=True)
            _prune(target.parent, update.repo)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(change.content)
    write_record(update.repo, update.after)


def _prune(directory: Path, repo: Path) -> None:
    """Remove directories left empty by removed files, up to the repo."""
    while directory != repo and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def diff(update: Plan) -> str:
    """A unified diff of what the update would change in the repo."""
    lines: list[str] = []
    for change in update.changes:
        current = _read(update.repo, change.path)
        before, after = current or b"", change.content or b""
        if not _is_text(before, after):
            lines.append(f"Binary file {change.path} differs\n")
            continue
        lines += difflib.unified_diff(
            before.decode().splitlines(keepends=True),
            after.decode().splitlines(keepends=True),
            fromfile=f"a/{change.path}" if current is not None else os.devnull,
            tofile=f"b/{change.path}" if change.content is not None else os.devnull,
        )
    return "".join(lines)


BRANCH_PREFIX = "seed-update/"


def branch_name(update: Plan) -> str:
    """The branch an update is offered on: `seed-update/<seed>-<new version>`."""
    return f"{BRANCH_PREFIX}{update.after.seed}-{update.after.version}"


def offer(update: Plan, push: bool = False) -> str:
    """Apply the update on a new branch from the current commit and commit it there, for
    review (the branch the repo was on is left as it was and checked out again); with
    `push`, push the branch to the repo's `origin`. The branch's name; SeedsError when it
    exists already or the update has conflicts (nothing is then left behind)."""
    if update.conflicts:
        listed = ", ".join(c.path for c in update.conflicts)
        raise SeedsError(
            f"{update.repo}: the update conflicts with this repo's changes ({listed}); run "
            "update without --branch to resolve them here"
        )
    branch = branch_name(update)
    repo = update.repo
    if (
        _git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", check=False).returncode
        == 0
    ):
        raise SeedsError(f"{repo}: branch {branch} exists already")
    current = _git(repo, "symbolic-ref", "--short", "-q", "HEAD", check=False).stdout.strip()
    start = _git(repo, "rev-parse", "HEAD").stdout.strip()
    _git(repo, "checkout", "-q", "-b", branch)
    committed = False
    try:
        apply(update)
        _git(repo, "add", "-A")
        before, after = update.before, update.after
        message = f"Update from seed {after.seed} {before.version} -> {after.version}"
        _git(
            repo,
            "-c",
            "user.name=mlops-seeds",
            "-c",
            "user.email=mlops-seeds@localhost",
            "commit",
            "-q",
            "-m",
            message,
        )
        committed = True
    finally:
        _git(repo, "checkout", "-q", "-f", current or start)
        if not committed:  # nothing half-made is left: no branch without its commit
            _git(repo, "branch", "-q", "-D", branch, check=False)
    if push:
        pushed = _git(repo, "push", "-q", "origin", f"{branch}:{branch}", check=False)
        if pushed.returncode != 0:
            raise SeedsError(
                f"{repo}: branch {branch} made but not pushed to origin: {pushed.stderr.strip()}"
            )
    return branch


@dataclass
class Offered:
    """What each repository was offered: label -> branch ('' when up to date)."""

    branches: dict[str, str] = field(default_factory=dict)
    changes: dict[str, list[str]] = field(default_factory=dict)  # label -> change lines


def offer_updates(seeds: Path, repos: dict[str, Path]) -> Offered:
    """Each clone behind its seed in `seeds` gets the update on a branch pushed to its
    repository (SeedsError naming the conflicts when it cannot merge)."""
    offered = Offered()
    for label, clone in repos.items():
        if behind(seeds, clone) is None:  # (no render needed to know)
            offered.branches[label] = ""
            continue
        planned = plan(seeds, clone)
        offered.branches[label] = offer(planned, push=True)
        offered.changes[label] = [change.line() for change in planned.changes]
    return offered
