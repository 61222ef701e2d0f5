"""Walk a CodePipeline pipeline on this machine, as CodePipeline would run it.

The pipeline is read from the CodePipeline API; its stages run in order and each stage's
actions by runOrder (actions of one runOrder run one after the other here, where
CodePipeline runs them in parallel). A failed action stops the pipeline after its runOrder
group. Artifacts are zips in the pipeline's artifact store bucket, unpacked for each action
that reads them. Supported actions: Source/CodeCommit, Build/CodeBuild (codebuild.py),
Deploy/CloudFormation (stacks.py), Approval/Manual (approvals.py). The pipeline's own calls
use its service role, as CodePipeline does; an action with a roleArn (another account's,
for a cross-account deploy) acts as that role, assumed by the pipeline's role. Artifacts
are written under the artifact store's KMS key when it names one.
"""

import json
import re
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from mlops_seeds import aws
from mlops_seeds.errors import AwsError, SeedsError
from mlops_seeds.rehearse import git
from mlops_seeds.rehearse.approvals import ApprovalRequest, Approver, auto_approve
from mlops_seeds.rehearse.artifacts import Artifact, ArtifactStore
from mlops_seeds.rehearse.codebuild import (
    CodeBuildError,
    Sources,
    action_environment_variables,
    run_project,
)
from mlops_seeds.rehearse.roles import act_as
from mlops_seeds.rehearse.stacks import (
    StackConfigError,
    deploy_stack,
    parameter_overrides,
    template_configuration,
)
from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.principals import CODEPIPELINE

SUCCEEDED, FAILED = "Succeeded", "Failed"
# What the CodeCommit source action (zip output) does as the pipeline's role (CodePipeline
# User Guide, "CodeCommit source action reference": service role permissions).
CODECOMMIT_SOURCE_PERMISSIONS = (
    "GetBranch",
    "GetCommit",
    "UploadArchive",
    "GetUploadArchiveStatus",
)
_REFERENCE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_.-]+)\}")

Echo = Callable[[str], None]
CloneUrlResolver = Callable[[boto3.Session, str], str]


class ActionFailed(Exception):
    """An action failed; the message is its summary."""


def codecommit_clone_url(session: boto3.Session, repository: str) -> str:
    """The clone URL of a CodeCommit repository: its cloneUrlHttp (in the sandbox, the
    file:// URL of the bare repository that stands in for it)."""
    metadata = aws.client("codecommit", session).get_repository(repositoryName=repository)
    return str(metadata["repositoryMetadata"]["cloneUrlHttp"])


@dataclass
class ActionRecord:
    """One action of an execution: how it ended, how long it took, what it made."""

    stage: str
    name: str
    provider: str
    run_order: int
    status: str = "InProgress"
    seconds: float = 0.0
    summary: str = ""
    outputs: dict[str, Artifact] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None


@dataclass
class ExecutionRecord:
    """One execution of a pipeline: its actions in the order they ran."""

    pipeline: str
    execution_id: str
    workdir: Path
    status: str = "InProgress"
    seconds: float = 0.0
    actions: list[ActionRecord] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """Whether every action succeeded."""
        return self.status == SUCCEEDED

    @property
    def failed_action(self) -> ActionRecord | None:
        """The first action that failed, if any."""
        return next((a for a in self.actions if a.status == FAILED), None)

    def action(self, name: str) -> ActionRecord:
        """The action called `name` (KeyError when it did not run)."""
        for record in self.actions:
            if record.name == name:
                return record
        raise KeyError(name)


@dataclass
class _Run:
    """What actions of one execution share."""

    session: boto3.Session
    pipeline: dict[str, Any]
    store: ArtifactStore
    record: ExecutionRecord
    echo: Echo
    approver: Approver
    clone_url: CloneUrlResolver
    source_revisions: Mapping[str, str]
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    revisions: dict[str, str] = field(default_factory=dict)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.pipeline["name"])


def _provider(action: dict[str, Any]) -> str:
    return str(action["actionTypeId"]["provider"])


def resolve_references(value: str, namespaces: Mapping[str, Mapping[str, str]]) -> str:
    """`value` with each #{namespace.variable} replaced; ActionFailed naming one unknown."""

    def replace(match: re.Match[str]) -> str:
        namespace, variable = match.groups()
        try:
            return namespaces[namespace][variable]
        except KeyError:
            raise ActionFailed(f"unresolved variable #{{{namespace}.{variable}}}") from None

    return _REFERENCE.sub(replace, value)


