"""Run a pipeline definition on this machine: check everything first, then run the steps
in dependency order (independent ones at the same time) and keep an execution record."""

from __future__ import annotations

import dataclasses
import re
import secrets
import shutil
import string
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from mlops_seeds import aws
from mlops_seeds.containment import PathEscape
from mlops_seeds.errors import SeedsError
from mlops_seeds.local import (
    container_paths,
    contract,
    control,
    processing,
    registry,
    step_python,
    training,
    transform,
)
from mlops_seeds.local.clients import Clients
from mlops_seeds.local.context import ContainerTree, StepContext, StepFailed, StepResult
from mlops_seeds.local.definition import Definition, StepDef, parse_definition
from mlops_seeds.local.expressions import ExpressionError, PathPart, json_lookup
from mlops_seeds.local.graph import dependencies, topological_order
from mlops_seeds.local.images import interpreter_for
from mlops_seeds.local.parameters import resolve
from mlops_seeds.local.record import (
    EXECUTING,
    FAILED,
    SUCCEEDED,
    Echo,
    ExecutionRecord,
    StepRecord,
    now,
    progress_line,
)
from mlops_seeds.local.scheduler import schedule
from mlops_seeds.local.storage import Storage, TransferError

Executor = Callable[[StepContext], StepResult]
EXECUTORS: dict[str, Executor] = {
    "Processing": processing.execute,
    "Training": training.execute,
    "Transform": transform.execute,
    "Condition": control.condition,
    "Fail": control.fail,
    "RegisterModel": registry.register_model,
    "Model": registry.create_model,
}
# (arguments, the image when known before the run) -> what cannot run
CHECKS: dict[str, Callable[[dict[str, Any], str | None], list[str]]] = {
    "Processing": processing.check,
    "Training": training.check,
    "Transform": transform.check,
}
IMAGES = {
    "Processing": ("AppSpecification", "ImageUri"),
    "Training": ("AlgorithmSpecification", "TrainingImage"),
}
JOB_NAME_VARIABLES = {
    "Processing": "ProcessingJobName",
    "Training": "TrainingJobName",
    "Transform": "TransformJobName",
}
DEFAULT_PIPELINE_NAME = "local-pipeline"
# The steps whose job runs as a role of its own (the RoleArn of their arguments).
JOB_ROLE_STEPS = ("Processing", "Training")
DEFAULT_WORKERS = 4
_UNSAFE_PATH = re.compile(r"[\"'\\\s]")


_ECHO_LOCK = threading.Lock()


def echo_stderr(line: str) -> None:
    """Print a progress line on stderr, whole: lines of steps running at the same time
    never mix mid-line."""
    with _ECHO_LOCK:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


@dataclass
class Plan:
    """A checked definition: parameter values, dependency graph, run order."""

    definition: Definition
    values: dict[str, Any]
    graph: dict[str, set[str]]
    order: list[str]
    image_map: Mapping[str, str] = field(default_factory=dict)


def plan(
    source: Definition | Mapping[str, Any] | str,
    parameters: Mapping[str, Any] | None = None,
    image_map: Mapping[str, str] | None = None,
) -> Plan:
    """Parse and check a definition; raises SeedsError naming every step it cannot run."""
    definition = source if isinstance(source, Definition) else parse_definition(_plain(source))
    values = resolve(definition.parameters, parameters or {})
    graph = dependencies(definition)
    checked = Plan(definition, values, graph, topological_order(graph), image_map or {})
    problems = [
        problem for step in definition.steps.values() for problem in _problems(step, checked)
    ]
    if problems:
        raise SeedsError("cannot run locally: " + "; ".join(problems))
    return checked


