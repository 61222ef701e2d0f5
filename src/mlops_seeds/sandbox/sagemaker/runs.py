"""Pipeline executions run by the local runner (`mlops_seeds.local`), one background thread
each, in the account of the pipeline's role, with the steps' trees, a progress log
(`execution.log`) and the execution record (`record.json`) under the sandbox's
`pipelines/<account>/<pipeline>/<execution id>` directory.

Each step that starts a job is checked first as SageMaker checks the pipeline's role when
it creates the job: `sagemaker:Create<Processing|Training|Transform>Job` on the job, and
`iam:PassRole` of the job's role to SageMaker; a refusal fails the step with AWS's line.
The job then reads its inputs, runs and writes its outputs as its own role (its RoleArn),
which SageMaker must be allowed to assume; the other steps act as the pipeline's role.

The runner cannot interrupt a step: stopping an execution (or resetting the sandbox) lets
the steps already running finish and starts no other; the execution is Stopping until then.
The execution id is the runner's, so `Execution.PipelineExecutionId` matches the ARN.
"""

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_seeds.containment import PathEscape, subfolder
from mlops_seeds.errors import SeedsError
from mlops_seeds.local.context import StepContext, StepFailed
from mlops_seeds.local.record import EXECUTING, FAILED, SUCCEEDED, StepRecord
from mlops_seeds.local.runner import DEFAULT_WORKERS, Execution, plan
from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.principals import SAGEMAKER
from mlops_seeds.sandbox.sagemaker.model import LOCK, new_id, now

STOPPING, STOPPED = "Stopping", "Stopped"
TERMINAL = (SUCCEEDED, FAILED, STOPPED)
RESET_WAIT_SECONDS = 10.0  # how long reset() lets running steps finish before abandoning
_ROLE_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/")
_UNSAFE_PATH = re.compile(r"[\"'\\\s]")  # the runner puts paths into step commands


class Cancelled(Exception):
    """Ends a stopped or abandoned run at its next step boundary (raised from echo)."""


@dataclass
class Run:
    """One execution: moto's execution object (status, times) and the runner's state."""

    arn: str
    account: str  # where the runner acts: the role's account
    execution: Any  # moto's FakePipelineExecution
    definition: Any
    token: str
    runner: Execution | None = None
    directory: Path | None = None
    max_workers: int = DEFAULT_WORKERS
    stop: threading.Event = field(default_factory=threading.Event)
    abandoned: bool = False
    thread: threading.Thread | None = None
    _log_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def status(self) -> str:
        """PipelineExecutionStatus."""
        return str(self.execution.pipeline_execution_status)

    def settle(self, status: str, reason: str | None) -> None:
        """Set the execution's status (under LOCK)."""
        self.execution.pipeline_execution_status = status
        self.execution.pipeline_execution_failure_reason = reason
        self.execution.last_modified_time = now()

    def echo(self, line: str) -> None:
        """The runner's progress sink: append to the log; end the run if it was stopped."""
        if self.directory is not None:
            with self._log_lock, (self.directory / "execution.log").open("a") as log:
                log.write(line + "\n")
        if self.stop.is_set():
            raise Cancelled(line)

    def steps(self) -> list[StepRecord]:
        """The runner's step records (none when the execution failed before running)."""
        return list(self.runner.record.steps) if self.runner else []


_runs: dict[str, Run] = {}


def role_account(role_arn: str, default: str) -> str:
    """The account of an IAM role ARN (`default` when it is not one)."""
    match = _ROLE_ACCOUNT.match(role_arn or "")
    return match.group(1) if match else default


# The API call a step's job is created with, and the request member naming the job.
_JOB_CALLS = {
    "Processing": ("CreateProcessingJob", "ProcessingJobName"),
    "Training": ("CreateTrainingJob", "TrainingJobName"),
    "Transform": ("CreateTransformJob", "TransformJobName"),
}


def _job_check(sandbox: runtime.Runtime, session: Any) -> Any:
    """A runner hook: the job a step starts is created as the pipeline's role."""

    def check(ctx: StepContext) -> None:
        call = _JOB_CALLS.get(ctx.step.type)
        if call is None:
            return
        operation, name_member = call
        request = {**ctx.evaluate(ctx.step.arguments), name_member: ctx.job_name}
        try:
            sandbox.check(session, "sagemaker", operation, request)
        except acting.AccessDenied as err:
            raise StepFailed(
                f"ClientError: An error occurred (AccessDeniedException) when calling the "
                f"{operation} operation: {err.message}"
            ) from None

    return check


def _job_session(sandbox: runtime.Runtime) -> Any:
    """A runner hook: a job runs as its own role, as SageMaker assumes it (the role's trust
    policy must allow sagemaker.amazonaws.com, or the step fails as CreateProcessingJob
    and CreateTrainingJob refuse such a role)."""

    def session(role_arn: str) -> Any:
        try:
            return sandbox.session_as(SAGEMAKER, role_arn, "SageMaker")
        except acting.AccessDenied:
            raise StepFailed(
                "ClientError: An error occurred (ValidationException): Could not assume role "
                f"{role_arn}. Please ensure that the role exists and allows principal "
                "'sagemaker.amazonaws.com' to assume the role."
            ) from None

    return session


