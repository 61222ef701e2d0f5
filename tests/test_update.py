"""`mlops-seeds update`: a repo rendered from a seed records where it came from
(`.mlops-seeds.json`), and is brought up to a newer version of its seed by a three-way
merge of the seed then, the repo now and the seed now; each case asserts the files that
result. The seeds repository here is a git copy of ours, changed as a platform team would."""

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlops_seeds import seed_update
from mlops_seeds.cli import cli
from mlops_seeds.errors import SeedsError
from mlops_seeds.provenance import RECORD, content_version, read_record
from mlops_seeds.seed_update import check_clean, plan
from mlops_seeds.seeds import bake, load_seeds

ROOT = Path(__file__).resolve().parents[1]
SEED = "model-build"
README = "README.md"
SEED_README = Path("seed_code") / SEED / "{{cookiecutter.__repo_name}}" / README
PIPELINE = "pipelines/pipeline.py"
IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _commit(cwd: Path, message: str) -> str:
    _git(cwd, "add", "-A")
    _git(cwd, "commit", "-q", "-m", message)
    return _git(cwd, "rev-parse", "HEAD")


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A seeds repository: our seeds and buildspecs, committed (version 1)."""
    root = tmp_path / "seeds"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "seed_code", root / "seed_code", ignore=ignore)
    shutil.copytree(ROOT / "buildspecs", root / "buildspecs", ignore=ignore)
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "seeds version 1")
    return root


def _rendered(seeds: Path, tmp_path: Path, **options: str) -> Path:
    """The model-build repo rendered from `seeds` as `mlops-seeds new` does, committed."""
    repo = bake(seeds, load_seeds(seeds)[SEED], tmp_path / "repos", options)
    _git(repo, "init", "-q", "-b", "main")
    _commit(repo, "Initial commit: project seed code")
    return repo


def _change_seed(seeds: Path, edit: Callable[[str], str], path: Path = SEED_README) -> None:
    """The platform team edits a seed file and commits (version 2)."""
    file = seeds / path
    file.write_text(edit(file.read_text()))
    _commit(seeds, "seeds version 2")


def _fresh(seeds: Path, tmp_path: Path, **options: str) -> dict[str, bytes]:
    """Every file of the seed rendered now (as a new repo would get), record aside."""
    repo = bake(seeds, load_seeds(seeds)[SEED], tmp_path / "fresh", options)
    return _files(repo)


def _files(repo: Path) -> dict[str, bytes]:
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo).parts and p.name != RECORD
    }


def _update(seeds: Path, repo: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["update", str(repo), *args], env={"MLOPS_SEEDS_ROOT": str(seeds)}
    )
    return result.exit_code, result.output


def _new_section(text: str) -> str:
    return text + "\n## Platform notes\n\nAdded by the platform team in version 2.\n"


def test_a_rendered_repo_records_its_seed_version_commit_and_options(
    seeds: Path, tmp_path: Path
) -> None:
    repo = _rendered(seeds, tmp_path, project_name="churn", framework="sklearn")
    record = json.loads((repo / RECORD).read_text())
    seed = load_seeds(seeds)[SEED]
    assert record == {
        "seed": SEED,
        "version": content_version(seeds, seed),
        "commit": _git(seeds, "rev-parse", "HEAD"),
        "options": {
            "aws_region": "us-east-1",
            "framework": "sklearn",
            "problem_type": "regression",
            "project_id": "p-000000000000",
            "project_name": "churn",
        },
    }
    # Seeds changed since their commit: the version is recorded without a commit.
    (seeds / SEED_README).write_text("changed\n")
    assert read_record(_rendered(seeds, tmp_path / "dirty")).commit is None


def test_update_without_local_changes_takes_the_new_seed(seeds: Path, tmp_path: Path) -> None:
    repo = _rendered(seeds, tmp_path)
    _change_seed(seeds, _new_section)
    assert _update(seeds, repo, "--check")[0] == 1
    code, output = _update(seeds, repo)
    assert code == 0, output
    assert f"updated  {README}" in output
    assert _files(repo) == _fresh(seeds, tmp_path)
    assert read_record(repo).version == content_version(seeds, load_seeds(seeds)[SEED])
    _commit(repo, "Update from the seed")
    assert _update(seeds, repo, "--check") == (0, f"{repo}: up to date with its seed\n")


def test_a_local_change_elsewhere_in_the_file_is_kept_beside_the_seeds(
    seeds: Path, tmp_path: Path
) -> None:
    repo = _rendered(seeds, tmp_path)
    readme = repo / README
    first, rest = readme.read_text().split("\n", 1)
    readme.write_text(f"{first}\n\nOur team's note: see the runbook.\n{rest}")
    pipeline = repo / PIPELINE
    pipeline.write_text(pipeline.read_text() + "\n# tuned by the team\n")
    _commit(repo, "The scientist's changes")
    _change_seed(seeds, _new_section)
    code, output = _update(seeds, repo)
    assert code == 0, output
    assert f"merged   {README}" in output
    text = readme.read_text()
    assert "Our team's note: see the runbook." in text
    assert text.endswith("Added by the platform team in version 2.\n")
    assert pipeline.read_text().endswith("\n# tuned by the team\n")  # the seed left it alone
    fresh = _fresh(seeds, tmp_path)
    unchanged = {p for p in fresh if p not in (README, PIPELINE)}
    assert {p: _files(repo)[p] for p in unchanged} == {p: fresh[p] for p in unchanged}


def test_both_changing_the_same_lines_leaves_conflict_markers_and_exits_1(
    seeds: Path, tmp_path: Path
) -> None:
    repo = _rendered(seeds, tmp_path)
    readme = repo / README
    _, rest = readme.read_text().split("\n", 1)
    readme.write_text(f"# Our churn model\n{rest}")
    _commit(repo, "The scientist renames the repo's title")
    _change_seed(
        seeds,
        lambda text: text.replace(
            "# {{ cookiecutter.__repo_name }}", "# Model build: {{ cookiecutter.__repo_name }}", 1
        ),
    )
    code, output = _update(seeds, repo)
    assert code == 1, output
    assert f"conflict {README} (both changed it: git conflict markers)" in output
    assert "1 conflicts" in output
    text = readme.read_text()
    assert text.startswith(
        f"<<<<<<< {README} (this repo)\n# Our churn model\n=======\n"
        "# Model build: my-project-modelbuild\n"
        f">>>>>>> {README} (seed now)\n"
    )
    assert text.split("\n", 5)[5] == rest  # the rest as it was


def test_an_option_that_changes_the_file_set(seeds: Path, tmp_path: Path) -> None:
    repo = _rendered(seeds, tmp_path)  # xgboost: no serving script
    assert not (repo / "pipelines/scripts/inference.py").exists()
    assert _update(seeds, repo, "--check", "--set", "framework=sklearn")[0] == 1
    code, output = _update(seeds, repo, "--set", "framework=sklearn")
    assert code == 0, output
    assert "added    pipelines/scripts/inference.py" in output
    assert _files(repo) == _fresh(seeds, tmp_path, framework="sklearn")
    assert read_record(repo).options["framework"] == "sklearn"
    _commit(repo, "sklearn")
    code, output = _update(seeds, repo, "--set", "framework=xgboost")
    assert code == 0, output
    assert "removed  pipelines/scripts/inference.py" in output
    assert _files(repo) == _fresh(seeds, tmp_path / "again")


def test_diff_shows_the_change_and_writes_nothing(seeds: Path, tmp_path: Path) -> None:
    repo = _rendered(seeds, tmp_path)
    _change_seed(seeds, _new_section)
    before = _files(repo)
    code, output = _update(seeds, repo, "--diff")
    assert code == 0, output
    assert output.startswith(f"--- a/{README}\n+++ b/{README}\n")
    assert "+## Platform notes\n" in output
    assert (
        _files(repo) == before
        and (repo / RECORD).read_text() == _git(repo, "show", f"HEAD:{RECORD}") + "\n"
    )


def test_an_unclean_work_tree_and_a_repo_without_a_record_are_refused(
    seeds: Path, tmp_path: Path
) -> None:
    repo = _rendered(seeds, tmp_path)
    _change_seed(seeds, _new_section)
    (repo / "scratch.txt").write_text("work in progress\n")
    code, output = _update(seeds, repo)
    assert code != 0
    assert "uncommitted changes; commit or stash them first" in output
    assert not (repo / README).read_text().endswith("version 2.\n")  # nothing written
    with pytest.raises(SeedsError, match="not a git work tree"):
        check_clean(tmp_path)
    (repo / RECORD).unlink()
    with pytest.raises(SeedsError, match=r"\.mlops-seeds\.json: missing"):
        plan(seeds, repo)


def test_a_version_not_in_the_seeds_history_is_named(seeds: Path, tmp_path: Path) -> None:
    repo = _rendered(seeds, tmp_path)
    record = json.loads((repo / RECORD).read_text())
    record.update(version="0123456789abcdef", commit=None)
    (repo / RECORD).write_text(json.dumps(record))
    _commit(repo, "an unknown version")
    _change_seed(seeds, _new_section)
    with pytest.raises(SeedsError, match=r"version 0123456789abcdef .* is not in the history"):
        plan(seeds, repo)


def test_branch_offers_the_update_for_review_and_pushes_it(seeds: Path, tmp_path: Path) -> None:
    repo = _rendered(seeds, tmp_path)
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", str(origin))
    _git(repo, "remote", "add", "origin", str(origin))
    _git(repo, "push", "-q", "origin", "main")
    before = _files(repo)
    _change_seed(seeds, _new_section)
    code, output = _update(seeds, repo, "--branch", "--push")
    assert code == 0, output
    version = content_version(seeds, load_seeds(seeds)[SEED])
    branch = f"seed-update/{SEED}-{version}"
    assert f"committed on {branch} and pushed to origin (1 files changed)" in output
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert _files(repo) == before  # main as it was
    assert _git(origin, "rev-parse", branch) == _git(repo, "rev-parse", branch)
    _git(repo, "checkout", "-q", branch)
    assert _files(repo) == _fresh(seeds, tmp_path)
    assert read_record(repo).version == version


def test_branch_refuses_a_conflicting_update_and_leaves_nothing(
    seeds: Path, tmp_path: Path
) -> None:
    repo = _rendered(seeds, tmp_path)
    readme = repo / README
    readme.write_text("# Our churn model\n" + readme.read_text().split("\n", 1)[1])
    _commit(repo, "The scientist renames the repo's title")
    _change_seed(
        seeds,
        lambda text: text.replace(
            "# {{ cookiecutter.__repo_name }}", "# Model build: {{ cookiecutter.__repo_name }}", 1
        ),
    )
    code, output = _update(seeds, repo, "--branch")
    assert code == 2
    assert f"the update conflicts with this repo's changes ({README})" in output
    assert _git(repo, "branch", "--list", "seed-update/*") == ""
    assert _git(repo, "status", "--porcelain") == ""
    assert _update(seeds, repo, "--push")[1].endswith(
        "--push: only with --branch (update never pushes the branch you are on)\n"
    )


def test_a_branch_whose_update_fails_is_not_left_behind(
    seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _rendered(seeds, tmp_path)
    _change_seed(seeds, _new_section)
    update = plan(seeds, repo)

    def disk_full(_: object) -> None:
        (repo / README).write_text("half written")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(seed_update, "apply", disk_full)
    with pytest.raises(OSError, match="No space left"):
        seed_update.offer(update)
    assert _git(repo, "branch", "--list", "seed-update/*") == ""
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert _git(repo, "status", "--porcelain") == ""


def test_a_repo_folder_that_leads_outside_is_refused(seeds: Path, tmp_path: Path) -> None:
    repo = _rendered(seeds, tmp_path)
    outside = tmp_path / "elsewhere"
    shutil.move(repo / "pipelines", outside)
    (repo / "pipelines").symlink_to(outside, target_is_directory=True)
    _commit(repo, "pipelines kept elsewhere")
    _change_seed(seeds, _new_section)
    code, output = _update(seeds, repo)
    assert code == 2
    assert "must stay inside" in output and "pipelines/" in output
    assert not (outside / ".mlops-seeds.json").exists()
    assert _git(repo, "status", "--porcelain") == ""  # nothing written