def _configuration(run: _Run, action: dict[str, Any]) -> dict[str, str]:
    return {
        str(k): resolve_references(str(v), run.namespaces)
        for k, v in (action.get("configuration") or {}).items()
    }


def _inputs(run: _Run, action: dict[str, Any], directory: Path) -> dict[str, Path]:
    """Fetch the action's input artifacts from the store into `directory`/<name>."""
    fetched: dict[str, Path] = {}
    for item in action.get("inputArtifacts") or []:
        name = item["name"]
        if name not in run.artifacts:
            raise ActionFailed(f"input artifact {name} was not produced by an earlier action")
        fetched[name] = run.store.get(run.artifacts[name], directory / name).directory
    return fetched


def _output(run: _Run, record: ActionRecord, name: str, directory: Path) -> None:
    artifact = run.store.put(name, directory)
    run.artifacts[name] = artifact
    record.outputs[name] = artifact


def _codecommit_source(
    run: _Run, action: dict[str, Any], record: ActionRecord, directory: Path
) -> str:
    config = _configuration(run, action)
    repository, branch = config.get("RepositoryName", ""), config.get("BranchName", "")
    if not repository or not branch:
        raise ActionFailed("CodeCommit source: RepositoryName and BranchName are required")
    sandbox = runtime.current()
    try:  # as the pipeline's role; the sandbox itself finds the repository's bare clone
        for operation in CODECOMMIT_SOURCE_PERMISSIONS:
            sandbox.check(run.session, "codecommit", operation, {"repositoryName": repository})
    except acting.AccessDenied as err:
        raise ActionFailed(f"cannot check out {repository}@{branch}: {err.message}") from err
    try:
        url = run.clone_url(sandbox.account_session(aws.account_id(run.session)), repository)
        tree = git.clone(url, directory / "source", branch)
        revision = run.source_revisions.get(record.name)
        if revision:
            git.checkout(tree, revision)
        commit, message = git.head(tree), git.commit_message(tree)
    except (git.GitError, ClientError) as err:
        raise ActionFailed(f"cannot check out {repository}@{branch}: {err}") from err
    shutil.rmtree(tree / ".git")
    for item in action.get("outputArtifacts") or []:
        _output(run, record, item["name"], tree)
        run.revisions[item["name"]] = commit
    record.variables = {
        "CommitId": commit,
        "CommitMessage": message,
        "RepositoryName": repository,
        "BranchName": branch,
    }
    return f"{repository}@{branch} {commit[:10]}: {message}"


def _codebuild(run: _Run, action: dict[str, Any], record: ActionRecord, directory: Path) -> str:
    config = _configuration(run, action)
    inputs = _inputs(run, action, directory / "src")
    if not inputs:
        raise ActionFailed("CodeBuild action: at least one input artifact is required")
    primary = config.get("PrimarySource") or next(iter(inputs))
    if primary not in inputs:
        raise ActionFailed(f"PrimarySource {primary}: not an input artifact of the action")
    outputs = [item["name"] for item in action.get("outputArtifacts") or []]
    try:
        overrides = action_environment_variables(config.get("EnvironmentVariables") or "[]")
        result = run_project(
            run.session,
            config.get("ProjectName", ""),
            Sources(
                primary=inputs[primary],
                secondary={n: p for n, p in inputs.items() if n != primary},
                version=run.revisions.get(primary, ""),
            ),
            directory / "build",
            overrides=overrides,
            outputs=outputs,
            initiator=f"codepipeline/{run.name}",
            echo=lambda line: run.echo(f"    {line}"),
        )
    except CodeBuildError as err:
        raise ActionFailed(str(err)) from err
    record.log_path = result.log_path
    record.variables = dict(result.exported)
    if not result.succeeded:
        for line in result.log_tail(20).splitlines():
            run.echo(f"    | {line}")
        denial = result.denial()
        raise ActionFailed(
            f"build {result.build_id} {result.status}: {result.reason}"
            + (f"; the log says: {denial}" if denial else "")
        )
    for name in outputs:
        _output(run, record, name, result.artifacts[name])
    return f"build {result.build_id} succeeded in {result.seconds:.1f} s"


