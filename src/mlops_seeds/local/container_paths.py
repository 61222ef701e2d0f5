"""Container paths made real: a step's command runs in a private mount namespace (an
unprivileged user namespace, `unshare`) where the step's tree is mounted at /opt/ml, so
Python and shell alike see /opt/ml/... where the container has it, and no file is rewritten.

/opt itself becomes a fresh tmpfs in that namespace, holding the host's /opt entries (bound
back, so an interpreter installed under /opt still runs) and `ml`. Where user namespaces
are not available (no `unshare`, a kernel or security module that forbids them), the runner
falls back to rewriting /opt/ml in the step's Python sources and environment, and says so
once (`unavailable()`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

# Run by `sh -c` inside the namespace: $1 the step's tree, $2 the working directory (a
# container path), then the command.
MOUNT_SCRIPT = r"""
set -e
tree=$1 workdir=$2
shift 2
stage="$tree/.host-opt"
mkdir -p "$stage"
mount --rbind /opt "$stage"
mount -t tmpfs -o mode=755 container-opt /opt
for entry in "$stage"/* "$stage"/.[!.]* "$stage"/..?*; do
  [ -e "$entry" ] || [ -L "$entry" ] || continue
  name=${entry##*/}
  [ "$name" = ml ] && continue
  if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "/opt/$name"
  elif [ -d "$entry" ]; then mkdir "/opt/$name"; mount --rbind "$entry" "/opt/$name"
  else : > "/opt/$name"; mount --bind "$entry" "/opt/$name"
  fi
done
mkdir /opt/ml
mount --rbind "$tree/opt/ml" /opt/ml
cd "$workdir"
exec "$@"
"""
UNSHARE = ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]


@cache
def unavailable() -> str | None:
    """Why container paths cannot be made real on this machine (None when they can): one
    probe per process, mounting a tmpfs inside a new user and mount namespace."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare and mount (util-linux) are not on PATH"
    if not Path("/opt").is_dir():
        return "/opt does not exist to mount the container's /opt/ml under"
    with tempfile.TemporaryDirectory(prefix="mlops-seeds-probe-") as probe:
        try:
            done = subprocess.run(
                [*UNSHARE, "sh", "-c", f"mount -t tmpfs probe {probe}"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"unshare cannot run ({err})"
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        return f"user namespaces are not available ({reason})"
    return None


def wrap(command: list[str], tree_root: Path, workdir: str) -> list[str]:
    """`command` run with the tree at /opt/ml, starting in container path `workdir`."""
    return [*UNSHARE, "sh", "-c", MOUNT_SCRIPT, "sh", str(tree_root), workdir, *command]
