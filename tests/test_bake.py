"""Bake every seed option combination; check the exact file set, that nothing is left
unrendered, that buildspecs are copied in, that the repo lints clean, and that the rendered
repo's own test suite passes (run in this environment, in a subprocess).

The own suite runs whole for each seed's first combination; for the others, only the tests
whose outcome depends on the options (OPTION_DEPENDENT) and only when no earlier combination
had the same values of the options they depend on, since the rest would repeat the same work.
`nox -s bake` (`pytest -m bake`) runs the whole suite for every combination."""

import itertools
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import Result
from packaging.requirements import Requirement

from mlops_seeds.provenance import RECORD

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parents[1]
SEED_DIR = "{{cookiecutter.__repo_name}}"

# Files a post-generation hook removes, by (seed, option, value).
REMOVED = {
    ("model-build", "problem_type", "regression"): ["pipelines/data/breast_cancer.csv"],
    ("model-build", "problem_type", "classification"): ["pipelines/data/diabetes.csv"],
    ("model-build", "framework", "xgboost"): ["pipelines/scripts/inference.py"],
}


def _choices(seed: str) -> dict[str, list[str]]:
    context = json.loads((ROOT / "seed_code" / seed / "cookiecutter.json").read_text())
    return {k: v for k, v in context.items() if isinstance(v, list) and not k.startswith("_")}


# Options whose values interact are baked in every combination; the others are cycled
# through alongside, so each of their values is baked at least once.
INTERACTING = {"model-build": ["framework", "problem_type"], "model-deploy": []}
# The tests of a rendered repo that depend on its options, with the options each depends on
# (ALL: every one); the rest run once per seed.
ALL = None
# The deploy seed's choices that render its prod stage config (prod-config.json).
PROD_OPTIONS = tuple(k for k in _choices("model-deploy") if k.startswith("prod_"))
OPTION_DEPENDENT: dict[str, dict[str, tuple[str, ...] | None]] = {
    "model-build": {
        "tests/test_scripts.py": ALL,
        "tests/test_pipeline_definition.py": ALL,
        "tests/test_run_pipeline_local.py::test_local_run_registers_the_model_when_it_meets_"
        "the_threshold": ALL,
        # The condition's else branch: the gate is the problem type's (pipeline.GATES).
        "tests/test_run_pipeline_local.py::test_local_run_stops_at_the_fail_step_when_the_"
        "threshold_cannot_be_met": ("problem_type",),
    },
    "model-deploy": {
        # Both read the repo's own stage configs, which the prod_* options render.
        "tests/test_build_config.py": PROD_OPTIONS,
        "tests/test_template.py": PROD_OPTIONS,
        # The only test of the check script that uses the default payload (problem_type's);
        # the others pass theirs.
        "tests/test_check_endpoint.py::test_default_payload_is_shipped": ("problem_type",),
    },
}
# Files rendered verbatim (_copy_without_render) may hold braces of their own.
VERBATIM = {"endpoint-config-template.yml"}


def _option_sets(seed: str) -> list[dict[str, str]]:
    """A seed's interacting options in every combination, the others cycled alongside."""
    choices = _choices(seed)
    interacting = INTERACTING[seed]
    product = list(itertools.product(*(choices[k] for k in interacting)))
    independent = {k: v for k, v in choices.items() if k not in interacting}
    rounds = max([len(product), *map(len, independent.values())])
    sets = []
    for index in range(rounds):
        options = dict(zip(interacting, product[index % len(product)], strict=True))
        sets.append(options | {k: v[index % len(v)] for k, v in independent.items()})
    return sets


def _combinations() -> Iterator[object]:
    """Each seed's option sets, numbered, with readable ids."""
    for seed in INTERACTING:
        for index, options in enumerate(_option_sets(seed)):
            yield pytest.param(seed, options, index, id="-".join([seed, *options.values()]))


def _files(repo: Path) -> set[str]:
    skip = {"__pycache__", ".pytest_cache", ".ruff_cache"}
    return {
        str(p.relative_to(repo))
        for p in repo.rglob("*")
        if p.is_file() and not skip & set(p.relative_to(repo).parts)
    }


