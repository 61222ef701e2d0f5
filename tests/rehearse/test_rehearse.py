"""The rehearsal end to end: the happy path through the CLI in its own process, each gate
through the flow on the test session's sandbox, and bad input before anything starts."""

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from mlops_seeds import aws
from mlops_seeds.rehearse import flow
from mlops_seeds.rehearse.outcome import check_outcome
from mlops_seeds.rehearse.scenarios import SCENARIOS
from mlops_seeds.sandbox import Sandbox

NUMBER = r"-?\d+(\.\d+)?(e-?\d+)?"


def _rehearse(sandbox: Sandbox, tmp_path: Path, scenario: str) -> flow.Report:
    options = flow.Options(scenario=SCENARIOS[scenario])
    return flow.run(options, flow.prepare(options), print, sandbox, tmp_path)


def _cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "TMPDIR": str(tmp)}


def test_the_happy_rehearsal_ends_with_prod_answering_and_cleans_up(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlops_seeds", "rehearse"],
        env=_cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(done.stdout, done.stderr)
    assert done.returncode == 0
    assert "Rehearsal PASSED: prod endpoint rehearsal-prod answered 3 predictions" in done.stdout
    predictions = re.search(r"prod predictions: (.*)", done.stdout)
    assert predictions is not None
    values = predictions.group(1).split(", ")
    assert len(values) == 3 and all(re.fullmatch(NUMBER, v) for v in values)
    assert len(set(values)) == 3  # a model, not a constant
    for stage in ("accounts", "admin", "scientist", "git", "build", "review", "deploy"):
        assert re.search(rf"^    {stage} ok in \d+\.\d s", done.stdout, re.MULTILINE), stage
    assert list(tmp_path.iterdir()) == []  # the working directory and the sandbox's are gone


def test_a_threshold_no_model_meets_stops_before_registration(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    report = _rehearse(sandbox, tmp_path, "metric-fails")
    assert report.outcome is not None and report.outcome.passed, report.outcome
    assert "FailMetricThreshold" in report.outcome.summary
    assert report.outcome.facts["model packages"] == "none"
    assert [s.name for s in report.timeline.stages] == [
        "accounts", "admin", "scientist", "git", "build", "check",
    ]  # fmt: skip
    build = report.timeline.stages[4]
    assert build.status == "failed" and "BuildAndRunSageMakerPipeline" in build.detail
    assert report.runs is not None and report.project is not None
    assert not check_outcome(report.runs, report.project, SCENARIOS["happy"], "regression").passed


def test_a_failing_staging_test_leaves_prod_untouched(sandbox: Sandbox, tmp_path: Path) -> None:
    report = _rehearse(sandbox, tmp_path, "staging-test-fails")
    assert report.outcome is not None and report.outcome.passed, report.outcome
    facts = report.outcome.facts
    assert facts["staging endpoint"] == "InService"
    assert (facts["prod stack"], facts["prod endpoint"]) == ("absent", "absent")
    assert report.runs is not None
    deploy = report.runs.history[-1].record
    assert deploy.failed_action is not None and deploy.failed_action.name == "TestStagingEndpoint"
    assert "DeployProdEndpoint" not in [a.name for a in deploy.actions]
    # The deploy repo's push ran the deploy pipeline first: nothing was approved yet.
    first = report.runs.history[0].record
    assert (
        first.failed_action is not None and first.failed_action.name == "BuildDeploymentTemplates"
    )
    assert report.project is not None
    assert not check_outcome(report.runs, report.project, SCENARIOS["happy"], "regression").passed


def test_a_rejected_package_deploys_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    report = _rehearse(sandbox, tmp_path, "rejected")
    assert report.outcome is not None and report.outcome.passed, report.outcome
    assert report.outcome.facts["model packages"] == "Rejected"
    assert report.runs is not None
    spoke = report.runs.session
    endpoints = aws.client("sagemaker", spoke).list_endpoints()["Endpoints"]
    assert endpoints == []
    deploy = report.runs.history[-1]
    assert deploy.trigger == "package Rejected"
    assert deploy.record.failed_action is not None
    assert deploy.record.failed_action.name == "BuildDeploymentTemplates"
    assert report.project is not None
    wrong = check_outcome(report.runs, report.project, SCENARIOS["metric-fails"], "regression")
    assert not wrong.passed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project-name", "9lives"], "--project-name '9lives': must be 1-32 characters"),
        (["--product", "nope"], "--product nope: not in service_catalog/portfolio.yaml"),
        (["--product", "build"], "--product build: has no model-deploy seed"),
        (["--scenario", "sunny"], "Invalid value for '--scenario'"),
        (["--port", "70000"], "--port 70000: must be between 0 and 65535"),
    ],
)
def test_bad_input_is_one_line_and_starts_nothing(
    run: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    result = run("rehearse", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_used_workdir_is_refused(run: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "something").write_text("mine")
    result = run("rehearse", "--workdir", str(tmp_path))
    assert result.exit_code == 2
    assert f"--workdir {tmp_path}: must be empty or not exist" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["something"]


def test_missing_packages_are_named_before_anything_starts(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setitem(flow.PACKAGES, "no_such_module_here", "no-such-dist")
    result = run("rehearse")
    assert result.exit_code == 2
    assert "rehearse needs no-such-dist installed beside mlops-seeds" in result.output
    assert list(tmp_path.iterdir()) == []