def _artifact_file(inputs: Mapping[str, Path], reference: str, field_name: str) -> str:
    """The text of "Artifact::path" among the action's inputs."""
    name, _, path = reference.partition("::")
    if not path or name not in inputs:
        raise ActionFailed(f"{field_name} {reference}: must be InputArtifactName::path")
    file = inputs[name] / path
    if not file.is_file():
        raise ActionFailed(f"{field_name} {reference}: no such file in artifact {name}")
    return file.read_text()


def _cloudformation(
    run: _Run, action: dict[str, Any], record: ActionRecord, directory: Path
) -> str:
    config = _configuration(run, action)
    inputs = _inputs(run, action, directory / "in")
    mode = config.get("ActionMode", "")
    template = ""
    if mode != "DELETE_ONLY":
        template = _artifact_file(inputs, config.get("TemplatePath", ""), "TemplatePath")
    try:
        settings = template_configuration(
            _artifact_file(inputs, config["TemplateConfiguration"], "TemplateConfiguration")
            if config.get("TemplateConfiguration")
            else ""
        )
        overrides = parameter_overrides(config.get("ParameterOverrides", ""))
    except StackConfigError as err:
        raise ActionFailed(str(err)) from err
    capabilities = [c.strip() for c in config.get("Capabilities", "").split(",") if c.strip()]
    deployment = deploy_stack(
        run.session,
        config.get("StackName", ""),
        template,
        mode=mode,
        config=settings,
        overrides=overrides,
        role_arn=config.get("RoleArn") or None,
        capabilities=capabilities,
    )
    if not deployment.succeeded:
        raise ActionFailed(deployment.summary)
    record.variables = dict(deployment.outputs)
    outputs = action.get("outputArtifacts") or []
    if config.get("OutputFileName") and outputs:
        out = directory / "out"
        out.mkdir(parents=True, exist_ok=True)
        (out / config["OutputFileName"]).write_text(json.dumps(deployment.outputs, indent=2))
        _output(run, record, outputs[0]["name"], out)
    return deployment.summary


def _manual_approval(
    run: _Run, action: dict[str, Any], record: ActionRecord, directory: Path
) -> str:
    config = _configuration(run, action)
    request = ApprovalRequest(
        pipeline=run.name,
        stage=record.stage,
        action=record.name,
        custom_data=config.get("CustomData", ""),
        external_link=config.get("ExternalEntityLink", ""),
    )
    decision = run.approver(request)
    if not decision.approved:
        raise ActionFailed(f"Rejected: {decision.summary}")
    return f"Approved: {decision.summary}"


_Handler = Callable[[_Run, dict[str, Any], ActionRecord, Path], str]
HANDLERS: dict[tuple[str, str], _Handler] = {
    ("Source", "CodeCommit"): _codecommit_source,
    ("Build", "CodeBuild"): _codebuild,
    ("Test", "CodeBuild"): _codebuild,
    ("Deploy", "CloudFormation"): _cloudformation,
    ("Approval", "Manual"): _manual_approval,
}


def _acting(run: _Run, action: dict[str, Any]) -> _Run:
    """The run as the action acts: with the action's roleArn, assumed by the pipeline's
    role (the role's trust policy must allow it, across accounts too: CodePipeline User
    Guide, "Create a pipeline in CodePipeline that uses resources from another AWS account"),
    reaching the artifact store as that role; else the pipeline's role."""
    role_arn = action.get("roleArn")
    if not role_arn:
        return run
    session = aws.assume_role(run.session, str(role_arn), "codepipeline-action")
    store = ArtifactStore(session, run.store.bucket, run.name, run.store.kms_key_id)
    return replace(run, session=session, store=store)


def _run_action(run: _Run, stage: str, action: dict[str, Any], directory: Path) -> ActionRecord:
    kind = (str(action["actionTypeId"]["category"]), _provider(action))
    record = ActionRecord(stage, action["name"], kind[1], int(action.get("runOrder") or 1))
    run.record.actions.append(record)
    run.echo(f"  {stage}/{record.name} ({kind[1]})")
    started = time.monotonic()
    handler = HANDLERS.get(kind)
    try:
        if handler is None:
            raise ActionFailed(f"{kind[0]} action provider {kind[1]} is not supported")
        record.summary = handler(_acting(run, action), action, record, directory)
        record.status = SUCCEEDED
    except ActionFailed as err:
        record.status, record.summary = FAILED, str(err)
    except (SeedsError, ClientError, BotoCoreError) as err:  # AWS refused a call of the action
        record.status, record.summary = FAILED, f"{type(err).__name__}: {err}"
    record.seconds = time.monotonic() - started
    if action.get("namespace"):
        run.namespaces[str(action["namespace"])] = record.variables
    run.echo(
        f"  {stage}/{record.name}: {record.status} in {record.seconds:.1f} s: {record.summary}"
    )
    return record


