"""Route an event as EventBridge would: every enabled rule of the bus whose pattern matches
it (EventBridge's own TestEventPattern decides), and the targets of those rules. Also the
events the project templates react to: a push to a CodeCommit branch, a model package's
change of state, a CloudWatch alarm's change of state, and the end of a CodePipeline or a
SageMaker pipeline execution."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from mlops_seeds import aws
from mlops_seeds.sandbox import target_input

CODECOMMIT_CHANGE = "CodeCommit Repository State Change"
MODEL_PACKAGE_CHANGE = "SageMaker Model Package State Change"
ALARM_CHANGE = "CloudWatch Alarm State Change"
CODEPIPELINE_CHANGE = "CodePipeline Pipeline Execution State Change"
SAGEMAKER_PIPELINE_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"


class EventRoutingError(RuntimeError):
    """The service cannot match events (its TestEventPattern gives no result)."""


@dataclass(frozen=True)
class Target:
    """A target of a rule that matched: where EventBridge would deliver the event."""

    rule: str
    target_id: str
    arn: str
    role_arn: str = ""
    rule_arn: str = ""
    # What the target is given (Input, InputPath, InputTransformer and a SageMaker pipeline's
    # SageMakerPipelineParameters, those it has), as JSON.
    input_settings: str = "{}"

    @property
    def settings(self) -> dict[str, Any]:
        """The target's Input, InputPath, InputTransformer and SageMakerPipelineParameters,
        those it has."""
        found: dict[str, Any] = json.loads(self.input_settings)
        return found

    @property
    def service(self) -> str:
        """The target's service (codepipeline, lambda, sqs, ...)."""
        return self.arn.split(":")[2] if self.arn.count(":") >= 5 else ""

    @property
    def resource(self) -> str:
        """The target's resource name: a pipeline's name for CodePipeline."""
        return self.arn.split(":", 5)[5] if self.arn.count(":") >= 5 else ""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(
    source: str, detail_type: str, account: str, region: str, resources: list[str]
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": _now(),
        "region": region,
        "resources": resources,
    }


def codecommit_push_event(
    repository_arn: str,
    branch: str,
    commit_id: str,
    *,
    old_commit_id: str | None = None,
    repository_id: str = "",
) -> dict[str, Any]:
    """The event CodeCommit sends when `branch` of a repository moves to `commit_id`:
    referenceCreated without `old_commit_id`, else referenceUpdated."""
    _, _, _, region, account, name = repository_arn.split(":", 5)
    detail: dict[str, Any] = {
        "callerUserArn": f"arn:aws:iam::{account}:user/mlops-seeds",
        "commitId": commit_id,
        "event": "referenceUpdated" if old_commit_id else "referenceCreated",
        "referenceFullName": f"refs/heads/{branch}",
        "referenceName": branch,
        "referenceType": "branch",
        "repositoryId": repository_id,
        "repositoryName": name,
    }
    if old_commit_id:
        detail["oldCommitId"] = old_commit_id
    event = _envelope("aws.codecommit", CODECOMMIT_CHANGE, account, region, [repository_arn])
    return {**event, "detail": detail}


def model_package_event(package: dict[str, Any]) -> dict[str, Any]:
    """The event SageMaker sends when a model package changes, from the package as
    DescribeModelPackage gives it (ModelPackageArn, ModelPackageGroupName,
    ModelApprovalStatus, ...)."""
    arn = str(package["ModelPackageArn"])
    _, _, _, region, account, _ = arn.split(":", 5)
    detail = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in package.items()
        if key != "ResponseMetadata"
    }
    event = _envelope("aws.sagemaker", MODEL_PACKAGE_CHANGE, account, region, [arn])
    return {**event, "detail": detail}


def _state(value: str, reason: str, when: Any) -> dict[str, str]:
    stamp = when.isoformat() if isinstance(when, datetime) else str(when)
    return {"value": value, "reason": reason, "timestamp": stamp}


def alarm_event(alarm: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """The event CloudWatch sends when a metric alarm changes state, from the alarm as
    DescribeAlarms gives it now and `previous` (its StateValue, StateReason and
    StateUpdatedTimestamp before)."""
    arn = str(alarm["AlarmArn"])
    _, _, _, region, account, _ = arn.split(":", 5)
    metric = {
        "namespace": alarm.get("Namespace"),
        "name": alarm.get("MetricName"),
        "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions") or []},
    }
    detail = {
        "alarmName": alarm["AlarmName"],
        "state": _state(
            alarm["StateValue"], alarm.get("StateReason", ""), alarm.get("StateUpdatedTimestamp")
        ),
        "previousState": _state(
            previous["StateValue"],
            previous.get("StateReason", ""),
            previous.get("StateUpdatedTimestamp"),
        ),
        "configuration": {
            "description": alarm.get("AlarmDescription", ""),
            "metrics": [
                {
                    "id": "m1",
                    "metricStat": {
                        "metric": metric,
                        "period": alarm.get("Period"),
                        "stat": alarm.get("Statistic"),
                    },
                    "returnData": True,
                }
            ],
        },
    }
    event = _envelope("aws.cloudwatch", ALARM_CHANGE, account, region, [arn])
    return {**event, "detail": detail}


def codepipeline_execution_event(
    pipeline_arn: str, execution_id: str, state: str
) -> dict[str, Any]:
    """The event CodePipeline sends when an execution of a pipeline changes state
    (STARTED, SUCCEEDED, FAILED, ...; `state` in any case)."""
    _, _, _, region, account, name = pipeline_arn.split(":", 5)
    detail = {
        "pipeline": name,
        "execution-id": execution_id,
        "state": state.upper(),
        "version": 1,
    }
    event = _envelope("aws.codepipeline", CODEPIPELINE_CHANGE, account, region, [pipeline_arn])
    return {**event, "detail": detail}