def run_definition(
    source: Definition | Mapping[str, Any] | str,
    parameters: Mapping[str, Any] | None = None,
    *,
    image_map: Mapping[str, str] | None = None,
    workdir: Path | None = None,
    pipeline_name: str = DEFAULT_PIPELINE_NAME,
    session: boto3.Session | None = None,
    record_path: Path | None = None,
    echo: Echo = echo_stderr,
    max_workers: int = DEFAULT_WORKERS,
) -> ExecutionRecord:
    """Check, then run a pipeline definition locally; returns the execution record (also
    written to `record_path`). Bad input raises SeedsError before any step runs.

    Args:
        source: the definition (JSON text, decoded object or parsed Definition).
        parameters: parameter overrides (strings from a command line, or typed values).
        image_map: image URI -> Python interpreter, for images that are not SageMaker's
            framework images.
        workdir: where the steps' trees are kept (default: a temporary folder, removed).
        pipeline_name: the value of Execution.PipelineName.
        session: boto3 session for S3 and SageMaker (default: the default session).
        record_path: where to write the execution record JSON.
        echo: receives one progress line per step start and end.
        max_workers: how many steps may run at the same time.
    """
    checked = plan(source, parameters, image_map)
    execution = Execution(checked, pipeline_name, session, echo)
    root = _workdir(workdir, execution.id)
    try:
        record = execution.run(root, max_workers, keep=workdir is not None)
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    if record_path:
        record.write(record_path)
    return record


def _plain(source: Mapping[str, Any] | str) -> dict[str, Any] | str:
    return source if isinstance(source, str) else dict(source)


def _problems(step: StepDef, checked: Plan) -> list[str]:
    if step.type not in EXECUTORS:
        supported = ", ".join(EXECUTORS)
        return [
            f"step {step.name}: step type {step.type} cannot run locally (supported: {supported})"
        ]
    violations = contract.step_violations(step, checked.values)
    if violations:  # the container contract first: the other checks assume its shapes
        return violations
    check = CHECKS.get(step.type)
    image = _static_image(step, checked.values)
    found = check(step.arguments, image) if check else []
    problems = [f"step {step.name}: {p}" for p in found]
    interpreter = None if image is None else interpreter_for(image, checked.image_map)
    if image is not None and interpreter is None:
        problems.append(f"step {step.name}: {unknown_image(image)}")
    if (
        interpreter is not None
        and step.type == "Training"
        and training.script_mode(step.arguments)
        and not step_python.has_toolkit(interpreter)
    ):
        problems.append(f"step {step.name}: {training.no_toolkit(str(image), interpreter)}")
    return problems


def unknown_image(image: str) -> str:
    """The message for an image the runner has no interpreter for."""
    return (
        f"image {image} is not a SageMaker scikit-learn, XGBoost or PyTorch image: "
        f"pass --image-map {image}=local (this Python) or {image}=/path/to/python"
    )


def _static_image(step: StepDef, values: Mapping[str, Any]) -> str | None:
    """The step's image when it is known before the run (a literal or a parameter)."""
    if step.type not in IMAGES:
        return None
    section, key = IMAGES[step.type]
    image = (step.arguments.get(section) or {}).get(key)
    if isinstance(image, str):
        return image
    if isinstance(image, dict) and str(image.get("Get", "")).startswith("Parameters."):
        return str(values.get(image["Get"].removeprefix("Parameters."), ""))
    return None


def _workdir(workdir: Path | None, execution_id: str) -> Path:
    root = (
        workdir.resolve() / execution_id
        if workdir
        else Path(tempfile.mkdtemp(prefix=f"mlops-seeds-{execution_id}-"))
    )
    if _UNSAFE_PATH.search(root.as_posix()):
        raise SeedsError(f"--workdir {root}: must not contain quotes, backslashes or spaces")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SeedsError(f"--workdir {root}: cannot create it ({err.strerror or err})") from None
    return root


def _execution_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", name)