def _store_key(store: Mapping[str, Any]) -> str | None:
    """The KMS key CodePipeline encrypts the store's artifacts with (None: S3's default)."""
    key = store.get("encryptionKey") or {}
    return str(key["id"]) if key.get("type") == "KMS" and key.get("id") else None


def _variables(pipeline: dict[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    """The pipeline's variables: declared defaults with `given` values on top."""
    declared = {v["name"]: str(v.get("defaultValue", "")) for v in pipeline.get("variables") or []}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise SeedsError(f"pipeline variable {unknown[0]}: not declared by {pipeline['name']}")
    return {**declared, **given}


def _start(session: boto3.Session, name: str, variables: Mapping[str, str]) -> str:
    """The execution id. In the sandbox the execution is recorded in the service
    (StartPipelineExecution; moto runs nothing and marks it Succeeded at once); against AWS
    that call would start the real pipeline beside this walk, so a local id is made."""
    if not aws.targets_loopback(session):
        return str(uuid.uuid4())
    values = [{"name": k, "value": v} for k, v in variables.items()]
    try:
        answer = aws.client("codepipeline", session).start_pipeline_execution(
            name=name, **({"variables": values} if values else {})
        )
    except (ClientError, BotoCoreError) as err:
        raise AwsError(aws.describe_failure(err, session)) from err
    return str(answer["pipelineExecutionId"])


def run_pipeline(
    session: boto3.Session,
    name: str,
    workdir: Path,
    *,
    echo: Echo = lambda line: None,
    approver: Approver = auto_approve,
    clone_url: CloneUrlResolver = codecommit_clone_url,
    variables: Mapping[str, str] | None = None,
    source_revisions: Mapping[str, str] | None = None,
    starter: boto3.Session | None = None,
) -> ExecutionRecord:
    """Run pipeline `name` of `session`'s account to its end or its first failed action.

    `approver` decides manual approvals; `clone_url` maps a CodeCommit repository name to a
    URL git can clone; `variables` set pipeline variables; `source_revisions` pin a source
    action (by name) to a commit; `starter` starts the execution (an event rule's role;
    default `session`). Files go under `workdir`/<pipeline>-<execution id>."""
    pipeline = aws.client("codepipeline", session).get_pipeline(name=name)["pipeline"]
    values = _variables(pipeline, variables or {})
    store_config = pipeline.get("artifactStore") or {}
    if store_config.get("type") != "S3":
        raise SeedsError(f"pipeline {name}: artifactStore must be an S3 bucket")
    execution_id = _start(starter or session, name, values)
    role = act_as(CODEPIPELINE, pipeline["roleArn"], "codepipeline")
    record = ExecutionRecord(name, execution_id, workdir / f"{name}-{execution_id[:8]}")
    run = _Run(
        session=role,
        pipeline=pipeline,
        store=ArtifactStore(role, store_config["location"], name, _store_key(store_config)),
        record=record,
        echo=echo,
        approver=approver,
        clone_url=clone_url,
        source_revisions=source_revisions or {},
        namespaces={"variables": values, "codepipeline": {"PipelineExecutionId": execution_id}},
    )
    started = time.monotonic()
    echo(f"{name}: execution {execution_id}")
    for stage in pipeline["stages"]:
        actions = sorted(stage["actions"], key=lambda a: int(a.get("runOrder") or 1))
        for _, group in groupby(actions, key=lambda a: int(a.get("runOrder") or 1)):
            for action in group:
                directory = record.workdir / f"{len(record.actions) + 1:02d}-{action['name']}"
                _run_action(run, stage["name"], action, directory)
            if record.failed_action is not None:
                break
        if record.failed_action is not None:
            break
    record.status = FAILED if record.failed_action is not None else SUCCEEDED
    record.seconds = time.monotonic() - started
    echo(f"{name}: {record.status} in {record.seconds:.1f} s")
    return record
