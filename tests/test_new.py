"""`mlops-seeds new`: rendering, buildspecs copied in, and every bad input refused cleanly."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Run = Callable[..., Result]


@pytest.fixture
def toy(toy_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_SEEDS_ROOT", str(toy_repo))
    return toy_repo


def _entries(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_new_renders_seed_and_copies_its_buildspecs(toy: Path, tmp_path: Path, run: Run) -> None:
    out = tmp_path / "out"
    result = run(
        "new",
        "toy",
        "--no-input",
        "-o",
        str(out),
        "--set",
        "project_name=demo",
        "--set",
        "flavour=spicy",
    )
    assert result.exit_code == 0, result.stderr
    repo = out / "demo-repo"
    assert result.stdout.strip() == str(repo)
    assert _entries(out) == [
        "demo-repo",
        "demo-repo/README.md",
        "demo-repo/ci",
        "demo-repo/ci/buildspec.yml",
    ]
    assert (repo / "README.md").read_text() == "demo uses spicy\n"
    assert (repo / "ci/buildspec.yml").read_text() == (toy / "buildspecs/toy.yml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown seed 'nope': choose one of toy"),
        (["toy", "--set", "flavour"], "--set 'flavour': expected KEY=VALUE"),
        (["toy", "--set", "=x"], "--set '=x': expected KEY=VALUE"),
        (["toy", "--set", "colour=red"], "--set colour: not an option of seed 'toy'"),
        (["toy", "--set", "_buildspecs=x"], "--set _buildspecs: not an option of seed 'toy'"),
        (["toy", "--set", "flavour=sour"], "--set flavour='sour': must be one of plain, spicy"),
        (["toy", "--set", "project_name=9lives"], "project_name '9lives': must be 1-32"),
        (["toy", "--set", "project_name=" + "a" * 33], "must be 1-32 characters"),
        (["toy", "--set", "project_id=p_1"], "project_id 'p_1': must be"),
        (
            ["toy", "--set", "flavour=spicy", "--set", "size=large"],
            "seed 'toy' does not support flavour=spicy, size=large: too hot to handle",
        ),
        (["toy", "--set", "flavour=refused-by-hook"], "rejected by its pre-generation hook"),
    ],
    ids=[
        "unknown-seed",
        "set-without-equals",
        "set-without-key",
        "unknown-option",
        "private-option",
        "bad-choice",
        "bad-project-name",
        "long-project-name",
        "bad-project-id",
        "unsupported-combination",
        "hook-refuses",
    ],
)
def test_bad_input_gets_one_line_exit_2_and_leaves_nothing(
    toy: Path, tmp_path: Path, run: Run, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    result = run("new", *args, "--no-input", "-o", str(out))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("mlops-seeds:")]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not out.exists()


def test_existing_target_is_refused_and_left_alone(toy: Path, tmp_path: Path, run: Run) -> None:
    out = tmp_path / "out"
    (out / "toy-repo").mkdir(parents=True)
    (out / "toy-repo" / "mine.txt").write_text("keep me")
    result = run("new", "toy", "--no-input", "-o", str(out))
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert _entries(out) == ["toy-repo", "toy-repo/mine.txt"]


def test_missing_buildspec_named_by_seed_is_refused(toy: Path, tmp_path: Path, run: Run) -> None:
    (toy / "buildspecs" / "toy.yml").unlink()
    out = tmp_path / "out"
    result = run("new", "toy", "--no-input", "-o", str(out))
    assert result.exit_code == 2
    assert "_buildspecs names missing file" in result.stderr
    assert not out.exists()


def test_seeds_lists_the_index(run: Run) -> None:
    result = run("seeds")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "model-build",
        "model-deploy",
    ]


def test_console_script_reports_errors_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlops_seeds", "new", "no-such-seed", "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("mlops-seeds: error: unknown seed 'no-such-seed'")
    assert "Traceback" not in result.stderr


def test_rendering_leaves_no_temporary_files(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    result = run("new", "model-build", "--no-input", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert list(temporary.iterdir()) == []  # cookiecutter's hook files went with the scratch dir
