"""The rehearsal end to end: the happy path through the CLI in its own process, each gate
through the flow on the test session's sandbox, and bad input before anything starts."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError
from mlops_seeds.rehearse import cli as rehearse_cli
from mlops_seeds.rehearse import drift, flow
from mlops_seeds.rehearse import project as projects
from mlops_seeds.rehearse.approvals import Approval, ApprovalRequest, ask_on_terminal
from mlops_seeds.rehearse.kept import KeptSession
from mlops_seeds.rehearse.outcome import check_outcome
from mlops_seeds.rehearse.scenarios import SCENARIOS
from mlops_seeds.rehearse.summary import summary_lines
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.sagemaker import runs as sandbox_runs

NUMBER = r"-?\d+(\.\d+)?(e-?\d+)?"
BREAST_CANCER = Path(
    "seed_code/model-build/{{cookiecutter.__repo_name}}/pipelines/data/breast_cancer.csv"
)


def _rehearse(
    sandbox: Sandbox,
    tmp_path: Path,
    scenario: str,
    project_roles: str = "created",
    delete_project: bool = True,
) -> flow.Report:
    options = flow.Options(
        scenario=SCENARIOS[scenario], project_roles=project_roles, delete_project=delete_project
    )
    return flow.run(options, flow.prepare(options), print, sandbox, tmp_path)


def _sagemaker_execution(report: flow.Report) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The project's one SageMaker pipeline execution, described, and its steps as the
    sandbox lists them (newest first)."""
    assert report.runs is not None and report.project is not None
    sagemaker = aws.client("sagemaker", report.runs.session)
    pipeline = f"sagemaker-{report.project.name}-{report.project.id}"
    (summary,) = sagemaker.list_pipeline_executions(PipelineName=pipeline)[
        "PipelineExecutionSummaries"
    ]
    arn = summary["PipelineExecutionArn"]
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    pages = sagemaker.get_paginator("list_pipeline_execution_steps").paginate(
        PipelineExecutionArn=arn
    )
    return described, [step for page in pages for step in page["PipelineExecutionSteps"]]


def _cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "TMPDIR": str(tmp)}


def _exports(lines: list[str]) -> dict[str, str]:
    """The variables `export NAME=value` lines set."""
    found: dict[str, str] = {}
    for line in lines:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            found[name] = shlex.split(value)[0]
    return found


def test_a_canary_that_fails_in_production_rolls_back_and_keep_serves_the_first_model(
    tmp_path: Path,
) -> None:
    # The happy path first (a model to production), then a second model whose serving
    # fails on part of production's traffic: the canary's alarm rolls the update back.
    rehearsal = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlops_seeds",
            "rehearse",
            "--scenario",
            "canary-rollback",
            "--keep",
        ],
        env=_cli_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert rehearsal.stdout is not None
    lines: list[str] = []
    try:
        for line in rehearsal.stdout:  # until the environment is printed (then it serves)
            print(line, end="")
            lines.append(line.rstrip("\n"))
            if line.startswith("unset "):
                break
        output = "\n".join(lines)
        assert (
            "Rehearsal PASSED: the second model's canary tripped alarm "
            "rehearsal-prod-new-fleet-5xx-rate; prod rolled back and answered 3 predictions "
            "with the first model" in output
        )
        predictions = re.search(r"prod predictions: (.*)", output)
        assert predictions is not None
        values = predictions.group(1).split(", ")
        assert len(values) == 3 and all(re.fullmatch(NUMBER, v) for v in values)
        assert len(set(values)) == 3  # a model, not a constant
        stages = ("accounts", "admin", "scientist", "git", "build", "review", "deploy")
        for stage in (*stages, "git 2", "build 2", "review 2"):
            assert re.search(rf"^    {stage} ok in \d+\.\d s", output, re.MULTILINE), stage
        assert re.search(r"^    deploy 2 failed in .*failed at DeployProdEndpoint", output, re.M)
        assert "traffic step 1 of 2 (25% of traffic on the new fleet)" in output
        assert "prod stack: UPDATE_ROLLBACK_COMPLETE" in output
        assert re.search(r"prod serves: rehearsal-p-\w+/1$", output, re.MULTILINE)
        traffic = re.search(r"second deployment: (\d+) requests to rehearsal-prod: (.*)", output)
        assert traffic is not None and "ModelError" in traffic.group(2)
        # The kept sandbox answers from outside: the prod endpoint, as the spoke's admin,
        # with a row the second model refused (mean radius below 12), and the alarm fired.
        env = _exports(lines)
        hub = aws.endpoint_session(
            env["AWS_ENDPOINT_URL"],
            env["AWS_ACCESS_KEY_ID"],
            env["AWS_SECRET_ACCESS_KEY"],
            env["AWS_REGION"],
        )
        spoke = aws.assume_role(hub, "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole")
        rows = [r.rsplit(",", 1)[0] for r in BREAST_CANCER.read_text().splitlines()[1:]]
        small = next(r for r in rows if float(r.split(",")[0]) < 12)
        answer = aws.client("sagemaker-runtime", spoke).invoke_endpoint(
            EndpointName="rehearsal-prod", ContentType="text/csv", Accept="text/csv", Body=small
        )
        assert re.fullmatch(NUMBER, answer["Body"].read().decode().strip())
        alarms = aws.client("cloudwatch", spoke).describe_alarms(
            AlarmNames=["rehearsal-prod-new-fleet-5xx-rate"]
        )["MetricAlarms"]
        assert alarms[0]["StateReason"].startswith("Threshold Crossed")
    finally:
        rehearsal.send_signal(signal.SIGINT)
        rest, _ = rehearsal.communicate(timeout=60)
        print(rest)
    assert rehearsal.returncode == 0
    kept = re.search(r"working directory (\S+)", output)
    assert kept is not None and Path(kept.group(1), "repos", "model-build", ".git").is_dir()


