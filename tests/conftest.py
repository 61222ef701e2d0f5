"""Shared fixtures: the repository root, an isolated cookiecutter config, a CLI runner, and
the sandbox (one server for the session, emptied for each test that uses it)."""

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from xdist_layout import DURATIONS, laid_out

from mlops_seeds.cli import cli
from mlops_seeds.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]


@pytest.hookimpl(trylast=True)  # after -k, -m and --deselect have chosen the tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With pytest-xdist's workers, lay the slowest tests out among the workers' first
    shares (worksteal, which the tests session uses, hands each a contiguous run of the
    collection and evens out the rest by stealing; other schedulers lose nothing by it).
    Otherwise where they fell depended on file names, and one worker ran the last of them
    alone: 64 s of the other's time idle in a run of 769 s, measured. The order is the same
    on every worker, as xdist requires."""
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    by_id = {item.nodeid: item for item in items}
    if workers < 2 or len(by_id) < len(items):
        return  # one worker, or the same test twice (--keep-duplicates)
    known: dict[str, float] = json.loads(DURATIONS.read_text())
    items[:] = [by_id[i] for i in laid_out(list(by_id), known, workers)]


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep cookiecutter's replay files and user config out of the developer's home, and
    run from the repository root, as a user of a checkout does."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {home / 'cookiecutters'}\nreplay_dir: {home / 'replay'}\n"
    )
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(config))
    monkeypatch.delenv("MLOPS_SEEDS_ROOT", raising=False)
    monkeypatch.chdir(ROOT)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def run() -> Callable[..., Result]:
    """Invoke the CLI in-process: run("new", "model-build", ...)."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def toy_repo(tmp_path: Path) -> Path:
    """A minimal seeds repository with one seed that has choices, an unsupported
    combination, a buildspec and a pre-generation hook."""
    repo = tmp_path / "toy"
    seed = repo / "seed_code" / "toy"
    (seed / "{{cookiecutter.__repo_name}}").mkdir(parents=True)
    (seed / "{{cookiecutter.__repo_name}}" / "README.md").write_text(
        "{{ cookiecutter.project_name }} uses {{ cookiecutter.flavour }}\n"
    )
    (seed / "hooks").mkdir()
    (seed / "hooks" / "pre_gen_project.py").write_text(
        "import sys\n"
        "if '{{ cookiecutter.flavour }}' == 'refused-by-hook':\n"
        "    sys.exit('flavour: refused by the hook')\n"
    )
    (seed / "cookiecutter.json").write_text(
        json.dumps(
            {
                "project_name": "toy",
                "project_id": "p-000000000000",
                "flavour": ["plain", "spicy", "refused-by-hook"],
                "size": ["small", "large"],
                "__repo_name": "{{ cookiecutter.project_name }}-repo",
                "_buildspecs": {"toy.yml": "ci/buildspec.yml"},
                "_unsupported": [
                    {"flavour": "spicy", "size": "large", "reason": "too hot to handle"}
                ],
            }
        )
    )
    (repo / "seed_code" / "cookiecutter.json").write_text(
        json.dumps({"templates": {"toy": {"path": "./toy", "description": "a toy"}}})
    )
    (repo / "buildspecs").mkdir()
    (repo / "buildspecs" / "toy.yml").write_text(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo $TOY\n"
    )
    return repo


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(_sandbox_server: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox, emptied, with the environment pointing at it (the hub's account is the
    default one; spokes are reached by STS assume-role)."""
    _sandbox_server.reset()
    for name, value in _sandbox_server.env().items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    yield _sandbox_server
    _sandbox_server.reset()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: bound, read, closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]
