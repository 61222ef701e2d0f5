"""The drift scenario's second act: production takes traffic like the training data, the
data-quality check finds nothing and the drift alarm stays quiet; then the traffic shifts,
the check finds drift, the alarm fires and its event starts the model-build pipeline again
(retraining), which registers a new package for review.

The check is the prod endpoint stack's monitoring pipeline (the deploy seed's
EnableMonitoring), started here when its schedule would start it: as EventBridge does, as
the role of its schedule rule's target (the rehearsal does not wait a day for the schedule;
a kept session runs it on time, kept.py); without a schedule, as the scientist would start
it by hand. The alarm is the stack's data-drift
alarm, read at CloudWatch's evaluations on the sandbox clock. CloudWatch
would send its state change to EventBridge by itself; the sandbox does not, so the
rehearsal builds that event (as CloudWatch words it) and routes it to the project's rules.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import boto3

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError
from mlops_seeds.rehearse.roles import act_as
from mlops_seeds.rehearse.runs import PipelineRuns
from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.iam.principals import EVENTS

# Calm traffic is the dataset's rows over and over, so that what the endpoint captures (half
# of it: prod samples 50%) has the training data's distribution, and a check of it flags a
# feature by chance about once in ten thousand (its KS test alone would flag each feature
# of a small sample one time in twenty). The check reads everything captured: as much
# shifted traffic follows, so the shift is half of what it sees.
ROWS_PER_REQUEST = 50
CALM_ROWS = 2000
SHIFTED_ROWS = 2000
SHIFTED_FEATURES = 3  # the first features move by SHIFT standard deviations
SHIFT = 3.0
CHECK_TIMEOUT = 300.0  # seconds of wall clock for one monitoring execution
# Sandbox seconds past the check's metric period for CloudWatch's next evaluation.
EVALUATION_SLACK = 120.0
POLL = 0.2


@dataclass
class Check:
    """One run of the monitoring pipeline and what followed it."""

    violations: list[dict[str, str]] = field(default_factory=list)
    alarm: str = ""
    matched: list[str] = field(default_factory=list)  # the rules the alarm's event matched
    started: list[str] = field(default_factory=list)  # the pipelines its event started
    seconds: float = 0.0

    def line(self) -> str:
        """`2 violations (baseline_drift_check of _c0, _c1); alarm ALARM; its event matched
        R and started P`."""
        kinds = ", ".join(
            f"{v['constraint_check_type']} of {v['feature_name']}" for v in self.violations
        )
        found = f"{len(self.violations)} violations" + (f" ({kinds})" if kinds else "")
        text = f"{found}; alarm {self.alarm or 'unchanged'}"
        if not self.alarm:
            return text
        rules = ", ".join(self.matched) or "no rule"
        started = ", ".join(self.started) or "nothing"
        return f"{text}; its event matched {rules} and started {started}"


def repeated(rows: list[str], count: int) -> list[str]:
    """`count` rows: `rows` over and over."""
    if not rows:
        raise SeedsError("no rows to send")
    return [rows[i % len(rows)] for i in range(count)]


def shifted(rows: list[str]) -> list[str]:
    """The rows with their first SHIFTED_FEATURES values moved by SHIFT of their column's
    standard deviation."""
    table = [row.split(",") for row in rows]
    for column in range(min(SHIFTED_FEATURES, len(table[0]))):
        values = [float(r[column]) for r in table]
        step = SHIFT * (statistics.pstdev(values) or 1.0)
        for row, value in zip(table, values, strict=True):
            row[column] = repr(value + step)
    return [",".join(row) for row in table]


def send(session: boto3.Session, endpoint: str, rows: list[str]) -> int:
    """Invoke the endpoint with the rows, ROWS_PER_REQUEST at a time; the request count."""
    runtime = aws.client("sagemaker-runtime", session)
    requests = 0
    for start in range(0, len(rows), ROWS_PER_REQUEST):
        body = "\n".join(rows[start : start + ROWS_PER_REQUEST])
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
        requests += 1
    return requests


def _alarm(cloudwatch: Any, name: str) -> dict[str, Any]:
    alarms = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    if not alarms:
        raise SeedsError(f"alarm {name} not found: is the prod stack monitored?")
    return dict(alarms[0])


def _execute(starter: Any, watcher: Any, pipeline: str) -> str:
    """Start the monitoring pipeline (`starter`'s SageMaker client), wait for its end as
    `watcher` (the account's admin: EventBridge only starts it); its execution id."""
    arn = starter.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
    deadline = time.monotonic() + CHECK_TIMEOUT
    while time.monotonic() < deadline:
        execution = watcher.describe_pipeline_execution(PipelineExecutionArn=arn)
        status = execution["PipelineExecutionStatus"]
        if status == "Succeeded":
            return str(arn.rsplit("/", 1)[-1])
        if status != "Executing":
            reason = execution.get("FailureReason", "no reason given")
            raise SeedsError(f"monitoring pipeline {pipeline} {status}: {reason}")
        time.sleep(POLL)
    raise SeedsError(f"monitoring pipeline {pipeline} did not end in {CHECK_TIMEOUT:.0f} s")


def check_starter(
    prod: boto3.Session, stack: dict[str, str], by_hand: boto3.Session
) -> boto3.Session:
    """Who starts the check: EventBridge as the role of the stack's schedule rule's target
    (SeedsError, in AWS's words, when EventBridge may not assume it); `by_hand` when the
    stack has no schedule."""
    rule = stack.get("DataQualityScheduleName")
    if not rule:
        return by_hand
    pipeline = stack["DataQualityPipelineName"].lower()
    targets = aws.client("events", prod).list_targets_by_rule(Rule=rule)["Targets"]
    for target in targets:
        if str(target["Arn"]).lower().endswith(f":pipeline/{pipeline}"):
            return act_as(EVENTS, str(target.get("RoleArn", "")), "events")
    raise SeedsError(f"schedule rule {rule} does not target the check {pipeline}")


def check(
    runs: PipelineRuns, starter: boto3.Session, prod: boto3.Session, stack: dict[str, str]
) -> Check:
    """Run the prod stack's monitoring pipeline (as `starter`), read its violations, wait
    for CloudWatch's evaluation of the drift alarm after it, and route the alarm's change
    of state, if any. `stack` is the prod stack's outputs; `prod`, its account's admin."""
    started = time.monotonic()
    pipeline = stack["DataQualityPipelineName"]
    cloudwatch = aws.client("cloudwatch", prod)
    before = _alarm(cloudwatch, stack["DataDriftAlarmName"])
    execution = _execute(aws.client("sagemaker", starter), aws.client("sagemaker", prod), pipeline)
    found = Check()
    described = aws.client("sagemaker", prod).describe_pipeline(PipelineName=pipeline)
    definition = json.loads(described["PipelineDefinition"])
    output = definition["Steps"][0]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]
    prefix = output["S3Output"]["S3Uri"]["Std:Join"]["Values"][0]
    bucket, _, key = prefix[len("s3://") :].partition("/")
    report = aws.client("s3", prod).get_object(
        Bucket=bucket, Key=f"{key}/{execution}/constraint_violations.json"
    )
    found.violations = json.loads(report["Body"].read())["violations"]
    # CloudWatch evaluates the alarm once the period of the check's metrics has ended: at
    # most a period and a tick later, on the sandbox clock.
    wait = runtime.clock().real_seconds(float(before.get("Period") or 60) + EVALUATION_SLACK)
    deadline = time.monotonic() + wait
    now = before
    while time.monotonic() < deadline:
        now = _alarm(cloudwatch, stack["DataDriftAlarmName"])
        if now["StateUpdatedTimestamp"] != before["StateUpdatedTimestamp"]:
            break
        time.sleep(POLL)
    if now["StateUpdatedTimestamp"] != before["StateUpdatedTimestamp"]:
        found.alarm = str(now["StateValue"])
        starts = len(runs.starts)
        found.matched = runs.alarm_changed(now, before)
        found.started = runs.starts[starts:]
    found.seconds = time.monotonic() - started
    return found
