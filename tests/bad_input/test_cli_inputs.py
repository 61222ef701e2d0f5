"""Bad command lines: unknown commands and options, out-of-range ports, unknown scenarios
and products, a used working directory. Each is refused with one line before anything
starts (the sandbox and the rehearsal are replaced by tripwires here, so a case that got
through would fail at once instead of starting them)."""

from typing import Any

import pytest
from click.testing import CliRunner
from harness import Case, Places, check_one_line, ids, invoke

from mlops_seeds.cli import cli

CASES = [
    Case(
        "unknown-command", ["frobnicate"], "No such command 'frobnicate' (see 'mlops-seeds --help')"
    ),
    Case("unknown-group-option", ["--frob", "seeds"], "No such option '--frob'"),
    Case("debug-after-the-command", ["seeds", "--debug"], "No such option '--debug'"),
    Case("new-unknown-option", ["new", "model-build", "--frob"], "No such option '--frob'"),
    Case("new-missing-seed", ["new"], "Missing argument 'SEED'"),
    Case("validate-unknown-option", ["validate", "--strict"], "No such option '--strict'"),
    Case("plan-unknown-route", ["plan", "--route", "ftp"], "Invalid value for '--route'"),
    Case("plan-manifest-is-a-folder", ["plan", "--manifest", "{place}"], "is a directory"),
    Case(
        "plan-manifest-missing",
        ["plan", "--manifest", "{place}/none.yaml"],
        "{place}/none.yaml: cannot read",
    ),
    Case("pipeline-unknown-subcommand", ["pipeline", "walk"], "No such command 'walk'"),
    Case("pipeline-run-without-local", ["pipeline", "run", "x.json"], "pass --local"),
    Case(
        "sandbox-port-negative",
        ["sandbox", "--port", "-1"],
        "--port -1: must be between 0 and 65535",
    ),
    Case("sandbox-port-too-big", ["sandbox", "--port", "70000"], "--port 70000: must be between 0"),
    Case(
        "sandbox-port-not-a-number", ["sandbox", "--port", "http"], "'http' is not a valid integer"
    ),
    Case(
        "rehearse-port-negative",
        ["rehearse", "--port", "-1"],
        "--port -1: must be between 0 and 65535",
    ),
    Case(
        "rehearse-port-too-big", ["rehearse", "--port", "70000"], "--port 70000: must be between 0"
    ),
    Case(
        "rehearse-port-not-a-number", ["rehearse", "--port", "1e3"], "'1e3' is not a valid integer"
    ),
    Case(
        "rehearse-unknown-scenario",
        ["rehearse", "--scenario", "sad"],
        "Invalid value for '--scenario'",
    ),
    Case("rehearse-unknown-product", ["rehearse", "--product", "nope"], "--product nope: not in"),
    Case(
        "rehearse-bad-project-name",
        ["rehearse", "--project-name", "../x"],
        "--project-name '../x': must be 1-32 characters",
    ),
    Case(
        "rehearse-used-workdir",
        ["rehearse", "--workdir", "{outside}"],
        "--workdir {outside}: must be empty or not exist",
    ),
    Case(
        "rehearse-workdir-is-a-file",
        ["rehearse", "--workdir", "{outside}/secret.txt"],
        "is a file",
    ),
]


def _tripwire(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("the sandbox or the rehearsal was about to start")


@pytest.fixture(autouse=True)
def _nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting the sandbox (`sandbox`, `rehearse`) or playing a rehearsal fails the case."""
    monkeypatch.setattr("mlops_seeds.sandbox.server.Sandbox.start", _tripwire)
    monkeypatch.setattr("mlops_seeds.rehearse.flow.run", _tripwire)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_cli_bad_input(case: Case, places: Places, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(places, case, monkeypatch)
    check_one_line(result, case, places)
    assert not any(places.place.iterdir())


def test_debug_before_the_command_shows_the_traceback(places: Places) -> None:
    missing = str(places.place / "none.yaml")
    quiet = CliRunner().invoke(cli, ["validate", missing])
    assert quiet.exit_code == 2 and quiet.exc_info is not None
    assert quiet.exc_info[0] is SystemExit
    loud = CliRunner().invoke(cli, ["--debug", "validate", missing])
    assert loud.exc_info is not None and loud.exc_info[0].__name__ == "SeedsError"


def test_an_unexpected_exception_is_one_line_pointing_at_debug(
    places: Places, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("Resources")

    monkeypatch.setattr("mlops_seeds.cli.validate_paths", broken)
    result = CliRunner().invoke(cli, ["validate", str(places.place)])
    check_one_line(
        result,
        Case(
            "internal",
            [],
            "mlops-seeds: internal error: KeyError: 'Resources' (rerun with --debug",
            1,
        ),
    )
    loud = CliRunner().invoke(cli, ["--debug", "validate", str(places.place)])
    assert loud.exc_info is not None and loud.exc_info[0] is KeyError
