"""Each step's own Python environment, as a container image gives each job its own: a fresh
virtual environment that sees the image interpreter's packages (the framework's libraries)
and takes what the step installs (`requirements.txt`) for itself, never into the tool's.

`python`, `python3`, `pip` and `pip3` on the step's PATH are that environment's.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from functools import cache
from pathlib import Path

from mlops_seeds.local.context import StepFailed

SITE_DIRS = (
    "import json, site, sysconfig; paths = sysconfig.get_paths(); "
    "print(json.dumps(sorted({paths['purelib'], paths['platlib'], *site.getsitepackages()})))"
)


@cache
def site_directories(interpreter: str) -> tuple[str, ...]:
    """The site-packages directories of `interpreter` (asked once per interpreter)."""
    try:
        done = subprocess.run(
            [interpreter, "-c", SITE_DIRS], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise StepFailed(f"cannot ask {interpreter} for its site-packages: {err}") from None
    return tuple(str(p) for p in json.loads(done.stdout))


def create(folder: Path, interpreter: str) -> Path:
    """A virtual environment at `folder` over `interpreter`, seeing its packages; returns
    the environment's `bin` folder (to put first on PATH)."""
    try:
        subprocess.run(
            [interpreter, "-m", "venv", "--without-pip", str(folder)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except subprocess.CalledProcessError as err:
        reason = (err.stderr.strip().splitlines() or ["no output"])[-1]
        raise StepFailed(f"cannot create the step's Python environment: {reason}") from None
    except (OSError, subprocess.TimeoutExpired) as err:
        raise StepFailed(f"cannot create the step's Python environment: {err}") from None
    python = folder / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [f"import site; site.addsitedir({d!r})" for d in site_directories(interpreter)]
    Path(done.stdout.strip(), "image-packages.pth").write_text("\n".join(lines) + "\n")
    bin_dir = folder / "bin"
    for name in ("pip", "pip3"):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(str(python))} -m pip "$@"\n')
        shim.chmod(0o755)
    return bin_dir


def path_with(bin_dir: Path) -> str:
    """PATH with the step's environment first."""
    return os.pathsep.join((str(bin_dir), os.environ.get("PATH", os.defpath)))
