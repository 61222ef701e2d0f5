"""Bare git repositories on disk standing in for CodeCommit's, made with the `git` CLI.

A repository lives at `<sandbox workdir>/git/<account>/<region>/<name>.git`, a path checked
to be exactly that folder (`mlops_seeds.containment`); its URL is the `file://` URL of that
directory. Seeding writes a zip's files as one commit
on a branch, with author and committer given on the command line (no global git config).
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mlops_seeds.archives import unzip_directory
from mlops_seeds.containment import contained, subfolder
from mlops_seeds.sandbox import runtime

AUTHOR = ("AWS CodeCommit", "codecommit@sandbox.invalid")
SEED_MESSAGE = "Initial commit: project seed code"
SUFFIX = ".git"


def repository_path(account_id: str, region: str, name: str) -> Path:
    """Where the bare repository `name` of an account and region lives (PathEscape when a
    name the API should have refused would not be one folder of the sandbox's git tree)."""
    root = runtime.current().workdir / "git"
    path = subfolder(root, account_id, region, f"{name}{SUFFIX}", what=f"repository {name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def git_root() -> Path | None:
    """The directory holding every repository of the serving sandbox (None when none serves)."""
    try:
        return runtime.current().workdir / "git"
    except RuntimeError:
        return None


def _git(*args: str, cwd: Path | None = None, index: Path | None = None) -> str:
    name, email = AUTHOR
    env = {
        **os.environ,
        **({"GIT_INDEX_FILE": str(index)} if index else {}),
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def create_bare(path: Path, branch: str = "main") -> str:
    """An empty bare repository at `path` whose HEAD names `branch`; its file:// URL."""
    if path.exists():
        raise RuntimeError(f"{path} already exists")
    _git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(path))
    return path.resolve().as_uri()


def seed(path: Path, archive: bytes, branch: str) -> str:
    """Commit the files of the zip `archive` (paths at its root) to `branch` of the bare
    repository `path` as its first commit, and point HEAD at that branch; the commit id."""
    with tempfile.TemporaryDirectory(prefix="seed-") as scratch:
        work, index = Path(scratch) / "files", Path(scratch) / "index"
        try:
            unzip_directory(archive, work)
        except ValueError as err:
            raise RuntimeError(f"seed zip: {err}") from err
        git_dir = ("--git-dir", str(path), "--work-tree", str(work))
        _git(*git_dir, "add", "--all", cwd=work, index=index)
        tree = _git(*git_dir, "write-tree", cwd=work, index=index)
        commit = _git(*git_dir, "commit-tree", tree, "-m", SEED_MESSAGE, cwd=work)
        _git(*git_dir, "update-ref", f"refs/heads/{branch}", commit, cwd=work)
        _git(*git_dir, "symbolic-ref", "HEAD", f"refs/heads/{branch}", cwd=work)
    return commit


def remove(path: Path) -> None:
    """Delete a repository's directory, or the whole git folder (nothing when it is gone);
    never anything outside the serving sandbox's git folder."""
    root = git_root()
    if root is None:
        raise RuntimeError(f"{path}: no sandbox serves, so it is no sandbox repository")
    shutil.rmtree(contained(root, path, what=str(path)), ignore_errors=True)