def pipeline_execution_event(execution: dict[str, Any]) -> dict[str, Any]:
    """The event SageMaker sends when a pipeline execution ends, from the execution as
    DescribePipelineExecution gives it (PipelineArn, PipelineExecutionArn, its status)."""
    arn = str(execution["PipelineExecutionArn"])
    pipeline_arn = str(execution["PipelineArn"])
    _, _, _, region, account, _ = arn.split(":", 5)

    def stamp(value: Any) -> str:
        return value.isoformat() if isinstance(value, datetime) else str(value or "")

    detail = {
        "pipelineExecutionDisplayName": execution.get("PipelineExecutionDisplayName", ""),
        "currentPipelineExecutionStatus": execution["PipelineExecutionStatus"],
        "previousPipelineExecutionStatus": "Executing",
        "executionStartTime": stamp(execution.get("CreationTime")),
        "executionEndTime": stamp(execution.get("LastModifiedTime")),
        "pipelineArn": pipeline_arn,
        "pipelineExecutionArn": arn,
    }
    if execution.get("FailureReason"):
        detail["failureReason"] = execution["FailureReason"]
    event = _envelope(
        "aws.sagemaker", SAGEMAKER_PIPELINE_CHANGE, account, region, [pipeline_arn, arn]
    )
    return {**event, "detail": detail}


def _rules(events: Any, bus: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = events.list_rules(EventBusName=bus, **({"NextToken": token} if token else {}))
        rules.extend(page.get("Rules") or [])
        token = page.get("NextToken")
        if not token:
            return rules


def _targets(events: Any, rule: str, bus: str) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = events.list_targets_by_rule(
            Rule=rule, EventBusName=bus, **({"NextToken": token} if token else {})
        )
        targets.extend(page.get("Targets") or [])
        token = page.get("NextToken")
        if not token:
            return targets


def matches(session: boto3.Session, pattern: str, event: dict[str, Any]) -> bool:
    """Whether `event` matches the event `pattern`, as EventBridge's TestEventPattern says."""
    return _matches(aws.client("events", session), pattern, event)


def _matches(events: Any, pattern: str, event: dict[str, Any]) -> bool:
    answer = events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event, default=str))
    if "Result" not in answer:
        raise EventRoutingError("TestEventPattern answered without a Result")
    return bool(answer["Result"])


def route(session: boto3.Session, event: dict[str, Any], bus: str = "default") -> list[Target]:
    """The targets of every enabled rule of `bus` whose pattern matches `event`."""
    events = aws.client("events", session)
    found: list[Target] = []
    for rule in _rules(events, bus):
        pattern = rule.get("EventPattern")
        if rule.get("State") != "ENABLED" or not pattern or not _matches(events, pattern, event):
            continue
        for target in _targets(events, rule["Name"], bus):
            found.append(
                Target(
                    rule["Name"],
                    target["Id"],
                    target["Arn"],
                    target.get("RoleArn", ""),
                    rule.get("Arn", ""),
                    input_settings(target),
                )
            )
    return found


def input_settings(target: dict[str, Any]) -> str:
    """A target's Input, InputPath, InputTransformer and SageMakerPipelineParameters (those
    it has), as JSON."""
    given = (*target_input.WAYS, "SageMakerPipelineParameters")
    return json.dumps({k: target[k] for k in given if target.get(k) is not None})


def sagemaker_pipeline_targets(targets: list[Target]) -> list[Target]:
    """The SageMaker pipeline targets among `targets`, in order (one start per rule and
    pipeline)."""
    found: dict[tuple[str, str], Target] = {}
    for target in targets:
        if target.service == "sagemaker" and _played(target):
            found.setdefault((target.rule, target.arn), target)
    return list(found.values())


def pipelines_to_start(targets: list[Target]) -> list[str]:
    """The names of the CodePipeline pipelines among `targets`, in order, once each."""
    return [t.resource for t in pipeline_targets(targets)]


def pipeline_targets(targets: list[Target]) -> list[Target]:
    """The CodePipeline targets among `targets`, in order, the first one per pipeline."""
    found: dict[str, Target] = {}
    for target in targets:
        if target.service == "codepipeline":
            found.setdefault(target.resource, target)
    return list(found.values())


def bus_targets(targets: list[Target]) -> list[Target]:
    """The event bus targets among `targets`, in order (one delivery per rule and bus)."""
    found: dict[tuple[str, str], Target] = {}
    for target in targets:
        if target.service == "events" and _played(target):
            found.setdefault((target.rule, target.arn), target)
    return list(found.values())


def other_targets(targets: list[Target]) -> list[Target]:
    """The targets of kinds not played here: not a CodePipeline or SageMaker pipeline, a
    topic or an event bus."""
    return [t for t in targets if t.service not in ("codepipeline", "sns") and not _played(t)]


def _played(target: Target) -> bool:
    """A SageMaker pipeline or an event bus."""
    kinds = {"sagemaker": "pipeline/", "events": "event-bus/"}
    prefix = kinds.get(target.service)
    return prefix is not None and target.resource.startswith(prefix)


def topic_targets(targets: list[Target]) -> list[Target]:
    """The SNS topic targets among `targets`, in order (one delivery per rule and topic)."""
    found: dict[tuple[str, str], Target] = {}
    for target in targets:
        if target.service == "sns":
            found.setdefault((target.rule, target.arn), target)
    return list(found.values())
