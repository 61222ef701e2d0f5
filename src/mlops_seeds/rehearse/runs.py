"""The project's pipelines as its events start them: a push to a repository or a model
package decision is routed through the account's EventBridge rules, and each CodePipeline
target is walked on this machine. The end of each run is an event too (CodePipeline's, and
SageMaker's for the pipeline executions and model packages it made), and each SNS topic
target is delivered as EventBridge delivers (sandbox/event_targets.py). Keeps every run and
notification for the summary."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError
from mlops_seeds.rehearse import events, git
from mlops_seeds.rehearse.approvals import Approver, auto_approve
from mlops_seeds.rehearse.codepipeline import ExecutionRecord, codecommit_clone_url, run_pipeline
from mlops_seeds.rehearse.roles import act_as
from mlops_seeds.sandbox import event_targets
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.principals import EVENTS

Edit = Callable[[Path], str]
SCIENTIST = git.Identity("Rehearsal Scientist", "scientist@example.com")
ENDED = frozenset({"Succeeded", "Failed", "Stopped"})  # a SageMaker pipeline execution's end
# What the summary counts: kind -> (service, list operation, result key, parameters).
RESOURCE_LISTINGS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "stacks": ("cloudformation", "describe_stacks", "Stacks", {}),
    "repositories": ("codecommit", "list_repositories", "repositories", {}),
    "build projects": ("codebuild", "list_projects", "projects", {}),
    "pipelines": ("codepipeline", "list_pipelines", "pipelines", {}),
    "event rules": ("events", "list_rules", "Rules", {}),
    "model packages": (
        "sagemaker",
        "list_model_packages",
        "ModelPackageSummaryList",
        {"ModelPackageType": "Both"},
    ),
    "endpoints": ("sagemaker", "list_endpoints", "Endpoints", {}),
}


@dataclass
class Run:
    """One pipeline run and what started it."""

    trigger: str
    record: ExecutionRecord

    def line(self) -> str:
        """One line: pipeline, trigger, status, time, and the failed action's reason."""
        record = self.record
        text = f"{record.pipeline} ({self.trigger}): {record.status} in {record.seconds:.1f} s"
        failed = record.failed_action
        if failed is not None:
            text += f" at {failed.name}: {failed.summary}"
        return text


@dataclass(frozen=True)
class Notification:
    """An event a rule delivered to an SNS topic."""

    rule: str
    topic: str  # the topic's name
    detail_type: str
    about: str  # what the event is about, in a few words
    message_id: str

    def line(self) -> str:
        """One line: topic, rule, event and what it is about."""
        return f"{self.topic} <- {self.rule}: {self.detail_type} ({self.about})"


# What an event is about: detail-type -> (the detail's member naming it, its state's).
ABOUT = {
    events.MODEL_PACKAGE_CHANGE: ("ModelPackageArn", "ModelApprovalStatus"),
    events.SAGEMAKER_PIPELINE_CHANGE: ("pipelineExecutionArn", "currentPipelineExecutionStatus"),
    events.CODEPIPELINE_CHANGE: ("pipeline", "state"),
    events.ALARM_CHANGE: ("alarmName", "state.value"),
}


def _about(event: dict[str, Any]) -> str:
    members = ABOUT.get(str(event.get("detail-type")))
    if members is None:
        return ", ".join(event.get("resources") or []) or "?"
    found = []
    for member in members:
        value: Any = event.get("detail") or {}
        for part in member.split("."):
            value = value.get(part, "?") if isinstance(value, dict) else "?"
        found.append(str(value))
    return " ".join(found)


