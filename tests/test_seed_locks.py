"""The seeds' lock files (requirements.lock, written by `nox -s lock`): CodeBuild installs
exactly what the tests ran with. Each rendered repo's runtime requirements are pinned, at
versions its own specifiers admit and the same as constraints/dev.txt (the test
environment's), and its buildspecs install within the lock."""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from mlops_seeds.seeds import bake, load_seeds

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ("model-build", "model-deploy")


# CodeBuild's Python and platform (the universal constraints pin by markers).
CODEBUILD = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
}


def _pins(path: Path) -> dict[str, str]:
    """Package -> pinned version, for CodeBuild's Python and platform."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(CODEBUILD):
            continue
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{path}: {line!r} is not pinned"
        pins[canonicalize_name(requirement.name)] = spec.version
    return pins


@pytest.mark.parametrize("seed", SEEDS)
def test_the_lock_pins_the_runtime_requirements_as_the_tests_ran_them(
    seed: str, tmp_path: Path
) -> None:
    repo = bake(ROOT, load_seeds(ROOT)[seed], tmp_path)
    lock = _pins(repo / "requirements.lock")
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{seed}: {name} is not in requirements.lock: run nox -s lock"
        assert Version(lock[name]) in requirement.specifier, (seed, name, lock[name])
    tested = _pins(ROOT / "constraints" / "dev.txt")
    differing = {n: (v, tested[n]) for n, v in lock.items() if n in tested and tested[n] != v}
    assert not differing, f"{seed}: requirements.lock differs from constraints: {differing}"
    buildspecs = load_seeds(ROOT)[seed].buildspecs.values()
    for buildspec in buildspecs:
        installs = [
            line.strip()
            for line in (repo / buildspec).read_text().splitlines()
            if "pip install" in line and "--upgrade pip" not in line
        ]
        assert installs and all("-c requirements.lock" in line for line in installs), installs
