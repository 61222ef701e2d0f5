"""Each step's own Python environment, as a container image gives each job its own: a fresh
virtual environment that sees the image interpreter's packages (the framework's libraries)
and takes what the step installs (`requirements.txt`) for itself, never into the tool's.

`python`, `python3`, `pip` and `pip3` on the step's PATH are that environment's. The training
toolkit's former name (`former_toolkit`) comes last, so a real installed package wins.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from mlops_seeds.local import former_toolkit
from mlops_seeds.local.context import StepFailed

TOOLKIT = "sagemaker_training"
FACTS = (
    "import importlib.util, json, site, sys, sysconfig; paths = sysconfig.get_paths(); "
    "print(json.dumps({'base': sys._base_executable, "
    f"'toolkit': importlib.util.find_spec({TOOLKIT!r}) is not None, "
    "'version': '.'.join(map(str, sys.version_info[:3])), "
    "'purelib': sysconfig.get_path('purelib', 'venv' if 'venv' in sysconfig.get_scheme_names() "
    "else 'posix_prefix', vars={'base': '', 'platbase': ''}).lstrip('/'), "
    "'sites': sorted({paths['purelib'], paths['platlib'], *site.getsitepackages()})}))"
)


@cache
def facts(interpreter: str) -> dict[str, Any]:
    """What a virtual environment over `interpreter` needs (asked once per interpreter):
    its base executable, version, site-packages layout and directories, and whether it has
    the training toolkit."""
    try:
        done = subprocess.run(
            [interpreter, "-c", FACTS], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise StepFailed(f"cannot ask {interpreter} about its environment: {err}") from None
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def create(folder: Path, interpreter: str) -> Path:
    """A virtual environment at `folder` over `interpreter`, seeing its packages (laid out
    as `python -m venv --without-pip` lays one out, without starting a process); returns
    the environment's `bin` folder (to put first on PATH)."""
    known = facts(interpreter)
    base = Path(known["base"])
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text(
        f"home = {base.parent}\ninclude-system-site-packages = false\n"
        f"version = {known['version']}\n"
    )
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(base)
    site_packages = folder / known["purelib"]
    site_packages.mkdir(parents=True)
    sites = [*known["sites"], str(former_toolkit.SITE)]
    lines = [f"import site; site.addsitedir({d!r})" for d in sites]
    (site_packages / "image-packages.pth").write_text("\n".join(lines) + "\n")
    python = bin_dir / "python"
    for name in ("pip", "pip3"):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(str(python))} -m pip "$@"\n')
        shim.chmod(0o755)
    return bin_dir


def has_toolkit(interpreter: str) -> bool:
    """Whether `interpreter` has the SageMaker training toolkit (as the framework images do)."""
    return bool(facts(interpreter)["toolkit"])


def path_with(bin_dir: Path) -> str:
    """PATH with the step's environment first."""
    return os.pathsep.join((str(bin_dir), os.environ.get("PATH", os.defpath)))