def prepare(
    definition: Any, parameters: dict[str, str], pipeline_name: str, role_arn: str, run: Run
) -> str | None:
    """Check the definition and reach the role's account; returns why the execution fails
    at once (unknown image, unsupported step, bad parameter, role), else None."""
    try:
        checked = plan(definition, parameters)
    except SeedsError as err:
        return str(err)
    except Exception as err:  # an odd definition is a failed execution, not a server error
        return f"{type(err).__name__}: {err}"
    try:
        sandbox = runtime.current()
        if role_arn:  # SageMaker runs each step as the pipeline's execution role
            session = sandbox.session_as(SAGEMAKER, role_arn, "SageMaker")
        else:
            session = sandbox.session()
    except (RuntimeError, SeedsError) as err:
        return str(err)
    except acting.AccessDenied as err:
        return err.message
    if _UNSAFE_PATH.search(sandbox.workdir.as_posix()):
        return f"sandbox workdir {sandbox.workdir}: must not contain quotes, backslashes or spaces"
    runner = Execution(
        checked,
        pipeline_name,
        session,
        run.echo,
        _job_check(sandbox, session),
        _job_session(sandbox) if role_arn else None,
    )
    try:
        directory = subfolder(
            sandbox.workdir / "pipelines",
            run.account,
            pipeline_name,
            runner.id,
            what=f"pipeline {pipeline_name!r} execution {runner.id!r}",
        )
    except PathEscape as err:  # names the API refused already: a second line of defence
        return str(err)
    directory.mkdir(parents=True, exist_ok=True)
    run.runner, run.directory = runner, directory
    return None


def execution_id(run: Run) -> str:
    """The id the execution's ARN ends with: the runner's, or a new one."""
    return run.runner.id if run.runner else new_id()


def start(run: Run) -> None:
    """Remember the run and, if it has a runner, run it in a background thread."""
    with LOCK:
        _runs[run.arn] = run
    if run.runner is None:
        return
    run.thread = threading.Thread(
        target=_main, args=(run,), name=f"pipeline-{run.runner.id}", daemon=True
    )
    run.thread.start()


def _main(run: Run) -> None:
    assert run.runner is not None and run.directory is not None
    record = run.runner.record
    try:
        run.runner.run(run.directory, run.max_workers, keep=True)
        outcome = (record.status, record.failure_reason)
    except Cancelled:
        terminal = record.status in TERMINAL
        outcome = (record.status, record.failure_reason) if terminal else (STOPPED, None)
    except Exception as err:  # a runner bug ends the execution, not the sandbox
        outcome = (FAILED, f"{type(err).__name__}: {err}")
    if outcome[0] == STOPPED:
        record.status = STOPPED
    with contextlib.suppress(OSError):  # the sandbox's directory went while the run ended
        record.write(run.directory / "record.json")
    with LOCK:
        if not run.abandoned:
            run.settle(*outcome)


def find(arn: str) -> Run | None:
    """The run of an execution ARN, if the extension started it."""
    with LOCK:
        return _runs.get(arn)


def by_token(pipeline_arn: str, token: str) -> Run | None:
    """The run a ClientRequestToken already started for the pipeline, if any."""
    with LOCK:
        for run in _runs.values():
            if token and run.token == token and run.arn.startswith(pipeline_arn + "/"):
                return run
    return None


def request_stop(run: Run) -> None:
    """Stop starting steps; the execution is Stopping until the running ones end."""
    run.stop.set()
    if run.status == EXECUTING:
        run.settle(STOPPING, None)


def reset() -> None:
    """Stop every run, give running steps a bounded time to end, abandon the rest."""
    with LOCK:
        runs = list(_runs.values())
        _runs.clear()
        for run in runs:
            run.abandoned = True
            run.stop.set()
    deadline = time.monotonic() + RESET_WAIT_SECONDS
    for thread in _threads(runs):
        thread.join(max(0.0, deadline - time.monotonic()))


def _threads(runs: list[Run]) -> Iterator[threading.Thread]:
    for run in runs:
        if run.thread is not None and run.thread.is_alive():
            yield run.thread


def definition_texts(definition: Any) -> dict[str, tuple[str, str]]:
    """Step name -> (DisplayName, Description), condition branches included."""
    try:
        document = json.loads(definition) if isinstance(definition, str) else definition
    except ValueError:
        return {}
    texts: dict[str, tuple[str, str]] = {}

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            if isinstance(node.get("Name"), str) and isinstance(node.get("Type"), str):
                texts[node["Name"]] = (
                    str(node.get("DisplayName") or ""),
                    str(node.get("Description") or ""),
                )
            for key in ("Steps", "Arguments", "IfSteps", "ElseSteps"):
                visit(node.get(key))

    visit(document)
    return texts