def _expected_files(seed: str, options: dict[str, str]) -> set[str]:
    template = ROOT / "seed_code" / seed / SEED_DIR
    files = _files(template)
    for (name, option, value), removed in REMOVED.items():
        if name == seed and options.get(option) == value:
            files -= set(removed)
    context = json.loads((ROOT / "seed_code" / seed / "cookiecutter.json").read_text())
    return files | set(context["_buildspecs"].values()) | {RECORD}


def _unmet(requirement: Requirement) -> list[str]:
    """What of `requirement` (and the extras it names) this environment lacks."""
    try:
        installed = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return [f"{requirement} (not installed)"]
    if not requirement.specifier.contains(installed, prereleases=True):
        return [f"{requirement} (found {installed})"]
    unmet = []
    for extra in requirement.extras:
        for line in metadata.requires(requirement.name) or []:
            needed = Requirement(line)
            if needed.marker and needed.marker.evaluate({"extra": extra}):
                unmet += _unmet(needed)
    return unmet


# `nox -s newest_sdk` sets it: these packages are then the registry's newest, past the
# seeds' pins, and are left out of the requirements check.
NEWEST_SDK = "MLOPS_SEEDS_NEWEST_SDK"


def _check_requirements(repo: Path) -> None:
    """The rendered repo's runtime and test requirements are met here, or the test names
    what to add to the `seeds` dependency group."""
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    lines = project.get("dependencies", []) + project["optional-dependencies"]["test"]
    upgraded = set(os.environ.get(NEWEST_SDK, "").split())
    requirements = [Requirement(line) for line in lines]
    unmet = [item for r in requirements if r.name not in upgraded for item in _unmet(r)]
    assert not unmet, f"add to the 'seeds' dependency group of pyproject.toml: {unmet}"


def _subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
    # Bytecode goes to the nox session's folder (PYTHONPYCACHEPREFIX), never beside the
    # rendered files; without such a folder, none is written.
    if not env.get("PYTHONPYCACHEPREFIX"):
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _own_tests(seed: str, index: int, config: pytest.Config) -> list[str] | None:
    """The rendered repo's tests to run: all ([]), the option-dependent ones that no earlier
    option set ran with the same values of the options they depend on, or none (None)."""
    if index == 0 or "bake" in str(config.option.markexpr or "") or seed not in OPTION_DEPENDENT:
        return []
    sets = _option_sets(seed)
    options, earlier = sets[index], sets[:index]
    wanted = []
    for test, depends_on in OPTION_DEPENDENT[seed].items():
        names = list(options) if depends_on is ALL else depends_on
        if all(any(e[n] != options[n] for n in names) for e in earlier):
            wanted.append(test)
    return wanted or None


@pytest.mark.bake
@pytest.mark.parametrize(("seed", "options", "index"), list(_combinations()))
def test_bake_renders_a_working_repo(
    seed: str,
    options: dict[str, str],
    index: int,
    tmp_path: Path,
    run: Run,
    request: pytest.FixtureRequest,
) -> None:
    sets = [arg for key, value in options.items() for arg in ("--set", f"{key}={value}")]
    result = run("new", seed, "--no-input", "-o", str(tmp_path), *sets)
    assert result.exit_code == 0, result.stderr
    repo = Path(result.stdout.strip())

    assert _files(repo) == _expected_files(seed, options)
    for path in repo.rglob("*"):
        if path.is_file() and path.name not in VERBATIM:
            text = path.read_text(errors="ignore")
            assert "{{" not in text and "{%" not in text, f"unrendered Jinja in {path}"
    context = json.loads((ROOT / "seed_code" / seed / "cookiecutter.json").read_text())
    for source, target in context["_buildspecs"].items():
        assert (repo / target).read_bytes() == (ROOT / "buildspecs" / source).read_bytes()

    _check_requirements(repo)
    env = _subprocess_env()
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        lint = subprocess.run(
            [sys.executable, "-m", *command], cwd=repo, env=env, capture_output=True, text=True
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr

    selected = _own_tests(seed, index, request.config)
    if selected is None:
        return  # every test of its own ran with earlier option sets
    own_tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selected],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert own_tests.returncode == 0, own_tests.stdout[-4000:] + own_tests.stderr[-2000:]
    assert " passed" in own_tests.stdout