def test_a_rehearsal_without_keep_cleans_up(tmp_path: Path) -> None:
    # With SageMaker's own project roles: its launch role launches, the project's pipelines
    # run as its CodePipeline, CodeBuild, EventBridge and execution roles.
    command = ["rehearse", "--scenario", "rejected", "--project-roles", "aws-managed"]
    done = subprocess.run(
        [sys.executable, "-m", "mlops_seeds", *command],
        env=_cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(done.stdout, done.stderr)
    assert done.returncode == 0
    assert "Rehearsal PASSED: the package was rejected; nothing was deployed" in done.stdout
    # the rejection started the deploy pipeline, which found no approved package
    assert re.search(
        r"modeldeploy \(package Rejected\): Failed .* at BuildDeploymentTemplates", done.stdout
    )
    assert "model packages: Rejected" in done.stdout and "endpoints 0" in done.stdout
    assert list(tmp_path.iterdir()) == []  # the working directory and the sandbox's are gone


def test_a_threshold_no_model_meets_stops_before_registration(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    report = _rehearse(sandbox, tmp_path, "metric-fails")
    assert report.outcome is not None and report.outcome.passed, report.outcome
    assert "FailMetricThreshold" in report.outcome.summary
    assert report.outcome.facts["model packages"] == "none"
    assert [(s.name, s.status) for s in report.timeline.stages] == [
        ("accounts", "ok"), ("admin", "ok"), ("scientist", "ok"), ("git", "ok"),
        ("build", "failed"), ("check", "ok"), ("delete", "ok"),
    ]  # fmt: skip
    assert report.passed and not report.undeleted
    build = report.timeline.stages[4]
    assert build.status == "failed" and "BuildAndRunSageMakerPipeline" in build.detail
    assert report.runs is not None and report.project is not None
    # The failed run is told to the project's topic (and nothing else is).
    told = report.outcome.facts["notifications"]
    assert told == "SageMaker Model Building Pipeline Execution Status Change x1"
    (notification,) = report.runs.notifications
    assert notification.rule == f"sagemaker-{report.project.id}-notify-pipeline-failed"
    assert notification.about.endswith(" Failed")
    assert not check_outcome(report.runs, report.project, SCENARIOS["happy"], "regression").passed

    # As SageMaker reports it: the condition's outcome, the Fail step's message, the
    # execution's reason naming the step.
    described, listed = _sagemaker_execution(report)
    assert described["PipelineExecutionStatus"] == "Failed"
    steps = {s["StepName"]: s for s in listed}
    assert "RegisterModel" not in steps
    assert steps["CheckMetricThreshold"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    fail = steps["FailMetricThreshold"]
    assert fail["StepStatus"] == "Failed"
    assert fail["FailureReason"].startswith("Test RMSE ")
    assert "does not meet the threshold (<=)" in fail["FailureReason"]
    assert fail["Metadata"] == {"Fail": {"ErrorMessage": fail["FailureReason"]}}
    assert described["FailureReason"] == f"step FailMetricThreshold: {fail['FailureReason']}"


def test_a_failing_staging_test_leaves_prod_untouched(sandbox: Sandbox, tmp_path: Path) -> None:
    # SageMaker's roles deploy staging (its CloudFormation role) and test it (its CodeBuild
    # role): the test fails on the payload, not on a permission.
    report = _rehearse(sandbox, tmp_path, "staging-test-fails", "aws-managed")
    assert report.outcome is not None and report.outcome.passed, report.outcome
    facts = report.outcome.facts
    assert facts["staging endpoint"] == "InService"
    assert (facts["prod stack"], facts["prod endpoint"]) == ("absent", "absent")
    assert report.runs is not None
    deploy = report.runs.history[-1].record
    assert deploy.failed_action is not None and deploy.failed_action.name == "TestStagingEndpoint"
    assert "not authorized" not in deploy.failed_action.summary and not report.runs.refusals
    assert "DeployProdEndpoint" not in [a.name for a in deploy.actions]
    # The deploy repo's push ran the deploy pipeline first: nothing was approved yet.
    first = report.runs.history[0].record
    assert (
        first.failed_action is not None and first.failed_action.name == "BuildDeploymentTemplates"
    )
    assert report.project is not None
    assert not check_outcome(report.runs, report.project, SCENARIOS["happy"], "regression").passed
    # SageMaker's launch role deleted the project (its stack), the staging stack stays.
    assert report.timeline.stages[-1].name == "delete" and not report.undeleted
    cloudformation = aws.client("cloudformation", report.runs.session)
    left = [s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]]
    assert report.project.stack_name not in left
    assert f"sagemaker-{report.project.name}-{report.project.id}-deploy-staging" in left

    # The build's SageMaker execution, as SageMaker reports it: each step's metadata, the
    # steps newest first, the package it registered; the sandbox keeps its record and log.
    described, listed = _sagemaker_execution(report)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert "FailureReason" not in described
    assert all(s["StepStatus"] == "Succeeded" for s in listed)
    starts = [s["StartTime"] for s in listed]
    assert starts == sorted(starts, reverse=True)
    steps = {s["StepName"]: s for s in listed}
    assert "FailMetricThreshold" not in steps
    assert steps["CheckMetricThreshold"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    spoke = report.runs.session.client("sts").get_caller_identity()["Account"]
    training = steps["TrainModel"]["Metadata"]["TrainingJob"]["Arn"]
    assert training.startswith(f"arn:aws:sagemaker:us-east-1:{spoke}:training-job/")
    group = report.project.outputs["ModelPackageGroupName"]
    (package,) = report.runs.packages(group)
    assert steps["RegisterModel"]["Metadata"]["RegisterModel"]["Arn"] == package["ModelPackageArn"]
    arn = described["PipelineExecutionArn"]
    run = sandbox_runs.find(arn)
    assert run is not None and run.directory is not None
    record = json.loads((run.directory / "record.json").read_text())
    assert record["execution_id"] == arn.rsplit("/", 1)[1]
    log = (run.directory / "execution.log").read_text()
    assert "RegisterModel (RegisterModel): Succeeded" in log


def test_upgrade_moves_the_project_and_merges_the_seed_update(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    report = _rehearse(sandbox, tmp_path, "upgrade")
    assert report.passed, (report.error, report.outcome)
    names = [s.name for s in report.timeline.stages]
    assert names[4:9] == ["build", "platform", "upgrade", "repos", "build 2"]
    planned = report.upgrade
    assert planned is not None and report.project is not None
    assert planned.target_id != planned.project.artifact_id
    changes = {(c["Action"], c["ResourceType"]) for c in planned.changes}
    assert ("Modify", "AWS::Events::Rule") in changes, planned.changes
    assert report.offered["ModelBuild"].startswith("seed-update/model-build-")
    assert report.offered["ModelDeploy"] == ""  # its seed did not change
    assert report.outcome is not None
    assert report.outcome.facts["pipeline.py"] == "both changes"
    assert report.outcome.facts["project"].startswith("UpdateCompleted at ")
    # The merge's build ran the merged code: its source is the merge commit.
    assert report.runs is not None
    last = report.runs.history[-1]
    assert last.trigger.startswith("push to ") and last.record.succeeded


def test_drift_sets_off_the_alarm_and_retraining_and_the_rule_needs_its_role(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    report = _rehearse(sandbox, tmp_path, "drift", delete_project=False)  # looked at after
    assert report.outcome is not None and report.outcome.passed, report.outcome
    assert [s.name for s in report.timeline.stages][-4:] == ["monitor", "drift", "retrain", "check"]
    calm, drifted = report.checks["calm"], report.checks["drifted"]
    assert (calm.violations, calm.alarm, calm.matched, calm.started) == ([], "OK", [], [])
    assert {v["feature_name"] for v in drifted.violations} == {"_c0", "_c1", "_c2"}
    assert {v["constraint_check_type"] for v in drifted.violations} == {"baseline_drift_check"}
    assert drifted.alarm == "ALARM"
    assert report.runs is not None and report.project is not None
    project_id = report.project.id
    assert drifted.matched == [f"sagemaker-{project_id}-retrain-on-drift"]
    assert drifted.started == [f"sagemaker-rehearsal-{project_id}-modelbuild"]
    assert report.outcome.facts["model packages"] == "PendingManualApproval, Approved"
    lines = summary_lines(report)
    assert any(line.startswith("  drifted check: 3 violations") for line in lines)
    # The topic heard of both packages waiting for review and of the drift.
    prefix = f"sagemaker-{project_id}-"
    assert [(n.rule.removeprefix(prefix), n.detail_type) for n in report.runs.notifications] == [
        ("notify-package-pending", "SageMaker Model Package State Change"),
        ("retrain-on-drift", "CloudWatch Alarm State Change"),
        ("notify-package-pending", "SageMaker Model Package State Change"),
    ]
    assert "Notifications:" in lines

    # The rule's role loses its leave to start the model-build pipeline: the same alarm
    # event now starts nothing, with AWS's refusal.
    spoke = report.runs.session
    pages = aws.client("cloudformation", spoke).get_paginator("list_stack_resources")
    (role,) = [
        r["PhysicalResourceId"]
        for page in pages.paginate(StackName=report.project.stack_name)
        for r in page["StackResourceSummaries"]
        if r["LogicalResourceId"] == "EventsRole"
    ]
    aws.client("iam", spoke).delete_role_policy(RoleName=role, PolicyName="start-model-build")
    (alarm,) = aws.client("cloudwatch", spoke).describe_alarms(
        AlarmNames=["rehearsal-prod-data-drift"]
    )["MetricAlarms"]
    report.runs.alarm_changed(alarm, {**alarm, "StateValue": "OK"})
    assert report.runs.run_pending() == []
    refusal = report.runs.refusals[-1]
    assert refusal.startswith(
        f"rule sagemaker-{project_id}-retrain-on-drift could not start "
        f"sagemaker-rehearsal-{project_id}-modelbuild: "
    )
    assert (
        "refused StartPipelineExecution (AccessDeniedException: User: arn:aws:sts::111111111111:"
        f"assumed-role/{role}/events is not authorized to perform: "
        "codepipeline:StartPipelineExecution on resource: arn:aws:codepipeline:us-east-1:"
        f"111111111111:sagemaker-rehearsal-{project_id}-modelbuild because no "
        "identity-based policy allows the codepipeline:StartPipelineExecution action)"
    ) in refusal

    # The topic's policy admits another service, not EventBridge: the event is not
    # delivered either.
    topic = report.project.outputs["NotificationTopicArn"]
    sns = aws.client("sns", spoke)
    others = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic,
            }
        ],
    }
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(others)
    )
    told = len(report.runs.notifications)
    report.runs.alarm_changed(alarm, {**alarm, "StateValue": "OK"})
    assert len(report.runs.notifications) == told
    assert report.runs.refusals[-1] == (
        f"rule sagemaker-{project_id}-retrain-on-drift could not notify "
        f"{topic.rsplit(':', 1)[-1]}: User: events.amazonaws.com is not authorized to "
        f"perform: sns:Publish on resource: {topic} because no resource-based policy allows "
        "the sns:Publish action"
    )

    # The check's schedule starts it as the same role, which may start only its project's
    # checks: without that statement, the scheduled start is refused.
    prod_stack = aws.client("cloudformation", spoke).describe_stacks(
        StackName=report.project.outputs["ProdStackName"]
    )["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in prod_stack["Outputs"]}
    assert outputs["DataQualityScheduleName"] == "rehearsal-prod-data-quality"
    # A kept session runs that schedule itself (rate(1 day)), as the rule's role.
    kept = KeptSession(report.runs, lambda line: None)
    first = datetime(2026, 12, 3, 10, 0)
    sagemaker = aws.client("sagemaker", spoke)

    def checks() -> int:
        listed = sagemaker.list_pipeline_executions(PipelineName=outputs["DataQualityPipelineName"])
        return len(listed["PipelineExecutionSummaries"])

    before = checks()
    kept.tick(first)
    kept.tick(first + timedelta(days=1))
    assert checks() == before + 1
    aws.client("iam", spoke).delete_role_policy(RoleName=role, PolicyName="start-model-deploy")
    kept.tick(first + timedelta(days=2))
    refused_start = report.runs.refusals[-1]
    assert "is not authorized to perform: sagemaker:StartPipelineExecution" in refused_start
    scheduled = drift.check_starter(spoke, outputs, spoke)
    with pytest.raises(ClientError) as refused:
        aws.client("sagemaker", scheduled).start_pipeline_execution(
            PipelineName=outputs["DataQualityPipelineName"]
        )
    assert (
        f"assumed-role/{role}/events is not authorized to perform: "
        "sagemaker:StartPipelineExecution on resource: "
        "arn:aws:sagemaker:us-east-1:111111111111:pipeline/rehearsal-prod-data-quality"
    ) in str(refused.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project-name", "9lives"], "--project-name '9lives': must be 1-32 characters"),
        (["--product", "nope"], "--product nope: not in service_catalog/portfolio.yaml"),
        (["--product", "build"], "--product build: has no model-deploy seed"),
        (
            ["--scenario", "canary-rollback", "--product", "build-deploy"],
            "--product build-deploy: the canary-rollback scenario changes the model's serving "
            "script",
        ),
        (
            ["--scenario", "canary-rollback", "--project-roles", "aws-managed"],
            "--scenario canary-rollback: needs the rollback alarms",
        ),
        (
            ["--product", "build-deploy-multi-account", "--project-roles", "aws-managed"],
            "--product build-deploy-multi-account: deploys to other accounts",
        ),
        (
            ["--scenario", "drift", "--project-roles", "aws-managed"],
            "--scenario drift: needs the drift alarm",
        ),
        (
            ["--scenario", "upgrade", "--project-roles", "aws-managed"],
            "--scenario upgrade: changes a rule of the project's notifications",
        ),
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


def test_a_bad_port_with_a_workdir_makes_no_directory(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    result = run("rehearse", "--workdir", str(tmp_path / "new"), "--port", "70000")
    assert result.exit_code == 2
    assert "--port 70000: must be between 0 and 65535" in result.output
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


@pytest.mark.parametrize(("answer", "decision"), [("y\n", "Approved"), ("n\n", "Rejected")])
def test_interactive_asks_for_the_package_decision(answer: str, decision: str) -> None:
    decided: list[str] = []

    @click.command()
    def ask() -> None:
        decided.append(rehearse_cli.ask_decision({"ModelPackageArn": "arn:pkg/1"}))

    result = CliRunner().invoke(ask, input=answer)
    assert "Approve model package arn:pkg/1?" in result.output
    assert decided == [decision]


@pytest.mark.parametrize(("answer", "approved"), [("\n", True), ("n\n", False)])
def test_interactive_asks_for_each_manual_approval(answer: str, approved: bool) -> None:
    decisions: list[Approval] = []
    request = ApprovalRequest("deploy", "DeployStaging", "ApproveDeployment", "Promote?")

    @click.command()
    def ask() -> None:
        decisions.append(ask_on_terminal(request))

    result = CliRunner().invoke(ask, input=answer)
    assert "Approve deploy/DeployStaging/ApproveDeployment: Promote?" in result.output
    assert [d.approved for d in decisions] == [approved]


def test_a_stage_that_breaks_ends_the_rehearsal_with_a_failed_summary(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise SeedsError("project rehearsal: CreateFailed: the launch role cannot be assumed")

    monkeypatch.setattr(projects, "create_project", refused)
    report = _rehearse(sandbox, tmp_path, "happy")
    assert not report.passed
    assert [(s.name, s.status) for s in report.timeline.stages] == [
        ("accounts", "ok"), ("admin", "ok"), ("scientist", "failed"),
    ]  # fmt: skip
    assert "SeedsError" in report.trace
    lines = summary_lines(report)
    assert (
        "Rehearsal FAILED in stage scientist: project rehearsal: CreateFailed: "
        "the launch role cannot be assumed"
    ) in lines
