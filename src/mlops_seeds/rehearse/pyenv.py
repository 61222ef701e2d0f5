"""The Python of a local build: a virtual environment per build over the tool's own
interpreter, so a buildspec's `pip install .` lands in the build's environment while the
tool's installed packages (sagemaker, xgboost, ...) stay visible, and pip never downloads.

- `python -m venv --system-site-packages` over an interpreter that is itself a virtual
  environment sees the *base* Python's site-packages, not the tool's: a `.pth` file adds
  the tool's site directories (with their own .pth files, e.g. editable installs).
- `--without-pip`: `pip` and `python -m pip` run the tool's pip (found through that .pth
  file), which installs into the build's environment; `pip`/`pip3` on PATH are wrappers
  around `python -m pip` so no pip of another environment is picked up.
- pip stays offline: PIP_NO_INDEX=1, no configuration files, and no build isolation. pip's
  boolean `no-` options read their variable inverted: PIP_NO_BUILD_ISOLATION=0 (or false,
  off) turns isolation *off*; =1 leaves it on. Without isolation the build backend
  (hatchling, setuptools) must be installed beside the tool.
"""

import os
import site
import sys
import sysconfig
import venv
from pathlib import Path

PTH_NAME = "_mlops_seeds_tool_site.pth"
_PIP_WRAPPER = '#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n'


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


def create_build_venv(directory: Path) -> Path:
    """Make the build's virtual environment at `directory`; its bin directory (to put first
    on PATH, with VIRTUAL_ENV set to `directory`)."""
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True, clear=True).create(
        directory
    )
    purelib = Path(
        sysconfig.get_path("purelib", vars={"base": str(directory), "platbase": str(directory)})
    )
    lines = [f"import site; site.addsitedir({d!r})" for d in tool_site_directories()]
    (purelib / PTH_NAME).write_text("\n".join(lines) + "\n")
    bin_dir = directory / "bin"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name in ("pip", "pip3", f"pip{version}"):
        wrapper = bin_dir / name
        wrapper.write_text(_PIP_WRAPPER)
        wrapper.chmod(0o755)
    return bin_dir
