"""The constraint files the nox sessions install from are in step with pyproject.toml."""

import ast
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mlops_seeds.paths import repo_root

PYPROJECT = tomllib.loads((repo_root() / "pyproject.toml").read_text())


def _constraint_groups() -> dict[str, tuple[str, ...]]:
    """noxfile.CONSTRAINTS (read, not imported: nox is not installed in the tests' env)."""
    tree = ast.parse((repo_root() / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "CONSTRAINTS" for t in node.targets
        ):
            groups: dict[str, tuple[str, ...]] = ast.literal_eval(node.value)
            return groups
    raise AssertionError("noxfile.py defines no CONSTRAINTS")


def _group(name: str) -> list[str]:
    """A dependency group's requirements, included groups expanded (PEP 735)."""
    found: list[str] = []
    for entry in PYPROJECT["dependency-groups"][name]:
        found += _group(entry["include-group"]) if isinstance(entry, dict) else [entry]
    return found


def _pins(path: Path) -> dict[str, str]:
    """name -> version of the pins that apply to this Python."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith((" ", "#")):
            continue
        pin = Requirement(line)
        if pin.marker is None or pin.marker.evaluate():
            (specifier,) = pin.specifier
            assert specifier.operator == "==", line
            pins[canonicalize_name(pin.name)] = specifier.version
    return pins


def _behind(pins: dict[str, str], wanted: list[str]) -> list[str]:
    """The requirements no pin meets."""
    stale = []
    for text in wanted:
        requirement = Requirement(text)
        version = pins.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            stale.append(f"{requirement} (pinned: {version})")
    return stale


@pytest.mark.parametrize("name", sorted(_constraint_groups()))
def test_every_requirement_is_pinned_to_a_version_it_allows(name: str) -> None:
    path = repo_root() / "constraints" / f"{name}.txt"
    wanted = PYPROJECT["project"]["dependencies"] + [
        r for group in _constraint_groups()[name] for r in _group(group)
    ]
    stale = _behind(_pins(path), wanted)
    assert not stale, f"{path.name} is behind pyproject.toml, run `nox -s lock`: {stale}"


def test_a_pin_outside_a_range_or_a_missing_one_is_behind(tmp_path: Path) -> None:
    lock = tmp_path / "dev.txt"
    lock.write_text(
        "boto3==1.0.0\n    # via mlops-seeds\nnumpy==2.5.5 ; python_full_version < '3.0'\n"
    )
    assert _pins(lock) == {"boto3": "1.0.0"}
    assert _behind(_pins(lock), ["boto3>=1.40,<2", "numpy>=1.26", "PyYAML>=6"]) == [
        "boto3<2,>=1.40 (pinned: 1.0.0)",
        "numpy>=1.26 (pinned: None)",
        "PyYAML>=6 (pinned: None)",
    ]
