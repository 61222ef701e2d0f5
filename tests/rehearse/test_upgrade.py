"""The upgrade scenario's platform side without a sandbox: the platform team's version 2 of
its seeds copy, and the seed update offered to a repository, which stops with the files in
conflict named when the scientist changed the lines the seed changed."""

from pathlib import Path

import pytest

from mlops_seeds import seed_update
from mlops_seeds.errors import SeedsError
from mlops_seeds.paths import repo_root
from mlops_seeds.provenance import read_record
from mlops_seeds.rehearse import git, upgrade
from mlops_seeds.rehearse.scenarios import SCIENTIST_LINE, scientist_changes_the_pipeline
from mlops_seeds.seeds import bake, load_seeds


def _repo(seeds: Path, tmp_path: Path) -> Path:
    """The model-build repo rendered from `seeds`, committed (as a project's would be)."""
    repo = bake(seeds, load_seeds(seeds)["model-build"], tmp_path / "repos")
    git.git("init", "--quiet", "--initial-branch=main", str(repo))
    git.commit_all(repo, "Initial commit: project seed code")
    origin = git.init_bare(tmp_path / "origin.git")
    git.git("remote", "add", "origin", origin, cwd=repo)
    git.push(repo, "main")
    return repo


def test_version_2_is_offered_on_a_branch_beside_the_scientists_change(tmp_path: Path) -> None:
    seeds = upgrade.copy_seeds(repo_root(), tmp_path)
    repo = _repo(seeds, tmp_path)
    pipeline = repo / "pipelines" / "pipeline.py"
    git.commit_all(repo, scientist_changes_the_pipeline(repo))
    upgrade.change_seeds(seeds)
    offered = seed_update.offer_updates(seeds, {"model-build": repo})
    branch = offered.branches["model-build"]
    assert branch.startswith("seed-update/model-build-")
    assert offered.changes["model-build"] == ["merged   pipelines/pipeline.py"]
    git.checkout(repo, branch)
    text = pipeline.read_text()
    assert upgrade.PLATFORM_NOTE in text and text.endswith(SCIENTIST_LINE)
    assert read_record(repo).commit == git.head(seeds)


def test_a_conflicting_change_stops_the_update_naming_the_file(tmp_path: Path) -> None:
    seeds = upgrade.copy_seeds(repo_root(), tmp_path)
    repo = _repo(seeds, tmp_path)
    pipeline = repo / "pipelines" / "pipeline.py"
    first, rest = pipeline.read_text().split("\n", 1)
    pipeline.write_text(f"{first}\n\nThe churn team's notes: see the runbook.\n{rest}")
    git.commit_all(repo, "the scientist notes where the platform team notes too")
    upgrade.change_seeds(seeds)
    with pytest.raises(
        SeedsError, match=r"conflicts with this repo's changes \(pipelines/pipeline\.py\)"
    ):
        seed_update.offer_updates(seeds, {"model-build": repo})
    assert git.git("branch", "--list", "seed-update/*", cwd=repo) == ""
    assert "The churn team's notes" in pipeline.read_text()  # as the scientist left it