@dataclass
class PipelineRuns:
    """Clones, pushes, events and the pipeline runs they start, in one spoke account."""

    session: boto3.Session
    workdir: Path
    sandbox_dir: Path
    echo: Callable[[str], None]
    approver: Approver | None = None
    repos: dict[str, Path] = field(default_factory=dict)
    history: list[Run] = field(default_factory=list)
    pending: list[tuple[events.Target, str]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    starts: list[str] = field(default_factory=list)  # each pipeline an event started
    notifications: list[Notification] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # SageMaker executions and packages routed
    # Where a stage's endpoint is served, when not in the spoke: "staging"/"prod" -> session.
    stage_sessions: dict[str, boto3.Session] = field(default_factory=dict)
    _accounts: dict[str, boto3.Session] = field(default_factory=dict)

    def stage_session(self, stage: str) -> boto3.Session:
        """An admin session of the account serving `stage` (staging, prod)."""
        return self.stage_sessions.get(stage, self.session)

    def account_sessions(self) -> dict[str, boto3.Session]:
        """account id -> an admin session there: the spoke's first, then each account
        serving a stage (asked once)."""
        if not self._accounts:
            for session in [self.session, *self.stage_sessions.values()]:
                self._accounts.setdefault(aws.account_id(session), session)
        return self._accounts

    @property
    def spoke(self) -> str:
        """The spoke's account id (whose pipelines are walked here)."""
        return next(iter(self.account_sessions()))

    def clone(self, clone_url_output: str, label: str) -> Path:
        """Clone the CodeCommit repository a project output names (its last path part)."""
        name = clone_url_output.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        url = codecommit_clone_url(self.session, name)
        clone = git.clone(url, self.workdir / "repos" / label)
        self.repos[label] = clone
        self.echo(f"cloned {name} into {clone}")
        return clone

    def push(self, clone: Path, edit: Edit) -> str:
        """Apply `edit`, commit, push to the checked-out branch and route the push event."""
        branch = git.git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone)
        before = git.head(clone)
        message = edit(clone)
        commit = git.commit_all(clone, message, SCIENTIST)
        return self._pushed(clone, branch, before, commit, message)

    def merge(self, clone: Path, source: str) -> str:
        """Fetch branch `source` of the repository and merge it into the checked-out branch
        (a merge commit, as a reviewer merging a pull request makes), push it and route the
        push event."""
        branch = git.git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone)
        before = git.head(clone)
        message = f"Merge {source}"
        git.git("fetch", "--quiet", "origin", f"{source}:{source}", cwd=clone)
        git.git("merge", "--quiet", "--no-ff", "-m", message, source, cwd=clone, identity=SCIENTIST)
        return self._pushed(clone, branch, before, git.head(clone), message)

    def _pushed(self, clone: Path, branch: str, before: str, commit: str, message: str) -> str:
        """Push `branch` and route CodeCommit's event of its move from `before` to `commit`."""
        git.push(clone, branch)
        name = _repository_name(clone)
        metadata = aws.client("codecommit", self.session).get_repository(repositoryName=name)
        metadata = metadata["repositoryMetadata"]
        event = events.codecommit_push_event(
            metadata["Arn"],
            branch,
            commit,
            old_commit_id=before,
            repository_id=metadata.get("repositoryId", ""),
        )
        self.echo(f"pushed {commit[:10]} to {name}/{branch}: {message}")
        self._route(event, f"push to {name}")
        return commit

    def model_package_changed(self, group: str, arn: str, status: str) -> None:
        """Route the state change event of a package whose approval status changed."""
        package = aws.client("sagemaker", self.session).describe_model_package(ModelPackageName=arn)
        if package.get("ModelPackageGroupName") != group:
            raise ValueError(f"{arn} is not in {group}")
        self._route(events.model_package_event(package), f"package {status}")

    def alarm_changed(self, alarm: dict[str, Any], previous: dict[str, Any]) -> list[str]:
        """Route the state change event of an alarm on its own account's bus (the spoke's or
        a stage account's, whose rules may send it on to the spoke's); the rules it matched
        on each bus it reached."""
        event = events.alarm_event(alarm, previous)
        session = self.account_sessions().get(str(event["account"]))
        if session is None:
            raise SeedsError(
                f"alarm {alarm['AlarmName']} is in account {event['account']}, not one of "
                "the rehearsal's"
            )
        trigger = f"alarm {alarm['AlarmName']} {alarm['StateValue']}"
        return self._route(event, trigger, session)

    def _route(
        self,
        event: dict[str, Any],
        trigger: str,
        session: boto3.Session | None = None,
        bus: str = "default",
    ) -> list[str]:
        """Deliver `event` to the targets of the rules of `bus` (of the spoke, or of
        `session`'s account) that match it; the rules it matched there and on each bus it
        was sent on to."""
        targets = events.route(session or self.session, event, bus)
        matched = sorted({t.rule for t in targets})
        self.echo(f"event {event['detail-type']!r} matched {', '.join(matched) or 'no rule'}")
        for target in events.pipeline_targets(targets):
            if target.arn.split(":")[3:5] != target.rule_arn.split(":")[3:5]:
                self._refused(target, "not in the rule's account and region")
            elif target.arn.split(":")[4] != self.spoke:
                self._refused(target, "the sandbox walks the spoke's pipelines only")
            else:
                self.pending.append((target, trigger))
                self.starts.append(target.resource)
        for target in events.sagemaker_pipeline_targets(targets):
            self.start_sagemaker_pipeline(target)
        for target in events.topic_targets(targets):
            self._notify(target, event)
        for target in events.bus_targets(targets):
            matched += self._send_on(target, event, trigger)
        for target in events.other_targets(targets):
            self.echo(f"rule {target.rule}: the sandbox does not play {target.service} targets")
        return matched

    def _refused(self, target: events.Target, why: str) -> None:
        self.refusals.append(f"rule {target.rule} could not start {target.resource}: {why}")
        self.echo(self.refusals[-1])

    def _send_on(self, target: events.Target, event: dict[str, Any], trigger: str) -> list[str]:
        """Send `event` to another account's event bus as EventBridge does and route it
        there; the rules it matched there. A refused delivery (lost on AWS) is said and
        kept in `refusals`."""
        receiver = target.arn.split(":")[4]
        try:
            if str(event.get("account")) != target.rule_arn.split(":")[4]:
                raise SeedsError(
                    "the event came from another account, and EventBridge sends such events "
                    "no further"
                )
            event_targets.forward(target.rule_arn, target.arn, event, target.role_arn)
            session = self.account_sessions().get(receiver)
            if session is None:
                raise SeedsError(f"account {receiver} is not one of the rehearsal's")
        except (SeedsError, acting.AccessDenied, ValueError) as err:
            reason = getattr(err, "message", None) or str(err)
            self.refusals.append(f"rule {target.rule} could not send to {target.arn}: {reason}")
            self.echo(self.refusals[-1])
            return []
        self.echo(f"rule {target.rule} sent the event to {target.arn}")
        return self._route(event, trigger, session, target.resource.split("/", 1)[1])

    def start_sagemaker_pipeline(self, target: events.Target) -> str:
        """Start a SageMaker pipeline target as EventBridge does: in the rule's own account
        and region, as the target's role, with its SageMakerPipelineParameters; the
        execution's ARN, or '' when refused (said and kept in `refusals`, as the run is lost
        on AWS)."""
        where = f"rule {target.rule} could not start {target.resource}"
        parameters = (target.settings.get("SageMakerPipelineParameters") or {}).get(
            "PipelineParameterList"
        )
        try:
            if target.arn.split(":")[3:5] != target.rule_arn.split(":")[3:5]:
                raise SeedsError(
                    f"{target.arn} is not in the rule's account and region (EventBridge starts "
                    "pipelines of its own account and region)"
                )
            sagemaker = aws.client("sagemaker", self._starter(target))
            started = sagemaker.start_pipeline_execution(
                PipelineName=target.resource.split("/", 1)[1],
                **({"PipelineParameters": parameters} if parameters else {}),
            )
        except (SeedsError, ClientError) as err:
            self.refusals.append(f"{where}: {err}")
            self.echo(self.refusals[-1])
            return ""
        self.echo(f"started {started['PipelineExecutionArn']}")
        self.starts.append(target.resource.split("/", 1)[1])
        return str(started["PipelineExecutionArn"])

    def _notify(self, target: events.Target, event: dict[str, Any]) -> None:
        """Deliver `event` to a topic target as EventBridge does; a refused delivery (lost
        on AWS, where only the rule's FailedInvocations metric counts it) is kept in
        `refusals`."""
        try:
            message_id = event_targets.publish(target.rule_arn, target.arn, event, target.settings)
        except acting.AccessDenied as err:
            self.refusals.append(f"rule {target.rule} could not notify {target.resource}: {err}")
            self.echo(self.refusals[-1])
            return
        notification = Notification(
            target.rule, target.resource, str(event["detail-type"]), _about(event), message_id
        )
        self.notifications.append(notification)
        self.echo(f"notified {notification.line()}")

    def _ended(self, record: ExecutionRecord) -> None:
        """The events of a finished CodePipeline run: its own end, then the end of each
        SageMaker pipeline execution and the state of each model package it made."""
        codepipeline = aws.client("codepipeline", self.session)
        arn = codepipeline.get_pipeline(name=record.pipeline)["metadata"]["pipelineArn"]
        state = "SUCCEEDED" if record.succeeded else "FAILED"
        self._route(
            events.codepipeline_execution_event(arn, record.execution_id, state),
            f"{record.pipeline} {state}",
        )
        sagemaker = aws.client("sagemaker", self.session)
        pipelines = _listed(sagemaker, "list_pipelines", "PipelineSummaries")
        for pipeline in pipelines:
            executions = _listed(
                sagemaker,
                "list_pipeline_executions",
                "PipelineExecutionSummaries",
                PipelineName=pipeline["PipelineName"],
                SortOrder="Ascending",
            )
            for summary in executions:
                execution_arn = summary["PipelineExecutionArn"]
                if execution_arn in self.seen or summary["PipelineExecutionStatus"] not in ENDED:
                    continue
                self.seen.add(execution_arn)
                execution = sagemaker.describe_pipeline_execution(
                    PipelineExecutionArn=execution_arn
                )
                self._route(events.pipeline_execution_event(execution), "pipeline execution")
        packages = _listed(
            sagemaker,
            "list_model_packages",
            "ModelPackageSummaryList",
            ModelPackageType="Versioned",
            SortBy="CreationTime",
            SortOrder="Ascending",
        )
        for summary in packages:
            package_arn = summary["ModelPackageArn"]
            if package_arn in self.seen:
                continue
            self.seen.add(package_arn)
            package = sagemaker.describe_model_package(ModelPackageName=package_arn)
            self._route(events.model_package_event(package), "package registered")

    def _starter(self, target: events.Target) -> boto3.Session:
        """EventBridge acting as the target's role; SeedsError when it cannot: no role, or
        a role it may not assume. (A role that may not start the pipeline is refused by
        StartPipelineExecution itself.)"""
        if not target.role_arn:
            raise SeedsError(
                "the target has no RoleArn (EventBridge needs one to start a pipeline)"
            )
        return act_as(EVENTS, target.role_arn, "events")

    def run_pending(self) -> list[Run]:
        """Walk every pipeline started by the events so far, in order; the runs. A
        pipeline EventBridge cannot start is left out, said and kept in `refusals`."""
        done: list[Run] = []
        while self.pending:
            target, trigger = self.pending.pop(0)
            try:
                record = run_pipeline(
                    self.session,
                    target.resource,
                    self.workdir / "pipelines",
                    echo=self.echo,
                    approver=self.approver or auto_approve,
                    starter=self._starter(target),
                )
            except SeedsError as err:
                self.refusals.append(f"rule {target.rule} could not start {target.resource}: {err}")
                self.echo(self.refusals[-1])
                continue
            self.history.append(Run(trigger, record))
            done.append(self.history[-1])
            self._ended(record)
        return done

    def packages(self, group: str) -> list[dict[str, Any]]:
        """The group's model packages, newest first (empty when the group has none)."""
        sagemaker = aws.client("sagemaker", self.session)
        summaries = sagemaker.list_model_packages(
            ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending"
        )["ModelPackageSummaryList"]
        return [dict(s) for s in summaries]

    def failed_action(self) -> str:
        """The failed action of the last run ('' when it succeeded or nothing ran)."""
        if not self.history or self.history[-1].record.failed_action is None:
            return ""
        failed = self.history[-1].record.failed_action
        return failed.name if failed else ""

    def resources(self) -> dict[str, int]:
        """How many of each kind of resource the spoke account holds now."""
        return {
            kind: _count(aws.client(service, self.session), operation, key, **params)
            for kind, (service, operation, key, params) in RESOURCE_LISTINGS.items()
        }

    def stage_resources(self) -> dict[str, dict[str, int]]:
        """The stacks and endpoints of each account serving a stage, when not the spoke:
        {"staging 333333333333": {"stacks": 2, "endpoints": 1}, ...}."""
        found = {}
        for stage, session in self.stage_sessions.items():
            counts = {}
            for kind in ("stacks", "endpoints"):
                service, operation, key, params = RESOURCE_LISTINGS[kind]
                counts[kind] = _count(aws.client(service, session), operation, key, **params)
            found[f"{stage} {aws.account_id(session)}"] = counts
        return found

    def places(self) -> dict[str, str]:
        """Where the clones, the pipeline runs and the sandbox's own files are."""
        places = {f"{label} clone": str(path) for label, path in self.repos.items()}
        places["pipeline runs (artifacts, build logs)"] = str(self.workdir / "pipelines")
        label = "sandbox state (bare repositories, pipeline runs, model servers; while it serves)"
        places[label] = str(self.sandbox_dir)
        return places


def _listed(client: Any, operation: str, key: str, **params: str) -> list[dict[str, Any]]:
    """Every item of a paginated list operation."""
    pages = client.get_paginator(operation).paginate(**params)
    return [item for page in pages for item in page.get(key) or []]


def _count(client: Any, operation: str, key: str, **params: str) -> int:
    """The number of items an AWS list operation returns over all its pages."""
    if client.can_paginate(operation):
        pages = client.get_paginator(operation).paginate(**params)
        return sum(len(page[key]) for page in pages)
    return len(getattr(client, operation)(**params)[key])


def _repository_name(clone: Path) -> str:
    url = git.git("remote", "get-url", "origin", cwd=clone)
    return url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
