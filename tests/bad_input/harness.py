"""The bad-input suite's harness: run one command in-process, in a place of its own, and
check the answer is one clear line, the exit code, no traceback, nothing written outside.

A case is a `Case(id, args, expect, code)`: `args` after `mlops-seeds`, `expect` a fragment
the single error line must contain (the field and the rule it names). `{place}` and
`{outside}` in args are replaced by the case's own folder and by a folder beside it that
must stay untouched.
"""

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlops_seeds.cli import cli


@dataclass(frozen=True)
class Case:
    """One bad or hostile input and the answer it must get."""

    id: str
    args: Sequence[str]
    expect: str
    code: int = 2
    env: Mapping[str, str] = field(default_factory=dict)
    stdin: str | None = None


def ids(cases: Sequence[Case]) -> list[str]:
    """pytest ids of a table."""
    return [case.id for case in cases]


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path below `folder` with its size and modification time."""
    found: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            stat = path.lstat()
            found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return found


@dataclass
class Places:
    """A case's own folder and the folder beside it that nothing may touch."""

    place: Path
    outside: Path

    def fill(self, args: Sequence[str]) -> list[str]:
        """`args` with {place} and {outside} replaced."""
        return [
            a.replace("{place}", str(self.place)).replace("{outside}", str(self.outside))
            for a in args
        ]


def make_places(tmp_path: Path) -> Iterator[Places]:
    """A case's folder and an `outside` folder holding a secret, checked untouched after."""
    place = tmp_path / "place"
    outside = tmp_path / "outside"
    place.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("the developer's secret\n")
    (outside / ".git").mkdir()
    (outside / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    before = _snapshot(outside)
    yield Places(place, outside)
    assert _snapshot(outside) == before, "something was written outside the case's place"


def invoke(places: Places, case: Case, monkeypatch: pytest.MonkeyPatch) -> Result:
    """Run the case's command in-process from its place."""
    monkeypatch.chdir(places.place)
    for name, value in case.env.items():
        monkeypatch.setenv(name, places.fill([value])[0])
    runner = CliRunner()
    return runner.invoke(cli, places.fill(case.args), input=case.stdin, catch_exceptions=True)


def check_one_line(result: Result, case: Case, places: Places | None = None) -> None:
    """Exit code as the case says, no traceback, and one error line naming field and rule."""
    assert result.exc_info is None or result.exc_info[0] is SystemExit, (
        f"uncaught {result.exc_info[0].__name__ if result.exc_info else ''}: {result.exception!r}"
    )
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == case.code, (result.exit_code, result.output)
    assert len(errors) == 1, f"expected one line on stderr, got {errors}"
    expect = case.expect
    if places is not None:
        expect = places.fill([expect])[0]
    assert expect in errors[0], f"{expect!r} not in {errors[0]!r}"
