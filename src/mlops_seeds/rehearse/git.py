"""Clone, commit and push with the `git` CLI: the identity goes on the command line and no
global or system configuration is read, so a bare machine (or CI) needs no setup."""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


class GitError(RuntimeError):
    """A git command failed: the command and git's own message."""


@dataclass(frozen=True)
class Identity:
    """Author and committer of the commits made here."""

    name: str = "mlops-seeds rehearsal"
    email: str = "rehearsal@mlops-seeds.invalid"


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }


def git(*args: str, cwd: Path | None = None, identity: Identity | None = None) -> str:
    """Run `git args...` (in `cwd`), returning its stripped stdout; GitError on failure."""
    who = identity or Identity()
    command = ["git", "-c", f"user.name={who.name}", "-c", f"user.email={who.email}", *args]
    done = subprocess.run(
        command, cwd=cwd, env=_environment(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise GitError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return done.stdout.strip()


def init_bare(path: Path, branch: str = "main") -> str:
    """An empty bare repository at `path` whose HEAD names `branch`; its file:// URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(path))
    return path.resolve().as_uri()


def clone(url: str, directory: Path, branch: str | None = None) -> Path:
    """Clone `url` into `directory` (checked out at `branch`, else the remote's HEAD)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "--quiet", *(["--branch", branch] if branch else []), url, str(directory))
    return directory


def checkout(repo: Path, revision: str) -> None:
    """Check out `revision` (a commit id or a branch) in the clone `repo`."""
    git("checkout", "--quiet", revision, cwd=repo)


def head(repo: Path) -> str:
    """The commit id checked out in `repo`."""
    return git("rev-parse", "HEAD", cwd=repo)


def commit_all(repo: Path, message: str, identity: Identity | None = None) -> str:
    """Stage every change in `repo` and commit it (an empty commit when nothing changed);
    the new commit id."""
    git("add", "--all", cwd=repo)
    git("commit", "--quiet", "--allow-empty", "-m", message, cwd=repo, identity=identity)
    return head(repo)


def push(repo: Path, branch: str, remote: str = "origin") -> str:
    """Push HEAD of `repo` to `branch` of `remote`; the pushed commit id."""
    git("push", "--quiet", remote, f"HEAD:refs/heads/{branch}", cwd=repo)
    return head(repo)


def commit_message(repo: Path, revision: str = "HEAD") -> str:
    """The subject line of `revision`."""
    return git("log", "-1", "--format=%s", revision, cwd=repo)