class Execution:
    """The state of one run; also the expression scope of its steps."""

    def __init__(
        self,
        checked: Plan,
        pipeline_name: str,
        session: boto3.Session | None,
        echo: Echo,
        before_step: Callable[[StepContext], None] | None = None,
        job_session: Callable[[str], boto3.Session] | None = None,
    ) -> None:
        self.plan = checked
        # Called before each step runs (the sandbox checks the job's creation there, as
        # SageMaker does as the pipeline's role); it raises StepFailed to fail the step.
        self.before_step = before_step
        # A job's session from its RoleArn (the sandbox's: the role as SageMaker assumes
        # it; StepFailed when it may not): the job reads, writes and runs as its own role.
        # None: every step acts with `session`.
        self.job_session = job_session
        self._job_clients: dict[str, tuple[Clients, Storage]] = {}
        self.id = _execution_id()
        self.pipeline_name = pipeline_name
        self.echo = echo
        self.clients = Clients(session)
        self.storage = Storage(self.clients)
        self.results: dict[str, StepResult] = {}
        self.lock = threading.Lock()
        self.started = now()
        self._account: str | None = None
        self.record = ExecutionRecord(
            pipeline_name=pipeline_name,
            execution_id=self.id,
            parameters=dict(checked.values),
            steps=[
                StepRecord(name=name, type=checked.definition.steps[name].type)
                for name in checked.order
            ],
        )

    # The expression scope (see expressions.Scope).
    def parameter(self, name: str) -> Any:
        """A parameter's value for this execution."""
        if name not in self.plan.values:
            raise ExpressionError(f"Parameters.{name}: no such parameter")
        return self.plan.values[name]

    def execution_variable(self, name: str) -> Any:
        """An execution variable (job names are only known inside their step)."""
        region = aws.region_of(self.clients.session)
        pipeline_arn = f"arn:aws:sagemaker:{region}:{{account}}:pipeline/{self.pipeline_name}"
        values: dict[str, Callable[[], str]] = {
            "PipelineExecutionId": lambda: self.id,
            "PipelineName": lambda: self.pipeline_name,
            "StartDateTime": self.started.isoformat,
            "CurrentDateTime": lambda: now().isoformat(),
            "PipelineArn": lambda: pipeline_arn.format(account=self.account()),
            "PipelineExecutionArn": lambda: (
                pipeline_arn.format(account=self.account()) + f"/execution/{self.id}"
            ),
        }
        if name not in values:
            raise ExpressionError(f"Execution.{name}: not available outside its step")
        return values[name]()

    def step_property(self, step: str, path: Sequence[PathPart]) -> Any:
        """A property of a step that has succeeded."""
        with self.lock:
            result = self.results.get(step)
        if result is None:
            raise ExpressionError(f"Steps.{step}: the step has not run")
        return json_lookup(result.properties, path, f"Steps.{step}")

    def read_json(self, uri: str) -> Any:
        """A JSON document from S3 or a local path."""
        return self.storage.read_json(uri)

    def account(self) -> str:
        """The account of the session (asked once, only when an ARN is needed)."""
        if self._account is None:
            self._account = aws.account_id(self.clients.session)
        return self._account

    # Running.
    def run(self, root: Path, max_workers: int, keep: bool) -> ExecutionRecord:
        """Run every step; fill in and return the record."""
        self.record.started = self.started.isoformat()
        self.record.workdir = str(root) if keep else None
        clock = time.perf_counter()
        self.clients.warm(self._services())
        reason = container_paths.unavailable() if self._services() else None
        if reason:
            self.echo(
                f"container paths: {reason}; /opt/ml is rewritten in the steps' Python "
                "sources and environment instead"
            )
        statuses = schedule(
            self.plan.order,
            self.plan.graph,
            lambda name: self._run_step(name, root, keep),
            self._gate,
            self._settle,
            max_workers,
        )
        failed = [name for name in self.plan.order if statuses[name] == FAILED]
        self.record.status = FAILED if failed else SUCCEEDED
        if failed:
            self.record.failure_reason = (
                f"step {failed[0]}: {self.record.step(failed[0]).failure_reason}"
            )
        self.record.ended = now().isoformat()
        self.record.duration_seconds = round(time.perf_counter() - clock, 3)
        self.echo(
            f"execution {self.id}: {self.record.status} in {self.record.duration_seconds:.1f} s"
        )
        return self.record

    def _services(self) -> list[str]:
        """The AWS services the steps will call."""
        types = {step.type for step in self.plan.definition.steps.values()}
        services = ["s3"] if types & {"Processing", "Training", "Transform"} else []
        return services + (["sagemaker"] if types & {"RegisterModel", "Model", "Transform"} else [])

    def _gate(self, name: str) -> str | None:
        branch = self.plan.definition.steps[name].branch
        if branch is None:
            return None
        with self.lock:
            outcome = self.results[branch.condition].outcome
        if outcome == branch.outcome:
            return None
        return f"condition {branch.condition} was {outcome}"

    def _settle(self, name: str, status: str, reason: str) -> None:
        step = self.record.step(name)
        step.status, step.skip_reason = status, reason
        self.echo(progress_line(step))

    def _as_job_role(self, ctx: StepContext) -> StepContext:
        """`ctx` with the clients and storage of the job's RoleArn (a processing or
        training job's own role), when a job_session hook is given."""
        if self.job_session is None or ctx.step.type not in JOB_ROLE_STEPS:
            return ctx
        role = str(ctx.evaluate(ctx.step.arguments).get("RoleArn") or "")
        if not role:
            return ctx
        with self.lock:
            made = self._job_clients.get(role)
        if made is None:  # assumed outside the lock (a call to STS)
            clients = Clients(self.job_session(role))
            with self.lock:
                made = self._job_clients.setdefault(role, (clients, Storage(clients)))
        return dataclasses.replace(ctx, clients=made[0], storage=made[1])

    def _run_step(self, name: str, root: Path, keep: bool) -> str:
        step = self.plan.definition.steps[name]
        entry = self.record.step(name)
        tree = ContainerTree(root / _safe_name(name), real=container_paths.unavailable() is None)
        tree.root.mkdir(parents=True, exist_ok=True)
        entry.job_name = f"pipelines-{self.id}-{_safe_name(name)}"[:63].rstrip("-")
        entry.logs = str(tree.root / "logs") if keep else None
        entry.status, entry.started = EXECUTING, now().isoformat()
        self.echo(progress_line(entry))
        clock = time.perf_counter()
        ctx = StepContext(
            step=step,
            job_name=entry.job_name,
            tree=tree,
            storage=self.storage,
            scope=_StepScope(self, step, entry.job_name),
            interpreter=self._interpreter,
            clients=self.clients,
        )
        try:
            if self.before_step is not None:
                self.before_step(ctx)
            ctx = self._as_job_role(ctx)
            result = EXECUTORS[step.type](ctx)
        except StepFailed as err:
            entry.status, entry.failure_reason = FAILED, err.reason
        except (
            ExpressionError,
            TransferError,
            PathEscape,
            ClientError,
            BotoCoreError,
            OSError,
        ) as err:
            entry.status, entry.failure_reason = FAILED, str(err)
        except Exception as err:  # a bug or an odd definition must not stop the other steps
            entry.status, entry.failure_reason = FAILED, f"{type(err).__name__}: {err}"
        else:
            with self.lock:
                self.results[name] = result
            entry.status, entry.properties, entry.outputs = (
                SUCCEEDED,
                result.properties,
                result.outputs,
            )
        entry.ended = now().isoformat()
        entry.duration_seconds = round(time.perf_counter() - clock, 3)
        self.echo(progress_line(entry))
        return entry.status

    def _interpreter(self, image: str) -> str:
        interpreter = interpreter_for(image, self.plan.image_map)
        if interpreter is None:
            raise StepFailed(unknown_image(image))
        return interpreter


class _StepScope:
    """The execution's scope plus the job-name variable of the step being run."""

    def __init__(self, execution: Execution, step: StepDef, job_name: str) -> None:
        self.execution = execution
        self.step = step
        self.job_name = job_name

    def parameter(self, name: str) -> Any:
        return self.execution.parameter(name)

    def execution_variable(self, name: str) -> Any:
        if name == JOB_NAME_VARIABLES.get(self.step.type):
            return self.job_name
        return self.execution.execution_variable(name)

    def step_property(self, step: str, path: Sequence[PathPart]) -> Any:
        return self.execution.step_property(step, path)

    def read_json(self, uri: str) -> Any:
        return self.execution.read_json(uri)
